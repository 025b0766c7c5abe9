"""Known groups: the top group on a criterion against the rest (Welch's ``t.test``, Hedges' g, ROC AUC with
the DeLong interval of ``pROC``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .prepare import average_ranks, normal_quantile, t_pvalues

__all__ = ["hedges_g", "welch_t_test", "auc_delong", "known_groups"]


def hedges_g(x1, x0, conf: float = 0.95) -> dict:
    """Hedges' g (top minus rest) with a normal-theory interval.

    ``d = (mean1 - mean0) / s_pooled``; ``g = J d`` with Hedges' (1981) exact small-sample factor
    ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``, ``m = n1 + n0 - 2``; ``SE = sqrt((n1+n0)/(n1 n0) +
    g^2 / (2 (n1+n0)))`` (Hedges & Olkin 1985, large-sample variance) and ``g +- z SE``.

    Not ``pingouin.compute_effsize(eftype="hedges")``: pingouin uses the approximate factor
    ``1 - 3 / (4 (n1 + n0) - 9)``, about 1e-6 away from the exact J (and from R's reference) at n = 100, and
    gives no standard error.
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
    z = normal_quantile(conf)
    return dict(d=d, g=g, g_se=se, g_ci_lower=g - z * se, g_ci_upper=g + z * se)


def welch_t_test(x1, x0) -> tuple[float, float, float]:
    """Welch's two-sample t test of mean(x1) - mean(x0), as R's ``t.test(x1, x0, var.equal = FALSE)``:
    (t, df, two-sided p).

    t = (m1 - m0) / sqrt(v1/n1 + v0/n0) (variances with n - 1) on the Welch-Satterthwaite
    df = (v1/n1 + v0/n0)^2 / ((v1/n1)^2/(n1 - 1) + (v0/n0)^2/(n0 - 1)). The arithmetic of
    ``scipy.stats.ttest_ind(equal_var=False)``, written out so that the criterion jobs do not import scipy.stats
    (about 0.8 s each).
    """
    x1 = np.asarray(x1, dtype=float)
    x0 = np.asarray(x0, dtype=float)
    n1, n0 = len(x1), len(x0)
    vn1, vn0 = x1.var(ddof=1) / n1, x0.var(ddof=1) / n0
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (vn1 + vn0) ** 2 / (vn1**2 / (n1 - 1) + vn0**2 / (n0 - 1))
        t = (x1.mean() - x0.mean()) / np.sqrt(vn1 + vn0)
    return float(t), float(df), float(t_pvalues(t, df))


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
    allr = average_ranks(np.concatenate([x, yv]))
    r1, r0 = allr[:n1], allr[n1:]
    v10 = (r1 - average_ranks(x)) / n0  # share of controls below each case (ties 1/2)
    v01 = 1 - (r0 - average_ranks(yv)) / n1  # share of cases above each control (ties 1/2)
    auc = float(v10.mean())
    if n1 <= 1 or n0 <= 1:
        return dict(auc=auc, auc_ci_lower=np.nan, auc_ci_upper=np.nan)
    s = v10.var(ddof=1) / n1 + v01.var(ddof=1) / n0
    z = normal_quantile(conf)
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
    values): means and SDs, Welch's t test (:func:`welch_t_test`), Hedges' g (:func:`hedges_g`),
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
                t, df, p = welch_t_test(x1, x0)
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
