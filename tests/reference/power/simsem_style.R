# Reference for compval.power (R 4.2.2, lavaan 0.6.14 from Debian bookworm; simsem is not packaged by Debian,
# so its definitions are reproduced here from simsem's summaryParam / getPower source).
#
# Part A: simsem's summaryParam definitions applied to the estimates of compval.power's own replications
#         (estimates.csv, truth.csv from make_estimates.py)           -> summary_reference.csv
# Part B: a simsem-style Monte Carlo loop with lavaan on the same design (continuous answers, two factors of four
#         items, loadings .6, factor correlation .7; hypothesised two-factor model vs one factor, std.lv = TRUE):
#         power of the chi-square difference test, coverage, mean estimates  -> lavaan_loop.csv, lavaan_params.csv
#
#   Rscript tests/reference/power/simsem_style.R [replications per N = 500] [output dir = this folder] [N list]
suppressPackageStartupMessages(library(lavaan))
stopifnot(packageVersion("lavaan") == "0.6.14")
args <- commandArgs(trailingOnly = TRUE)
here <- tryCatch(dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE)))),
                 error = function(e) ".")
R <- if (length(args) >= 1) as.integer(args[1]) else 500L
out <- if (length(args) >= 2) args[2] else here
Ns <- if (length(args) >= 3) as.integer(strsplit(args[3], ",")[[1]]) else c(60L, 120L)
alpha <- 0.05

# ------------------------------------------------------------------------------------------------ Part A
est <- read.csv(file.path(here, "estimates.csv"))
truth <- read.csv(file.path(here, "truth.csv"))
if (out == here) {
  rows <- list()
  for (n in sort(unique(est$n))) for (p in truth$parameter) {
    e <- est[est$n == n & est$parameter == p, ]
    param <- truth$true[truth$parameter == p]
    bias <- e$est - param
    real.se <- sd(e$est); estimated.se <- mean(e$se)
    rows[[length(rows) + 1]] <- data.frame(
      n = n, parameter = p, true = param, mean_est = mean(e$est), bias = mean(bias),
      relative_bias = mean(bias / param),                      # "Rel Bias"
      standardized_bias = mean(bias) / real.se,                # "Std Bias" (one parameter value)
      sd_est = real.se, mean_se = estimated.se,
      relative_se_bias = (estimated.se - real.se) / real.se,   # "Rel SE Bias"
      coverage = mean(param > e$ci_lower & param < e$ci_upper),  # "Coverage" (strict, lavaan's CI)
      valid = nrow(e))
  }
  write.csv(do.call(rbind, rows), file.path(out, "summary_reference.csv"), row.names = FALSE)
}

# ------------------------------------------------------------------------------------------------ Part B
items1 <- c("Q1_a1", "Q1_a2", "Q1_b1", "Q1_b2"); items2 <- c("Q2_a1", "Q2_a2", "Q2_b1", "Q2_b2")
pop <- paste0("f1 =~ ", paste0("0.6*", items1, collapse = " + "), "\n",
              "f2 =~ ", paste0("0.6*", items2, collapse = " + "), "\n",
              "f1 ~~ 1*f1\nf2 ~~ 1*f2\nf1 ~~ 0.7*f2\n",
              paste0(c(items1, items2), " ~~ 0.64*", c(items1, items2), collapse = "\n"))
hyp <- paste0("f1 =~ ", paste(items1, collapse = " + "), "\nf2 =~ ", paste(items2, collapse = " + "))
one <- paste0("g =~ ", paste(c(items1, items2), collapse = " + "))
set.seed(20261202)
loop <- list(); params <- list()
t0 <- proc.time()[["elapsed"]]
for (n in Ns) {
  rej <- c(); pe_all <- list()
  for (r in seq_len(R)) {
    d <- simulateData(pop, sample.nobs = n)
    f1 <- cfa(hyp, d, std.lv = TRUE)
    f0 <- cfa(one, d, std.lv = TRUE)
    if (!lavInspect(f1, "converged") || !lavInspect(f0, "converged")) next
    rej <- c(rej, lavTestLRT(f1, f0)[["Pr(>Chisq)"]][2] < alpha)
    pe <- parameterEstimates(f1)
    pe <- pe[pe$op == "=~" | (pe$op == "~~" & pe$lhs != pe$rhs & pe$lhs %in% c("f1", "f2")), ]
    pe_all[[length(pe_all) + 1]] <- data.frame(parameter = paste0(pe$lhs, pe$op, pe$rhs), est = pe$est,
                                               se = pe$se, lo = pe$ci.lower, hi = pe$ci.upper)
  }
  pe <- do.call(rbind, pe_all)
  pe$true <- ifelse(grepl("~~", pe$parameter), 0.7, 0.6)
  cover <- tapply(pe$true > pe$lo & pe$true < pe$hi, pe$parameter, mean)
  loop[[length(loop) + 1]] <- data.frame(n = n, replications = length(rej), power = mean(rej),
                                         mc_se = sqrt(mean(rej) * (1 - mean(rej)) / length(rej)),
                                         mean_coverage = mean(cover))
  params[[length(params) + 1]] <- data.frame(n = n, parameter = names(cover), coverage = as.numeric(cover),
                                             mean_est = as.numeric(tapply(pe$est, pe$parameter, mean)),
                                             sd_est = as.numeric(tapply(pe$est, pe$parameter, sd)))
}
elapsed <- proc.time()[["elapsed"]] - t0
write.csv(do.call(rbind, loop), file.path(out, "lavaan_loop.csv"), row.names = FALSE)
write.csv(do.call(rbind, params), file.path(out, "lavaan_params.csv"), row.names = FALSE)
writeLines(sprintf('{"replications": %d, "seconds": %.3f}', R * length(Ns), elapsed), file.path(out, "lavaan_timing.json"))
if (out == here) writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
