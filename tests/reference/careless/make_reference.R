# Reference values for compval.careless (tests/test_careless.py).
# Run from the repository root:  Rscript tests/reference/careless/make_reference.R
# R 4.2.2, psych 2.2.9.
#
# The R package 'careless' (Yentes & Wilhelm, MIT licence) is not installed on the build machine. The functions
# below are RE-IMPLEMENTATIONS of careless 1.2.2 (CRAN, 2023-09-30; github.com/ryentes/careless) copied from its
# sources with only these changes: no plotting / no console warnings, and psychsyn()'s random re-sampling of
# NA results (resample_na = TRUE) is not used (resample_na = FALSE is what we reproduce, so the reference is
# deterministic). mahad() calls psych::outlier() exactly as careless does (bad = 0, na.rm = TRUE).
suppressPackageStartupMessages({library(psych); library(jsonlite)})
stopifnot(packageVersion("psych") == "2.2.9", packageVersion("jsonlite") == "1.8.4")
out <- "tests/reference/careless"

# ---------------------------------------------------------------- careless 1.2.2 re-implementations
longstring <- function(x, avg = FALSE) {
  rle_string <- function(x) {
    rle_list <- rle(x)
    longstr <- max(rle_list$lengths)
    avgstr <- mean(rle_list$lengths)
    return(cbind(longstr, avgstr))
  }
  output <- apply(x, 1, rle_string)
  output <- data.frame(t(output))
  colnames(output) <- c("longstr", "avgstr")
  if (avg == TRUE) return(output) else return(output[, "longstr"])
}

irv <- function(x, na.rm = TRUE, split = FALSE, num.split = 3) {
  out <- apply(x, 1, stats::sd, na.rm = na.rm)
  if (split == TRUE) {
    chunk <- function(x, n) split(x, cut(seq_along(x), n, labels = FALSE))
    split_x <- apply(x, 1, chunk, num.split)
    out_split <- t(replicate(nrow(x), rep(NA, num.split)))
    colnames(out_split) <- paste0("irv", 1:num.split)
    for (k in 1:nrow(out_split)) {
      split_x_single <- split_x[[k]]
      out_split[k, ] <- unlist(lapply(split_x_single, stats::sd, na.rm = na.rm), use.names = FALSE)
    }
    out_split <- data.frame(out, out_split)
    colnames(out_split)[1] <- "irvTotal"
    return(out_split)
  } else {
    return(out)
  }
}

mahad <- function(x, flag = FALSE, confidence = 0.99, na.rm = TRUE) {
  complete.na <- apply(x, 1, function(y) all(is.na(y)))
  x_filtered <- x[!complete.na, ]
  maha_data <- as.numeric(psych::outlier(x_filtered, plot = FALSE, bad = 0, na.rm = na.rm))
  d_sq <- rep_len(NA, nrow(x))
  d_sq[!complete.na] <- maha_data
  if (flag == TRUE) {
    cut <- stats::qchisq(confidence, ncol(x))
    return(data.frame(d_sq = d_sq, flagged = (d_sq > cut)))
  }
  d_sq
}

evenodd <- function(x, factors, diag = FALSE) {
  eo_vals <- vector("list", nrow(x))
  for (i in 1:nrow(x)) {
    f <- matrix(rep(NA, 2 * length(factors)), length(factors), ncol = 2)
    start <- 1
    for (j in 1:length(factors)) {
      if (j > 1) start <- start + (factors[j - 1])
      end <- (factors[j] - 1) + start
      s <- x[i, start:end]
      ind <- seq(1:length(colnames(s)))
      e_ind <- which(ind %% 2 == 0)
      o_ind <- which(ind %% 2 == 1)
      f[j, 1] <- mean(t(s[e_ind]), na.rm = TRUE)
      f[j, 2] <- mean(t(s[o_ind]), na.rm = TRUE)
    }
    eo_vals[[i]] <- f
  }
  eo_missing <- lapply(eo_vals, function(i) sum(!is.na(apply(i, 1, sum))))
  eo_cor <- sapply(eo_vals, function(f) {
    val <- suppressWarnings(stats::cor(f[, 1], f[, 2], use = "pairwise.complete.obs"))
    val <- (2 * val) / (1 + val)
    if (!is.na(val) && val < -1) val <- -1
    return(val)
  })
  eo_cor <- 0 - eo_cor
  if (diag == FALSE) return(eo_cor) else return(data.frame(eo_cor, eo_missing = unlist(eo_missing)))
}

get_item_pairs <- function(x, critval = .60, anto = FALSE) {
  critval <- abs(critval)
  correlations <- stats::cor(x, use = "pairwise.complete.obs")
  correlations[upper.tri(correlations, diag = TRUE)] <- NA
  correlations <- as.data.frame(as.table(correlations))
  if (anto == FALSE) {
    item_pair_names <- correlations[which(correlations$Freq > critval, arr.ind = TRUE), c(1, 2)]
  } else {
    item_pair_names <- correlations[which(correlations$Freq < -critval, arr.ind = TRUE), c(1, 2)]
  }
  if (nrow(item_pair_names) == 0) stop("No Psychometric Synonyms/Antonyms found.")
  item_pair_names
}

