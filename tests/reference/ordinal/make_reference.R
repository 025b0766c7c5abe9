# Reference values for ordinal CFA (compval.cfa, categorical indicators), computed with lavaan 0.6.14
# (R 4.2.2, semTools 0.5-6). Estimator "WLSMV" = DWLS on polychoric correlations + thresholds, delta
# parameterization, robust ("robust.sem") standard errors and the mean- and variance-adjusted
# (scaled-shifted) test statistic.
# Run from the repository root:  Rscript tests/reference/ordinal/make_reference.R
# Data: tests/reference/data/bfi.csv (psych::bfi), items NOT reverse-scored, id column dropped.
# Files per case <name> (see README.md in this folder):
#   <name>_params.csv   parameterEstimates(standardized = TRUE), same columns as tests/reference/cfa
#                       (includes op "|" thresholds and op "~*~" scale rows)
#   <name>_fit.json     fitMeasures(fit) + converged / post.check / warnings
#   <name>_r2.csv, <name>_implied.csv, <name>_corlv.csv  as in tests/reference/cfa (group g > 1: <name>_g<g>_r2.csv ...)
#   <name>_sample.json  N used, sample statistics (wls.obs / wls.est), thresholds, polychorics, fit@test
#   <name>_catml.json   unlist(lavaan:::lav_fit_catml_dwls(fit))
#   <name>_gamma.csv    lavInspect(fit, "gamma")   (bfi_ac_lw, bfi_ac_pw, bfi_ac_1f)
#   <name>_vcov.csv     lavInspect(fit, "vcov")    (bfi_ac_lw, bfi_ac_pw, bfi_ac_stdlv)
#   <name>_semtools.json compRelSEM / AVE          (bfi_ac_lw, bfi_ac_pw, bfi5_lw)
# plus lrt.csv (lavTestLRT) and sessionInfo.txt.
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("jsonlite") == "1.8.4",
          packageVersion("semTools") == "0.5.6")
out <- "tests/reference/ordinal"
dat <- "tests/reference/data"

write_json_file <- function(x, file) writeLines(toJSON(x, auto_unbox = TRUE, digits = NA, na = "null",
                                                       null = "null"), file.path(out, file))

# Evaluate expr, muffling warnings but recording their messages (attribute "warnings" on the result list).
with_warnings <- function(expr) {
  w <- character(0)
  val <- withCallingHandlers(expr, warning = function(cnd) {
    w <<- c(w, conditionMessage(cnd))
    invokeRestart("muffleWarning")
  })
  list(value = val, warnings = unique(w))
}

named_list <- function(v) { v <- unclass(v); setNames(as.list(as.numeric(v)), names(v)) }

ref_fit <- function(name, data, model, ...) {
  r <- with_warnings(cfa(model, data = data, ...))
  fit <- r$value
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
  fm <- if (lavInspect(fit, "converged")) {
    rf <- with_warnings(fitMeasures(fit)); r$warnings <- unique(c(r$warnings, rf$warnings))
    as.list(rf$value)
  } else list()
  fm$converged <- lavInspect(fit, "converged")
  fm$post.check <- if (fm$converged) {
    rp <- with_warnings(lavInspect(fit, "post.check")); r$warnings <- unique(c(r$warnings, rp$warnings))
    rp$value
  } else NA
  fm$warnings <- I(r$warnings)
  write_json_file(fm, paste0(name, "_fit.json"))
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
  if (lavInspect(fit, "ngroups") == 1) ord_extras(name, fit)  # sample.json etc.: single-group cases only
  invisible(fit)
}

# Ordinal-specific outputs common to every case.
ord_extras <- function(name, fit) {
  wobs <- lavInspect(fit, "wls.obs"); west <- lavInspect(fit, "wls.est")
  th <- lavInspect(fit, "th")
  pc <- unclass(lavInspect(fit, "sampstat")$cov)
  get <- function(x, k) if (is.null(x[[k]])) NULL else unname(unclass(x[[k]]))
  tests <- lapply(fit@test, function(t) list(
    test = t$test, stat = get(t, "stat"), df = get(t, "df"), pvalue = get(t, "pvalue"),
    scaling.factor = get(t, "scaling.factor"), shift.parameter = get(t, "shift.parameter"),
    trace.UGamma = get(t, "trace.UGamma"), trace.UGamma2 = get(t, "trace.UGamma2")))
  s <- list(
    nobs = lavInspect(fit, "nobs"), ntotal = lavInspect(fit, "ntotal"),
    missing = lavInspect(fit, "options")$missing,
    wls.names = names(wobs), wls.obs = as.numeric(wobs), wls.est = as.numeric(west),
    th.names = names(th), th = as.numeric(th),
    polychoric = list(names = rownames(pc), matrix = unname(pc)),   # matrix: array of rows
    test = unname(tests))
  write_json_file(s, paste0(name, "_sample.json"))
  cm <- unlist(lavaan:::lav_fit_catml_dwls(fit))
  write_json_file(named_list(cm), paste0(name, "_catml.json"))
}

