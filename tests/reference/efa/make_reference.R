# Reference values for compval.efa (exploratory factor analysis), computed with psych 2.2.9 and
# GPArotation 2022.10.2 on R 4.2.2.
#
# Default run (from the repository root) -- writes bfi.json and holzinger.json beside this script:
#   Rscript tests/reference/efa/make_reference.R
#
# Rerun on any other data set (e.g. the demo data) -- one JSON file with the same structure:
#   Rscript tests/reference/efa/make_reference.R <data.csv> <item1,item2,...> <nfactors> <out.json> [n.iter]
# e.g.
#   Rscript tests/reference/efa/make_reference.R data/demo.csv "ACH1,ACH2,ACH3,..." 6 /tmp/demo_efa.json
# The CSV is read with read.csv (blank cells = missing); only the listed item columns are analysed.
# Correlations are Pearson with use = "pairwise" (psych's default); n = number of rows.
#
# Contents of each JSON file: items, n, the correlation matrix r; KMO (overall MSA, per-item MSAi);
# cortest.bartlett (chisq, df, p); vss(n = 8)$map (Velicer's MAP as psych reports it); fa.parallel(fa = "fa",
# n.iter = 20, set.seed(20261129)) fa.values and nfact; fa() solutions for
# fm in {minres, ml, pa} x rotate = oblimin, and fm = minres x {promax, varimax, geominQ, none}:
# loadings, Phi, Structure, communality, uniquenesses, Vaccounted; fa.parallel(SMC = TRUE) fa.values and
# nfact; factor.congruence between the minres and ml oblimin solutions and (default run) between the
# minres solution and the 0/1 key matrix of the hypothesised groups; polychoric() rho/tau for up to 10 items
# when the items are integer-valued.
suppressPackageStartupMessages({library(psych); library(GPArotation); library(jsonlite)})
stopifnot(packageVersion("psych") == "2.2.9", packageVersion("GPArotation") == "2022.10.2", packageVersion("jsonlite") == "1.8.4")

mat_list <- function(m) {
  m <- as.matrix(unclass(m))
  list(rownames = rownames(m), colnames = colnames(m), values = unname(split(m, row(m))))
}

fa_summary <- function(r, nf, n, fm, rotate) {
  f <- fa(r, nfactors = nf, n.obs = n, fm = fm, rotate = rotate, warnings = FALSE)
  out <- list(fm = fm, rotate = rotate,
              loadings = mat_list(f$loadings),
              Structure = mat_list(f$Structure),
              communality = unname(f$communality),
              uniquenesses = unname(f$uniquenesses),
              Vaccounted = mat_list(f$Vaccounted))
  if (!is.null(f$Phi)) out$Phi <- mat_list(f$Phi)
  out
}

make_ref <- function(df, items, nf, out_file, n_iter = 20, groups = NULL) {
  x <- df[, items]
  n <- nrow(x)
  r <- cor(x, use = "pairwise")
  k <- KMO(r)
  b <- cortest.bartlett(r, n = n)
  v <- vss(r, n = 8, n.obs = n, plot = FALSE, rotate = "none")
  set.seed(20261129)
  pa <- fa.parallel(x, fa = "fa", n.iter = n_iter, plot = FALSE)
  set.seed(20261129)
  pa_smc <- fa.parallel(x, fa = "fa", n.iter = n_iter, plot = FALSE, SMC = TRUE)
  sols <- list()
  for (fm in c("minres", "ml", "pa")) sols[[paste(fm, "oblimin", sep = "_")]] <- fa_summary(r, nf, n, fm, "oblimin")
  for (rot in c("promax", "varimax", "geominQ", "none")) sols[[paste("minres", rot, sep = "_")]] <- fa_summary(r, nf, n, "minres", rot)
  res <- list(items = items, n = n, nfactors = nf, r = mat_list(r),
              kmo = list(MSA = k$MSA, MSAi = unname(k$MSAi)),
              bartlett = list(chisq = b$chisq, df = b$df, p = b$p.value),
              map = v$map,
              parallel = list(n_iter = n_iter, fa_values = pa$fa.values, fa_sim = pa$fa.sim, fa_simr = pa$fa.simr,
                              nfact = pa$nfact),
              parallel_smc = list(n_iter = n_iter, fa_values = pa_smc$fa.values, nfact = pa_smc$nfact),
              fa = sols)
  f_min <- fa(r, nfactors = nf, n.obs = n, fm = "minres", rotate = "oblimin", warnings = FALSE)
  f_ml <- fa(r, nfactors = nf, n.obs = n, fm = "ml", rotate = "oblimin", warnings = FALSE)
  res$congruence_minres_ml <- mat_list(factor.congruence(f_min, f_ml, digits = 15))
  if (!is.null(groups)) {
    keys <- sapply(groups, function(g) as.numeric(items %in% g))
    rownames(keys) <- items
    res$groups <- groups
    res$congruence_minres_keys <- mat_list(factor.congruence(f_min, keys, digits = 15))
  }
  if (all(sapply(x, function(col) all(is.na(col) | col == round(col))))) {
    xi <- x[, seq_len(min(10, length(items)))]
    pc <- polychoric(xi)
    res$polychoric <- list(items = colnames(xi), rho = mat_list(pc$rho), tau = mat_list(pc$tau))
  }
  writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), out_file)
  invisible(res)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 4) {
  df <- read.csv(args[1], check.names = FALSE)
  items <- strsplit(args[2], ",")[[1]]
  n_iter <- if (length(args) >= 5) as.integer(args[5]) else 20
  make_ref(df, trimws(items), as.integer(args[3]), args[4], n_iter)
} else {
  here <- "tests/reference/efa"
  bfi <- read.csv("tests/reference/data/bfi.csv")
  bfi_items <- names(bfi)[2:26]
  bfi_groups <- split(bfi_items, substr(bfi_items, 1, 1))
  make_ref(bfi, bfi_items, 5, file.path(here, "bfi.json"), groups = bfi_groups)
  hs <- read.csv("tests/reference/data/HolzingerSwineford1939.csv")
  make_ref(hs, paste0("x", 1:9), 3, file.path(here, "holzinger.json"),
           groups = list(visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"), speed = c("x7", "x8", "x9")))
  # polychoric with unequal numbers of categories (psych then sets global = FALSE): A1..A5, A1 capped at 5
  xa <- bfi[, c("A1", "A2", "A3", "A4", "A5")]
  xa$A1[!is.na(xa$A1) & xa$A1 > 5] <- 5
  pc <- suppressWarnings(polychoric(xa))
  writeLines(toJSON(list(items = colnames(xa), cap = list(A1 = 5), rho = mat_list(pc$rho), tau = mat_list(pc$tau)),
                    digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "polychoric_nonglobal.json"))
  writeLines(capture.output(sessionInfo()), file.path(here, "sessionInfo.txt"))
}
