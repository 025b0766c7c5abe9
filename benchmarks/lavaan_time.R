# Time lavaan::cfa() on one data set and model (called by benchmarks/bench_cfa.py; run on demand, never by tests).
#
#   Rscript benchmarks/lavaan_time.R <data.csv> <model.lav> <estimator> <missing> <ordered: 0|1> <repeats> <budget>
#
# Fits the model once as a warm-up (loads lavaan's lazy code paths), then `repeats` times (fewer when the
# warm-up shows that they would take more than `budget` seconds, but at least once), and prints one CSV
# line: median seconds per fit (elapsed, measured inside R: R start-up and library(lavaan) are excluded),
# chisq, chisq.scaled (NA when the estimator has no scaled test), lavaan version, converged, repeats.
# The data file holds exactly the model's indicators; estimator/missing/ordered are passed to cfa() as given.
suppressPackageStartupMessages(library(lavaan))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 7) stop("usage: lavaan_time.R data.csv model.lav estimator missing ordered repeats budget")
dat <- read.csv(args[1])
syntax <- paste(readLines(args[2]), collapse = "\n")
estimator <- args[3]
missing <- args[4]
ordered <- if (args[5] == "1") names(dat) else NULL
repeats <- as.integer(args[6])
budget <- as.numeric(args[7])

fit_once <- function() {
  suppressWarnings(cfa(syntax, data = dat, estimator = estimator, missing = missing, ordered = ordered))
}

t0 <- proc.time()[["elapsed"]]
fit <- fit_once()
warm <- proc.time()[["elapsed"]] - t0
repeats <- max(1L, min(repeats, as.integer(floor(budget / max(warm, 1e-9)))))
secs <- numeric(repeats)
for (i in seq_len(repeats)) {
  t0 <- proc.time()[["elapsed"]]
  fit <- fit_once()
  secs[i] <- proc.time()[["elapsed"]] - t0
}
fm <- fitMeasures(fit)
scaled <- if ("chisq.scaled" %in% names(fm)) fm[["chisq.scaled"]] else NA
cat(sprintf("%.6f,%.10g,%.10g,%s,%s,%d\n", median(secs), fm[["chisq"]], scaled,
            as.character(packageVersion("lavaan")), lavInspect(fit, "converged"), repeats))
