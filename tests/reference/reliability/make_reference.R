# Reference values for compval.reliability, computed with psych 2.2.9 / GPArotation 2022.10.2 (R 4.2.2).
#
# Default run (from the repository root) -- writes the stored values the tests read:
#   Rscript tests/reference/reliability/make_reference.R
#
# Rerun on any other data set (e.g. the demo data), writing the same files into another folder:
#   Rscript tests/reference/reliability/make_reference.R --data PATH.csv --groups GROUPS.json \
#       --out OUTDIR [--reverse ITEM1,ITEM2] [--scale-min 1] [--scale-max 5] [--nfactors K] [--name demo]
# GROUPS.json maps a group key to its item columns, e.g. {"ach": ["ACH1","ACH2","ACH3"], "com": [...]}
# (in Python: json.dump(codebook.groups("competency"), fh)). --reverse recodes the listed items as
# min + max - x before anything is computed (pass the codebook's reverse items if the CSV holds raw answers).
# For each group: psych::alpha(x, check.keys = FALSE) on pairwise data (psych's default use = "pairwise")
# and on listwise data (na.omit of the group's items), item statistics, psych::describe skew/kurtosis
# (type 3) and psych::omega(x, nfactors = 1)$omega.tot (groups with >= 3 items); and, when --nfactors K is
# given (default: the number of groups, if >= 2), psych::omega(all items, nfactors = K) with its defaults
# (fm = "minres", rotate = "oblimin").
#
# Output files (CSV, full precision; `dataset`, `scale`, `missing` identify a row):
#   alpha_total.csv  one row per dataset x scale x missing policy
#   alpha_drop.csv   psych::alpha(...)$alpha.drop, one row per item
#   item_stats.csv   psych::alpha(...)$item.stats + psych::describe(...)$skew/$kurtosis, one row per item
#   omega.csv        psych::omega results (omega_tot, omega_h, alpha, G6, omega_lim)
#   omega_sl.csv     Schmid-Leiman g loadings and h2 of the multi-factor omega runs
#   sessionInfo.txt
suppressPackageStartupMessages({library(psych); library(GPArotation); library(jsonlite)})
stopifnot(packageVersion("psych") == "2.2.9", packageVersion("GPArotation") == "2022.10.2", packageVersion("jsonlite") == "1.8.4")

args <- commandArgs(trailingOnly = TRUE)
opt <- list(data = NULL, groups = NULL, out = "tests/reference/reliability", reverse = NULL,
            `scale-min` = NA, `scale-max` = NA, nfactors = NA, name = "custom")
i <- 1
while (i <= length(args)) {
  key <- sub("^--", "", args[i])
  if (!key %in% names(opt)) stop("unknown option ", args[i])
  opt[[key]] <- args[i + 1]
  i <- i + 2
}

alpha_rows <- list(); drop_rows <- list(); stat_rows <- list(); omega_rows <- list(); sl_rows <- list()

do_alpha <- function(dataset, scale, x, missing) {
  if (missing == "listwise") x <- na.omit(x)
  a <- suppressWarnings(psych::alpha(x, check.keys = FALSE, warnings = FALSE))
  tot <- a$total
  alpha_rows[[length(alpha_rows) + 1]] <<- data.frame(
    dataset = dataset, scale = scale, missing = missing, nvar = a$nvar, n_obs = nrow(x),
    n_complete = sum(complete.cases(x)),
    raw_alpha = tot$raw_alpha, std_alpha = tot$std.alpha, G6 = tot$`G6(smc)`, average_r = tot$average_r,
    s_n = tot$`S/N`, ase = tot$ase, mean = tot$mean, sd = tot$sd, median_r = tot$median_r,
    feldt_lower = a$feldt$lower.ci[[1]], feldt_upper = a$feldt$upper.ci[[1]],
    duhachek_lower = tot$raw_alpha - 1.96 * tot$ase, duhachek_upper = tot$raw_alpha + 1.96 * tot$ase)
  d <- a$alpha.drop
  drop_rows[[length(drop_rows) + 1]] <<- data.frame(
    dataset = dataset, scale = scale, missing = missing, item = colnames(x),
    raw_alpha = d$raw_alpha, std_alpha = d$std.alpha, G6 = d$`G6(smc)`, average_r = d$average_r,
    s_n = d$`S/N`, alpha_se = if (is.null(d$`alpha se`)) NA else d$`alpha se`, med_r = d$med.r)
  s <- a$item.stats
  desc <- psych::describe(x)
  stat_rows[[length(stat_rows) + 1]] <<- data.frame(
    dataset = dataset, scale = scale, missing = missing, item = colnames(x),
    n = s$n, raw_r = s$raw.r, std_r = s$std.r, r_cor = s$r.cor, r_drop = s$r.drop,
    mean = s$mean, sd = s$sd, skew = desc$skew, kurtosis = desc$kurtosis)
}

