"""Reliability: Cronbach's alpha, Guttman's lambda-6, item analysis, McDonald's omega, bootstrap CIs.

Every number reproduces the R package **psych 2.2.9** (with GPArotation 2022.10.2 for the oblimin
rotation); the reference values live in ``tests/reference/reliability/`` (``make_reference.R``).

* :func:`cronbach_alpha` -- ``psych::alpha(x, check.keys = FALSE)``: raw and standardised alpha
  (Cronbach 1951), Guttman's (1945) lambda-6 from squared multiple correlations, average and median
  inter-item r, the asymptotic standard error of Duhachek & Iacobucci (2004) and the confidence intervals
  of Feldt, Woodruff & Salih (1987) (``psych::alpha.ci``) and Duhachek (alpha +/- 1.96 ase, as printed
  by psych).
* :func:`item_analysis` -- ``psych::alpha(...)$item.stats`` and ``$alpha.drop`` plus skew and kurtosis
  as ``psych::describe`` (type 3), floor/ceiling shares and a flag for items that hurt reliability.
* :func:`omega` -- ``psych::omega(x, nfactors, fm = "minres", rotate = "oblimin")``: McDonald's (1999)
  omega total and the Schmid & Leiman (1957) omega hierarchical (Zinbarg et al. 2005). The factor
  analysis is the one of :mod:`compval.efa` (single implementation): psych's minres (Harman & Jones
  1966; L-BFGS-B on the off-diagonal residuals, SMC starts, psych's own gradient and ``optim``
  settings -- the same settings in ``psych::fa`` and in ``psych::omega``/``schmid``, which call
  ``fa``), ``stats::varimax`` and ``GPArotation::oblimin`` (Jennrich 2002, gradient projection);
  squared multiple correlations are :func:`compval.efa.smc` and skew / kurtosis
  :func:`compval.descriptives.skew_kurtosis`.
* :func:`bootstrap_ci` -- seeded percentile bootstrap (Efron & Tibshirani 1993) for alpha / omega total /
  omega hierarchical.
* :func:`reliability_table`, :func:`item_analysis_table` -- tidy per-group tables for the pipeline.

Missing data
------------
``missing="pairwise"`` (psych's and pingouin's default) estimates the covariance / correlation matrix
from pairwise-complete observations, and -- exactly as psych -- uses the number of rows (including rows
with missing answers) as *n* for the standard error and the Feldt interval. ``missing="listwise"`` first
drops every row with a missing answer on the group's items (= ``psych::alpha(na.omit(x))``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from .descriptives import skew_kurtosis
from .efa import fa_loadings, minres, oblimin, smc
from .resampling import pairwise_moments, resample_counts

__all__ = [
    "AlphaResult",
    "OmegaResult",
    "BootstrapCI",
    "cronbach_alpha",
    "item_analysis",
    "omega",
    "bootstrap_ci",
    "reliability_table",
    "item_analysis_table",
    "RELIABILITY_COLUMNS",
    "ITEM_ANALYSIS_COLUMNS",
]

_MISSING = ("pairwise", "listwise")


# ============================================================================ small helpers
def _check_missing(missing: str) -> None:
    if missing not in _MISSING:
        raise ValueError(f"missing must be one of {_MISSING}, got {missing!r}")


def _prepare(items: pd.DataFrame, missing: str) -> pd.DataFrame:
    """Float copy of ``items``; listwise deletion when asked."""
    _check_missing(missing)
    if not isinstance(items, pd.DataFrame):
        items = pd.DataFrame(items)
    if all(pd.api.types.is_numeric_dtype(t) for t in items.dtypes):
        x = items.astype(float)
    else:
        x = items.apply(pd.to_numeric, errors="coerce").astype(float)
    if missing == "listwise":
        x = x.dropna(how="any")
    return x


def _no_variance(arr: np.ndarray) -> np.ndarray:
    """Items with fewer than two answers or a zero standard deviation (psych drops these in alpha)."""
    m = ~np.isnan(arr)
    cnt = m.sum(axis=0)
    lo = np.where(m, arr, np.inf).min(axis=0)
    hi = np.where(m, arr, -np.inf).max(axis=0)
    return (cnt < 2) | (lo == hi)


def _listwise(arr: np.ndarray, missing: str) -> np.ndarray:
    return arr[~np.isnan(arr).any(axis=1)] if missing == "listwise" else arr


def _cov2cor(c: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        d = 1.0 / np.sqrt(np.diag(c))
        out = c * d[:, None] * d[None, :]
    np.fill_diagonal(out, 1.0)
    return out


def _pairwise_moments(arr: np.ndarray):
    """Pairwise-complete sums on column-centred data: n_ij, sum_i|j, sum_j|i, cross, sumsq_i|j."""
    m = (~np.isnan(arr)).astype(float)
    cnt = m.sum(axis=0)
    centre = np.where(m > 0, arr, 0.0).sum(axis=0) / np.maximum(cnt, 1.0)
    y = np.where(m > 0, arr - centre, 0.0)
    n = m.T @ m
    s_i = y.T @ m  # [i, j]: sum of item i over rows where j is present
    cross = y.T @ y
    q_i = (y**2).T @ m
    return n, s_i, cross, q_i


def _stacked_cov(n, s_i, cross) -> np.ndarray:
    """Pairwise covariances from stacked pairwise sums (resamples x p x p; see ``pairwise_moments``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (cross - s_i * s_i.transpose(0, 2, 1) / n) / (n - 1.0)
    c[n < 2] = np.nan
    return c


def _stacked_cor(n, s_i, cross, q_i) -> np.ndarray:
    """Pairwise correlations from stacked pairwise sums (resamples x p x p), unit diagonal where defined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        sxy = cross - s_i * s_i.transpose(0, 2, 1) / n
        sxx = q_i - s_i**2 / n
        r = sxy / np.sqrt(sxx * sxx.transpose(0, 2, 1))
    r[n < 2] = np.nan
    d = np.arange(r.shape[1])
    r[:, d, d] = np.where(np.isnan(r[:, d, d]), np.nan, 1.0)
    return r


def _cov_np(arr: np.ndarray) -> np.ndarray:
    """``cov(x, use = "pairwise")``: each pair over its complete rows, with the pair's own means."""
    n, s_i, cross, _ = _pairwise_moments(arr)
    return _stacked_cov(n[None], s_i[None], cross[None])[0]


def _cor_np(arr: np.ndarray) -> np.ndarray:
    """``cor(x, use = "pairwise")``: Pearson r of each pair over its complete rows."""
    return _stacked_cor(*(m[None] for m in _pairwise_moments(arr)))[0]


def _cov(x: pd.DataFrame) -> np.ndarray:
    return _cov_np(x.to_numpy(dtype=float))


def _cor(x: pd.DataFrame) -> np.ndarray:
    return _cor_np(x.to_numpy(dtype=float))


# ============================================================================ alpha
def _alpha_1(c: np.ndarray, r: np.ndarray) -> dict:
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


def _feldt(alpha: float, n_obs: int, n_var: int, p: float) -> tuple[float, float]:
    """``psych::alpha.ci``: Feldt, Woodruff & Salih (1987) interval."""
    df1 = n_obs - 1
    df2 = (n_obs - 1) * (n_var - 1)
    upper = 1.0 - (1.0 - alpha) * stats.f.ppf(p / 2.0, df1, df2)
    lower = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - p / 2.0, df1, df2)
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
    x = _prepare(items, missing)
    arr = _listwise(x.to_numpy(), missing)
    bad = _no_variance(arr)
    res = _alpha_arr(arr[:, ~bad], missing, level)
    if bad.any():
        res = replace(res, dropped_items=tuple(c for c, b in zip(x.columns, bad) if b))
    return res


