# Reference values for compval.criterion (criterion validity), computed with base R, sandwich, lmtest, car and
# pROC. Run from the repository root:
#   Rscript tests/reference/criterion/make_reference.R
# Writes tests/reference/criterion/reference.json (full precision) and the small generated data set
# tests/reference/criterion/noties.csv (continuous data without ties, for the exact Spearman p-value path).
# R 4.2.2, sandwich 3.0.2, lmtest 0.9.40, car 3.1.1, pROC 1.18.0, jsonlite 1.8.4 (Debian bookworm packages).
#
# Scenarios
#   satact : psych::sat.act. Predictors ACT, SATV, SATQ (SATQ has 13 missing values -> pairwise n differs);
#            criterion education; controls age (numeric) and gender (factor, level 1 = reference).
#            Hypothetical reliabilities for the attenuation correction (ACT .90, SATV .85, SATQ .88; education .80).
#   bfi    : psych::bfi. Predictors = mean scale scores A, C, E, N, O (reverse-keyed items recoded 7 - x, row
#            means over available items); criteria education (223 missing) and age (log1p-transformed, skewed);
#            control gender (factor).
#   bfi_gvif: bfi, criterion log1p(age), controls gender + education as a 5-level factor (GVIF for a factor term).
#   noties : generated data (set.seed(20240601); n = 30 and a subset of n = 8), no ties, no controls.
suppressPackageStartupMessages({
  library(sandwich); library(lmtest); library(car); library(pROC); library(jsonlite)
})
stopifnot(packageVersion("sandwich") == "3.0.2", packageVersion("lmtest") == "0.9.40",
          packageVersion("car") == "3.1.1", packageVersion("pROC") == "1.18.0", packageVersion("jsonlite") == "1.8.4")
out_dir <- "tests/reference/criterion"
data_dir <- "tests/reference/data"

# ---------------------------------------------------------------- helpers
bonett_wright_ci <- function(rho, n, conf = 0.95) {
  # Fisher z CI for Spearman's rho with the Bonett & Wright (2000) standard error sqrt((1 + rho^2/2)/(n - 3)).
  z <- atanh(rho); se <- sqrt((1 + rho^2 / 2) / (n - 3)); q <- qnorm((1 + conf) / 2)
  tanh(z + c(-1, 1) * q * se)
}

correlations <- function(scores, criteria) {
  rows <- list()
  for (cr in names(criteria)) for (k in names(scores)) {
    x <- scores[[k]]; y <- criteria[[cr]]; ok <- complete.cases(x, y)
    pt <- cor.test(x[ok], y[ok], method = "pearson")
    st <- suppressWarnings(cor.test(x[ok], y[ok], method = "spearman"))
    rho <- unname(st$estimate)
    bw <- bonett_wright_ci(rho, sum(ok))
    rows[[length(rows) + 1]] <- data.frame(
      criterion = cr, competency = k, n = sum(ok), n_missing_criterion = sum(is.na(y)),
      r = unname(pt$estimate), ci_lower = pt$conf.int[1], ci_upper = pt$conf.int[2],
      t = unname(pt$statistic), df = unname(pt$parameter), p = pt$p.value,
      rho = rho, rho_ci_lower = bw[1], rho_ci_upper = bw[2], rho_S = unname(st$statistic), rho_p = st$p.value)
  }
  d <- do.call(rbind, rows)
  d$p_fdr <- p.adjust(d$p, method = "BH")
  d$rho_p_fdr <- p.adjust(d$rho_p, method = "BH")
  d
}

all_subsets_r2 <- function(y, X, always = NULL) {
  # R^2 of lm(y ~ S + always) for every subset S of the columns of X (bit i of the index = column i).
  p <- ncol(X); r2 <- numeric(2^p)
  for (s in 0:(2^p - 1)) {
    cols <- which(bitwAnd(s, 2^(0:(p - 1))) > 0)
    D <- data.frame(y = y)
    if (length(cols)) D <- cbind(D, X[, cols, drop = FALSE])
    if (!is.null(always)) D <- cbind(D, always)
    r2[s + 1] <- if (ncol(D) == 1) 0 else summary(lm(y ~ ., data = D))$r.squared
  }
  r2
}

general_dominance <- function(r2, p) {
  # Budescu (1993): average over subset sizes k of the average increment of predictor i over subsets of size k.
  w <- numeric(p)
  for (i in 1:p) {
    bit <- 2^(i - 1); by_k <- numeric(p)
    for (k in 0:(p - 1)) {
      inc <- c()
      for (s in 0:(2^p - 1)) {
        if (bitwAnd(s, bit) == 0 && sum(bitwAnd(s, 2^(0:(p - 1))) > 0) == k)
          inc <- c(inc, r2[s + bit + 1] - r2[s + 1])
      }
      by_k[k + 1] <- mean(inc)
    }
    w[i] <- mean(by_k)
  }
  w
}

