"""Criterion validity: do competency scores predict performance criteria?

Pure functions on three aligned tables (rows = respondents, aligned on the index):

* ``scores``   - one numeric column per competency key (predictors);
* ``criteria`` - one numeric column per criterion (outcomes);
* ``controls`` - optional; numeric columns are used as they are, categorical columns (pandas ``category``,
  ``object``/string or ``bool`` dtype) are treatment (dummy) coded with the first level as reference,
  exactly as R's ``lm`` codes a factor (``contr.treatment``).

The analyses and the R functions they reproduce:

1. :func:`correlate` - Pearson r with the Fisher-z confidence interval and the t-test p-value of
   ``cor.test``; Spearman rho with ``cor.test(method = "spearman")``'s p-value (AS 89 when there are no ties
   and n <= 1290, otherwise the t approximation) and a Fisher-z interval with the Bonett & Wright (2000)
   standard error; Benjamini & Hochberg (1995) adjustment across the whole family (``p.adjust(, "BH")``).
2. :func:`correct_attenuation` - Spearman's (1904) correction ``r / sqrt(rxx * ryy)``.
3. :func:`hierarchical_regression` - step 1 controls, step 2 controls + competencies (``lm`` + ``anova``),
   standardized betas, HC3 standard errors (``sandwich::vcovHC(type = "HC3")`` + ``lmtest::coeftest``),
   (generalized) VIFs (``car::vif``).
4. :func:`dominance_analysis` - general dominance weights (Budescu 1993; Azen & Budescu 2003) with seeded
   percentile bootstrap intervals.
5. :func:`known_groups` - top group vs the rest: Welch ``t.test``, Hedges' g, ROC AUC (``pROC::auc``) with
   the DeLong interval (``pROC::ci.auc(method = "delong")``).

:func:`run_criterion` runs everything and returns a :class:`CriterionResult` of tidy DataFrames.
Respondents without a criterion value are counted per criterion (``missing`` table, ``n_missing``), never
silently dropped.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from threadpoolctl import threadpool_limits

from .resampling import crossproducts, resample_counts

__all__ = [
    "CriterionResult",
    "run_criterion",
    "transform_criteria",
    "missing_report",
    "correlate",
    "correct_attenuation",
    "bh_adjust",
    "spearman_pvalue",
    "hierarchical_regression",
    "control_design",
    "dominance_analysis",
    "general_dominance",
    "known_groups",
    "hedges_g",
    "auc_delong",
    "latent_regression",
    "latent_regression_syntax",
    "latent_summary",
]

RESERVED_NAMES = ("regression", "dominance", "missing")
MAX_DOMINANCE_PREDICTORS = 15


# ============================================================================ helpers
def _z(conf: float) -> float:
    return float(stats.norm.ppf((1 + conf) / 2))


def bh_adjust(p) -> np.ndarray:
    """Benjamini & Hochberg (1995) adjusted p-values, as R's ``p.adjust(p, method = "BH")``.

    Missing values stay missing and do not count towards the family size (R's default ``n = sum(!is.na(p))``).
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    pv = p[ok]
    m = pv.size
    if m == 0:
        return out
    order = np.argsort(-pv, kind="stable")  # decreasing
    ranks = np.arange(m, 0, -1)  # i = m, m-1, ..., 1
    adj = np.minimum.accumulate(m / ranks * pv[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _prho(n: int, is_: float, lower_tail: bool) -> float:
    """Port of R's ``prho`` (stats/src/prho.c; Best & Roberts 1975, AS 89).

    ``Pr[S >= is]`` (or ``Pr[S < is]`` if ``lower_tail``) for Spearman's ``S = (n^3 - n)(1 - rho)/6``; exact
    enumeration for ``n <= 9``, Edgeworth series otherwise.
    """
    pv = 0.0 if lower_tail else 1.0
    if n <= 1 or is_ <= 0:
        return pv
    n3 = n * (n * n - 1) / 3.0
    if is_ > n3:
        return 1.0 - pv
    if n <= 9:
        nfac = math.factorial(n)
        if is_ == n3:
            ifr = 1
        else:
            perms = np.array(list(itertools.permutations(range(1, n + 1))), dtype=np.int64)
            ise = ((np.arange(1, n + 1) - perms) ** 2).sum(axis=1)
            ifr = int(np.sum(is_ <= ise))
        return (nfac - ifr if lower_tail else ifr) / nfac
    c1, c2, c3, c4, c5, c6 = 0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932
    c7, c8, c9, c10, c11, c12 = 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4
    y = float(n)
    b = 1.0 / y
    x = (6.0 * (is_ - 1) * b / (y * y - 1) - 1) * math.sqrt(y - 1)
    y = x * x
    u = (
        x
        * b
        * (
            c1
            + b * (c2 + c3 * b)
            + y * (-c4 + b * (c5 + c6 * b) - y * b * (c7 + c8 * b - y * (c9 - c10 * b + y * b * (c11 - c12 * y))))
        )
    )
    y = u / math.exp(y / 2.0)
    pv = (-y if lower_tail else y) + (stats.norm.cdf(x) if lower_tail else stats.norm.sf(x))
    return float(min(max(pv, 0.0), 1.0))


def spearman_pvalue(rho: float, n: int, ties: bool) -> tuple[float, float]:
    """Two-sided p-value of Spearman's rho exactly as R's ``cor.test(method = "spearman")`` (defaults).

    Without ties and with ``n <= 1290`` R uses AS 89 (exact enumeration for n <= 9, Edgeworth series
    otherwise); with ties (or larger n) the t approximation ``t = rho / sqrt((1 - rho^2)/(n - 2))`` on
    ``n - 2`` df.

    Returns
    -------
    (S, p) : the statistic ``S = (n^3 - n)(1 - rho)/6`` and the two-sided p-value.
    """
    q = (n**3 - n) * (1 - rho) / 6.0
    if not np.isfinite(rho) or n < 3:
        return float(q), float("nan")
    exact = (not ties) and n <= 1290

    def pspearman(lower: bool) -> float:
        if exact:
            # R: .Call(C_pRho, round(q) + 2 * lower.tail, n, lower.tail)
            return _prho(n, float(np.round(q)) + 2 * lower, lower)
        den = n * (n**2 - 1) / 6.0
        r = 1 - q / den
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = r / np.sqrt((1 - r**2) / (n - 2))
        return float(stats.t.sf(tstat, n - 2) if lower else stats.t.cdf(tstat, n - 2))

    p = pspearman(False) if q > (n**3 - n) / 6.0 else pspearman(True)
    return float(q), float(min(2 * p, 1.0))


def _check_frame(df: pd.DataFrame, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame")
    if not df.index.is_unique:
        raise ValueError(f"{what} has duplicated index values; rows are aligned on the index")
    if not df.columns.is_unique:
        raise ValueError(f"{what} has duplicated column names")


def _is_categorical(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(s)
        or pd.api.types.is_string_dtype(s)
        or pd.api.types.is_bool_dtype(s)
    )


# ============================================================================ data preparation
def transform_criteria(
    criteria: pd.DataFrame, log_criteria: Sequence[str] = (), method: str = "log1p"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Log-transform the named (skewed) criteria.

    Parameters
    ----------
    criteria : DataFrame
        One numeric column per criterion.
    log_criteria : sequence of str
        Criteria to transform; the others are left unchanged.
    method : {"log1p", "log"}
        ``log1p`` = ``log(1 + y)`` (default: defined for counts and amounts with zeros; R ``log1p``) or the
        natural ``log`` (requires y > 0). Values outside the domain raise ``ValueError`` instead of becoming
        missing, so no respondent is dropped silently.

    Returns
    -------
    (criteria, transforms) : the transformed copy and a table ``criterion, transform`` ("none", "log",
    "log1p") that is merged into the result tables as the note column.
    """
    if method not in ("log1p", "log"):
        raise ValueError("method must be 'log1p' or 'log'")
    unknown = [c for c in log_criteria if c not in criteria.columns]
    if unknown:
        raise ValueError(f"log_criteria not among the criteria: {unknown}")
    out = criteria.copy()
    rows = []
    for c in criteria.columns:
        if c in log_criteria:
            y = pd.to_numeric(out[c], errors="raise").astype(float)
            bound = -1.0 if method == "log1p" else 0.0
            bad = y.notna() & (y <= bound)
            if bad.any():
                raise ValueError(
                    f"criterion {c!r}: {int(bad.sum())} value(s) <= {bound:g}, outside the domain of {method}"
                )
            out[c] = np.log1p(y) if method == "log1p" else np.log(y)
            rows.append({"criterion": c, "transform": method})
        else:
            rows.append({"criterion": c, "transform": "none"})
    return out, pd.DataFrame(rows)


def missing_report(scores: pd.DataFrame, criteria: pd.DataFrame) -> pd.DataFrame:
    """Count, per criterion, the respondents (rows of ``scores``) without a criterion value.

    ``n_total`` = rows in ``scores``; ``n_missing`` = of these, rows whose criterion is missing, including
    ``n_absent`` rows that do not appear in ``criteria`` at all; ``n_valid = n_total - n_missing``;
    ``n_criteria_without_scores`` = rows of ``criteria`` whose index is not in ``scores`` (they cannot be
    analysed and are reported, not used).
    """
    absent = ~scores.index.isin(criteria.index)
    extra = int((~criteria.index.isin(scores.index)).sum())
    aligned = criteria.reindex(scores.index)
    rows = []
    for c in criteria.columns:
        miss = aligned[c].isna()
        rows.append(
            {
                "criterion": c,
                "n_total": len(scores),
                "n_missing": int(miss.sum()),
                "n_absent": int(absent.sum()),
                "n_valid": int((~miss).sum()),
                "n_criteria_without_scores": extra,
            }
        )
    return pd.DataFrame(rows)


def control_design(controls: pd.DataFrame | None, index=None) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Numeric design columns for the controls, as R's ``model.matrix`` builds them (without intercept).

    Numeric columns are kept; categorical columns (``category``, ``object``/string, ``bool``) become
    treatment dummies named ``"<column>[T.<level>]"`` with the first level as reference: the categories'
    order for a pandas ``Categorical``, sorted unique values otherwise (as ``factor()``). Only levels that
    occur among the rows of ``index`` (if given) are used, so an unused level never yields an all-zero
    (aliased) column. Missing values stay missing (the row is dropped listwise by the regression).

    Returns
    -------
    (design, terms) : the design DataFrame and a mapping term (original column) -> its design columns.
    """
    if controls is None or controls.shape[1] == 0:
        return pd.DataFrame(index=index), {}
    if index is not None:
        controls = controls.loc[index]
    cols: dict[str, pd.Series] = {}
    terms: dict[str, list[str]] = {}
    for c in controls.columns:
        s = controls[c]
        if _is_categorical(s):
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                levels = sorted(s.dropna().unique().tolist())
            if len(levels) < 2:
                raise ValueError(f"categorical control {c!r} has fewer than two observed levels")
            names = []
            for lv in levels[1:]:
                name = f"{c}[T.{lv}]"
                cols[name] = (s == lv).astype(float).where(s.notna())
                names.append(name)
            terms[c] = names
        else:
            cols[c] = pd.to_numeric(s, errors="raise").astype(float)
            terms[c] = [c]
    return pd.DataFrame(cols, index=controls.index), terms


# ============================================================================ 1-2. correlations
def correlate(
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    *,
    conf: float = 0.95,
    transforms: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Pearson and Spearman correlations of every competency with every criterion (pairwise complete).

    Pearson: r, t = r sqrt((n-2)/(1-r^2)) on n-2 df and two-sided p, and the Fisher (1921) z interval
    ``tanh(atanh(r) +- z_{.975}/sqrt(n-3))`` - all as R's ``cor.test``. Spearman: rho = Pearson r of the
    average ranks, p-value as ``cor.test(method = "spearman")`` (see :func:`spearman_pvalue`), and a Fisher-z
    interval with the Bonett & Wright (2000) standard error ``sqrt((1 + rho^2/2)/(n-3))`` (``cor.test`` gives
    no interval for rho). ``p_fdr`` / ``rho_p_fdr``: Benjamini-Hochberg adjustment across the whole family
    (all criteria x competencies), separately for Pearson and Spearman (R ``p.adjust(, "BH")``).

    Returns
    -------
    DataFrame with one row per (criterion, competency): n (pairwise complete), n_missing (criterion missing
    among the rows of ``scores``), transform, r, ci_lower, ci_upper, t, df, p, p_fdr, rho, rho_ci_lower,
    rho_ci_upper, rho_S, rho_p, rho_p_fdr, rho_ci_method.
    """
    _check_frame(scores, "scores")
    _check_frame(criteria, "criteria")
    crit = criteria.reindex(scores.index)
    z = _z(conf)
    tf = {} if transforms is None else dict(zip(transforms["criterion"], transforms["transform"]))
    rows = []
    for cr in criteria.columns:
        y_all = pd.to_numeric(crit[cr], errors="raise").astype(float)
        for k in scores.columns:
            x_all = pd.to_numeric(scores[k], errors="raise").astype(float)
            ok = x_all.notna() & y_all.notna()
            x = x_all[ok].to_numpy()
            y = y_all[ok].to_numpy()
            n = int(ok.sum())
            row = {
                "criterion": cr,
                "competency": k,
                "n": n,
                "n_missing": int(y_all.isna().sum()),
                "transform": tf.get(cr, "none"),
            }
            if n >= 3:
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = float(np.corrcoef(x, y)[0, 1])
                    df = n - 2
                    t = r * math.sqrt(df / (1 - r * r)) if abs(r) < 1 else math.copysign(np.inf, r)
                    p = float(2 * min(stats.t.cdf(t, df), stats.t.sf(t, df)))
                    if n > 3:
                        zr, se = np.arctanh(r), 1 / math.sqrt(n - 3)
                        lo, hi = np.tanh(zr - z * se), np.tanh(zr + z * se)
                    else:
                        lo = hi = np.nan
                    rx, ry = stats.rankdata(x), stats.rankdata(y)
                    rho = float(np.corrcoef(rx, ry)[0, 1])
                    ties = min(len(np.unique(x)), len(np.unique(y))) < n
                    S, rho_p = spearman_pvalue(rho, n, ties)
                    if n > 3:
                        zr, se = np.arctanh(rho), math.sqrt((1 + rho * rho / 2) / (n - 3))
                        rlo, rhi = np.tanh(zr - z * se), np.tanh(zr + z * se)
                    else:
                        rlo = rhi = np.nan
                row.update(
                    r=r,
                    ci_lower=float(lo),
                    ci_upper=float(hi),
                    t=float(t),
                    df=df,
                    p=p,
                    rho=rho,
                    rho_ci_lower=float(rlo),
                    rho_ci_upper=float(rhi),
                    rho_S=S,
                    rho_p=rho_p,
                )
            else:
                row.update(
                    r=np.nan,
                    ci_lower=np.nan,
                    ci_upper=np.nan,
                    t=np.nan,
                    df=max(n - 2, 0),
                    p=np.nan,
                    rho=np.nan,
                    rho_ci_lower=np.nan,
                    rho_ci_upper=np.nan,
                    rho_S=np.nan,
                    rho_p=np.nan,
                )
            rows.append(row)
    out = pd.DataFrame(rows)
    out["p_fdr"] = bh_adjust(out["p"])
    out["rho_p_fdr"] = bh_adjust(out["rho_p"])
    out["rho_ci_method"] = "fisher_z_bonett_wright_2000"
    cols = [
        "criterion",
        "competency",
        "n",
        "n_missing",
        "transform",
        "r",
        "ci_lower",
        "ci_upper",
        "t",
        "df",
        "p",
        "p_fdr",
        "rho",
        "rho_ci_lower",
        "rho_ci_upper",
        "rho_S",
        "rho_p",
        "rho_p_fdr",
        "rho_ci_method",
    ]
    return out[cols]


def correct_attenuation(
    correlations: pd.DataFrame,
    reliabilities: Mapping[str, float] | None,
    criterion_reliabilities: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Add Spearman's (1904) correction for attenuation to a :func:`correlate` table.

    ``r_corrected = r / sqrt(rxx * ryy)``; the interval bounds are divided by the same factor (the usual
    Hunter & Schmidt 2004 practice; the corrected interval is not re-estimated). ``rxx`` comes from
    ``reliabilities`` (competency -> reliability, e.g. omega or alpha), ``ryy`` from ``criterion_reliabilities``
    (criterion -> reliability; default 1, i.e. predictor-only correction). Competencies without a reliability
    get missing corrected values. Corrected values are not truncated at |1| (a value beyond 1 signals
    reliabilities that are too low). Only the Pearson r is corrected.
    """
    out = correlations.copy()
    rel = dict(reliabilities or {})
    crel = dict(criterion_reliabilities or {})
    for name, v in list(rel.items()) + list(crel.items()):
        if not (0 < float(v) <= 1):
            raise ValueError(f"reliability of {name!r} must be in (0, 1], got {v}")
    out["rxx"] = out["competency"].map(lambda k: float(rel[k]) if k in rel else np.nan)
    out["ryy"] = out["criterion"].map(lambda c: float(crel.get(c, 1.0)))
    f = np.sqrt(out["rxx"] * out["ryy"])
    out["r_corrected"] = out["r"] / f
    out["ci_lower_corrected"] = out["ci_lower"] / f
    out["ci_upper_corrected"] = out["ci_upper"] / f
    return out


# ============================================================================ 3. hierarchical regression
def _gvif(vcov: np.ndarray, assign: list[int], n_terms: int) -> list[tuple[float, int]]:
    """car::vif: GVIF_j = det(R_jj) det(R_-j-j) / det(R), R = cov2cor(vcov(beta)) without the intercept."""
    d = np.sqrt(np.diag(vcov))
    R = vcov / np.outer(d, d)
    detR = np.linalg.det(R)
    assign = np.asarray(assign)
    out = []
    for t in range(n_terms):
        sub = np.where(assign == t)[0]
        rest = np.where(assign != t)[0]
        g = np.linalg.det(R[np.ix_(sub, sub)]) * np.linalg.det(R[np.ix_(rest, rest)]) / detR
        out.append((float(g), len(sub)))
    return out


def hierarchical_regression(
    y: pd.Series,
    scores: pd.DataFrame,
    controls: pd.DataFrame | None = None,
    *,
    conf: float = 0.95,
) -> dict:
    """Two-step OLS: step 1 ``y ~ controls``, step 2 ``y ~ controls + competencies``.

    Both steps use the same listwise sample (criterion, all competencies and all controls observed), as
    R's ``anova(m1, m2)`` requires. Without controls step 1 is the intercept-only model (R2 = 0).

    Computed (R function matched):

    * R2, adjusted R2 of both steps, delta R2 and the partial F test of the competency block
      (``anova(m1, m2)``); its HC3-robust counterpart (``lmtest::waldtest(m1, m2, vcov = vcovHC(m2, "HC3"),
      test = "F")``); the overall F of step 2 (``summary.lm``).
    * Step-2 coefficients: b, classical SE, t, p (``summary.lm``); HC3 SE, t, p (``coeftest(m2,
      vcov. = vcovHC(m2, type = "HC3"))``, MacKinnon & White 1985, t on the residual df).
    * Standardized betas: the model refitted with every numeric variable (criterion, competencies, numeric
      controls) z-scored in the regression sample (sd with n - 1, R ``scale``); dummies stay 0/1, so a dummy's
      beta is the standardized group difference. CIs: ``confint`` (classical) and beta +- t_{.975} * HC3 SE.
    * (G)VIFs of step 2 as ``car::vif``: Fox & Monette (1992) generalized VIF per term, equal to 1/(1 - R2_j)
      for one-column terms; a factor's dummies form one term with ``df`` > 1 and ``gvif_adj`` =
      GVIF^(1/(2 df)) is the comparable value (``gvif_adj`` = sqrt(VIF) for 1-df terms).

    Returns
    -------
    dict with ``summary`` (dict), ``coefficients`` (DataFrame), ``vif`` (DataFrame), ``sample`` (the
    analysis index), ``design`` (step-2 design without intercept) and ``control_columns`` (design columns of
    the controls).
    """
    comp = list(scores.columns)
    label = str(y.name) if y.name is not None else "criterion"
    y = pd.to_numeric(y.reindex(scores.index), errors="raise").astype(float).rename("__y__")
    data = pd.concat([y, scores.astype(float)], axis=1)
    ctrl_raw = None
    if controls is not None and controls.shape[1] > 0:
        ctrl_raw = controls.reindex(scores.index)
        data = pd.concat([data, ctrl_raw.notna().all(axis=1).rename("__ctrl_ok__")], axis=1)
        ok = data.drop(columns="__ctrl_ok__").notna().all(axis=1) & data["__ctrl_ok__"]
    else:
        ok = data.notna().all(axis=1)
    idx = data.index[ok]
    design_c, terms = control_design(ctrl_raw, idx) if ctrl_raw is not None else (pd.DataFrame(index=idx), {})
    ctrl_cols = list(design_c.columns)
    X = pd.concat([design_c, scores.loc[idx].astype(float)], axis=1)
    yv = y.loc[idx]
    n = len(idx)
    if n <= X.shape[1] + 1:
        raise ValueError(f"criterion {label}: {n} complete rows for {X.shape[1] + 1} coefficients")

    # plain arrays (column 0 = intercept) so that no variable name can clash with statsmodels' "const"
    ones = np.ones((n, 1))
    X1 = np.hstack([ones, X[ctrl_cols].to_numpy(float)])
    X2 = np.hstack([ones, X.to_numpy(float)])
    if np.linalg.matrix_rank(X2) < X2.shape[1]:
        raise ValueError(f"criterion {label}: the design is rank deficient (aliased coefficients)")
    yarr = yv.to_numpy(float)
    m1 = sm.OLS(yarr, X1).fit()
    m2 = sm.OLS(yarr, X2).fit()
    f_change, p_delta, df1 = m2.compare_f_test(m1)
    m2r = m2.get_robustcov_results(cov_type="HC3", use_t=True)
    Rm = np.zeros((len(comp), X2.shape[1]))
    for i in range(len(comp)):
        Rm[i, 1 + len(ctrl_cols) + i] = 1.0
    wt = m2r.f_test(Rm)

    # standardized model
    num_vars = [c for c in X.columns if c not in ctrl_cols] + [c for c in ctrl_cols if c in terms and terms[c] == [c]]
    Z = X.copy()
    for c in num_vars:
        Z[c] = (Z[c] - Z[c].mean()) / Z[c].std(ddof=1)
    yz = (yv - yv.mean()) / yv.std(ddof=1)
    mz = sm.OLS(yz.to_numpy(float), np.hstack([ones, Z.to_numpy(float)])).fit()
    mzr = mz.get_robustcov_results(cov_type="HC3", use_t=True)
    ci = np.asarray(mz.conf_int(alpha=1 - conf))
    tq = stats.t.ppf((1 + conf) / 2, mz.df_resid)

    names = ["(Intercept)"] + list(X.columns)
    coefs = pd.DataFrame(
        {
            "term": names,
            "type": ["intercept"] + ["control"] * len(ctrl_cols) + ["competency"] * len(comp),
            "b": np.asarray(m2.params),
            "se": np.asarray(m2.bse),
            "t": np.asarray(m2.tvalues),
            "p": np.asarray(m2.pvalues),
            "se_hc3": np.asarray(m2r.bse),
            "t_hc3": np.asarray(m2r.tvalues),
            "p_hc3": np.asarray(m2r.pvalues),
            "beta": np.asarray(mz.params),
            "beta_se": np.asarray(mz.bse),
            "beta_ci_lower": ci[:, 0],
            "beta_ci_upper": ci[:, 1],
            "beta_se_hc3": np.asarray(mzr.bse),
            "beta_ci_lower_hc3": np.asarray(mz.params) - tq * np.asarray(mzr.bse),
            "beta_ci_upper_hc3": np.asarray(mz.params) + tq * np.asarray(mzr.bse),
        }
    )

    # (G)VIF per term, terms in model order: controls (as given), then competencies
    term_cols = {**terms, **{k: [k] for k in comp}}
    term_names = list(term_cols)
    vif = pd.DataFrame(columns=["term", "type", "df", "gvif", "gvif_adj"])
    if len(term_names) >= 2:
        col_term = {c: t for t, cs in term_cols.items() for c in cs}
        assign = [term_names.index(col_term[c]) for c in X.columns]
        V = np.asarray(m2.cov_params())[1:, 1:]
        g = _gvif(V, assign, len(term_names))
        vif = pd.DataFrame(
            {
                "term": term_names,
                "type": ["control" if t in terms else "competency" for t in term_names],
                "df": [d for _, d in g],
                "gvif": [v for v, _ in g],
                "gvif_adj": [v ** (1 / (2 * d)) for v, d in g],
            }
        )

    summary = {
        "n": n,
        "k_controls": len(ctrl_cols),
        "k_competencies": len(comp),
        "r2_controls": float(m1.rsquared) if ctrl_cols else 0.0,
        "adj_r2_controls": float(m1.rsquared_adj) if ctrl_cols else 0.0,
        "r2_full": float(m2.rsquared),
        "adj_r2_full": float(m2.rsquared_adj),
        "delta_r2": float(m2.rsquared - (m1.rsquared if ctrl_cols else 0.0)),
        "f_change": float(f_change),
        "df1": int(round(df1)),
        "df2": int(round(m2.df_resid)),
        "p_delta": float(p_delta),
        "f_change_hc3": float(np.squeeze(wt.fvalue)),
        "p_delta_hc3": float(np.squeeze(wt.pvalue)),
        "f_full": float(m2.fvalue),
        "f_full_df1": int(round(m2.df_model)),
        "f_full_df2": int(round(m2.df_resid)),
        "p_full": float(m2.f_pvalue),
    }
    return {
        "summary": summary,
        "coefficients": coefs,
        "vif": vif,
        "sample": idx,
        "design": X,
        "control_columns": ctrl_cols,
    }


# ============================================================================ 4. dominance analysis
def _subset_plan(p: int, n_always: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each subset size k: the bit masks of the size-k subsets and their design column indices.

    Columns refer to the cross-product matrix of ``[y, X (p cols), always (n_always cols)]``; the
    ``always`` columns are appended to every subset. The empty model (no columns at all) is skipped.
    """
    always = np.arange(1 + p, 1 + p + n_always)
    masks = np.arange(2**p)
    size = np.array([bin(m).count("1") for m in masks])
    plan = []
    for k in range(p + 1):
        if k + n_always == 0:
            continue
        sub = masks[size == k]
        cols = np.array([[1 + i for i in range(p) if m >> i & 1] for m in sub], dtype=int).reshape(len(sub), k)
        cols = np.concatenate([cols, np.broadcast_to(always, (len(sub), n_always))], axis=1)
        plan.append((sub, cols))
    return plan


def _solve_subsets(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """OLS coefficients of a batch of equal-size subsets (``A`` subsets x k x k, ``b`` subsets x k); a singular
    batch is solved subset by subset by minimum-norm least squares (the R2 of the projection)."""
    try:
        coef = np.linalg.solve(A, b[..., None])[..., 0]
        if not np.all(np.isfinite(coef)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        coef = np.stack([np.linalg.lstsq(Ai, bi, rcond=None)[0] for Ai, bi in zip(A, b)])
    return coef


def _all_subsets_r2(C: np.ndarray, p: int, plan: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """R2 of y on every predictor subset (index = bit mask), from the centered cross-product matrix ``C``.

    ``R2(S) = s_yS' S_SS^-1 s_yS / s_yy`` (OLS with intercept). Subsets of equal size are solved in one
    batch; if a batch is singular (e.g. a constant dummy in a bootstrap resample) it is solved subset by
    subset by minimum-norm least squares, which still gives the R2 of the projection. ``C`` may be a stack
    of matrices (resamples x q x q; the result is then resamples x 2^p): all resamples are solved at once,
    and a resample is solved on its own (as above) only when the stacked solve fails.
    """
    single = C.ndim == 2
    Cs = C[None] if single else C
    syy = Cs[:, 0, 0]
    r2 = np.zeros((Cs.shape[0], 2**p))
    for sub, cols in plan:
        A = Cs[:, cols[:, :, None], cols[:, None, :]]
        b = Cs[:, cols, 0]
        try:
            coef = np.linalg.solve(A, b[..., None])[..., 0]
            if not np.all(np.isfinite(coef)):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            coef = np.stack([_solve_subsets(Ai, bi) for Ai, bi in zip(A, b)])
        r2[:, sub] = np.einsum("rij,rij->ri", b, coef) / syy[:, None]
    return r2[0] if single else r2


def _dominance_matrix(p: int) -> np.ndarray:
    """The p x 2^p matrix G with general dominance weights = G @ r2 (see :func:`general_dominance`)."""
    masks = np.arange(2**p)
    size = np.array([bin(s).count("1") for s in masks])
    G = np.zeros((p, 2**p))
    for i in range(p):
        bit = 1 << i
        without = masks[(masks & bit) == 0]
        weight = 1.0 / (p * np.array([math.comb(p - 1, int(k)) for k in size[without]]))
        G[i, without | bit] += weight
        G[i, without] -= weight
    return G


def general_dominance(r2: np.ndarray, p: int) -> np.ndarray:
    """General dominance weights from all-subsets R2 (Budescu 1993; Azen & Budescu 2003).

    ``C_i = (1/p) * sum_{k=0}^{p-1} mean_{|S| = k, i not in S} [R2(S + i) - R2(S)]``; the weights sum to
    ``R2(all) - R2(empty)``. ``r2[s]`` is the R2 of the subset with bit mask ``s`` (bit i = predictor i).
    """
    return _dominance_matrix(p) @ np.asarray(r2, dtype=float)


def dominance_analysis(
    y: pd.Series,
    X: pd.DataFrame,
    always: pd.DataFrame | None = None,
    *,
    n_boot: int = 1000,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Dominance analysis of the predictors in ``X`` for criterion ``y`` (complete rows expected).

    General dominance weights (Budescu 1993; Azen & Budescu 2003) from the R2 of all ``2^p`` OLS subset
    models; they sum to the R2 of the full predictor set. If ``always`` (design columns, e.g. dummy-coded
    controls) is given, these columns enter every subset model (as ``domir``'s ``.all``): the weights then
    decompose ``R2(controls + all predictors) - R2(controls)``, i.e. the controls are partialled out.
    Percentile bootstrap intervals (rows resampled with replacement, ``n_boot`` times, quantiles as R's
    ``quantile`` type 7) use ``rng`` or ``numpy.random.default_rng(seed)``; resample b is
    ``rng.integers(0, n, n)``, computed from row counts (:mod:`compval.resampling`: one matrix product per
    batch of resamples, BLAS on one thread so that the result does not depend on the number of cores).

    Returns
    -------
    DataFrame: competency, weight, weight_ci_lower, weight_ci_upper, standardized (weight / sum), rank
    (1 = largest), r2_total (sum of weights), r2_base (R2 of ``always``, 0 without), controls_partialled,
    n, n_boot.
    """
    p = X.shape[1]
    if p == 0:
        raise ValueError("no predictors")
    if p > MAX_DOMINANCE_PREDICTORS:
        raise ValueError(f"dominance analysis of {p} predictors (2^{p} models) is not supported")
    A = np.zeros((len(X), 0)) if always is None else np.asarray(always, dtype=float)
    M = np.column_stack([np.asarray(y, dtype=float), np.asarray(X, dtype=float), A])
    if np.isnan(M).any():
        raise ValueError("dominance_analysis expects complete rows")
    n = M.shape[0]

    plan = _subset_plan(p, A.shape[1])
    G = _dominance_matrix(p)

    def weights(Mb):
        Mc = Mb - Mb.mean(axis=0)
        r2 = _all_subsets_r2(Mc.T @ Mc, p, plan)
        # r2[0] = R2 of the always-included columns alone (0 without them); weights decompose r2[-1] - r2[0]
        return G @ r2, r2[0], r2[-1]

    w, base, full = weights(M)
    gen = rng if rng is not None else np.random.default_rng(seed)
    lo = hi = np.full(p, np.nan)
    if n_boot and n_boot > 0:
        # resample b = rows gen.integers(0, n, n), as row counts: the centred cross-products of a batch of
        # resamples are one matrix product, and all their subset models are solved together
        boot = np.empty((n_boot, p))
        b0 = 0
        with threadpool_limits(limits=1, user_api="blas"):
            for wts in resample_counts(gen, n, n_boot):
                boot[b0 : b0 + len(wts)] = _all_subsets_r2(crossproducts(M, wts), p, plan) @ G.T
                b0 += len(wts)
        a = (1 - conf) / 2
        lo, hi = np.quantile(boot, [a, 1 - a], axis=0)
    total = float(np.sum(w))
    return pd.DataFrame(
        {
            "competency": list(X.columns),
            "weight": w,
            "weight_ci_lower": lo,
            "weight_ci_upper": hi,
            "standardized": w / total if total != 0 else np.nan,
            "rank": pd.Series(-w).rank(method="min").astype(int).to_numpy(),
            "r2_total": total,
            "r2_base": float(base),
            "r2_full_model": float(full),
            "controls_partialled": always is not None and A.shape[1] > 0,
            "n": n,
            "n_boot": int(n_boot or 0),
        }
    )


# ============================================================================ 5. known groups
def hedges_g(x1, x0, conf: float = 0.95) -> dict:
    """Hedges' g (top minus rest) with a normal-theory interval.

    ``d = (mean1 - mean0) / s_pooled``; ``g = J d`` with Hedges' (1981) exact small-sample factor
    ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``, ``m = n1 + n0 - 2``; ``SE = sqrt((n1+n0)/(n1 n0) +
    g^2 / (2 (n1+n0)))`` (Hedges & Olkin 1985, large-sample variance) and ``g +- z SE``.
    """
    x1 = np.asarray(x1, float)
    x0 = np.asarray(x0, float)
    n1, n0 = len(x1), len(x0)
    m = n1 + n0 - 2
    if n1 < 2 or n0 < 2:
        return dict(d=np.nan, g=np.nan, g_se=np.nan, g_ci_lower=np.nan, g_ci_upper=np.nan)
    sp = math.sqrt(((n1 - 1) * x1.var(ddof=1) + (n0 - 1) * x0.var(ddof=1)) / m)
    d = (x1.mean() - x0.mean()) / sp
    J = math.exp(math.lgamma(m / 2) - math.log(math.sqrt(m / 2)) - math.lgamma((m - 1) / 2))
    g = J * d
    se = math.sqrt((n1 + n0) / (n1 * n0) + g * g / (2 * (n1 + n0)))
    z = _z(conf)
    return dict(d=d, g=g, g_se=se, g_ci_lower=g - z * se, g_ci_upper=g + z * se)


def auc_delong(cases, controls, conf: float = 0.95) -> dict:
    """ROC AUC ``P(case > control) + P(tie)/2`` = Mann-Whitney U / (n1 n0), with DeLong et al. (1988) CI.

    Direction fixed: higher predictor values indicate the case (top) group (``pROC::roc(direction = "<")``),
    so AUC < .5 means the top group scores lower. The interval is ``pROC::ci.auc(method = "delong")``:
    ``AUC +- z sqrt(var(V10)/n1 + var(V01)/n0)`` from the DeLong placement values, truncated to [0, 1].
    """
    x = np.asarray(cases, float)
    yv = np.asarray(controls, float)
    n1, n0 = len(x), len(yv)
    if n1 == 0 or n0 == 0:
        return dict(auc=np.nan, auc_ci_lower=np.nan, auc_ci_upper=np.nan)
    allr = stats.rankdata(np.concatenate([x, yv]))
    r1, r0 = allr[:n1], allr[n1:]
    v10 = (r1 - stats.rankdata(x)) / n0  # share of controls below each case (ties 1/2)
    v01 = 1 - (r0 - stats.rankdata(yv)) / n1  # share of cases above each control (ties 1/2)
    auc = float(v10.mean())
    if n1 <= 1 or n0 <= 1:
        return dict(auc=auc, auc_ci_lower=np.nan, auc_ci_upper=np.nan)
    s = v10.var(ddof=1) / n1 + v01.var(ddof=1) / n0
    z = _z(conf)
    lo, hi = auc - z * math.sqrt(s), auc + z * math.sqrt(s)
    return dict(auc=auc, auc_ci_lower=min(max(lo, 0.0), 1.0), auc_ci_upper=min(max(hi, 0.0), 1.0))


def known_groups(
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    *,
    top_quantile: float = 0.25,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Compare the top group on each criterion with the rest, competency by competency.

    The top group is ``y >= quantile(y, 1 - top_quantile)`` (R ``quantile`` type 7 over the respondents with
    a criterion value); with tied criterion values the top group can hold more than ``top_quantile`` of the
    sample - ``threshold`` and ``share_top`` report what was used. Per competency (respondents with both
    values): means and SDs, Welch's t test (``t.test(var.equal = FALSE)``), Hedges' g (:func:`hedges_g`),
    ROC AUC with the DeLong interval (:func:`auc_delong`).
    """
    if not 0 < top_quantile < 1:
        raise ValueError("top_quantile must be in (0, 1)")
    crit = criteria.reindex(scores.index)
    rows = []
    for cr in criteria.columns:
        yall = pd.to_numeric(crit[cr], errors="raise").astype(float)
        yv = yall.dropna()
        if yv.empty:
            continue
        thr = float(np.quantile(yv.to_numpy(), 1 - top_quantile))
        top = yall >= thr
        for k in scores.columns:
            x = pd.to_numeric(scores[k], errors="raise").astype(float)
            ok = x.notna() & yall.notna()
            x1 = x[ok & top].to_numpy()
            x0 = x[ok & ~top].to_numpy()
            row = {
                "criterion": cr,
                "competency": k,
                "threshold": thr,
                "n_top": len(x1),
                "n_rest": len(x0),
                "share_top": len(x1) / max(len(x1) + len(x0), 1),
                "mean_top": x1.mean() if len(x1) else np.nan,
                "mean_rest": x0.mean() if len(x0) else np.nan,
                "sd_top": x1.std(ddof=1) if len(x1) > 1 else np.nan,
                "sd_rest": x0.std(ddof=1) if len(x0) > 1 else np.nan,
            }
            if len(x1) > 1 and len(x0) > 1:
                v1, v0 = x1.var(ddof=1) / len(x1), x0.var(ddof=1) / len(x0)
                t = (x1.mean() - x0.mean()) / math.sqrt(v1 + v0)
                df = (v1 + v0) ** 2 / (v1**2 / (len(x1) - 1) + v0**2 / (len(x0) - 1))
                p = float(2 * stats.t.sf(abs(t), df))
            else:
                t = df = p = np.nan
            row.update(t=t, df=df, p=p)
            row.update(hedges_g(x1, x0, conf))
            row.update(auc_delong(x1, x0, conf))
            rows.append(row)
    out = pd.DataFrame(rows)
    if not out.empty:
        out["g_ci_method"] = "hedges_olkin_1985_normal"
        out["auc_ci_method"] = "delong_1988"
    return out


# ============================================================================ 6. latent regression
_NAME_RE = r"[A-Za-z][A-Za-z0-9_.]*"
LATENT_FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr")


def _lavaan_name(name: str, taken: set[str]) -> str:
    """A lavaan-safe variable name derived from ``name`` (invalid characters -> ``_``), unique within ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_.]", "_", str(name))
    if not re.fullmatch(_NAME_RE, base):
        base = "v_" + base
    out, k = base, 1
    while out in taken:
        k += 1
        out = f"{base}_{k}"
    taken.add(out)
    return out


def latent_regression_syntax(
    factors: Mapping[str, Sequence[str]],
    criterion: str,
    controls: Sequence[str] = (),
    *,
    suffix: str = "_lv",
) -> str:
    """lavaan syntax of the structural regression fitted by :func:`latent_regression`.

    The hypothesised measurement model (``factor =~ items``, as :func:`compval.cfa.hypothesized`), the observed
    criterion and each observed control as a single-indicator latent variable (``c_lv =~ 1*c``, ``c ~~ 0*c``:
    the latent variable *is* the observed variable, the phantom-variable device of Rindskopf 1984), and the
    regression ``criterion_lv ~ factors + controls_lv``. All names must already be valid lavaan names.
    Exogenous latent variables (competencies and controls) covary freely (lavaan's default).
    """
    lines = [f"{f} =~ {' + '.join(items)}" for f, items in factors.items()]
    single = [criterion, *controls]
    for v in single:
        lines.append(f"{v}{suffix} =~ 1*{v}")
    for v in single:
        lines.append(f"{v} ~~ 0*{v}")
    rhs = list(factors) + [f"{c}{suffix}" for c in controls]
    lines.append(f"{criterion}{suffix} ~ {' + '.join(rhs)}")
    return "\n".join(lines) + "\n"


def latent_regression(
    items: pd.DataFrame,
    factors: Mapping[str, Sequence[str]],
    criterion: pd.DataFrame | pd.Series,
    *,
    controls: pd.DataFrame | None = None,
    estimator: str = "ML",
    missing: str = "ml",
    conf: float = 0.95,
) -> pd.DataFrame:
    """Structural regression of each criterion on the latent competencies (SEM), criterion by criterion.

    Per criterion one structural equation model is fitted with :func:`compval.cfa.fit_cfa` (the lavaan-matching
    ML engine): the hypothesised measurement model (each competency a latent factor measured by its items,
    marker-variable identification, correlated factors) plus the regression of the criterion on all latent
    competencies (and the controls), i.e. the "latent variable regression" of Bollen (1989, ch. 8). Unlike the
    observed-score regression it is free of measurement error in the predictors. The observed criterion and the
    observed controls enter as single-indicator latent variables (``y_lv =~ 1*y``, ``y ~~ 0*y``; Rindskopf
    1984) so that the engine's latent-only regressions apply; this is the same model as lavaan's
    ``y ~ f1 + ... + x`` with ``fixed.x = FALSE``. Categorical controls are treatment coded first
    (:func:`control_design`, as R's ``model.matrix``) and every dummy enters as its own variable.

    Matches ``lavaan::sem(latent_regression_syntax(...), data, estimator = estimator, missing = missing)``
    (lavaan 0.6.14): ``missing = "ml"`` (default) is full-information ML (Arbuckle 1996), so respondents with a
    missing criterion still inform the measurement model and the factor covariances; ``"listwise"`` drops rows
    with any missing value among the model's variables.

    Parameters
    ----------
    items : DataFrame
        Item responses; rows aligned with ``criterion`` (and ``controls``) on the index.
    factors : mapping
        Competency key -> item columns (the hypothesised model, e.g. ``Codebook.groups("competency")``).
    criterion : DataFrame or Series
        One numeric column per criterion (transform skewed criteria beforehand, e.g. :func:`transform_criteria`).
    controls : DataFrame, optional
        Control variables entered beside the competencies (numeric or categorical).
    estimator : {"ML", "MLR"}
        Passed to :func:`compval.cfa.fit_cfa` (MLR: Huber-White SEs, Yuan-Bentler scaled test).
    missing : {"ml", "listwise"}
    conf : float
        Level of the Wald intervals ``b +- z se``.

    Returns
    -------
    DataFrame
        One row per (criterion, predictor): ``criterion, term, term_type`` ("competency" or "control"),
        ``b, se, z, p, ci_lower, ci_upper, std_all`` (standardized beta, lavaan ``std.all``), then the
        model-level columns repeated on each row: ``r2`` (R-squared of the criterion), ``n`` (rows used),
        ``n_criterion`` (of these, rows with an observed criterion), ``chisq, df, pvalue, cfi, tli, rmsea,
        srmr`` (``fitMeasures``; under MLR the scaled chi-square and robust indices are in ``chisq_scaled,
        cfi_robust, rmsea_robust``), ``converged``, ``status`` (from the engine: convergence, Heywood cases,
        identification) and ``estimator``, ``missing``. Estimation problems never raise: they are reported in
        ``status`` with missing estimates.
    """
    from . import cfa as _cfa  # local import: the SEM engine is only needed here

    if isinstance(criterion, pd.Series):
        criterion = criterion.to_frame(criterion.name if criterion.name is not None else "criterion")
    _check_frame(items, "items")
    _check_frame(criterion, "criterion")
    if controls is not None:
        _check_frame(controls, "controls")
    if missing not in ("ml", "listwise"):
        raise ValueError("missing must be 'ml' or 'listwise'")
    facs = {str(k): [str(i) for i in v] for k, v in factors.items()}
    if not facs or any(not v for v in facs.values()):
        raise ValueError("factors must map each competency to at least one item")
    item_cols = list(dict.fromkeys(i for v in facs.values() for i in v))
    absent = [i for i in item_cols if i not in items.columns]
    if absent:
        raise KeyError(f"items not in the data: {absent}")
    z = _z(conf)

    # lavaan-safe internal names (items, factors, criterion, controls), mapped back in the output
    taken: set[str] = set()
    item_name = {i: _lavaan_name(i, taken) for i in item_cols}
    fac_name = {f: _lavaan_name(f, taken) for f in facs}
    ifacs = {fac_name[f]: [item_name[i] for i in v] for f, v in facs.items()}
    base = items[item_cols].rename(columns=item_name).apply(pd.to_numeric, errors="raise").astype(float)
    ctl_design, _ = control_design(controls, index=base.index if controls is not None else None)
    ctl_name = {}
    for c in ctl_design.columns:
        v = _lavaan_name(c, taken)
        while v + "_lv" in taken:  # its single-indicator latent variable must not clash either
            v = _lavaan_name(c, taken)
        ctl_name[c] = v
        taken.add(v + "_lv")
    if len(ctl_design.columns):
        base = base.join(ctl_design.rename(columns=ctl_name).reindex(base.index))

    rows = []
    for cr in criterion.columns:
        t2 = set(taken)
        ycol = _lavaan_name(cr, t2)
        while ycol + "_lv" in t2:
            ycol = _lavaan_name(cr, t2)
        data = base.copy()
        data[ycol] = pd.to_numeric(criterion[cr].reindex(base.index), errors="raise").astype(float)
        syntax = latent_regression_syntax(ifacs, ycol, list(ctl_name.values()))
        used = data.dropna() if missing == "listwise" else data[data.notna().any(axis=1)]
        yv = used[ycol].dropna()
        if len(yv) < 2 or float(yv.var()) == 0.0:
            # nothing to regress: report instead of fitting (the engine would fail on the h1 model)
            fm, r2, conv = {}, np.nan, False
            status = f"not estimable: criterion has {len(yv)} observed value(s)" + (
                " without variance" if len(yv) >= 2 else ""
            )
            P = pd.DataFrame(columns=["lhs", "op", "rhs", "est", "se", "std_all"])
        else:
            fit = _cfa.fit_cfa(
                data, syntax, estimator=estimator, missing=missing, robust_fiml=estimator.upper() == "MLR"
            )
            fm = fit.fit or {}
            r2 = float(fit.r2.get(ycol + "_lv", np.nan)) if len(fit.r2) else np.nan
            conv, status, P = bool(fit.converged), fit.status, fit.params
        model_cols = {
            "r2": r2,
            "n": int(fm.get("ntotal", len(used))),
            "n_criterion": int(len(yv)),
            **{k: float(fm.get(k, np.nan)) for k in LATENT_FIT_KEYS},
        }
        if estimator.upper() == "MLR":
            model_cols.update(
                {
                    "chisq_scaled": float(fm.get("chisq.scaled", np.nan)),
                    "cfi_robust": float(fm.get("cfi.robust", np.nan)),
                    "rmsea_robust": float(fm.get("rmsea.robust", np.nan)),
                }
            )
        model_cols.update(converged=conv, status=status, estimator=estimator.upper(), missing=missing)
        reg = P[(P["op"] == "~") & (P["lhs"] == ycol + "_lv")].set_index("rhs")
        terms = [(f, fac_name[f], "competency") for f in facs] + [
            (c, ctl_name[c] + "_lv", "control") for c in ctl_design.columns
        ]
        for label, rhs, kind in terms:
            r = reg.loc[rhs] if rhs in reg.index else None
            b = float(r["est"]) if r is not None else np.nan
            se = float(r["se"]) if r is not None else np.nan
            zval = b / se if se and np.isfinite(se) and se > 0 else np.nan
            rows.append(
                {
                    "criterion": cr,
                    "term": label,
                    "term_type": kind,
                    "b": b,
                    "se": se,
                    "z": zval,
                    "p": float(2 * stats.norm.sf(abs(zval))) if np.isfinite(zval) else np.nan,
                    "ci_lower": b - z * se,
                    "ci_upper": b + z * se,
                    "std_all": float(r["std_all"]) if r is not None else np.nan,
                    **model_cols,
                }
            )
    return pd.DataFrame(rows)


def latent_summary(table: pd.DataFrame) -> dict:
    """JSON-ready summary of a :func:`latent_regression` table for ``summary.json``.

    ``{criterion: {"r2", "n", "status", "fit": {chisq, df, pvalue, cfi, tli, rmsea, srmr}, "betas":
    {competency: standardized beta (std.all)}}}``; controls are left out of ``betas``, missing numbers become
    ``None``.
    """

    def num(v):
        v = float(v)
        return None if math.isnan(v) else v

    out: dict = {}
    for cr, sub in table.groupby("criterion", sort=False):
        first = sub.iloc[0]
        comp = sub[sub["term_type"] == "competency"]
        out[cr] = {
            "r2": num(first["r2"]),
            "n": int(first["n"]),
            "status": str(first["status"]),
            "fit": {k: num(first[k]) for k in LATENT_FIT_KEYS},
            "betas": {str(t): num(b) for t, b in zip(comp["term"], comp["std_all"])},
        }
    return out


# ============================================================================ 7. driver
@dataclass
class CriterionResult:
    """Tidy outputs of :func:`run_criterion`.

    Attributes
    ----------
    correlations : Pearson/Spearman table with FDR columns and the attenuation-corrected columns
        (``rxx``, ``ryy``, ``r_corrected``, ``ci_lower_corrected``, ``ci_upper_corrected``).
    regression : one row per criterion (n, R2s, delta R2, partial F, HC3 Wald F, overall F).
    coefficients : step-2 coefficients per criterion (b, SE, HC3 SE, standardized beta with CIs).
    vif : (G)VIF per criterion and term.
    dominance : general dominance weights with bootstrap CIs per criterion and competency.
    known_groups : top-vs-rest comparisons per criterion and competency.
    missing : per criterion n_total, n_missing, n_valid, n_regression, n_excluded_regression.
    settings : the arguments that shaped the analysis.
    """

    correlations: pd.DataFrame
    regression: pd.DataFrame
    coefficients: pd.DataFrame
    vif: pd.DataFrame
    dominance: pd.DataFrame
    known_groups: pd.DataFrame
    missing: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def summary_dict(self) -> dict:
        """JSON-ready summary for ``summary.json``.

        ``{criterion: {competency: {r, ci_lower, ci_upper, p, p_fdr, rho}}, "regression": {criterion:
        {r2_controls, r2_full, delta_r2, p_delta}}, "dominance": {criterion: {competency: weight}},
        "missing": {criterion: {n_missing, n_valid}}}``; missing numbers become ``None``.
        """

        def num(v):
            if v is None:
                return None
            v = float(v)
            return None if math.isnan(v) else v

        out: dict = {}
        for _, r in self.correlations.iterrows():
            out.setdefault(r["criterion"], {})[r["competency"]] = {
                k: num(r[k]) for k in ("r", "ci_lower", "ci_upper", "p", "p_fdr", "rho")
            }
        out["regression"] = {
            r["criterion"]: {k: num(r[k]) for k in ("r2_controls", "r2_full", "delta_r2", "p_delta")}
            for _, r in self.regression.iterrows()
        }
        dom: dict = {}
        for _, r in self.dominance.iterrows():
            dom.setdefault(r["criterion"], {})[r["competency"]] = num(r["weight"])
        out["dominance"] = dom
        out["missing"] = {
            r["criterion"]: {"n_missing": int(r["n_missing"]), "n_valid": int(r["n_valid"])}
            for _, r in self.missing.iterrows()
        }
        return out


def run_criterion(
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    controls: pd.DataFrame | None = None,
    *,
    reliabilities: Mapping[str, float] | None = None,
    criterion_reliabilities: Mapping[str, float] | None = None,
    log_criteria: Sequence[str] = (),
    log_method: str = "log1p",
    top_quantile: float = 0.25,
    n_boot: int = 1000,
    seed: int | None = 12345,
    dominance_controls: bool = False,
    conf: float = 0.95,
) -> CriterionResult:
    """Criterion validity of competency scores: correlations, attenuation, hierarchical OLS, dominance, known groups.

    Parameters
    ----------
    scores : DataFrame
        One numeric column per competency key; its index defines the respondents.
    criteria : DataFrame
        One numeric column per criterion, aligned on the index (respondents absent from ``criteria`` count
        as missing). Names ``"regression"``, ``"dominance"`` and ``"missing"`` are reserved.
    controls : DataFrame, optional
        Numeric and categorical columns entered in step 1 (see :func:`control_design`).
    reliabilities, criterion_reliabilities : mapping, optional
        rxx per competency and ryy per criterion (default 1) for :func:`correct_attenuation`.
    log_criteria, log_method
        Criteria to log-transform before every analysis (:func:`transform_criteria`); the ``transform``
        column of the correlation table notes it.
    top_quantile : float
        Share defining the top group for :func:`known_groups` (default .25).
    n_boot, seed
        Bootstrap replications and seed for the dominance intervals. Criterion j (its column position in
        ``criteria``) draws from child stream j of ``numpy.random.SeedSequence(seed).spawn(...)``, so its
        intervals depend on the seed and its position only, not on the other criteria's data.
    dominance_controls : bool
        False (default): dominance weights decompose the R2 of the competencies alone (controls not in the
        models). True: controls enter every subset model; weights decompose R2(full) - R2(controls). Both use
        the regression's listwise sample.

    Returns
    -------
    CriterionResult
    """
    _check_frame(scores, "scores")
    _check_frame(criteria, "criteria")
    if controls is not None:
        _check_frame(controls, "controls")
    clash = [c for c in criteria.columns if c in RESERVED_NAMES]
    if clash:
        raise ValueError(f"criterion names {clash} are reserved in the summary")
    if controls is not None:
        overlap = set(controls.columns) & (set(scores.columns) | set(criteria.columns))
        if overlap:
            raise ValueError(f"controls share column names with scores/criteria: {sorted(overlap)}")
    if set(scores.columns) & set(criteria.columns):
        raise ValueError("scores and criteria share column names")
    for k in scores.columns:
        if not pd.api.types.is_numeric_dtype(scores[k]):
            raise TypeError(f"score column {k!r} is not numeric")

    missing = missing_report(scores, criteria)
    crit, transforms = transform_criteria(criteria, log_criteria, log_method)
    crit = crit.reindex(scores.index)

    cors = correlate(scores, crit, conf=conf, transforms=transforms)
    cors = correct_attenuation(cors, reliabilities, criterion_reliabilities)

    ss = np.random.SeedSequence(seed)
    children = ss.spawn(len(crit.columns))
    reg_rows, coef_tabs, vif_tabs, dom_tabs = [], [], [], []
    n_reg = {}
    for j, cr in enumerate(crit.columns):
        res = hierarchical_regression(crit[cr].rename(cr), scores, controls, conf=conf)
        reg_rows.append({"criterion": cr, "transform": transforms.loc[j, "transform"], **res["summary"]})
        coef_tabs.append(res["coefficients"].assign(criterion=cr))
        vif_tabs.append(res["vif"].assign(criterion=cr))
        n_reg[cr] = res["summary"]["n"]
        idx = res["sample"]
        always = res["design"][res["control_columns"]] if (dominance_controls and res["control_columns"]) else None
        dom = dominance_analysis(
            crit.loc[idx, cr],
            scores.loc[idx].astype(float),
            always,
            n_boot=n_boot,
            rng=np.random.default_rng(children[j]),
            conf=conf,
        )
        dom_tabs.append(dom.assign(criterion=cr))

    def front(df):
        cols = ["criterion"] + [c for c in df.columns if c != "criterion"]
        return df[cols].reset_index(drop=True)

    missing["n_regression"] = missing["criterion"].map(n_reg)
    missing["n_excluded_regression"] = missing["n_valid"] - missing["n_regression"]
    missing = missing.merge(transforms, on="criterion")
    return CriterionResult(
        correlations=cors,
        regression=pd.DataFrame(reg_rows),
        coefficients=front(pd.concat(coef_tabs, ignore_index=True)),
        vif=front(pd.concat(vif_tabs, ignore_index=True)),
        dominance=front(pd.concat(dom_tabs, ignore_index=True)),
        known_groups=known_groups(scores, crit, top_quantile=top_quantile, conf=conf),
        missing=missing,
        settings={
            "log_criteria": list(log_criteria),
            "log_method": log_method,
            "top_quantile": top_quantile,
            "n_boot": n_boot,
            "seed": seed,
            "dominance_controls": dominance_controls,
            "conf": conf,
            "controls": [] if controls is None else list(controls.columns),
            "reliabilities": dict(reliabilities or {}),
            "criterion_reliabilities": dict(criterion_reliabilities or {}),
        },
    )