def _alpha_arr(arr: np.ndarray, missing: str, level: float = 0.95, full: bool = True) -> AlphaResult | float:
    """:func:`cronbach_alpha` on a float array (listwise deletion applied here); ``full=False`` -> raw alpha."""
    arr = _listwise(arr, missing)
    k = arr.shape[1]
    if k < 2:
        raise ValueError("alpha needs at least two items")
    c = _cov_np(arr)
    if not full:
        n_ = c.shape[0]
        return float((1.0 - np.trace(c) / c.sum()) * (n_ / (n_ - 1)))
    r = _cov2cor(c)
    a = _alpha_1(c, r)
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
    z = 1.96 if np.isclose(level, 0.95) else float(stats.norm.ppf(1.0 - p / 2.0))
    return AlphaResult(
        alpha=float(a["raw"]),
        alpha_std=float(a["std"]),
        lambda6=float(a["g6"]),
        average_r=float(a["av_r"]),
        median_r=float(a["med_r"]),
        signal_noise=float(a["sn"]),
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


# ============================================================================ item analysis
def item_analysis(
    items: pd.DataFrame,
    missing: str = "pairwise",
    *,
    scale_min: float | None = None,
    scale_max: float | None = None,
    r_drop_min: float = 0.30,
    alpha_gain: float = 0.0,
) -> pd.DataFrame:
    """Item statistics and alpha-if-item-deleted, as ``psych::alpha``'s ``item.stats`` and ``alpha.drop``.

    Parameters
    ----------
    items : DataFrame
        Items of one scale (already reverse-scored), at least two columns.
    missing : {"pairwise", "listwise"}
        As in :func:`cronbach_alpha`.
    scale_min, scale_max : float, optional
        Lowest / highest response option; the floor / ceiling shares are the shares of the non-missing
        answers equal to them (NaN when not given).
    r_drop_min : float
        Items whose corrected item-total correlation ``r_drop`` is below this are flagged (default .30).
    alpha_gain : float
        Items whose alpha-if-deleted exceeds the scale's alpha by more than this are flagged (default 0).

    Returns
    -------
    DataFrame
        One row per item: item, n, mean, sd, skew, kurtosis (``psych::describe``, type 3), floor,
        ceiling, raw_r, std_r, r_cor, r_drop (``item.stats``), alpha_if_deleted, alpha_std_if_deleted,
        lambda6_if_deleted, average_r_if_deleted, median_r_if_deleted, alpha_se_if_deleted
        (``alpha.drop``), flag_alpha (deleting raises alpha), flag_r_drop (r_drop < r_drop_min),
        flag (either, or an item without variance), note. Items without variance are left out of the
        scale statistics as psych does, keep their descriptive columns and are flagged with a note.

    Notes
    -----
    ``r_drop`` = correlation of the item with the sum of the other items, from the covariance matrix;
    ``r_cor`` = item-total correlation corrected for overlap and reliability (smc on the diagonal);
    ``raw_r`` = correlation with the mean of the answered items. For a two-item scale the "if deleted"
    columns follow psych's special case (raw = C12 / C22, std = r12, ...).
    """
    x_all = _prepare(items, missing)
    bad = _no_variance(x_all.to_numpy())
    x = x_all.loc[:, ~bad]
    k = x.shape[1]
    if k < 2:
        raise ValueError("item analysis needs at least two items with variance")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = _item_analysis_core(x, scale_min, scale_max)
    if bad.any():
        extra = _descriptives(x_all.loc[:, bad], scale_min, scale_max)
        out = pd.concat([out, extra], ignore_index=True).set_index("item").loc[list(x_all.columns)].reset_index()
    total_alpha = _alpha_arr(x.to_numpy(), "pairwise", full=False)
    out["flag_alpha"] = out["alpha_if_deleted"] > total_alpha + alpha_gain
    out["flag_r_drop"] = out["r_drop"] < r_drop_min
    out["flag"] = out["flag_alpha"] | out["flag_r_drop"] | out["item"].isin(x_all.columns[bad])
    out["note"] = np.where(out["item"].isin(x_all.columns[bad]), "no variance: left out of the scale statistics", "")
    return out


def _descriptives(x: pd.DataFrame, scale_min, scale_max) -> pd.DataFrame:
    """item, n, mean, sd, skew, kurtosis (psych::describe, type 3), floor and ceiling shares."""
    cnt = x.notna().sum()
    sk = np.array([skew_kurtosis(x[c].to_numpy()) for c in x.columns]).reshape(-1, 2)
    with np.errstate(all="ignore"):
        floor = ((x == scale_min).sum() / cnt).to_numpy(float) if scale_min is not None else np.nan
        ceiling = ((x == scale_max).sum() / cnt).to_numpy(float) if scale_max is not None else np.nan
    return pd.DataFrame(
        {
            "item": list(x.columns),
            "n": cnt.to_numpy().astype(int),
            "mean": x.mean().to_numpy(),
            "sd": x.std(ddof=1).to_numpy(),
            "skew": sk[:, 0],
            "kurtosis": sk[:, 1],
            "floor": floor,
            "ceiling": ceiling,
        }
    )


def _item_analysis_core(x: pd.DataFrame, scale_min, scale_max) -> pd.DataFrame:
    """item.stats and alpha.drop of psych::alpha for items that all have variance."""
    k = x.shape[1]
    c = _cov(x)
    r = _cov2cor(c)
    n_rows = x.shape[0]
    rows = []
    if k > 2:
        for i in range(k):
            keep = [j for j in range(k) if j != i]
            a = _alpha_1(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)])
            se = np.sqrt(a["q"] / n_rows) if n_rows > k else np.nan
            rows.append([a["raw"], a["std"], a["g6"], a["av_r"], a["med_r"], se])
    else:  # psych's special case for two items
        s1 = smc(r, nan_policy="propagate")[0]
        r12 = r[0, 1]
        rows.append([c[0, 1] / c[1, 1], r12, s1, r12, r12, np.nan])
        rows.append([c[0, 1] / c[0, 0], r12, s1, r12, r12, np.nan])
    drop = np.array(rows, dtype=float)

    item_r = r.sum(axis=0) / np.sqrt(r.sum())
    rc = r.copy()
    np.fill_diagonal(rc, smc(r, nan_policy="propagate"))
    item_rc = rc.sum(axis=0) / np.sqrt(rc.sum())
    r_drop = np.empty(k)
    for i in range(k):
        keep = [j for j in range(k) if j != i]
        v_drop = c[np.ix_(keep, keep)].sum()
        c_drop = c[:, i].sum() - c[i, i]
        r_drop[i] = c_drop / np.sqrt(c[i, i] * v_drop)
    total = x.mean(axis=1, skipna=True).to_numpy()
    raw_r = _cor_np(np.column_stack([total, x.to_numpy()]))[0, 1:]

    out = _descriptives(x, scale_min, scale_max)
    out["raw_r"] = raw_r
    out["std_r"] = item_r
    out["r_cor"] = item_rc
    out["r_drop"] = r_drop
    out["alpha_if_deleted"] = drop[:, 0]
    out["alpha_std_if_deleted"] = drop[:, 1]
    out["lambda6_if_deleted"] = drop[:, 2]
    out["average_r_if_deleted"] = drop[:, 3]
    out["median_r_if_deleted"] = drop[:, 4]
    out["alpha_se_if_deleted"] = drop[:, 5]
    return out


