# Exports the public data sets used as reference data by the test-suite, so that Python tests read
# exactly the rows R analysed. Run from the repository root:  Rscript tests/reference/data/export_datasets.R
# R 4.2.2, psych 2.2.9, lavaan 0.6.14 (Debian bookworm packages).
suppressPackageStartupMessages({library(psych); library(lavaan)})
stopifnot(packageVersion("psych") == "2.2.9", packageVersion("lavaan") == "0.6.14")
out <- "tests/reference/data"
# psych::bfi: 2800 respondents, 25 six-point items (5 reverse-keyed), with missing values, plus gender,
# education, age.
bfi_df <- psych::bfi
write.csv(data.frame(id = seq_len(nrow(bfi_df)), bfi_df), file.path(out, "bfi.csv"), row.names = FALSE, na = "")
# lavaan::HolzingerSwineford1939: 301 pupils, 9 ability tests, two schools.
hs <- lavaan::HolzingerSwineford1939
write.csv(hs, file.path(out, "HolzingerSwineford1939.csv"), row.names = FALSE, na = "")
# lavaan::PoliticalDemocracy: 75 countries, 11 indicators.
write.csv(lavaan::PoliticalDemocracy, file.path(out, "PoliticalDemocracy.csv"), row.names = FALSE, na = "")
# psych::sat.act: 700 respondents, ACT/SAT scores with missing values (criterion-style data).
write.csv(data.frame(id = seq_len(nrow(psych::sat.act)), psych::sat.act), file.path(out, "sat_act.csv"),
          row.names = FALSE, na = "")
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
