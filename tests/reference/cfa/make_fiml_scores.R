# Reference factor scores for a FIML fit (compval.cfa.factor_scores on rows with missing items), lavaan 0.6.14.
# Run from the repository root:  Rscript tests/reference/cfa/make_fiml_scores.R
# bfi3_fiml_fscores.csv: lavPredict(fit) (regression method; each case scored from its observed items) for the
# model and data of case "bfi3_fiml" in make_reference.R (reverse-keyed items reversed, missing = "ml"): the
# first 400 cases, with their row numbers in bfi.csv (lavInspect "case.idx") and their number of missing items.
suppressPackageStartupMessages(library(lavaan))
stopifnot(packageVersion("lavaan") == "0.6.14")
out <- "tests/reference/cfa"
bfi <- read.csv("tests/reference/data/bfi.csv")
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
bfi[rev_items] <- 7 - bfi[rev_items]
bfi3 <- "agree =~ A1 + A2 + A3 + A4 + A5\nconsc =~ C1 + C2 + C3 + C4 + C5\nextra =~ E1 + E2 + E3 + E4 + E5\n"
fit <- cfa(bfi3, data = bfi, missing = "ml")
fs <- lavPredict(fit)
idx <- lavInspect(fit, "case.idx")
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5))
d <- data.frame(row = idx, n_missing = rowSums(is.na(bfi[idx, items])), fs)[1:400, ]
write.csv(d, file.path(out, "bfi3_fiml_fscores.csv"), row.names = FALSE)
# (make_reference.R writes sessionInfo.txt in this folder)
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo_fiml_scores.txt"))