# ============================================================================ omega (Schmid-Leiman)
# psych's minres factor analysis, stats::varimax and GPArotation::oblimin live in compval.efa
# (minres, fa_loadings, oblimin); ``_minres`` is kept as a name for existing callers.
_minres = minres


def _schmid(r: np.ndarray, nfactors: int) -> dict:
    """``psych::schmid(r, nfactors, fm = "minres", rotate = "oblimin", option = "equal")``.

    Schmid & Leiman (1957): minres + varimax, GPArotation's oblimin, a one-factor minres of the factor
    correlations (nfactors > 2) or psych's ``option = "equal"`` general loadings sqrt(|phi12|)
    (nfactors = 2, not identified), g loadings = oblique pattern %*% g.
    """
    orth, _ = fa_loadings(r, nfactors, method="minres", rotation="varimax")
    if nfactors == 1:
        fload = orth
        gload = np.array([1.0])
        phi = np.array([[1.0]])
        converged = True
    else:
        fload, phi, converged = oblimin(orth)
        if nfactors > 2:  # psych: fa(phi, fm = "minres"), one factor
            gload = minres(phi, 1)["loadings"][:, 0]
        else:
            g = np.sqrt(abs(phi[0, 1]))
            gload = np.array([g, np.sign(phi[0, 1]) * g])
    g = fload @ gload
    h2 = (orth**2).sum(axis=1)
    u2 = np.diag(r) - h2
    uniq2 = np.clip(fload**2 - (fload * gload) ** 2, 0.0, None)
    sm = np.sign(fload) * np.sqrt(uniq2)
    return {
        "g": g,
        "group": sm,
        "h2": h2,
        "u2": u2,
        "oblique": fload,
        "phi": phi,
        "gload": gload,
        "converged": converged,
    }


