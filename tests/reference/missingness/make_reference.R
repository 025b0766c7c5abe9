# Reference values for compval.missingness (tests/test_missingness.py).
# Run from the repository root:  Rscript tests/reference/missingness/make_reference.R
# R 4.2.2, lavaan 0.6.14.
#
# Little's (1988) MCAR test:  d2 = sum_j n_j (ybar_j - mu_j)' Sigma_j^-1 (ybar_j - mu_j),  df = sum_j p_j - p,
# over the missing-data patterns j (p_j observed variables, n_j respondents; respondents without any answer are
# left out), where mu and Sigma are the maximum-likelihood estimates under MVN with missing data (Sigma with
# denominator n). No R package with Little's test is installed, so the statistic is computed here from its
# formula (as naniar::mcar_test / BaylorEdPsych::LittleMCAR do) with the ML estimates from a plain EM algorithm
# (Little & Rubin 2002, sec. 11.2) run to a tight tolerance; the EM estimates are cross-checked against lavaan's
# saturated-model FIML estimates (lavCor(missing = "ml")).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("jsonlite") == "1.8.4")
out <- "tests/reference/missingness"

em_mvn <- function(x, tol = 1e-11, max_iter = 10000) {
  x <- as.matrix(x)
  x <- x[rowSums(!is.na(x)) > 0, , drop = FALSE]
  n <- nrow(x); p <- ncol(x)
  mu <- colMeans(x, na.rm = TRUE)
  S <- diag(apply(x, 2, var, na.rm = TRUE) * (colSums(!is.na(x)) - 1) / colSums(!is.na(x)), p)
  key <- apply(is.na(x), 1, function(r) paste(as.integer(r), collapse = ""))
  groups <- split(seq_len(n), key)
  for (it in seq_len(max_iter)) {
    T1 <- numeric(p); T2 <- matrix(0, p, p)
    for (g in groups) {
      xg <- x[g, , drop = FALSE]
      m <- is.na(xg[1, ]); o <- !m
      if (!any(m)) {
        T1 <- T1 + colSums(xg); T2 <- T2 + crossprod(xg)
        next
      }
      B <- solve(S[o, o, drop = FALSE], S[o, m, drop = FALSE])        # S_oo^-1 S_om
      xh <- xg
      xh[, m] <- matrix(mu[m], length(g), sum(m), byrow = TRUE) +
        sweep(xg[, o, drop = FALSE], 2, mu[o]) %*% B
      C <- S[m, m, drop = FALSE] - S[m, o, drop = FALSE] %*% B
      T1 <- T1 + colSums(xh)
      T2 <- T2 + crossprod(xh)
      T2[m, m] <- T2[m, m] + length(g) * C
    }
    mu_new <- T1 / n
    S_new <- T2 / n - tcrossprod(mu_new)
    delta <- max(abs(mu_new - mu), abs(S_new - S))
    mu <- mu_new; S <- S_new
    if (delta < tol) break
  }
  dimnames(S) <- list(colnames(x), colnames(x)); names(mu) <- colnames(x)
  list(mean = mu, cov = S, iterations = it, n = n)
}

little_mcar <- function(x, est) {
  x <- as.matrix(x)
  x <- x[rowSums(!is.na(x)) > 0, , drop = FALSE]
  p <- ncol(x)
  key <- apply(is.na(x), 1, function(r) paste(as.integer(r), collapse = ""))
  groups <- split(seq_len(nrow(x)), key)
  d2 <- 0; df <- 0
  for (g in groups) {
    o <- !is.na(x[g[1], ])
    ybar <- colMeans(x[g, o, drop = FALSE])
    dif <- ybar - est$mean[o]
    d2 <- d2 + length(g) * drop(t(dif) %*% solve(est$cov[o, o, drop = FALSE], dif))
    df <- df + sum(o)
  }
  df <- df - p
  list(chi2 = d2, df = df, p = pchisq(d2, df, lower.tail = FALSE), n_patterns = length(groups), n = nrow(x))
}

lavaan_ml <- function(x) {
  fit <- lavCor(as.data.frame(x), missing = "ml", output = "fit", se = "none",
                control = list(rel.tol = 1e-14, iter.max = 10000))
  imp <- lavInspect(fit, "implied")
  list(mean = as.numeric(imp$mean), cov = unclass(imp$cov))
}

miss_summary <- function(x) {
  list(item_n_missing = as.list(colSums(is.na(x))),
       respondent_n_missing_table = as.list(table(rowSums(is.na(x)))),
       n_patterns_all = nrow(unique(is.na(x))))
}

run <- function(x, label) {
  est <- em_mvn(x)
  lt <- little_mcar(x, est)
  lav <- lavaan_ml(x)
  cat(sprintf("%s: EM %d iterations; max |EM - lavaan| mean %.2e cov %.2e; chi2 %.6f df %d p %.6g patterns %d\n",
              label, est$iterations, max(abs(est$mean - lav$mean)), max(abs(est$cov - lav$cov)),
              lt$chi2, lt$df, lt$p, lt$n_patterns))
  c(list(items = colnames(x), em_mean = unname(est$mean), em_cov = unname(est$cov), em_iterations = est$iterations,
         lavaan_mean = lav$mean, lavaan_cov = unname(lav$cov), little = lt), miss_summary(x))
}

# bfi: the 25 items
bfi <- read.csv("tests/reference/data/bfi.csv")
items <- paste0(rep(c("A", "C", "E", "N", "O"), each = 5), 1:5)
res_bfi <- run(bfi[, items], "bfi")

# HolzingerSwineford1939 x1..x9 with values deleted by a fixed rule (repeated in tests/test_missingness.py):
#   x3 if id %% 7 == 0;  x5 if x1 < 4 and id %% 2 == 0 (depends on x1: MAR, not MCAR);
#   x7 if x4 > 4 and id %% 3 == 0;  x9 if id %% 11 == 0 or id %% 13 == 1;  all of x1..x9 if id == 300.
hs <- read.csv("tests/reference/data/HolzingerSwineford1939.csv")
vars <- paste0("x", 1:9)
h <- hs[, vars]
h$x3[hs$id %% 7 == 0] <- NA
h$x5[hs$x1 < 4 & hs$id %% 2 == 0] <- NA
h$x7[hs$x4 > 4 & hs$id %% 3 == 0] <- NA
h$x9[hs$id %% 11 == 0 | hs$id %% 13 == 1] <- NA
h[hs$id == 300, ] <- NA
write.csv(data.frame(id = hs$id, h), file.path(out, "hs_missing.csv"), row.names = FALSE, na = "")
res_hs <- run(h, "hs")

writeLines(toJSON(list(bfi = res_bfi, hs = res_hs), auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(out, "little_mcar.json"))
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
