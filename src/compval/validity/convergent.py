"""Convergent validity: composite reliability (``semTools::compRelSEM``, Raykov 1997; ordinal items as
``semTools:::omegaCat``, Green & Yang 2009) and average variance extracted (``semTools::AVE``, Fornell & Larcker
1981)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr  # stats.norm.cdf's own function, without scipy.stats' import

from ..sem.bivariate import bvnu
from .matrices import ModelMatrices, check_cov, model_matrices, select_group

__all__ = ["composite_reliability", "average_variance_extracted"]


def _sigma(mm: ModelMatrices, sample_cov: pd.DataFrame | None, implied: bool) -> pd.DataFrame:
    if implied:
        return mm.implied_cov()
    if sample_cov is None:
        raise ValueError("sample_cov is required unless implied=True")
    return check_cov(sample_cov, mm.observed_names, "sample_cov")


def _measured_factors(lam: pd.DataFrame, drop_single: bool) -> list[str]:
    """semTools' ``myFacNames``: factors with > 1 indicator (``dropSingle``) or with at least one."""
    nind = (lam != 0).sum(axis=0)
    return [fn for fn in lam.columns if nind[fn] > (1 if drop_single else 0)]


def _factor_blocks(params: pd.DataFrame, sample_cov: pd.DataFrame | None, implied: bool, drop_single: bool, group):
    """What CR and AVE start from: Lambda, the indicator covariance matrix (observed, or model-implied when
    ``implied``), the latent covariance matrix and, per measured factor in model order, its indicators."""
    mm = model_matrices(params, group)
    lam = mm.lambda_
    sigma = _sigma(mm, sample_cov, implied)
    indicators = {fn: [i for i in lam.index if lam.loc[i, fn] != 0] for fn in _measured_factors(lam, drop_single)}
    return lam, sigma, mm.cov_lv(), indicators


# ------------------------------------------------------------------------------- composite reliability
def composite_reliability(
    params: pd.DataFrame,
    sample_cov: pd.DataFrame | None = None,
    *,
    implied: bool = False,
    tau_eq: bool = False,
    drop_single: bool = True,
    group=None,
    ord_scale: bool = True,
) -> pd.DataFrame:
    """Composite reliability (omega) of each factor's unit-weighted sum score.

    For factor *f* with indicators *I(f)* (non-zero loadings), unstandardized loadings
    :math:`\\lambda_i` and model-implied factor variance :math:`\\phi_f`::

        omega_f = (sum_i lambda_i)^2 * phi_f / sum(Sigma[I(f), I(f)])

    (Raykov 1997), where the denominator is the variance of the sum score: from the *observed* sample
    covariance matrix by default (``semTools`` ``obs.var = TRUE``), or from the model-implied covariance
    matrix with ``implied=True`` (``obs.var = FALSE``), which also counts residual covariances among the
    indicators. Only the loadings on *f* enter the numerator (cross-loadings and residual covariances do
    not). With ``tau_eq=True`` coefficient alpha of the same indicators is returned instead
    (``k/(k-1) * (1 - tr(S)/sum(S))``).

    Ordinal indicators (a parameter table with thresholds, ``op == "|"``, from an ordinal/WLSMV fit, and the
    polychoric correlation matrix as ``sample_cov``): with ``ord_scale=True`` (default, as semTools) omega of
    the sum of the observed item scores, not of the latent responses (Green & Yang 2009)::

        omega = sum_jj' [sum_cc' Phi2(tau_jc, tau_j'c'; lambda_j lambda_j' phi) - P_j P_j']
                / sum_jj' [sum_cc' Phi2(tau_jc, tau_j'c'; R_jj') - P_j P_j'],   P_j = sum_c Phi(tau_jc)

    over all item pairs including j = j' (``semTools:::omegaCat``); ``ord_scale=False`` gives the formula
    above on the latent-response scale.

    Matches ``semTools::compRelSEM(fit, obs.var = !implied, tau.eq = tau_eq, dropSingle = drop_single,
    ord.scale = ord_scale)`` (semTools 0.5-6) for single-level models with continuous indicators (reproduced to
    < 1e-6 when
    ``sample_cov`` is ``lavInspect(fit, "sampstat")$cov``, which for ML is divided by N; see
    :func:`sample_covariance`). Higher-order factors (no observed indicators) are not reported
    (semTools' ``higher =`` argument is not implemented).

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table (module docstring); uses ``est`` of ``=~`` and ``~~`` (and ``~``) rows.
    sample_cov : pandas.DataFrame, optional
        Sample covariance matrix of the indicators (index and columns are item names). Required unless
        ``implied=True``.
    implied : bool
        Use the model-implied instead of the observed covariance matrix in the denominator.
    tau_eq : bool
        Return coefficient alpha (assumes tau-equivalence) instead of omega.
    drop_single : bool
        Skip factors with a single indicator (semTools ``dropSingle``).
    group : optional
        Group to use when the table holds several groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``factor``, ``n_items``, ``cr``; one row per factor in model order.
    """
    lam, sigma, phi, indicators = _factor_blocks(params, sample_cov, implied, drop_single, group)
    thresholds = _thresholds(params, group)
    rows = []
    for fn, ind in indicators.items():
        total = sigma.loc[ind, ind].to_numpy()
        if tau_eq:
            k = len(ind)
            value = k / (k - 1) * (1.0 - np.trace(total) / total.sum()) if k > 1 else np.nan
        elif ord_scale and thresholds:
            value = _omega_categorical(
                lam.loc[ind, fn].to_numpy(), float(phi.loc[fn, fn]), [thresholds[i] for i in ind], total
            )
        else:
            value = lam.loc[ind, fn].sum() ** 2 * phi.loc[fn, fn] / total.sum()
        rows.append({"factor": fn, "n_items": len(ind), "cr": float(value)})
    return pd.DataFrame(rows, columns=["factor", "n_items", "cr"])