@dataclass(frozen=True)
class OmegaResult:
    """Result of :func:`omega` (names follow ``psych::omega``).

    Attributes
    ----------
    omega_total : float
        ``omega.tot`` = (1'R1 - sum u2) / 1'R1 (McDonald 1999).
    omega_hierarchical : float
        ``omega_h`` = (sum g)^2 / 1'R1 from the Schmid-Leiman solution (Zinbarg et al. 2005). Only
        meaningful with >= 3 group factors; psych still reports it for 1 or 2 factors and so does this.
    omega_limit : float
        ``omega.lim`` = (sum g)^2 / (1'R1 - sum u2).
    alpha, lambda6 : float
        Standardised alpha and lambda-6 of the (sign-adjusted) correlation matrix (``alpha``, ``G6``).
    nfactors, k, n : int
        Number of group factors, items and rows.
    loadings : DataFrame
        Schmid-Leiman solution: g, F1*..Fk*, h2, u2, p2 (= g^2 / h2), one row per item (``$schmid$sl``).
    key : ndarray
        +1 / -1 per item: items with a negative g loading were reversed, as psych's ``flip = TRUE``.
    converged : bool
        Oblimin rotation converged (always True for 1 factor).
    """

    omega_total: float
    omega_hierarchical: float
    omega_limit: float
    alpha: float
    lambda6: float
    nfactors: int
    k: int
    n: int
    loadings: pd.DataFrame = field(repr=False)
    key: np.ndarray = field(repr=False)
    converged: bool = True


def _omega_from_r(r: np.ndarray, nfactors: int) -> dict:
    sl = _schmid(r, nfactors)
    key = np.sign(sl["g"])
    key[key == 0] = 1.0
    m = r * key[:, None] * key[None, :]
    g = sl["g"] * key
    vt = m.sum()
    uniq = sl["u2"].sum()
    gsq = g.sum() ** 2
    p = r.shape[0]
    tr = np.trace(m)
    return {
        "omega_total": (vt - uniq) / vt,
        "omega_h": gsq / vt,
        "omega_lim": gsq / (vt - uniq),
        "alpha": ((vt - tr) / vt) * (p / (p - 1)),
        "g6": (vt + smc(m).sum() - tr) / vt,
        "sl": sl,
        "key": key,
        "g": g,
    }


def _omega_arr(arr: np.ndarray, nfactors: int, missing: str) -> dict:
    """Omega statistics of a float array (listwise deletion applied here)."""
    arr = _listwise(arr, missing)
    if arr.shape[1] < 3:
        raise ValueError("omega needs at least 3 items")
    if _no_variance(arr).any():
        raise ValueError("items without variance")
    return _omega_from_r(_cor_np(arr), nfactors)


def omega(items: pd.DataFrame, nfactors: int = 3, fm: str = "minres", missing: str = "pairwise") -> OmegaResult:
    """McDonald's omega total and omega hierarchical, as ``psych::omega(x, nfactors)`` (psych defaults).

    Parameters
    ----------
    items : DataFrame
        One column per item, one row per respondent (raw data; correlations are Pearson,
        ``cor(x, use = "pairwise")``).
    nfactors : int
        Number of group factors (psych's default 3). The pipeline uses ``nfactors=1`` per competency:
        then ``omega_total`` equals ``psych::omega(x, nfactors = 1)$omega.tot``.
    fm : {"minres"}
        Factoring method; only psych's default minres is implemented.
    missing : {"pairwise", "listwise"}
        Pairwise correlations on all rows (psych) or listwise deletion first (``omega(na.omit(x))``).

    Returns
    -------
    OmegaResult

    Notes
    -----
    Schmid-Leiman transformation (Schmid & Leiman 1957) of a minres solution rotated with oblimin
    (GPArotation, gamma = 0); for ``nfactors > 2`` the general loadings come from a one-factor minres of
    the factor correlations; for ``nfactors == 2`` psych's ``option = "equal"`` is used (g loadings set
    equal, not identified: ``omega_hierarchical`` is then psych's number, not an estimate); for
    ``nfactors == 1`` psych reports omega_h = (sum of loadings)^2 / 1'R1 although it "is not
    meaningful" -- mirrored here. Items with negative general loadings are reversed before summing
    (psych's ``flip = TRUE``). Omega total needs at least 3 items with one factor (a one-factor model of
    2 items is not identified): ValueError otherwise.
    """
    if fm != "minres":
        raise NotImplementedError("only fm='minres' (psych's default) is implemented")
    x = _prepare(items, missing)
    p = x.shape[1]
    nfactors = int(nfactors)
    if nfactors < 1:
        raise ValueError("nfactors must be >= 1")
    res = _omega_arr(x.to_numpy(), nfactors, missing)
    sl = res["sl"]
    names = list(x.columns)
    h2 = sl["h2"]
    load = pd.DataFrame({"item": names, "g": res["g"]})
    group = sl["group"] * res["key"][:, None]
    for j in range(nfactors):
        load[f"F{j + 1}*"] = group[:, j]
    load["h2"] = h2
    load["u2"] = sl["u2"]
    load["p2"] = res["g"] ** 2 / h2
    return OmegaResult(
        omega_total=float(res["omega_total"]),
        omega_hierarchical=float(res["omega_h"]),
        omega_limit=float(res["omega_lim"]),
        alpha=float(res["alpha"]),
        lambda6=float(res["g6"]),
        nfactors=nfactors,
        k=p,
        n=int(x.shape[0]),
        loadings=load,
        key=res["key"],
        converged=bool(sl["converged"]),
    )


