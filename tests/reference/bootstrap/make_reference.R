# Reference bootstrap replicates and percentile intervals for compval's bootstrap CIs, recomputed in R on the
# very resamples compval draws (R 4.2.2, boot 1.3-28.1, psych 2.2.9, GPArotation 2022.10.2, lavaan 0.6.14,
# semTools 0.5-6). Run from the repository root, after export_indices.py:
#   PYTHONPATH=src python tests/reference/bootstrap/export_indices.py
#   Rscript tests/reference/bootstrap/make_reference.R
#
# Input (written by export_indices.py, see its docstring): streams.csv (one row per stream of resamples) and
# counts_<stream>.csv.gz (row counts of each resample). Resample b of the analysed data x is
# x[rep(seq_len(n), counts[b, ]), ]. For each stream boot::boot(x, statistic, R = B, sim = "parametric",
# ran.gen = <the b-th stored resample>) runs the statistic on the original data (t0) and on each resample (t),
# with the R reference functions:
#   alpha               psych::alpha(x, check.keys = FALSE)$total$raw_alpha (pairwise; listwise streams
#                        resample the complete rows)
#   omega_total         psych::omega(x, nfactors = 1)$omega.tot
#   omega_hierarchical  psych::omega(x, nfactors = K)$omega_h
#   htmt                semTools::htmt(model, x) (htmt2 = TRUE) and htmt(model, x, htmt2 = FALSE), the lower
#                        triangle in compval's pair order (a before b in factor order)
#   general_dominance   the all-subsets R2 and general dominance code of tests/reference/criterion/make_reference.R
#                        (its functions all_subsets_r2 and general_dominance, evaluated from that file), with the
#                        controls (age, gender2) in every subset model
# A statistic that fails on a resample is NA.
#
# Output:
#   replicates_<stream>.csv  b (0 = the full data, t0), then one column per term (t)
#   intervals.csv            stream, term, estimate (t0), n_valid, lower / upper: quantile(t, c(.025, .975),
#                            type = 7) of the finite replicates -- the rule compval uses (numpy.quantile's default),
#                            and boot_perc_lower / boot_perc_upper: boot::boot.ci(type = "perc") on the same boot
#                            object, for comparison (norm.inter: order statistic (B + 1) alpha, interpolated on
#                            the normal quantile scale; not the rule compval uses)
#   sessionInfo.txt
suppressPackageStartupMessages({
  library(boot); library(psych); library(GPArotation); library(lavaan); library(semTools)
})
stopifnot(packageVersion("boot") == "1.3.28.1", packageVersion("psych") == "2.2.9",
          packageVersion("GPArotation") == "2022.10.2", packageVersion("lavaan") == "0.6.14",
          packageVersion("semTools") == "0.5.6")
out <- "tests/reference/bootstrap"
dat <- "tests/reference/data"
level <- 0.95

# the dominance functions of the criterion reference, evaluated from its source (not copied)
for (e in parse(file.path("tests/reference/criterion/make_reference.R"))) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) &&
      is.name(e[[2]]) && as.character(e[[2]]) %in% c("all_subsets_r2", "general_dominance")) eval(e)
}
stopifnot(exists("all_subsets_r2"), exists("general_dominance"))

bfi <- read.csv(file.path(dat, "bfi.csv"))[1:400, ]
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
bfi[rev_items] <- 7 - bfi[rev_items]
sa <- read.csv(file.path(dat, "sat_act.csv"))
sa <- sa[complete.cases(sa[, c("ACT", "SATV", "SATQ")]), ]
sa$gender2 <- as.numeric(sa$gender == 2)
bfi_factors <- lapply(setNames(nm = c("A", "C", "E", "N", "O")), function(f) paste0(f, 1:5))
htmt_model <- paste(sprintf("%s =~ %s", names(bfi_factors),
                            vapply(bfi_factors, paste, "", collapse = " + ")), collapse = "\n")
