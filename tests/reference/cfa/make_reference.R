# Reference values for compval.cfa, computed with lavaan 0.6.14 (R 4.2.2).
# Run from the repository root:  Rscript tests/reference/cfa/make_reference.R
# Every case is produced by `ref_fit(name, data, model, ...)`: extra arguments go to lavaan::cfa(), so adding
# the demo data later is one more call, e.g.  ref_fit("demo_hyp", demo, model_syntax, estimator = "MLR").
# Files written beside this script, for case <name>:
#   <name>_params.csv  parameterEstimates(standardized = TRUE): lhs, op, rhs, group, free, est, se, z, pvalue,
#                      ci.lower, ci.upper, std.lv, std.all
#   <name>_fit.json    fitMeasures(fit) plus converged / npar / post-check (admissible solution)
#   <name>_r2.csv      lavInspect(fit, "r2")
#   <name>_implied.csv model-implied covariance matrix
#                      (r2, implied, corlv: group 1; multi-group fits also <name>_g<g>_r2.csv etc. for group g)
#   <name>_corlv.csv   model-implied latent correlations, lavInspect(fit, "cor.lv")
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("jsonlite") == "1.8.4")
out <- "tests/reference/cfa"
dat <- "tests/reference/data"

ref_fit <- function(name, data, model, ...) {
  fit <- suppressWarnings(cfa(model, data = data, ...))
  pe <- parameterEstimates(fit, standardized = TRUE, remove.eq = TRUE, remove.ineq = TRUE,
                           remove.def = TRUE, remove.nonfree = FALSE)
  if (!"group" %in% names(pe)) pe$group <- 1L
  pt <- parTable(fit)
  key_pe <- paste(pe$lhs, pe$op, pe$rhs, pe$group)
  key_pt <- paste(pt$lhs, pt$op, pt$rhs, pt$group)
  pe$free <- pt$free[match(key_pe, key_pt)] > 0
  cols <- c("lhs", "op", "rhs", "group", "free", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
            "std.lv", "std.all")
  write.csv(pe[, cols], file.path(out, paste0(name, "_params.csv")), row.names = FALSE, na = "")
  fm <- if (lavInspect(fit, "converged")) as.list(fitMeasures(fit)) else list()
  fm$converged <- lavInspect(fit, "converged")
  fm$post.check <- if (fm$converged) suppressWarnings(lavInspect(fit, "post.check")) else NA
  writeLines(toJSON(fm, auto_unbox = TRUE, digits = NA, na = "null"), file.path(out, paste0(name, "_fit.json")))
  # group 1: <name>_<what>.csv; further groups: <name>_g<g>_<what>.csv
  gfile <- function(what, g) file.path(out, if (g == 1) paste0(name, "_", what, ".csv") else
    paste0(name, "_g", g, "_", what, ".csv"))
  ng <- lavInspect(fit, "ngroups")
  r2 <- lavInspect(fit, "r2")
  imp <- lavInspect(fit, "implied")
  cl <- lavInspect(fit, "cor.lv")
  if (ng == 1) { r2 <- list(r2); imp <- list(imp); cl <- list(cl) }
  for (g in seq_len(ng)) {
    write.csv(data.frame(name = names(r2[[g]]), r2 = unname(r2[[g]])), gfile("r2", g), row.names = FALSE)
    write.csv(as.data.frame(unclass(imp[[g]]$cov)), gfile("implied", g))
    write.csv(as.data.frame(unclass(cl[[g]])), gfile("corlv", g))
  }
  invisible(fit)
}

write_json_file <- function(x, file) writeLines(toJSON(x, auto_unbox = TRUE, digits = NA, na = "null"),
                                                 file.path(out, file))
lrt_table <- function(...) {
  a <- suppressWarnings(lavTestLRT(...))
  data.frame(model = rownames(a), Df = a$Df, AIC = a$AIC, BIC = a$BIC, Chisq = a$Chisq,
             Chisq.diff = a[["Chisq diff"]], Df.diff = a[["Df diff"]], Pr = a[["Pr(>Chisq)"]])
}

hs <- read.csv(file.path(dat, "HolzingerSwineford1939.csv"))
hs3 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
hs1 <- "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9\n"

# --- P1: ML, complete data --------------------------------------------------------------------------
f3 <- ref_fit("hs3_ml", hs, hs3)
ref_fit("hs3_stdlv", hs, hs3, std.lv = TRUE)
# factor scores (regression method)
fs <- lavPredict(f3, method = "regression")
write.csv(as.data.frame(fs), file.path(out, "hs3_ml_fscores.csv"), row.names = FALSE)

# --- P2: model variants -------------------------------------------------------------------------------
f1 <- ref_fit("hs1_ml", hs, hs1)
ref_fit("hs3_orth", hs, hs3, orthogonal = TRUE)
ref_fit("hs_2nd", hs, paste0(hs3, "g =~ visual + textual + speed\n"))
# second order per module: module m1 = {visual, textual} (two first-order factors: equal loadings), speed alone
# two first-order factors on one second-order factor: loadings equal in the standardized metric
ref_fit("hs_2nd_modules", hs, paste0("visual =~ NA*x1 + x2 + x3\nvisual ~~ 1*visual\n",
                                     "textual =~ NA*x4 + x5 + x6\ntextual ~~ 1*textual\nspeed =~ x7 + x8 + x9\n",
                                     "m1 =~ NA*visual + eq_m1*visual + eq_m1*textual\nm1 ~~ 1*m1\n"))