regression <- function(y, scores, controls, crit_name) {
  # Listwise sample: criterion, all competencies and all controls observed.
  D <- data.frame(y = y, scores)
  if (!is.null(controls)) D <- cbind(D, controls)
  D <- D[complete.cases(D), , drop = FALSE]
  comp <- names(scores); ctrl <- if (is.null(controls)) character(0) else names(controls)
  f1 <- if (length(ctrl)) reformulate(ctrl, "y") else y ~ 1
  f2 <- reformulate(c(ctrl, comp), "y")
  m1 <- lm(f1, data = D); m2 <- lm(f2, data = D)
  a <- anova(m1, m2)
  s1 <- summary(m1); s2 <- summary(m2)
  V <- vcovHC(m2, type = "HC3")
  ct <- coeftest(m2, vcov. = V)
  wt <- waldtest(m1, m2, vcov = vcovHC(m2, type = "HC3"), test = "F")
  # standardized model: numeric variables z-scored in the regression sample, factor dummies left as 0/1
  Z <- D
  for (v in names(Z)) if (is.numeric(Z[[v]])) Z[[v]] <- as.numeric(scale(Z[[v]]))
  mz <- lm(f2, data = Z); ciz <- confint(mz)
  Vz <- vcovHC(mz, type = "HC3"); ctz <- coeftest(mz, vcov. = Vz)
  qt975 <- qt(0.975, mz$df.residual)
  coefs <- data.frame(
    term = names(coef(m2)), b = unname(coef(m2)), se = unname(sqrt(diag(vcov(m2)))),
    t = unname(s2$coefficients[, 3]), p = unname(s2$coefficients[, 4]),
    se_hc3 = unname(ct[, 2]), t_hc3 = unname(ct[, 3]), p_hc3 = unname(ct[, 4]),
    beta = unname(coef(mz)), beta_se = unname(sqrt(diag(vcov(mz)))),
    beta_ci_lower = unname(ciz[, 1]), beta_ci_upper = unname(ciz[, 2]),
    beta_se_hc3 = unname(ctz[, 2]),
    beta_ci_lower_hc3 = unname(coef(mz) - qt975 * ctz[, 2]), beta_ci_upper_hc3 = unname(coef(mz) + qt975 * ctz[, 2]))
  vif_tab <- NULL
  if (length(c(ctrl, comp)) >= 2) {
    v <- car::vif(m2)
    if (is.matrix(v)) vif_tab <- data.frame(term = rownames(v), gvif = v[, 1], df = v[, 2], gvif_adj = v[, 3])
    else vif_tab <- data.frame(term = names(v), gvif = unname(v), df = 1, gvif_adj = sqrt(unname(v)))
  }
  fs <- s2$fstatistic
  summ <- list(
    criterion = crit_name, n = nrow(D), r2_controls = s1$r.squared,
    adj_r2_controls = if (length(ctrl)) s1$adj.r.squared else 0,
    r2_full = s2$r.squared, adj_r2_full = s2$adj.r.squared, delta_r2 = s2$r.squared - s1$r.squared,
    f_change = a$F[2], df1 = a$Df[2], df2 = a$Res.Df[2], p_delta = a$`Pr(>F)`[2],
    f_change_hc3 = wt$F[2], p_delta_hc3 = wt$`Pr(>F)`[2],
    f_full = unname(fs[1]), f_full_df1 = unname(fs[2]), f_full_df2 = unname(fs[3]),
    p_full = unname(pf(fs[1], fs[2], fs[3], lower.tail = FALSE)))
  # dominance analysis on the same sample: competencies only, and with controls in every model
  X <- D[, comp, drop = FALSE]
  r2_sub <- all_subsets_r2(D$y, X)
  dom <- general_dominance(r2_sub, length(comp))
  dom_ctrl <- NULL
  if (length(ctrl)) {
    mm <- model.matrix(reformulate(ctrl), data = D)[, -1, drop = FALSE]
    r2_sub_c <- all_subsets_r2(D$y, X, always = as.data.frame(mm))
    dom_ctrl <- list(weights = setNames(as.list(general_dominance(r2_sub_c, length(comp)) ), comp),
                     r2_controls = r2_sub_c[1], r2_full = r2_sub_c[2^length(comp)])
  }
  list(summary = summ, coefficients = coefs, vif = vif_tab,
       dominance = list(weights = setNames(as.list(dom), comp), r2_full = r2_sub[2^length(comp)],
                        all_subsets_r2 = r2_sub),
       dominance_with_controls = dom_ctrl)
}

hedges_g <- function(x1, x0) {
  n1 <- length(x1); n0 <- length(x0); m <- n1 + n0 - 2
  sp <- sqrt(((n1 - 1) * var(x1) + (n0 - 1) * var(x0)) / m)
  d <- (mean(x1) - mean(x0)) / sp
  J <- exp(lgamma(m / 2) - log(sqrt(m / 2)) - lgamma((m - 1) / 2))   # Hedges (1981) exact correction
  g <- J * d
  se <- sqrt((n1 + n0) / (n1 * n0) + g^2 / (2 * (n1 + n0)))        # Hedges & Olkin (1985)
  c(d = d, J = J, g = g, g_se = se, g_ci_lower = g - qnorm(0.975) * se, g_ci_upper = g + qnorm(0.975) * se)
}

