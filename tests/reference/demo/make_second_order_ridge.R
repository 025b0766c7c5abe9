# lavaan 0.6.14 (R 4.2.2) on the demo's variant `subabilities` (config/variants/subabilities.yaml, model: second_order):
# where lavaan declares convergence and compval reports "estimates diverge (the objective is flat while estimates grow)".
#
# Run from the repository root, after tests/reference/demo/make_demo_items.py (it writes the data and the model):
#   Rscript tests/reference/demo/make_second_order_ridge.R
#
# Inputs (beside this script): items_scored.csv, models/subabilities_second_order.lav (compval's ModelSpec.syntax
# of the variant's hypothesis, verbatim). The fit is the pipeline's: cfa(model, data, missing = "ml") (FIML, ML).
#
# Output: cfa_subabilities_second_order_ridge.json
#   converged, iterations       lavInspect(fit, "converged"), lavInspect(fit, "iterations") (nlminb's defaults)
#   chisq, df, npar             lavInspect(fit, "test")$standard$stat / $df, lavInspect(fit, "npar")
#   second_order_loadings       the estimates of the equality-constrained second-order loadings (label -> est)
#   second_order_se             their standard errors (null where lavaan could not compute one)
#   n_se_missing                free parameters without a standard error
#   warnings                    lavaan's warnings during the fit and the standard errors, verbatim
#   seconds                     elapsed time of cfa()
# and sessionInfo_second_order_ridge.txt (the R session it ran in).
# fitMeasures() is not called: under FIML its baseline and saturated models take minutes on 50 items and the
# test statistic above is the chi-square fitMeasures reports.
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("jsonlite") == "1.8.4")
out <- "tests/reference/demo"

x <- read.csv(file.path(out, "items_scored.csv"))
syntax <- paste(readLines(file.path(out, "models", "subabilities_second_order.lav")), collapse = "\n")
warned <- character()
keep_warning <- function(w) {  # every warning lavaan gives is stored, verbatim
  warned <<- c(warned, conditionMessage(w))
  invokeRestart("muffleWarning")
}
t0 <- proc.time()[["elapsed"]]
fit <- withCallingHandlers(cfa(syntax, data = x, missing = "ml"), warning = keep_warning)
el <- proc.time()[["elapsed"]] - t0
pe <- withCallingHandlers(parameterEstimates(fit, remove.eq = TRUE), warning = keep_warning)
second <- pe[pe$op == "=~" & nzchar(pe$label), ]
second <- second[!duplicated(second$label), ]
pt <- parTable(fit)
free_se <- pe$se[match(paste(pt$lhs, pt$op, pt$rhs)[pt$free > 0], paste(pe$lhs, pe$op, pe$rhs))]
test <- lavInspect(fit, "test")$standard
res <- list(
  converged = lavInspect(fit, "converged"),
  iterations = lavInspect(fit, "iterations"),
  chisq = test$stat,
  df = test$df,
  npar = lavInspect(fit, "npar"),
  second_order_loadings = as.list(setNames(second$est, second$label)),
  second_order_se = as.list(setNames(second$se, second$label)),
  n_se_missing = sum(is.na(free_se)),
  warnings = unique(warned),
  seconds = el
)
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, na = "null"),
           file.path(out, "cfa_subabilities_second_order_ridge.json"))
message(sprintf("converged %s after %d iterations, chisq %.6f on %d df, %.0f s", res$converged, res$iterations,
                res$chisq, as.integer(res$df), el))
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo_second_order_ridge.txt"))
