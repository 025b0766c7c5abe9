"""Cronbach's alpha and its companions as ``psych::alpha``: standardised alpha, Guttman's lambda-6, average
and median inter-item r, the Duhachek & Iacobucci (2004) standard error and the Feldt (1987) interval."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

from ..efa import smc
from .matrices import cov2cor, listwise_rows, no_variance, pairwise_cov, prepare_items

__all__ = ["AlphaResult", "alpha_statistics", "cronbach_alpha", "alpha_of_array"]


def alpha_statistics(c: np.ndarray, r: np.ndarray) -> dict:
    """The internal ``alpha.1`` of ``psych::alpha``: statistics of one covariance/correlation matrix."""
    n = c.shape[0]
    sum_c = c.sum()
    tr_c = np.trace(c)
    raw = (1.0 - tr_c / sum_c) * (n / (n - 1))
    sum_r = r.sum()
    std = (1.0 - n / sum_r) * (n / (n - 1))
    g6 = 1.0 - (n - smc(r, nan_policy="propagate").sum()) / sum_r
    av_r = (sum_r - n) / (n * (n - 1))
    low = r[np.tril_indices(n, -1)]
    med_r = float(np.median(low))
    var_r = float(np.var(low, ddof=1)) if low.size > 1 else np.nan
    sn = n * av_r / (1.0 - av_r)
    cc = c @ c
    q = (2.0 * n**2 / ((n - 1) ** 2 * sum_c**3)) * (sum_c * (np.trace(cc) + tr_c**2) - 2.0 * tr_c * cc.sum())
    return {"raw": raw, "std": std, "g6": g6, "av_r": av_r, "sn": sn, "q": q, "var_r": var_r, "med_r": med_r}


# AlphaResult field -> key of alpha_statistics
_ALPHA_FIELDS = dict(alpha="raw", alpha_std="std", lambda6="g6", average_r="av_r", median_r="med_r", signal_noise="sn")


@dataclass(frozen=True)
class AlphaResult:
    """Result of :func:`cronbach_alpha` (field names follow ``psych::alpha``'s ``$total`` and ``$feldt``).

    Attributes
    ----------
    alpha, alpha_std : float
        Raw (covariance) and standardised (correlation) alpha (``raw_alpha``, ``std.alpha``).
    lambda6 : float
        Guttman's lambda-6 from squared multiple correlations (``G6(smc)``).
    average_r, median_r : float
        Mean and median inter-item correlation (``average_r``, ``median_r``).
    signal_noise : float
        ``S/N`` = k r / (1 - r).
    ase : float
        Duhachek & Iacobucci's asymptotic standard error, sqrt(Q / n) with psych's n (``ase``).
    feldt_lower, feldt_upper : float
        Feldt (1987) confidence interval (``$feldt$lower.ci``, ``$feldt$upper.ci``).
    duhachek_lower, duhachek_upper : float
        alpha -/+ z * ase (psych prints 1.96 * ase for 95 %).
    k : int
        Number of items.
    n : int
        The n psych uses for ase and the Feldt interval: all rows (pairwise) or complete rows (listwise).
    n_complete : int
        Rows with no missing answer.
    n_pairwise_min : int
        Smallest number of pairwise-complete observations over all item pairs.
    mean_total, sd_total : float
        Mean and SD of the person scores (mean of the answered items), psych's ``mean`` and ``sd``.
    missing : str
        ``"pairwise"`` or ``"listwise"``.
    level : float
        Confidence level of both intervals.
    dropped_items : tuple of str
        Items without variance, dropped before the computation as psych does (k excludes them).
    """

    alpha: float
    alpha_std: float
    lambda6: float
    average_r: float
    median_r: float
    signal_noise: float
    ase: float
    feldt_lower: float
    feldt_upper: float
    duhachek_lower: float
    duhachek_upper: float
    k: int
    n: int
    n_complete: int
    n_pairwise_min: int
    mean_total: float
    sd_total: float
    missing: str
    level: float = 0.95
    dropped_items: tuple[str, ...] = ()


def _f_ppf(q: float, df1: int, df2: int) -> float:
    """Quantile of the F distribution, ``scipy.stats.f.ppf(q, df1, df2)`` (R's ``qf``): the same function
    (``scipy.special.fdtri``) without importing scipy.stats, whose import costs about half a second per process;
    NaN unless both degrees of freedom are positive, as ``f.ppf``."""
    return float(special.fdtri(df1, df2, q)) if df1 > 0 and df2 > 0 else np.nan


def _feldt(alpha: float, n_obs: int, n_var: int, p: float) -> tuple[float, float]:
    """``psych::alpha.ci``: Feldt, Woodruff & Salih (1987) interval."""
    df1 = n_obs - 1
    df2 = (n_obs - 1) * (n_var - 1)
    upper = 1.0 - (1.0 - alpha) * _f_ppf(p / 2.0, df1, df2)
    lower = 1.0 - (1.0 - alpha) * _f_ppf(1.0 - p / 2.0, df1, df2)
    return float(lower), float(upper)


def cronbach_alpha(items: pd.DataFrame, missing: str = "pairwise", level: float = 0.95) -> AlphaResult:
    """Cronbach's alpha and companions, as ``psych::alpha(x, check.keys = FALSE)``.

    Parameters
    ----------
    items : DataFrame
        One column per item (already reverse-scored), one row per respondent; NaN = missing.
    missing : {"pairwise", "listwise"}
        Pairwise-complete covariances over all rows (psych's default ``use = "pairwise"``; n = number of
        rows, as psych) or listwise deletion first (= ``psych::alpha(na.omit(x))``).
    level : float
        Confidence level of the Feldt and Duhachek intervals (psych: 0.95).

    Returns
    -------
    AlphaResult

    Notes
    -----
    alpha = k/(k-1) (1 - tr C / 1'C1) (Cronbach 1951); standardised alpha uses R = cov2cor(C);
    lambda-6 = 1 - (k - sum smc) / 1'R1 (Guttman 1945); ase = sqrt(Q/n) with Q of Duhachek & Iacobucci
    (2004); Feldt interval 1 - (1 - alpha) F_{q}(n - 1, (n - 1)(k - 1)). Items without variance (or
    with fewer than two answers) are dropped first, as psych does (listed in ``dropped_items``); with
    fewer than 2 remaining items a ValueError is raised. Item pairs never answered together give NaN.
    """
    x = prepare_items(items, missing, copy=False)  # read only: a float frame's own block, not a copy of it
    arr = listwise_rows(x.to_numpy(), missing)
    bad = no_variance(arr)
    # without items to drop, a column-major array (a data frame's) is used as it is: the selection would copy it
    # in the same layout (no copy of the rows, the same bits)
    keep = arr if not bad.any() and arr.flags.f_contiguous else arr[:, ~bad]
    res = alpha_of_array(keep, missing, level)
    if bad.any():
        res = replace(res, dropped_items=tuple(c for c, b in zip(x.columns, bad) if b))
    return res


def alpha_of_array(arr: np.ndarray, missing: str, level: float = 0.95, full: bool = True) -> AlphaResult | float:
    """:func:`cronbach_alpha` on a float array (listwise deletion applied here); ``full=False`` -> raw alpha."""
    arr = listwise_rows(arr, missing)
    k = arr.shape[1]
    if k < 2:
        raise ValueError("alpha needs at least two items")
    c = pairwise_cov(arr)
    if not full:
        n_ = c.shape[0]
        return float((1.0 - np.trace(c) / c.sum()) * (n_ / (n_ - 1)))
    r = cov2cor(c)
    a = alpha_statistics(c, r)
    n = int(arr.shape[0])
    notna = ~np.isnan(arr)
    pair_n = notna.T.astype(float) @ notna.astype(float)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        total = np.nanmean(arr, axis=1)
    ase = float(np.sqrt(a["q"] / n))
    p = 1.0 - level
    fl, fu = _feldt(a["raw"], n, k, p)
    # psych prints alpha -/+ 1.96 * ase; other levels use the normal quantile.
    z = 1.96 if np.isclose(level, 0.95) else float(special.ndtri(1.0 - p / 2.0))  # scipy.stats.norm.ppf's function
    return AlphaResult(
        **{name: float(a[key]) for name, key in _ALPHA_FIELDS.items()},
        ase=ase,
        feldt_lower=fl,
        feldt_upper=fu,
        duhachek_lower=float(a["raw"] - z * ase),
        duhachek_upper=float(a["raw"] + z * ase),
        k=k,
        n=n,
        n_complete=int(notna.all(axis=1).sum()),
        n_pairwise_min=int(pair_n[np.triu_indices(k, 1)].min()),
        mean_total=float(np.nanmean(total)) if np.isfinite(total).any() else np.nan,
        sd_total=float(np.nanstd(total, ddof=1)) if np.isfinite(total).sum() > 1 else np.nan,
        missing=missing,
        level=level,
    )
