# Reference values for compval.descriptives: psych::describe (type = 3) on psych::bfi's 25 items.
# Run from the repository root: Rscript tests/reference/descriptives/make_reference.R
suppressPackageStartupMessages(library(psych))
stopifnot(packageVersion("psych") == "2.2.9")
bfi <- read.csv("tests/reference/data/bfi.csv")
items <- bfi[, 2:26]
d <- psych::describe(items)
out <- data.frame(item = rownames(d), n = d$n, mean = d$mean, sd = d$sd, median = d$median, min = d$min,
                  max = d$max, skew = d$skew, kurtosis = d$kurtosis)
write.csv(out, "tests/reference/descriptives/bfi_describe.csv", row.names = FALSE)
# psych::scoreItems mean scores (impute = "none") of the five scales after reverse keying (7 - x)
keys <- list(agree = c("-A1", "A2", "A3", "A4", "A5"), conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
             extraversion = c("-E1", "-E2", "E3", "E4", "E5"), neuroticism = c("N1", "N2", "N3", "N4", "N5"),
             openness = c("O1", "-O2", "O3", "O4", "-O5"))
sc <- psych::scoreItems(keys, items, impute = "none", min = 1, max = 6)
write.csv(data.frame(id = bfi$id, sc$scores), "tests/reference/descriptives/bfi_scores.csv", row.names = FALSE)
writeLines(capture.output(sessionInfo()), "tests/reference/descriptives/sessionInfo.txt")