write_gamma <- function(name, fit)
  write.csv(as.data.frame(unclass(lavInspect(fit, "gamma"))), file.path(out, paste0(name, "_gamma.csv")))
write_vcov <- function(name, fit)
  write.csv(as.data.frame(unclass(lavInspect(fit, "vcov"))), file.path(out, paste0(name, "_vcov.csv")))
write_semtools <- function(name, fit) {
  cr <- with_warnings(semTools::compRelSEM(fit))
  cr_lin <- with_warnings(semTools::compRelSEM(fit, ord.scale = FALSE))
  ave <- with_warnings(semTools::AVE(fit))
  write_json_file(list(
    semTools.version = as.character(packageVersion("semTools")),
    compRelSEM = named_list(cr$value),                    # ord.scale = TRUE: Green & Yang (2009)
    compRelSEM_ord.scale_FALSE = named_list(cr_lin$value),
    AVE = named_list(ave$value),
    warnings = I(unique(c(cr$warnings, cr_lin$warnings, ave$warnings)))),
    paste0(name, "_semtools.json"))
}

bfi <- read.csv(file.path(dat, "bfi.csv"))
bfi$id <- NULL
items <- function(f) paste0(f, 1:5)
ac_items <- c(items("A"), items("C"))
all_items <- unlist(lapply(c("A", "C", "E", "N", "O"), items))
bfi <- bfi[, all_items]   # the 25 items only (gender/education/age are not used)
syn <- function(f, it) paste0(f, " =~ ", paste(it, collapse = " + "))
ac <- paste(syn("A", items("A")), syn("C", items("C")), sep = "\n")
ac1 <- syn("G", ac_items)
big5 <- paste(sapply(c("A", "C", "E", "N", "O"), function(f) syn(f, items(f))), collapse = "\n")

# --- cases --------------------------------------------------------------------------------------------
f_lw <- ref_fit("bfi_ac_lw", bfi, ac, ordered = ac_items, estimator = "WLSMV")
write_gamma("bfi_ac_lw", f_lw); write_vcov("bfi_ac_lw", f_lw); write_semtools("bfi_ac_lw", f_lw)

f_pw <- ref_fit("bfi_ac_pw", bfi, ac, ordered = ac_items, estimator = "WLSMV", missing = "pairwise")
write_gamma("bfi_ac_pw", f_pw); write_vcov("bfi_ac_pw", f_pw); write_semtools("bfi_ac_pw", f_pw)

f_sl <- ref_fit("bfi_ac_stdlv", bfi, ac, ordered = ac_items, estimator = "WLSMV", std.lv = TRUE)
write_vcov("bfi_ac_stdlv", f_sl)

f_or <- ref_fit("bfi_ac_orth", bfi, ac, ordered = ac_items, estimator = "WLSMV", orthogonal = TRUE)

f_1f <- ref_fit("bfi_ac_1f", bfi, ac1, ordered = ac_items, estimator = "WLSMV")
write_gamma("bfi_ac_1f", f_1f)

f_b5 <- ref_fit("bfi5_lw", bfi, big5, ordered = all_items, estimator = "WLSMV")
write_semtools("bfi5_lw", f_b5)

f_pw1 <- ref_fit("bfi_ac_pw_1f", bfi, ac1, ordered = ac_items, estimator = "WLSMV", missing = "pairwise")

# --- nested-model tests ---------------------------------------------------------------------------------
# Extra (not a case of its own): equal loadings within factor (A2..A5 equal, C2 = C3), 4 constraints, so that
# the scaled-shifted and plain scaled Satorra (2000) differences differ (with Df diff = 1 they coincide).
ac_eq <- "A =~ A1 + a*A2 + a*A3 + a*A4 + a*A5\nC =~ C1 + c*C2 + c*C3 + C4 + C5"
f_eq <- with_warnings(cfa(ac_eq, data = bfi, ordered = ac_items, estimator = "WLSMV"))$value