known_groups <- function(scores, y, crit_name, q = 0.25) {
  thr <- unname(quantile(y, 1 - q, na.rm = TRUE, type = 7))
  top <- y >= thr
  rows <- list()
  for (k in names(scores)) {
    x <- scores[[k]]; ok <- !is.na(x) & !is.na(y)
    x1 <- x[ok & top]; x0 <- x[ok & !top]
    tt <- t.test(x1, x0, var.equal = FALSE)
    hg <- hedges_g(x1, x0)
    ro <- roc(response = as.integer(top[ok]), predictor = x[ok], levels = c(0, 1), direction = "<", quiet = TRUE)
    ci <- ci.auc(ro, method = "delong")
    rows[[length(rows) + 1]] <- data.frame(
      criterion = crit_name, competency = k, threshold = thr, n_top = length(x1), n_rest = length(x0),
      mean_top = mean(x1), mean_rest = mean(x0), sd_top = sd(x1), sd_rest = sd(x0),
      t = unname(tt$statistic), df = unname(tt$parameter), p = tt$p.value,
      d = hg[["d"]], g = hg[["g"]], g_se = hg[["g_se"]], g_ci_lower = hg[["g_ci_lower"]], g_ci_upper = hg[["g_ci_upper"]],
      auc = as.numeric(auc(ro)), auc_ci_lower = ci[1], auc_ci_upper = ci[3],
      auc_mw = unname(wilcox.test(x1, x0, exact = FALSE)$statistic) / (length(x1) * length(x0)))
  }
  do.call(rbind, rows)
}

attenuation <- function(cors, rxx, ryy) {
  f <- sqrt(rxx[cors$competency] * ifelse(cors$criterion %in% names(ryy), ryy[cors$criterion], 1))
  data.frame(criterion = cors$criterion, competency = cors$competency, r_corrected = cors$r / f,
             ci_lower_corrected = cors$ci_lower / f, ci_upper_corrected = cors$ci_upper / f)
}

ref <- list()

# ---------------------------------------------------------------- satact
sa <- read.csv(file.path(data_dir, "sat_act.csv"))
sc <- sa[, c("ACT", "SATV", "SATQ")]
cr <- sa[, "education", drop = FALSE]
ctl <- data.frame(age = sa$age, gender = factor(sa$gender))
cors <- correlations(sc, cr)
ref$satact <- list(
  correlations = cors,
  attenuation = attenuation(cors, c(ACT = .90, SATV = .85, SATQ = .88), c(education = .80)),
  regression = list(education = regression(cr$education, sc, ctl, "education")),
  known_groups = known_groups(sc, cr$education, "education"))

# ---------------------------------------------------------------- bfi
bfi <- read.csv(file.path(data_dir, "bfi.csv"))
keys <- list(A = c("-A1", "A2", "A3", "A4", "A5"), C = c("C1", "C2", "C3", "-C4", "-C5"),
             E = c("-E1", "-E2", "E3", "E4", "E5"), N = c("N1", "N2", "N3", "N4", "N5"),
             O = c("O1", "-O2", "O3", "O4", "-O5"))
bsc <- as.data.frame(lapply(keys, function(k) {
  rev <- startsWith(k, "-"); it <- sub("^-", "", k)
  m <- as.matrix(bfi[, it]); m[, rev] <- 7 - m[, rev]
  rowMeans(m, na.rm = TRUE)
}))
bcr <- data.frame(education = bfi$education, age = log1p(bfi$age))
bctl <- data.frame(gender = factor(bfi$gender))
bcors <- correlations(bsc, bcr)
ref$bfi <- list(
  n_missing = list(education = sum(is.na(bfi$education)), age = sum(is.na(bfi$age))),
  correlations = bcors,
  regression = list(education = regression(bcr$education, bsc, bctl, "education"),
                    age = regression(bcr$age, bsc, bctl, "age")),
  known_groups = rbind(known_groups(bsc, bcr$education, "education"), known_groups(bsc, bcr$age, "age")))

gctl <- data.frame(gender = factor(bfi$gender), education = factor(bfi$education))
ref$bfi_gvif <- list(regression = list(age = regression(bcr$age, bsc, gctl, "age")))

# ---------------------------------------------------------------- noties (generated)
set.seed(20240601)
n <- 30
x1 <- round(rnorm(n), 6); x2 <- round(0.5 * x1 + rnorm(n), 6); y <- round(0.4 * x1 - 0.3 * x2 + rnorm(n), 6)
nt <- data.frame(id = 1:n, x1 = x1, x2 = x2, y = y)
write.csv(nt, file.path(out_dir, "noties.csv"), row.names = FALSE)
nt8 <- nt[1:8, ]
ref$noties <- list(
  correlations = correlations(nt[, c("x1", "x2")], nt[, "y", drop = FALSE]),
  correlations_n8 = correlations(nt8[, c("x1", "x2")], nt8[, "y", drop = FALSE]),
  regression = list(y = regression(nt$y, nt[, c("x1", "x2")], NULL, "y")))

write_json(ref, file.path(out_dir, "reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           dataframe = "rows", na = "null")
writeLines(capture.output(sessionInfo()), file.path(out_dir, "sessionInfo.txt"))
