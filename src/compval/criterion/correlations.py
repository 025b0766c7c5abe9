"""Correlations of the competencies with the criteria: Pearson and Spearman as R's ``cor.test`` (Spearman's
p-value by AS 89), Benjamini-Hochberg adjustment (``p.adjust``) and Spearman's correction for attenuation."""

from __future__ import annotations

import itertools
import math
from typing import Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtr, stdtr  # stats.norm's and stats.t's own functions

from .prepare import average_ranks, check_frame, normal_quantile, t_pvalues

__all__ = ["bh_adjust", "spearman_pvalue", "correlate", "correct_attenuation"]


def bh_adjust(p) -> np.ndarray:
    """Benjamini & Hochberg (1995) adjusted p-values, as R's ``p.adjust(p, method = "BH")``.

    Missing values stay missing and do not count towards the family size (R's default ``n = sum(!is.na(p))``).

    Written out rather than ``statsmodels.stats.multitest.multipletests(method="fdr_bh")``: statsmodels divides
    ``p / (i / m)`` where R multiplies ``m / i * p``, which differs in the last bit for about a third of the
    values, and the adjusted p-values go to ``summary.json`` at full precision.
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
    pv = (-y if lower_tail else y) + (ndtr(x) if lower_tail else ndtr(-x))
    return float(min(max(pv, 0.0), 1.0))


def spearman_pvalue(rho: float, n: int, ties: bool) -> tuple[float, float]:
    """Two-sided p-value of Spearman's rho exactly as R's ``cor.test(method = "spearman")`` (defaults).

    Without ties and with ``n <= 1290`` R uses AS 89 (exact enumeration for n <= 9, Edgeworth series
    otherwise); with ties (or larger n) the t approximation ``t = rho / sqrt((1 - rho^2)/(n - 2))`` on
    ``n - 2`` df. AS 89 is ported from R because :func:`scipy.stats.spearmanr` does not implement it (its
    p-value is the t approximation, or a permutation test).

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
        return float(stdtr(n - 2, -tstat) if lower else stdtr(n - 2, tstat))

    p = pspearman(False) if q > (n**3 - n) / 6.0 else pspearman(True)
    return float(q), float(min(2 * p, 1.0))


# ============================================================================ 1-2. correlations
_PAIR_COLUMNS = ("r", "ci_lower", "ci_upper", "t", "df", "p", "rho", "rho_ci_lower", "rho_ci_upper", "rho_S", "rho_p")


def _fisher_interval(r: float, se: float, z: float) -> tuple[float, float]:
    """``tanh(atanh(r) -+ z se)``: the Fisher (1921) z interval of a correlation with standard error ``se``."""
    zr = np.arctanh(r)
    return float(np.tanh(zr - z * se)), float(np.tanh(zr + z * se))


def _pair_statistics(x: np.ndarray, y: np.ndarray, z: float) -> dict:
    """The :data:`_PAIR_COLUMNS` of :func:`correlate` for one pair of complete vectors (n >= 3)."""
    n = len(x)
    nan2 = (np.nan, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = float(np.corrcoef(x, y)[0, 1])
        df = n - 2
        t = r * math.sqrt(df / (1 - r * r)) if abs(r) < 1 else math.copysign(np.inf, r)
        p = float(t_pvalues(t, df))
        lo, hi = _fisher_interval(r, 1 / math.sqrt(n - 3), z) if n > 3 else nan2
        rho = float(np.corrcoef(average_ranks(x), average_ranks(y))[0, 1])
        ties = min(len(np.unique(x)), len(np.unique(y))) < n
        S, rho_p = spearman_pvalue(rho, n, ties)
        rlo, rhi = _fisher_interval(rho, math.sqrt((1 + rho * rho / 2) / (n - 3)), z) if n > 3 else nan2
    return dict(zip(_PAIR_COLUMNS, (r, lo, hi, float(t), df, p, rho, rlo, rhi, S, rho_p)))


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

    r is ``numpy.corrcoef``'s, not :func:`scipy.stats.pearsonr`'s: the two differ in the last bit for most
    pairs, and r goes to ``summary.json`` at full precision.

    Returns
    -------
    DataFrame with one row per (criterion, competency): n (pairwise complete), n_missing (criterion missing
    among the rows of ``scores``), transform, r, ci_lower, ci_upper, t, df, p, p_fdr, rho, rho_ci_lower,
    rho_ci_upper, rho_S, rho_p, rho_p_fdr, rho_ci_method.
    """
    check_frame(scores, "scores")
    check_frame(criteria, "criteria")
    crit = criteria.reindex(scores.index)
    z = normal_quantile(conf)
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
                row.update(_pair_statistics(x, y, z))
            else:
                row.update(dict.fromkeys(_PAIR_COLUMNS, np.nan), df=max(n - 2, 0))
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