def _thresholds(params: pd.DataFrame, group=None) -> dict[str, np.ndarray]:
    """Item -> thresholds (in order t1, t2, ...) from the ``|`` rows of a parameter table (empty if none)."""
    p = select_group(params, group)
    th = p[p["op"] == "|"]
    out = {}
    for item, g in th.groupby("lhs", sort=False):
        k = g["rhs"].str.lstrip("t").astype(int)
        out[item] = g["est"].to_numpy(dtype=float)[np.argsort(k.to_numpy())]
    return out


def _omega_categorical(lam: np.ndarray, phi: float, taus: list, r: np.ndarray) -> float:
    """Green & Yang (2009) omega for ordinal items (``semTools:::omegaCat``): see :func:`composite_reliability`."""

    def phi2(a, b, rho):
        if rho >= 1.0:
            return ndtr(np.minimum(a, b))
        return bvnu(-a, -b, rho)

    true = np.outer(lam, lam) * phi
    d = np.sqrt(np.diag(r))
    rd = r / np.outer(d, d)
    k = len(lam)
    p1 = [ndtr(t).sum() for t in taus]
    num = den = 0.0
    for j in range(k):
        for jj in range(k):
            A, B = np.meshgrid(taus[j], taus[jj], indexing="ij")
            num += phi2(A.ravel(), B.ravel(), true[j, jj]).sum() - p1[j] * p1[jj]
            den += phi2(A.ravel(), B.ravel(), rd[j, jj]).sum() - p1[j] * p1[jj]
    return float(num / den)


# --------------------------------------------------------------------------------------------------- AVE
def average_variance_extracted(
    params: pd.DataFrame,
    sample_cov: pd.DataFrame | None = None,
    *,
    group=None,
    implied: bool = False,
    standardized: bool = False,
    drop_single: bool = True,
) -> pd.DataFrame:
    """Average variance extracted (AVE) per factor (Fornell & Larcker 1981).

    As ``semTools::AVE`` (semTools 0.5-6): with *unstandardized* loadings :math:`\\lambda_i`, the
    model-implied factor variance :math:`\\phi_f` and the indicator variances :math:`s_{ii}`::

        AVE_f = phi_f * sum_i lambda_i^2 / sum_i s_ii

    where :math:`s_{ii}` are the *observed* sample variances by default (``obs.var = TRUE``) or the
    model-implied variances with ``implied=True``; with the implied variances (and simple structure)
    this is Fornell & Larcker's (1981) ``sum lambda^2 / (sum lambda^2 + sum var(e))`` on the
    indicators' own (unstandardized) scale. It is a ratio of sums, so it is *not* the mean squared
    standardized loading that many applied papers report unless all indicator variances are equal;
    that variant is available with ``standardized=True`` (mean over indicators of
    :math:`\\lambda_i^2 \\phi_f / \\sigma_{ii}`, implied :math:`\\sigma_{ii}`, i.e. the mean of the
    squared ``std.all`` loadings; no semTools counterpart). A factor any of whose
    indicators also loads on another factor gets ``NaN`` (semTools returns ``NA``: the AVE is not
    defined for complex indicators), as does a loading rounding to non-zero at 5 decimals.

    Matches ``semTools::AVE(fit, obs.var = !implied, dropSingle = drop_single)``. One deliberate
    difference: semTools indexes the indicator names by position after dropping single-indicator factors,
    which misaligns the variances when such a factor's indicator precedes others; here indicators are
    always matched by name.

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table (module docstring).
    sample_cov : pandas.DataFrame, optional
        Sample covariance matrix of the indicators (divided by N as lavaan's ``sampstat``). Required
        unless ``implied=True``.
    group : optional
        Group to use when the table holds several groups.
    implied : bool
        Use model-implied instead of observed indicator variances.
    standardized : bool
        Return the mean squared standardized loading instead (ignores ``sample_cov``/``implied``).
    drop_single : bool
        Skip factors with a single indicator (semTools ``dropSingle``).

    Returns
    -------
    pandas.DataFrame
        Columns ``factor``, ``n_items``, ``ave``.
    """
    lam, sigma, phi, indicators = _factor_blocks(params, sample_cov, implied or standardized, drop_single, group)
    sub = lam[list(indicators)]
    xload = (sub.round(5) != 0).sum(axis=1) > 1
    rows = []
    for fn, ind in indicators.items():
        if xload[ind].any():
            value = np.nan
        elif standardized:
            value = float(np.mean(sub.loc[ind, fn].to_numpy() ** 2 * phi.loc[fn, fn] / np.diag(sigma.loc[ind, ind])))
        else:
            common = (sub.loc[ind, fn] ** 2).sum() * phi.loc[fn, fn]
            value = common / np.diag(sigma.loc[ind, ind].to_numpy()).sum()
        rows.append({"factor": fn, "n_items": len(ind), "ave": float(value)})
    return pd.DataFrame(rows, columns=["factor", "n_items", "ave"])