# ============================================================================ bootstrap
@dataclass(frozen=True)
class BootstrapCI:
    """Percentile bootstrap interval of a statistic.

    Attributes
    ----------
    estimate : float
        The statistic on the full data.
    lower, upper : float
        Percentile interval (R's default ``quantile`` type 7 of the replicates).
    B : int
        Number of resamples; ``n_failed`` of them gave no value (NaN / error) and are ignored.
    level : float
    values : ndarray
        The ``B`` replicates in resample order (NaN = failed).
    """

    estimate: float
    lower: float
    upper: float
    B: int
    n_failed: int
    level: float
    values: np.ndarray | None = field(default=None, repr=False, compare=False)


# Newton's method for the one-factor minres solution: stop when no loading moves by more than this.
_NEWTON_TOL = 1e-10
_NEWTON_MAXIT = 50
_BOOT_ERRORS = (ValueError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError)


def _boot_no_variance(arr: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`_no_variance` of every resample (resamples x items): fewer than two answers or one value only."""
    present = w > 0
    bad = np.zeros((w.shape[0], arr.shape[1]), dtype=bool)
    for j in range(arr.shape[1]):
        mj = ~np.isnan(arr[:, j])
        v, pj = arr[mj, j], present[:, mj]
        lo = np.where(pj, v, np.inf).min(axis=1, initial=np.inf)
        hi = np.where(pj, v, -np.inf).max(axis=1, initial=-np.inf)
        bad[:, j] = (w[:, mj].sum(axis=1) < 2) | (lo == hi)
    return bad


def _one_factor_minres(r: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-factor minres loadings of a batch of correlation matrices by Newton's method (warm start).

    Minres with one factor minimises the off-diagonal residuals ``F(l) = sum_{i != j} (r_ij - l_i l_j)^2``
    (Harman & Jones 1966; at psych's optimum the uniquenesses are ``1 - l^2``). Newton's method on ``l`` with
    gradient ``-4 sum_{j != k} e_kj l_j`` and Hessian ``4 (sum_{j != k} l_j^2)`` on the diagonal and
    ``4 (l_k l_l - e_kl)`` off it (``e`` = residuals), started at ``start`` (the full-sample loadings),
    converges in a few steps for all resamples at once. Returns (loadings reflected to a positive sum,
    ok): ``ok`` is False where the steps did not settle below 1e-10, the Hessian is not positive definite (no
    minimum) or a uniqueness falls below psych's lower bound 0.005 (a Heywood case) -- those resamples are
    refitted by psych's path (:func:`_omega_from_r`).
    """
    b, p, _ = r.shape
    d = np.arange(p)
    start = np.asarray(start, dtype=float)
    lam = np.broadcast_to(start, (b, p)).copy()
    ok = np.all(np.isfinite(r), axis=(1, 2))
    # resamples without a correlation matrix: a matrix whose solution is the start (no step; not used)
    r0 = np.outer(start, start)
    r0[d, d] = 1.0
    r = np.where(ok[:, None, None], r, r0)
    step_max = np.full(b, np.inf)
    h = np.zeros((b, p, p))
    for _ in range(_NEWTON_MAXIT):
        e = r - lam[:, :, None] * lam[:, None, :]
        e[:, d, d] = 0.0
        grad = -4.0 * np.einsum("bkj,bj->bk", e, lam)
        h = 4.0 * (lam[:, :, None] * lam[:, None, :] - e)
        h[:, d, d] = 4.0 * ((lam**2).sum(axis=1, keepdims=True) - lam**2)
        try:
            step = np.linalg.solve(h, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return lam, np.zeros(b, dtype=bool)
        lam = lam - step
        step_max = np.abs(step).max(axis=1)
        if not (step_max[ok] > _NEWTON_TOL).any():
            break
    with np.errstate(invalid="ignore"):
        pd_ = np.linalg.eigvalsh(h)[:, 0] > 0
    lam = lam * np.where(lam.sum(axis=1) < 0, -1.0, 1.0)[:, None]
    ok &= (step_max <= _NEWTON_TOL) & pd_ & np.all(1.0 - lam**2 >= 0.005, axis=1)
    return lam, ok


def _omega_total_one_factor(r: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``omega_total`` of :func:`_omega_from_r` (nfactors = 1) from batched correlations and loadings."""
    key = np.where(lam < 0, -1.0, 1.0)
    vt = (r * key[:, :, None] * key[:, None, :]).sum(axis=(1, 2))
    uniq = (np.diagonal(r, axis1=1, axis2=2) - lam**2).sum(axis=1)
    return (vt - uniq) / vt


def _boot_values(
    arr: np.ndarray, stat: str, B: int, rng: np.random.Generator, missing: str, nfactors: int
) -> np.ndarray:
    """Bootstrap replicates of "alpha", "omega_total" or "omega_hierarchical" without copying rows.

    The resamples are those of the row-by-row loop (:func:`compval.resampling.resample_counts`); covariances
    and correlations come from batched weighted moments (:func:`compval.resampling.pairwise_moments`), so
    alpha is the same number as on the resampled rows (to rounding). Omega total with one factor solves all
    resamples of a batch at once (:func:`_one_factor_minres`, started at the full-sample solution) -- the
    same minimum psych's L-BFGS-B approaches, to its stopping tolerance -- and falls back to psych's path
    per resample where that fails; omega hierarchical runs psych's Schmid-Leiman path per resample.
    Listwise deletion gives rows with a missing answer no weight. Failed resamples are NaN.
    """
    if missing == "listwise":
        arr = np.where(np.isnan(arr).any(axis=1)[:, None], np.nan, arr)
    p = arr.shape[1]
    if stat == "alpha" and p < 2:
        raise ValueError("alpha needs at least two items")
    if stat != "alpha" and p < 3:
        raise ValueError("omega needs at least 3 items")
    start = None
    if stat == "omega_total" and nfactors == 1:
        start = _schmid(_cor_np(_listwise(arr, missing)), 1)["g"]
    vals = []
    for w in resample_counts(rng, arr.shape[0], B):
        moments = pairwise_moments(arr, w)
        if stat == "alpha":
            c = _stacked_cov(*moments[:3])
            k = c.shape[1]
            vals.append((1.0 - np.trace(c, axis1=1, axis2=2) / c.sum(axis=(1, 2))) * (k / (k - 1)))
            continue
        r = _stacked_cor(*moments)
        out = np.full(w.shape[0], np.nan)
        valid = ~_boot_no_variance(arr, w).any(axis=1)
        todo = valid.copy()
        if start is not None:
            lam, ok = _one_factor_minres(r, start)
            done = valid & ok
            out[done] = _omega_total_one_factor(r[done], lam[done])
            todo &= ~ok
        key = "omega_total" if stat == "omega_total" else "omega_h"
        for b in np.flatnonzero(todo):
            try:
                out[b] = _omega_from_r(r[b], nfactors)[key]
            except _BOOT_ERRORS:
                out[b] = np.nan
        vals.append(out)
    return np.concatenate(vals)


def _stat_function(stat, missing: str, nfactors: int, columns) -> Callable[[np.ndarray], float]:
    """Statistic on a float array (resampled rows)."""
    if callable(stat):
        return lambda arr: float(stat(pd.DataFrame(arr, columns=columns)))
    if stat == "alpha":
        return lambda arr: _alpha_arr(arr, missing, full=False)
    if stat == "alpha_std":
        return lambda arr: _alpha_arr(arr, missing).alpha_std
    if stat == "omega_total":
        return lambda arr: float(_omega_arr(arr, nfactors, missing)["omega_total"])
    if stat == "omega_hierarchical":
        return lambda arr: float(_omega_arr(arr, nfactors, missing)["omega_h"])
    raise ValueError(f"unknown statistic {stat!r}")


def bootstrap_ci(
    items: pd.DataFrame,
    stat: str | Callable[[pd.DataFrame], float] = "alpha",
    B: int = 1000,
    seed: int | np.random.Generator | None = 0,
    *,
    level: float = 0.95,
    missing: str = "pairwise",
    nfactors: int = 1,
) -> BootstrapCI:
    """Seeded nonparametric percentile bootstrap CI (Efron & Tibshirani 1993) for a reliability statistic.

    Rows (respondents) are resampled with replacement B times with ``numpy.random.default_rng(seed)``;
    the statistic is recomputed with the same missing-data policy. Comparable to the percentile
    intervals of ``psych::alpha(x, n.iter = B)$boot.ci`` (psych resamples the same way; random streams
    differ from R's, so only the distribution, not the digits, is comparable).

    Parameters
    ----------
    items : DataFrame
    stat : {"alpha", "alpha_std", "omega_total", "omega_hierarchical"} or callable
        A callable receives a resampled DataFrame and returns a float.
    B : int
        Number of bootstrap resamples.
    seed : int or Generator
        Seed for :func:`numpy.random.default_rng` (or a Generator).
    level : float
        Interval coverage.
    missing : {"pairwise", "listwise"}
    nfactors : int
        Group factors for the omega statistics (default 1, as the pipeline).

    Notes
    -----
    Resamples on which the statistic fails (e.g. an item without variance) are counted in
    ``n_failed`` and ignored. BLAS is limited to one thread while the loop runs (``threadpoolctl``;
    restored afterwards): the many tiny matrix problems are otherwise slowed down severely by
    thread contention.

    The named statistics do not copy rows: resample b is still ``rng.integers(0, n, size=n)``, but as row
    counts, and the covariance / correlation matrices of a batch of resamples are one matrix product of the
    counts with per-row cross-products (``_boot_values``). Alpha and omega hierarchical are then the numbers
    of the resampled rows (to rounding); omega total with one factor is solved for all resamples at once by
    Newton's method on the minres loadings, started at the full-sample solution, which reaches the minimum
    that psych's L-BFGS-B approaches (replicates agree to its stopping tolerance, about 1e-6; psych's path is
    used for a resample where Newton's method does not settle).

    In R: ``psych::alpha(x, n.iter = 1000)$boot.ci`` (alpha) and ``psych::omega(x, nfactors, n.iter = 200)``
    (omega), with R's random numbers.
    """
    _check_missing(missing)
    x = _prepare(items, "pairwise")
    if not callable(stat):  # as cronbach_alpha: items without variance are left out
        x = x.loc[:, ~_no_variance(_listwise(x.to_numpy(), missing))]
    fun = _stat_function(stat, missing, nfactors, x.columns)
    arr = x.to_numpy()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = arr.shape[0]
    vals = np.full(B, np.nan)
    # Many small matrix problems: multi-threaded BLAS only adds overhead (and contention), so it is
    # limited to one thread for the duration of the loop (restored afterwards); also keeps the batched
    # sums independent of the number of cores.
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = float(fun(arr))
        if stat in ("alpha", "omega_total", "omega_hierarchical") and B > 0:
            vals = _boot_values(arr, stat, B, rng, missing, nfactors)
        else:
            for b in range(B):
                idx = rng.integers(0, n, size=n)
                try:
                    vals[b] = fun(arr[idx])
                except _BOOT_ERRORS:
                    vals[b] = np.nan
    ok = vals[np.isfinite(vals)]
    q = (1.0 - level) / 2.0
    if ok.size:
        lo, hi = np.quantile(ok, [q, 1.0 - q])
    else:
        lo = hi = np.nan
    return BootstrapCI(
        estimate=est, lower=float(lo), upper=float(hi), B=int(B), n_failed=int(B - ok.size), level=level, values=vals
    )


# ============================================================================ tidy tables
RELIABILITY_COLUMNS = [
    "level", "key", "n_items", "n", "n_complete", "missing",
    "alpha", "alpha_std", "alpha_ci_lower", "alpha_ci_upper", "alpha_ase",
    "alpha_boot_lower", "alpha_boot_upper",
    "lambda6", "average_r", "median_r",
    "omega_total", "omega_total_boot_lower", "omega_total_boot_upper",
    "omega_hierarchical", "omega_h_nfactors", "omega_hierarchical_boot_lower", "omega_hierarchical_boot_upper",
    "cr", "ave", "note",
]  # fmt: skip

ITEM_ANALYSIS_COLUMNS = [
    "level", "key", "item", "n", "mean", "sd", "skew", "kurtosis", "floor", "ceiling",
    "raw_r", "std_r", "r_cor", "r_drop", "alpha_if_deleted", "alpha_std_if_deleted",
    "lambda6_if_deleted", "average_r_if_deleted", "median_r_if_deleted", "alpha_se_if_deleted",
    "flag_alpha", "flag_r_drop", "flag", "note",
]  # fmt: skip


def _min_items(nfactors: int) -> int:
    """Smallest number of items with non-negative degrees of freedom for ``nfactors`` factors."""
    p = nfactors + 1
    while (p - nfactors) ** 2 - (p + nfactors) < 0:
        p += 1
    return max(p, 3)


def reliability_table(
    items: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    *,
    missing: str = "pairwise",
    n_boot: int = 1000,
    seed: int = 0,
    level: str = "competency",
    ci_level: float = 0.95,
    omega_h_nfactors: int | Mapping[str, int] | None = 3,
    n_boot_omega_h: int = 0,
) -> pd.DataFrame:
    """One row of reliability statistics per group of items (tidy; columns :data:`RELIABILITY_COLUMNS`).

    Parameters
    ----------
    items : DataFrame
        All item columns (already reverse-scored).
    groups : dict
        Group key -> item ids (e.g. ``Codebook.groups("competency")``).
    missing : {"pairwise", "listwise"}
        Missing-data policy, see :func:`cronbach_alpha`.
    n_boot : int
        Bootstrap resamples for the percentile CIs of alpha and omega total (0 = none, columns NaN).
    seed : int
        Seed; group i uses ``default_rng([seed, i])`` so rows are reproducible and independent.
    level : str
        Written to the ``level`` column (e.g. "competency", "dimension", "module").
    ci_level : float
        Coverage of the Feldt and bootstrap intervals.
    omega_h_nfactors : int, dict or None
        Group factors for ``omega_hierarchical`` (``psych::omega(x, nfactors)$omega_h``), per group when
        a dict; None = not computed. Groups with too few items for that many factors get NaN and a note.
    n_boot_omega_h : int
        Bootstrap resamples for the percentile CI of omega hierarchical (0 = none). Each resample repeats the
        Schmid-Leiman solution (as ``psych::omega(x, nfactors, n.iter = B)``), so this costs about 25 ms per
        resample for 8 items.

    Returns
    -------
    DataFrame
        level, key, n_items, n (psych's n: rows, or complete rows when listwise), n_complete, missing,
        alpha, alpha_std, alpha_ci_lower/upper (Feldt), alpha_ase (Duhachek), alpha_boot_lower/upper,
        lambda6, average_r, median_r, omega_total (``psych::omega(x, nfactors = 1)$omega.tot``),
        omega_total_boot_lower/upper, omega_hierarchical, omega_h_nfactors, omega_hierarchical_boot_lower/upper,
        cr and ave (empty; filled by
        the CFA stage), note. Groups with < 2 items get NaN alpha; groups with < 3 items NaN omega
        (a one-factor model of two items is not identified); the reason is in ``note``.
    """
    _check_missing(missing)
    rows = []
    for gi, (key, cols) in enumerate(groups.items()):
        cols = list(cols)
        missing_cols = [c for c in cols if c not in items.columns]
        if missing_cols:
            raise KeyError(f"group {key!r}: items not in data: {missing_cols}")
        x = _prepare(items[cols], missing)
        notes = []
        row = {c: np.nan for c in RELIABILITY_COLUMNS}
        row.update(
            level=level,
            key=key,
            n_items=len(cols),
            missing=missing,
            n=int(x.shape[0]),
            n_complete=int(x.notna().all(axis=1).sum()) if len(cols) else 0,
        )
        rng = np.random.default_rng([seed, gi])
        if len(cols):
            bad = _no_variance(x.to_numpy())
            if bad.any():
                notes.append(f"no variance, left out: {', '.join(map(str, x.columns[bad]))}")
                x = x.loc[:, ~bad]
        k = x.shape[1]
        if k < 2:
            notes.append("fewer than 2 items: alpha and omega not defined")
        else:
            a = cronbach_alpha(x, missing=missing, level=ci_level)
            row.update(
                alpha=a.alpha,
                alpha_std=a.alpha_std,
                alpha_ci_lower=a.feldt_lower,
                alpha_ci_upper=a.feldt_upper,
                alpha_ase=a.ase,
                lambda6=a.lambda6,
                average_r=a.average_r,
                median_r=a.median_r,
            )
            if not np.isfinite(a.alpha):
                notes.append("alpha not computable (item pairs without common answers?)")
            elif n_boot > 0:
                b = bootstrap_ci(x, "alpha", n_boot, rng, level=ci_level, missing=missing)
                row.update(alpha_boot_lower=b.lower, alpha_boot_upper=b.upper)
                if b.n_failed:
                    notes.append(f"alpha bootstrap: {b.n_failed} of {n_boot} resamples failed")
            if k < 3:
                notes.append("2 items: one-factor omega not identified")
            else:
                try:
                    o = omega(x, nfactors=1, missing=missing)
                    row["omega_total"] = o.omega_total
                except (ValueError, np.linalg.LinAlgError) as exc:
                    notes.append(f"omega total not computable: {exc}")
                if n_boot > 0 and np.isfinite(row["omega_total"]):
                    b = bootstrap_ci(x, "omega_total", n_boot, rng, level=ci_level, missing=missing)
                    row.update(omega_total_boot_lower=b.lower, omega_total_boot_upper=b.upper)
                    if b.n_failed:
                        notes.append(f"omega bootstrap: {b.n_failed} of {n_boot} resamples failed")
            nf = omega_h_nfactors.get(key) if isinstance(omega_h_nfactors, Mapping) else omega_h_nfactors
            if nf is not None and k >= 3:
                row["omega_h_nfactors"] = nf
                need = _min_items(nf)
                if k < need:
                    notes.append(f"omega_h with {nf} group factors needs >= {need} items")
                else:
                    try:
                        oh = omega(x, nfactors=nf, missing=missing)
                        row["omega_hierarchical"] = oh.omega_hierarchical
                        if nf < 3:
                            notes.append(f"omega_h with {nf} group factor(s) is not identified (psych's value)")
                        if not oh.converged:
                            notes.append("omega_h: oblimin did not converge")
                        if n_boot_omega_h > 0:
                            b = bootstrap_ci(
                                x,
                                "omega_hierarchical",
                                n_boot_omega_h,
                                rng,
                                level=ci_level,
                                missing=missing,
                                nfactors=nf,
                            )
                            row.update(omega_hierarchical_boot_lower=b.lower, omega_hierarchical_boot_upper=b.upper)
                            if b.n_failed:
                                notes.append(f"omega_h bootstrap: {b.n_failed} of {n_boot_omega_h} resamples failed")
                    except (ValueError, np.linalg.LinAlgError) as exc:
                        notes.append(f"omega_h not computable: {exc}")
        row["note"] = "; ".join(notes)
        rows.append(row)
    out = pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)
    for c in ("cr", "ave", "omega_h_nfactors"):
        out[c] = out[c].astype(float)
    return out


def item_analysis_table(
    items: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    scale_min: float | None = None,
    scale_max: float | None = None,
    *,
    missing: str = "pairwise",
    level: str = "competency",
    r_drop_min: float = 0.30,
    alpha_gain: float = 0.0,
) -> pd.DataFrame:
    """:func:`item_analysis` for every group, stacked: one row per group and item, columns
    :data:`ITEM_ANALYSIS_COLUMNS` (flags as pandas nullable booleans).

    Groups with fewer than two items with variance get descriptive statistics only (item-total
    columns and flags missing) and a note."""
    frames = []
    for key, cols in groups.items():
        cols = list(cols)
        try:
            t = item_analysis(
                items[cols],
                missing,
                scale_min=scale_min,
                scale_max=scale_max,
                r_drop_min=r_drop_min,
                alpha_gain=alpha_gain,
            )
        except ValueError:
            t = _descriptives(_prepare(items[cols], missing), scale_min, scale_max)
            t["note"] = "fewer than 2 items with variance: no item-total statistics"
        t.insert(0, "key", key)
        t.insert(0, "level", level)
        frames.append(t.reindex(columns=ITEM_ANALYSIS_COLUMNS))
    frames = [f for f in frames if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ITEM_ANALYSIS_COLUMNS)
    for c in ("flag_alpha", "flag_r_drop", "flag"):
        out[c] = out[c].astype("boolean")
    out["n"] = out["n"].astype("Int64")
    return out
