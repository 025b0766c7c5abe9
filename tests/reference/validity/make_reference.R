# Reference values for compval.validity (composite reliability, AVE, Fornell-Larcker, HTMT, factor
# correlations). Run from the repository root:
#   Rscript tests/reference/validity/make_reference.R
# R 4.2.2, lavaan 0.6.14, semTools 0.5-6. Reads the shared data sets in tests/reference/data/ so that
# Python sees exactly the rows R analysed.
#
# Per case <case> it writes
#   <case>_params.csv    parameterEstimates(fit, standardized = TRUE) + `group`, `free` (from parTable)
#                        and `std_all_se` (the `se` column of standardizedSolution(fit))
#   <case>_stdsol.csv    standardizedSolution(fit) (est.std, se, ci.lower, ci.upper: delta-method CIs)
#   <case>_sampstat_cov.csv   lavInspect(fit, "sampstat")$cov  (ML: divided by N)
#   <case>_fitted_cov.csv     lavInspect(fit, "fitted")$cov    (model-implied)
#   <case>_values.json   nobs, cov.lv, cor.lv, compRelSEM / AVE variants, AVE by indicator name,
#                        Fisher-z CIs of the latent correlations (psych::r.con), htmt variants
suppressPackageStartupMessages({library(lavaan); library(semTools); library(psych); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("semTools") == "0.5.6",
          packageVersion("psych") == "2.2.9", packageVersion("jsonlite") == "1.8.4")
out <- "tests/reference/validity"
dat <- "tests/reference/data"

hs <- read.csv(file.path(dat, "HolzingerSwineford1939.csv"))
bfi <- read.csv(file.path(dat, "bfi.csv"))
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
bfi_raw <- bfi
for (v in rev_items) bfi[[v]] <- 7 - bfi[[v]]

hs_model <- "visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9"
# cross-loading (x9 on visual) and a residual covariance: exercises AVE's NA rule and the
# model-implied (obs.var = FALSE) denominator with off-diagonal Theta (x7 ~~ x8 would give a Heywood case)
hs_xload_model <- "visual =~ x1 + x2 + x3 + x9
                   textual =~ x4 + x5 + x6
                   speed =~ x7 + x8 + x9
                   x2 ~~ x3"
bfi_model <- "agree =~ A1 + A2 + A3 + A4 + A5
              consc =~ C1 + C2 + C3 + C4 + C5
              extra =~ E1 + E2 + E3 + E4 + E5
              neuro =~ N1 + N2 + N3 + N4 + N5
              open =~ O1 + O2 + O3 + O4 + O5"

write_case <- function(case, model, data, with_htmt = TRUE) {
  fit <- cfa(model, data = data)  # defaults: ML, missing = "listwise", first loading fixed to 1
  pe <- parameterEstimates(fit, standardized = TRUE)
  pt <- parTable(fit)
  ss <- standardizedSolution(fit)
  if (!"group" %in% names(pe)) pe$group <- 1L
  if (!"group" %in% names(ss)) ss$group <- 1L
  pe <- merge(pe, pt[, c("lhs", "op", "rhs", "group", "free")], by = c("lhs", "op", "rhs", "group"),
              sort = FALSE)
  ss_se <- ss[, c("lhs", "op", "rhs", "group", "se")]
  names(ss_se)[5] <- "std_all_se"
  pe <- merge(pe, ss_se, by = c("lhs", "op", "rhs", "group"), sort = FALSE)
  write.csv(pe, file.path(out, paste0(case, "_params.csv")), row.names = FALSE)
  write.csv(ss, file.path(out, paste0(case, "_stdsol.csv")), row.names = FALSE)
  write.csv(lavInspect(fit, "sampstat")$cov, file.path(out, paste0(case, "_sampstat_cov.csv")))
  write.csv(lavInspect(fit, "fitted")$cov, file.path(out, paste0(case, "_fitted_cov.csv")))
  num <- function(x) as.list(setNames(as.numeric(x), names(x)))
  mat <- function(m) { m <- unclass(m); list(names = rownames(m), values = unname(m)) }
  htmt_data <- data
  vals <- list(
    nobs = lavInspect(fit, "nobs"),
    cov_lv = mat(lavInspect(fit, "cov.lv")),
    cor_lv = mat(lavInspect(fit, "cor.lv")),
    compRelSEM = num(compRelSEM(fit)),                              # obs.var = TRUE, tau.eq = FALSE
    compRelSEM_implied = num(compRelSEM(fit, obs.var = FALSE)),
    compRelSEM_tau_eq = num(compRelSEM(fit, tau.eq = TRUE)),
    AVE = num(AVE(fit)),                                            # obs.var = TRUE
    AVE_implied = num(AVE(fit, obs.var = FALSE)),
    # AVE computed by indicator *name* (what semTools::AVE intends; see the hs_single case)
    AVE_by_name = num(sapply(setNames(nm = colnames(lavInspect(fit, "est")$lambda)), function(fn) {
      L <- lavInspect(fit, "est")$lambda; S <- lavInspect(fit, "sampstat")$cov
      ind <- rownames(L)[L[, fn] != 0]
      if (length(ind) < 2 || any(rowSums(round(L[ind, , drop = FALSE], 5) != 0) > 1)) return(NA)
      sum(L[ind, fn]^2) * lavInspect(fit, "cov.lv")[fn, fn] / sum(diag(S)[ind])
    })),
    # Fisher-z 95% CIs of the latent correlations with n = nobs (psych::r.con)
    fisher_ci = {
      R <- lavInspect(fit, "cor.lv"); nm <- rownames(R); ci <- list()
      for (i in seq_along(nm)) for (j in seq_along(nm)) if (i < j)
        ci[[paste0(nm[i], "~~", nm[j])]] <- r.con(R[i, j], lavInspect(fit, "nobs"), p = .95)
      ci
    }
  )
  # semTools::htmt cannot handle an item that loads on two factors (duplicated column -> error)
  if (with_htmt) vals <- c(vals, list(
    htmt = mat(htmt(model, data = htmt_data)),                      # absolute = TRUE, htmt2 = TRUE
    htmt_arith = mat(htmt(model, data = htmt_data, htmt2 = FALSE)),  # arithmetic means of |r|
    htmt_signed = mat(htmt(model, data = htmt_data, htmt2 = FALSE, absolute = FALSE)),
    htmt_cov = mat(htmt(model, sample.cov = lavInspect(fit, "sampstat")$cov))
  ))
  writeLines(toJSON(vals, digits = NA, auto_unbox = TRUE, pretty = TRUE),
             file.path(out, paste0(case, "_values.json")))
  invisible(fit)
}

write_case("hs", hs_model, hs)
write_case("hs_xload", hs_xload_model, hs, with_htmt = FALSE)
write_case("bfi", bfi_model, bfi)
# a single-indicator factor listed first: semTools::AVE (0.5-6) then matches indicator variances by
# position after dropping that factor and so misaligns them (textual 0.751 instead of 0.721, speed NA);
# compRelSEM and AVE_by_name are unaffected. compval.validity matches by name.
hs_single_model <- "f0 =~ x1
                    x1 ~~ 0*x1
                    textual =~ x4 + x5 + x6
                    speed =~ x7 + x8 + x9"
write_case("hs_single", hs_single_model, hs)
# second-order factor: cov.lv of the first-order factors comes from (I - B)^-1 Psi (I - B)^-T;
# semTools::htmt cannot take it (g's "indicators" are not data columns)
hs_higher_model <- paste(hs_model, "\n g =~ visual + textual + speed")
write_case("hs_higher", hs_higher_model, hs, with_htmt = FALSE)
# HTMT on the raw (not reverse-keyed) bfi items: negative item correlations make absolute = FALSE
# and the arithmetic (htmt2 = FALSE) variant differ from the default
write_case("bfi_raw", bfi_model, bfi_raw)

writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