lrt_rows <- function(comparison, lab, m1, m2, nm, ...) {
  r <- with_warnings(lavTestLRT(m1, m2, ...))
  a <- r$value
  # lavTestLRT sorts the models by df; label the rows with the case names accordingly
  dfs <- c(fitMeasures(m1, "df"), fitMeasures(m2, "df"))
  stopifnot(all(a$Df == dfs[order(dfs)]))
  d <- data.frame(comparison = comparison, method = lab, model = nm[order(dfs)],
                  Df = a$Df, AIC = a$AIC, BIC = a$BIC, Chisq = a$Chisq, Chisq.diff = a[["Chisq diff"]],
                  Df.diff = a[["Df diff"]], Pr.Chisq = a[["Pr(>Chisq)"]], stringsAsFactors = FALSE)
  extra <- setdiff(names(a), c("Df", "AIC", "BIC", "Chisq", "Chisq diff", "Df diff", "Pr(>Chisq)"))
  for (e in extra) d[[make.names(e)]] <- a[[e]]
  # satorra.2000 stores the scaling (a) and shift (b) of the difference statistic as attributes
  d$scale <- if (is.null(attr(a, "scale"))) NA else attr(a, "scale")
  d$shift <- if (is.null(attr(a, "shift"))) NA else attr(a, "shift")
  d$warnings <- paste(r$warnings, collapse = " | ")
  d
}
pairs <- list(ac_lw_vs_ac_1f = list(f_lw, f_1f, c("bfi_ac_lw", "bfi_ac_1f")),
              ac_lw_vs_ac_orth = list(f_lw, f_or, c("bfi_ac_lw", "bfi_ac_orth")),
              ac_lw_vs_ac_eqload = list(f_lw, f_eq, c("bfi_ac_lw", "bfi_ac_eqload")))
lrt <- do.call(rbind, lapply(names(pairs), function(p) {
  m1 <- pairs[[p]][[1]]; m2 <- pairs[[p]][[2]]; nm <- pairs[[p]][[3]]
  rbind(lrt_rows(p, "default (satorra.2000, scaled.shifted = TRUE)", m1, m2, nm),
        lrt_rows(p, "satorra.2000, scaled.shifted = FALSE", m1, m2, nm, method = "satorra.2000",
                 scaled.shifted = FALSE))
}))
write.csv(lrt, file.path(out, "lrt.csv"), row.names = FALSE, na = "")

writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))

# Factor scores (lavPredict default for categorical indicators: empirical Bayes modal, EBM), the first 300
# analysed cases, with their row numbers in bfi (lavInspect "case.idx"); pairwise: cases with missing items too.
write_scores <- function(name, fit) {
  fs <- lavPredict(fit)
  idx <- lavInspect(fit, "case.idx")
  d <- data.frame(row = idx, fs)[seq_len(300), ]
  write.csv(d, file.path(out, paste0(name, "_scores.csv")), row.names = FALSE)
}
write_scores("bfi_ac_lw", f_lw)
write_scores("bfi_ac_pw", f_pw)

# Modification indices (modindices(fit), lavaan's defaults: expected information of the DWLS fit), all rows.
write_mi <- function(name, fit) {
  mi <- modindices(fit)
  write.csv(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")],
            file.path(out, paste0(name, "_modindices.csv")), row.names = FALSE)
}
write_mi("bfi_ac_lw", f_lw)
write_mi("bfi_ac_orth", f_or)

# Multiple groups (bfi by gender; A1, C4, C5 reverse-scored; listwise): the invariance sequence for ordinal
# items under the delta parameterisation, as lavaan builds it from group.equal: configural; loadings;
# thresholds; thresholds + loadings (then the scale factors and latent means are free in group 2).
bfi_mg <- read.csv(file.path(dat, "bfi.csv"))[, c(ac_items, "gender")]
bfi_mg[c("A1", "C4", "C5")] <- 7 - bfi_mg[c("A1", "C4", "C5")]
mg_fits <- list(
  mg_configural = ref_fit("mg_configural", bfi_mg, ac, ordered = ac_items, estimator = "WLSMV", group = "gender"),
  mg_loadings = ref_fit("mg_loadings", bfi_mg, ac, ordered = ac_items, estimator = "WLSMV", group = "gender",
                        group.equal = "loadings"),
  mg_thresholds = ref_fit("mg_thresholds", bfi_mg, ac, ordered = ac_items, estimator = "WLSMV", group = "gender",
                          group.equal = "thresholds"),
  mg_scalar = ref_fit("mg_scalar", bfi_mg, ac, ordered = ac_items, estimator = "WLSMV", group = "gender",
                      group.equal = c("thresholds", "loadings")))
mg_lrt <- do.call(rbind, lapply(list(c("mg_configural", "mg_loadings"), c("mg_loadings", "mg_scalar"),
                                     c("mg_configural", "mg_thresholds"), c("mg_thresholds", "mg_scalar")),
                                function(p) {
  a <- suppressWarnings(lavTestLRT(mg_fits[[p[1]]], mg_fits[[p[2]]]))
  data.frame(model1 = p[1], model0 = p[2], chisq_diff = a[["Chisq diff"]][2], df_diff = a[["Df diff"]][2],
             pvalue = a[["Pr(>Chisq)"]][2])
}))
write.csv(mg_lrt, file.path(out, "mg_lrt.csv"), row.names = FALSE)