# parcels: one indicator per dimension mean (here: x1..x3 -> p1 etc.), one factor on the parcels
hsp <- data.frame(p_vis = rowMeans(hs[, c("x1", "x2", "x3")]), p_tex = rowMeans(hs[, c("x4", "x5", "x6")]),
                  p_spe = rowMeans(hs[, c("x7", "x8", "x9")]))
ref_fit("hs_parcels", hsp, "g =~ p_vis + p_tex + p_spe\n")
# user syntax with a residual covariance
ref_fit("hs3_rescov", hs, paste0(hs3, "x7 ~~ x8\n"))

# --- P3: Heywood (first 100 rows: negative residual variance of x1) and non-convergence (30 rows) ------
ref_fit("hs3_heywood", hs[1:100, ], hs3)
ref_fit("hs3_noconv", hs[1:30, ], hs3)

# --- P4: MLR ------------------------------------------------------------------------------------------
f3r <- ref_fit("hs3_mlr", hs, hs3, estimator = "MLR")
f1r <- ref_fit("hs1_mlr", hs, hs1, estimator = "MLR")
bfi <- read.csv(file.path(dat, "bfi.csv"))
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
bfi[rev_items] <- 7 - bfi[rev_items]
bfi3 <- "agree =~ A1 + A2 + A3 + A4 + A5\nconsc =~ C1 + C2 + C3 + C4 + C5\nextra =~ E1 + E2 + E3 + E4 + E5\n"
ref_fit("bfi3_mlr", bfi, bfi3, estimator = "MLR")   # listwise deletion (lavaan default)
# two modules of two first-order factors each (compval.cfa.second_order), listwise
so22 <- paste0("A =~ NA*A1 + A2 + A3 + A4 + A5\nA ~~ 1*A\nE =~ NA*E1 + E2 + E3 + E4 + E5\nE ~~ 1*E\n",
               "C =~ NA*C1 + C2 + C3 + C4 + C5\nC ~~ 1*C\nO =~ NA*O1 + O2 + O3 + O4 + O5\nO ~~ 1*O\n",
               "m1 =~ NA*A + eq_m1*A + eq_m1*E\nm1 ~~ 1*m1\nm2 =~ NA*C + eq_m2*C + eq_m2*O\nm2 ~~ 1*m2\n")
ref_fit("bfi_2nd_2x2", bfi, so22)

# --- P5: model comparison -----------------------------------------------------------------------------
write.csv(lrt_table(f1, f3), file.path(out, "lrt_hs1_hs3_ml.csv"), row.names = FALSE)
write.csv(lrt_table(f1r, f3r), file.path(out, "lrt_hs1_hs3_mlr.csv"), row.names = FALSE)

# --- P6: measurement invariance by school ---------------------------------------------------------------
steps <- list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
mi <- list()
for (s in names(steps)) {
  mi[[s]] <- ref_fit(paste0("mg_", s), hs, hs3, group = "school", group.equal = steps[[s]])
}
write.csv(lrt_table(mi$configural, mi$metric, mi$scalar, mi$strict), file.path(out, "lrt_mg.csv"),
          row.names = FALSE)
# the same under MLR (Satorra-Bentler 2001 scaled differences)
mir <- list()
for (s in names(steps)) {
  mir[[s]] <- ref_fit(paste0("mg_", s, "_mlr"), hs, hs3, group = "school", group.equal = steps[[s]],
                      estimator = "MLR")
}
write.csv(lrt_table(mir$configural, mir$metric, mir$scalar, mir$strict), file.path(out, "lrt_mg_mlr.csv"),
          row.names = FALSE)

# --- P7: FIML on bfi (missing data) ---------------------------------------------------------------------
ref_fit("bfi3_fiml", bfi, bfi3, missing = "ml")
# MLR with FIML (robust SEs, Yuan-Bentler test and FIML-corrected robust indices); two factors to stay fast
bfi2 <- "agree =~ A1 + A2 + A3 + A4 + A5\nconsc =~ C1 + C2 + C3 + C4 + C5\n"
ref_fit("bfi2_fiml_mlr", bfi, bfi2, missing = "ml", estimator = "MLR")

# --- P8: modification indices ---------------------------------------------------------------------------
mi3 <- modindices(f3, sort. = TRUE)
write.csv(mi3[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")], file.path(out, "hs3_ml_modindices.csv"),
          row.names = FALSE)
fo <- suppressWarnings(cfa(hs3, data = hs, orthogonal = TRUE))
mio <- modindices(fo, sort. = TRUE)
write.csv(mio[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")],
          file.path(out, "hs3_orth_modindices.csv"), row.names = FALSE)

writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