syn_for_one <- function(x, item_pairs) {   # resample_na = FALSE
  item_pairs_omit_na <- which(!(is.na(x[item_pairs[, 1]]) | is.na(x[item_pairs[, 2]])))
  sum_item_pairs <- length(item_pairs_omit_na)
  if (sum_item_pairs > 2) {
    itemvalues <- cbind(as.numeric(x[as.numeric(item_pairs[, 1])]), as.numeric(x[as.numeric(item_pairs[, 2])]))
    synvalue <- suppressWarnings(stats::cor(itemvalues, use = "pairwise.complete.obs", method = "pearson")[1, 2])
  } else {
    synvalue <- NA
  }
  c(sum_item_pairs, synvalue)
}

psychsyn <- function(x, critval = .60, anto = FALSE, diag = FALSE, item_pairs = NULL) {
  x <- as.matrix(x)
  if (is.null(item_pairs)) item_pairs <- get_item_pairs(x, critval, anto)
  synonyms <- apply(x, 1, syn_for_one, item_pairs)
  synonyms_df <- as.data.frame(aperm(synonyms))
  colnames(synonyms_df) <- c("numPairs", "cor")
  if (diag == TRUE) synonyms_df else synonyms_df$cor
}

# ---------------------------------------------------------------- data
bfi <- read.csv("tests/reference/data/bfi.csv")
items <- paste0(rep(c("A", "C", "E", "N", "O"), each = 5), 1:5)
raw <- bfi[, items]
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")   # psych's keys for the bfi
scored <- raw
for (k in rev_items) scored[[k]] <- 7 - scored[[k]]      # six-point scale 1..6: min + max - x
cc <- complete.cases(raw)

ls <- longstring(raw, avg = TRUE)
iv <- irv(raw, split = TRUE, num.split = 3)
md_cc <- rep(NA_real_, nrow(raw)); md_cc_flag <- rep(NA, nrow(raw))
m <- mahad(scored[cc, ], flag = TRUE, confidence = 0.99)
md_cc[cc] <- m$d_sq; md_cc_flag[cc] <- m$flagged
md_cc_raw <- rep(NA_real_, nrow(raw)); md_cc_raw[cc] <- mahad(raw[cc, ])   # invariant to reverse-keying
md_na <- mahad(scored)                                                        # psych::outlier with NAs
eo <- evenodd(scored, rep(5, 5), diag = TRUE)
syn40 <- psychsyn(scored, critval = .40, diag = TRUE)
syn60 <- psychsyn(scored, critval = .60, diag = TRUE)
ant30 <- psychsyn(raw, critval = .30, anto = TRUE, diag = TRUE)
# declared pairs (first = item, second = the item it is a synonym of), as a codebook `synonym_of` would give
decl <- data.frame(a = c("A3", "C2", "E4", "N2", "O3", "A5"), b = c("A2", "C1", "E3", "N1", "O1", "A4"))
decl_idx <- data.frame(a = match(decl$a, items), b = match(decl$b, items))
syn_decl <- psychsyn(scored, item_pairs = decl_idx, diag = TRUE)

res <- data.frame(
  id = bfi$id,
  longstr = ls$longstr, avgstr = ls$avgstr,
  irv = iv$irvTotal, irv1 = iv$irv1, irv2 = iv$irv2, irv3 = iv$irv3,
  mahad_cc = md_cc, mahad_cc_flag99 = md_cc_flag, mahad_cc_raw = md_cc_raw, mahad_na = md_na,
  evenodd = eo$eo_cor, evenodd_n = eo$eo_missing,
  psychsyn40 = syn40$cor, psychsyn40_n = syn40$numPairs,
  psychsyn60 = syn60$cor, psychsyn60_n = syn60$numPairs,
  psychant30 = ant30$cor, psychant30_n = ant30$numPairs,
  psychsyn_decl = syn_decl$cor, psychsyn_decl_n = syn_decl$numPairs
)
write.csv(res, file.path(out, "bfi_careless.csv"), row.names = FALSE, na = "")

pairs_of <- function(p) data.frame(first = items[as.numeric(p[, 1])], second = items[as.numeric(p[, 2])])
meta <- list(
  careless_version_reimplemented = "1.2.2",
  psych_version = as.character(packageVersion("psych")),
  n = nrow(raw), n_complete = sum(cc),
  reverse_items = rev_items,
  mahad_cut99 = qchisq(0.99, 25),
  psychsyn40_pairs = pairs_of(get_item_pairs(as.matrix(scored), .40)),
  psychant30_pairs = pairs_of(get_item_pairs(as.matrix(raw), .30, anto = TRUE)),
  declared_pairs = decl
)
writeLines(toJSON(meta, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(out, "bfi_careless_meta.json"))
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