do_omega <- function(dataset, scale, x, missing, nfactors) {
  if (missing == "listwise") x <- na.omit(x)
  om <- suppressWarnings(suppressMessages(psych::omega(x, nfactors = nfactors, plot = FALSE)))
  omega_rows[[length(omega_rows) + 1]] <<- data.frame(
    dataset = dataset, scale = scale, missing = missing, nfactors = nfactors, nvar = ncol(x),
    omega_tot = om$omega.tot, omega_h = om$omega_h, alpha = om$alpha, G6 = om$G6, omega_lim = om$omega.lim)
  if (nfactors > 1) {
    sl <- om$schmid$sl
    sl_rows[[length(sl_rows) + 1]] <<- data.frame(
      dataset = dataset, scale = scale, missing = missing, nfactors = nfactors, item = colnames(x),
      g = sl[, "g"], h2 = sl[, "h2"], u2 = sl[, "u2"])
  }
}

run_groups <- function(dataset, df, groups, nfactors) {
  for (key in names(groups)) {
    x <- df[, groups[[key]], drop = FALSE]
    if (ncol(x) >= 2) for (m in c("pairwise", "listwise")) do_alpha(dataset, key, x, m)
    if (ncol(x) >= 3) for (m in c("pairwise", "listwise")) do_omega(dataset, key, x, m, 1)
  }
  if (!is.na(nfactors) && nfactors >= 2) {
    all_items <- unique(unlist(groups))
    do_omega(dataset, "all", df[, all_items], "pairwise", nfactors)
  }
}

if (is.null(opt$data)) {
  out <- "tests/reference/reliability"
  data_dir <- "tests/reference/data"
  # psych::bfi, reverse-keyed with psych's keys (6-point items: 7 - x).
  bfi <- read.csv(file.path(data_dir, "bfi.csv"))
  rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
  bfi[rev_items] <- 7 - bfi[rev_items]
  bfi_groups <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5),
                     N = paste0("N", 1:5), O = paste0("O", 1:5))
  run_groups("bfi", bfi, bfi_groups, 5)
  # The same 25 items, listwise, 5 factors (second path through the 5-factor code).
  do_omega("bfi", "all", bfi[, unlist(bfi_groups)], "listwise", 5)
  # lavaan::HolzingerSwineford1939, x1-x9 as three 3-item scales.
  hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
  hs_groups <- list(visual = paste0("x", 1:3), textual = paste0("x", 4:6), speed = paste0("x", 7:9))
  run_groups("hs", hs, hs_groups, 3)
  # A two-item scale: psych's special case for alpha.drop.
  do_alpha("hs", "x1x2", hs[, c("x1", "x2")], "pairwise")
  # Two group factors: psych's "equal" option for the general loadings (not identified; mirrored only).
  do_omega("hs", "all", hs[, paste0("x", 1:9)], "pairwise", 2)
  # Negatively keyed items left unreversed: omega's sign flipping (key) path and alpha with r < 0.
  bfi_raw <- read.csv(file.path(data_dir, "bfi.csv"))
  do_alpha("bfi_raw", "A", bfi_raw[, paste0("A", 1:5)], "pairwise")
  do_omega("bfi_raw", "A", bfi_raw[, paste0("A", 1:5)], "pairwise", 1)
  do_omega("bfi_raw", "all", bfi_raw[, unlist(bfi_groups)], "pairwise", 5)
} else {
  out <- opt$out
  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  df <- read.csv(opt$data, check.names = FALSE)
  groups <- jsonlite::fromJSON(opt$groups, simplifyVector = FALSE)
  groups <- lapply(groups, unlist)
  if (!is.null(opt$reverse)) {
    rev_items <- strsplit(opt$reverse, ",")[[1]]
    lo <- as.numeric(opt$`scale-min`); hi <- as.numeric(opt$`scale-max`)
    if (is.na(lo) || is.na(hi)) stop("--reverse needs --scale-min and --scale-max")
    df[rev_items] <- (lo + hi) - df[rev_items]
  }
  nf <- if (is.na(opt$nfactors)) length(groups) else as.integer(opt$nfactors)
  run_groups(opt$name, df, groups, nf)
}

wr <- function(rows, file) write.csv(do.call(rbind, rows), file.path(out, file), row.names = FALSE)
wr(alpha_rows, "alpha_total.csv")
wr(drop_rows, "alpha_drop.csv")
wr(stat_rows, "item_stats.csv")
wr(omega_rows, "omega.csv")
if (length(sl_rows)) wr(sl_rows, "omega_sl.csv")
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