# factor pairs (a, b) with a before b, in compval's order (a = 1..4, then b = a + 1..5)
pairs <- do.call(rbind, lapply(1:4, function(i) cbind(a = i, b = (i + 1):5)))
pair_names <- paste0(names(bfi_factors)[pairs[, "a"]], "~~", names(bfi_factors)[pairs[, "b"]])

quiet <- function(expr) suppressWarnings(suppressMessages(expr))
or_na <- function(expr, k = 1) tryCatch(quiet(expr), error = function(e) rep(NA_real_, k))

statistic_of <- function(s) {
  items <- strsplit(s$items, " ")[[1]]
  switch(s$statistic,
    alpha = function(x) c(alpha = or_na(psych::alpha(x, check.keys = FALSE, warnings = FALSE)$total$raw_alpha)),
    omega_total = function(x) c(omega_total = or_na(psych::omega(x, nfactors = 1, plot = FALSE)$omega.tot)),
    omega_hierarchical = function(x)
      c(omega_hierarchical = or_na(psych::omega(x, nfactors = s$nfactors, plot = FALSE)$omega_h)),
    htmt = function(x) {
      geo <- or_na(htmt(htmt_model, data = x), 25)
      ari <- or_na(htmt(htmt_model, data = x, htmt2 = FALSE), 25)
      low <- function(m) if (is.matrix(m)) unclass(m)[pairs[, c("b", "a")]] else rep(NA_real_, 10)  # lower triangle
      setNames(c(low(geo), low(ari)), c(paste0("htmt2:", pair_names), paste0("htmt:", pair_names)))
    },
    general_dominance = function(x) {
      pred <- c("ACT", "SATV", "SATQ")
      r2 <- all_subsets_r2(x$education, x[, pred], always = x[, c("age", "gender2")])
      setNames(general_dominance(r2, length(pred)), pred)
    }
  )
}

data_of <- function(s) {
  items <- strsplit(s$items, " ")[[1]]
  switch(s$data,
    bfi400 = { x <- bfi[, items]; if (s$missing == "listwise") na.omit(x) else x },
    bfi400_complete = na.omit(bfi[, items]),
    satact_complete = sa[, c("education", items)])
}

streams <- read.csv(file.path(out, "streams.csv"), stringsAsFactors = FALSE)
rows <- list()
for (k in seq_len(nrow(streams))) {
  s <- streams[k, ]
  x <- data_of(s)
  rownames(x) <- NULL
  stopifnot(nrow(x) == s$n)
  counts <- as.matrix(read.csv(gzfile(file.path(out, paste0("counts_", s$stream, ".csv.gz"))), header = FALSE))
  stopifnot(dim(counts) == c(s$B, s$n), all(rowSums(counts) == s$n))
  b <- 0
  resample <- function(data, mle) {
    b <<- b + 1
    data[rep(seq_len(nrow(data)), counts[b, ]), , drop = FALSE]
  }
  stat <- statistic_of(s)
  bt <- boot(x, stat, R = s$B, sim = "parametric", ran.gen = resample)
  stopifnot(b == s$B)
  terms <- names(bt$t0)
  colnames(bt$t) <- terms
  write.csv(data.frame(b = 0:s$B, rbind(bt$t0, bt$t), check.names = FALSE),
            file.path(out, paste0("replicates_", s$stream, ".csv")), row.names = FALSE, na = "")
  for (j in seq_along(terms)) {
    tj <- bt$t[, j]
    ok <- is.finite(tj)
    q <- quantile(tj[ok], c((1 - level) / 2, (1 + level) / 2), type = 7, names = FALSE)
    perc <- if (all(ok)) boot.ci(bt, conf = level, type = "perc", index = j)$percent[4:5] else c(NA, NA)
    rows[[length(rows) + 1]] <- data.frame(
      stream = s$stream, term = terms[j], estimate = bt$t0[[j]], n_valid = sum(ok), lower = q[1], upper = q[2],
      boot_perc_lower = perc[1], boot_perc_upper = perc[2])
  }
}
write.csv(do.call(rbind, rows), file.path(out, "intervals.csv"), row.names = FALSE, na = "")
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
