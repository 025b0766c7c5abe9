# Reference values for compval.criterion.latent_regression (structural regression of a criterion on the latent
# competencies), computed with lavaan::sem(). Run from the repository root:
#   Rscript tests/reference/criterion/make_latent_reference.R
# Writes tests/reference/criterion/latent_reference.json (full precision).
# R 4.2.2, lavaan 0.6.14, jsonlite 1.8.4.
#
# The model (the same text latent_regression_syntax() builds): the hypothesised measurement model, the observed
# criterion and every observed control as a single-indicator latent variable (v_lv =~ 1*v; v ~~ 0*v), and
# criterion_lv ~ factors + controls_lv, fitted one criterion at a time.
#
# Scenarios
#   bfi_fiml : psych::bfi, reverse-keyed items recoded 7 - x (A1, C4, C5, E1, E2, O2, O5), five factors A, C, E,
#              N, O measured by their five items; criterion education (223 missing), control gender (numeric
#              1/2); estimator ML, missing = "ml" (FIML; 2800 rows).
#   hs_mlr   : lavaan::HolzingerSwineford1939, visual =~ x1-x3, textual =~ x4-x6, speed =~ x7-x9; criteria
#              ageyr and grade (1 missing), control school as a treatment dummy (Grant-White = reference,
#              column school_T.Pasteur_); estimator MLR, missing = "listwise".
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("jsonlite") == "1.8.4")
out_dir <- "tests/reference/criterion"
data_dir <- "tests/reference/data"

lr_syntax <- function(factors, criterion, controls = character(0), suffix = "_lv") {
  lines <- vapply(names(factors), function(f) paste0(f, " =~ ", paste(factors[[f]], collapse = " + ")), "")
  single <- c(criterion, controls)
  lines <- c(lines, paste0(single, suffix, " =~ 1*", single), paste0(single, " ~~ 0*", single))
  rhs <- c(names(factors), if (length(controls)) paste0(controls, suffix))
  lines <- c(lines, paste0(criterion, suffix, " ~ ", paste(rhs, collapse = " + ")))
  paste0(paste(lines, collapse = "\n"), "\n")
}

one_fit <- function(data, factors, criterion, controls, estimator, missing) {
  syn <- lr_syntax(factors, criterion, controls)
  fit <- sem(syn, data = data, estimator = estimator, missing = missing)
  pe <- parameterEstimates(fit, standardized = TRUE)
  reg <- pe[pe$op == "~" & pe$lhs == paste0(criterion, "_lv"), ]
  keys <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "ntotal")
  if (estimator == "MLR") keys <- c(keys, "chisq.scaled", "cfi.robust", "rmsea.robust")
  fm <- fitMeasures(fit, keys)
  list(
    syntax = syn,
    converged = lavInspect(fit, "converged"),
    regression = data.frame(rhs = reg$rhs, est = reg$est, se = reg$se, z = reg$z, pvalue = reg$pvalue,
                            ci_lower = reg$ci.lower, ci_upper = reg$ci.upper, std_all = reg$std.all),
    r2 = unname(lavInspect(fit, "r2")[paste0(criterion, "_lv")]),
    fit = as.list(setNames(as.numeric(fm), names(fm)))
  )
}

# ---------------------------------------------------------------- bfi (FIML)
bfi <- read.csv(file.path(data_dir, "bfi.csv"))
for (v in c("A1", "C4", "C5", "E1", "E2", "O2", "O5")) bfi[[v]] <- 7 - bfi[[v]]
bfi_factors <- setNames(lapply(c("A", "C", "E", "N", "O"), function(k) paste0(k, 1:5)), c("A", "C", "E", "N", "O"))
bfi_fiml <- list(education = one_fit(bfi, bfi_factors, "education", "gender", "ML", "ml"))

# ---------------------------------------------------------------- Holzinger-Swineford (MLR, listwise)
hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
hs$school_T.Pasteur_ <- as.numeric(hs$school == "Pasteur")
hs_factors <- list(visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"), speed = c("x7", "x8", "x9"))
hs_mlr <- list(
  ageyr = one_fit(hs, hs_factors, "ageyr", "school_T.Pasteur_", "MLR", "listwise"),
  grade = one_fit(hs, hs_factors, "grade", "school_T.Pasteur_", "MLR", "listwise")
)

out <- list(
  meta = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
  bfi_fiml = bfi_fiml,
  hs_mlr = hs_mlr
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, dataframe = "columns", pretty = TRUE),
           file.path(out_dir, "latent_reference.json"))
# (make_reference.R writes sessionInfo.txt in this folder)
writeLines(capture.output(sessionInfo()), file.path(out_dir, "sessionInfo_latent.txt"))
