"""Convergent and discriminant validity of a measurement model.

Everything here works from a fitted CFA's *parameter table* (see below), the sample covariance matrix
and/or the item responses; no function knows item names or the number of factors in advance.

Computed
--------
* composite reliability (omega) per factor, as ``semTools::compRelSEM`` (Raykov 1997);
* average variance extracted, as ``semTools::AVE`` (Fornell & Larcker 1981);
* the Fornell-Larcker table: sqrt(AVE) against the latent correlations (Fornell & Larcker 1981);
* the heterotrait-monotrait ratio of correlations, as ``semTools::htmt`` (Henseler, Ringle & Sarstedt
  2015; Roemer, Schuberth & Henseler 2021 for the geometric-mean HTMT2), with seeded percentile
  bootstrap confidence intervals;
* factor correlations with confidence intervals (delta method as ``lavaan::standardizedSolution``, or a
  Fisher-z interval when no standard errors are available);
* :func:`validity_summary`, the compact dict written to ``summary.json``.

The parameter table
-------------------
A tidy DataFrame with one row per parameter and lavaan's naming, i.e. ``lavaan::parameterEstimates(fit,
standardized = TRUE)`` with the dots in column names replaced by underscores: columns ``lhs, op, rhs,
group, free, est, se, z, pvalue, ci_lower, ci_upper, std_lv, std_all`` and optionally ``std_all_se``
(the ``se`` column of ``lavaan::standardizedSolution(fit)``). ``op`` is one of ``"=~"`` (loading),
``"~~"`` (variance/covariance), ``"~1"`` (intercept), ``"~"`` (regression). Only ``lhs, op, rhs, est``
are required by the reliability functions; :func:`factor_correlations` needs ``std_all``.

References
----------
Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with unobservable variables
and measurement error. *Journal of Marketing Research, 18*(1), 39-50.

Franke, G., & Sarstedt, M. (2019). Heuristics versus statistics in discriminant validity testing: a
comparison of four procedures. *Internet Research, 29*(3), 430-447.

Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing discriminant validity
in variance-based structural equation modeling. *Journal of the Academy of Marketing Science, 43*(1),
115-135.

Raykov, T. (1997). Estimation of composite reliability for congeneric measures. *Applied Psychological
Measurement, 21*(2), 173-184.

Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for assessing
discriminant validity in structural equation modeling. *Industrial Management & Data Systems, 121*(12),
2637-2650.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .sem.bivariate import bvnu

__all__ = [
    "HTMT_STRICT",
    "HTMT_LIBERAL",
    "ModelMatrices",
    "model_matrices",
    "factor_items",
    "sample_covariance",
    "composite_reliability",
    "average_variance_extracted",
    "FornellLarckerResult",
    "fornell_larcker",
    "HTMTResult",
    "htmt",
    "htmt_from_correlation",
    "factor_correlations",
    "validity_summary",
]

#: HTMT threshold for conceptually distinct constructs (Henseler et al. 2015, "HTMT.85", after Kline 2011).
HTMT_STRICT = 0.85
#: HTMT threshold for conceptually similar constructs (Henseler et al. 2015, "HTMT.90", after Gold et al. 2001).
HTMT_LIBERAL = 0.90


# ---------------------------------------------------------------------------------------------- helpers
def _pair_key(a: str, b: str) -> str:
    return f"{a}~~{b}"


def _select_group(params: pd.DataFrame, group) -> pd.DataFrame:
    """Rows of ``params`` for one group (lavaan 'block'); single-group tables need no ``group``."""
    missing = {"lhs", "op", "rhs", "est"} - set(params.columns)
    if missing:
        raise ValueError(f"parameter table lacks column(s) {sorted(missing)}")
    if "group" not in params.columns:
        if group is not None:
            raise ValueError("group given but the parameter table has no 'group' column")
        return params
    groups = pd.unique(params["group"].dropna())
    if group is None:
        if len(groups) > 1:
            raise ValueError(f"parameter table has {len(groups)} groups {list(groups)}; pass group=")
        return params
    out = params[params["group"] == group]
    if out.empty:
        raise ValueError(f"group {group!r} not in parameter table (groups: {list(groups)})")
    return out


@dataclass(frozen=True)
class ModelMatrices:
    """LISREL-style matrices of a measurement model, rebuilt from a parameter table.

    Attributes
    ----------
    lambda_ : pandas.DataFrame
        Loadings, observed indicators x latent variables (zeros where no loading), like
        ``lavInspect(fit, "est")$lambda``.
    psi : pandas.DataFrame
        (Residual) latent variances/covariances.
    beta : pandas.DataFrame
        Latent regressions, ``beta.loc[a, b]`` = effect of ``b`` on ``a`` (higher-order loadings and
        ``a ~ b``).
    theta : pandas.DataFrame
        Residual variances/covariances of the indicators.
    """

    lambda_: pd.DataFrame
    psi: pd.DataFrame
    beta: pd.DataFrame
    theta: pd.DataFrame

    @property
    def latent_names(self) -> list[str]:
        return list(self.lambda_.columns)

    @property
    def observed_names(self) -> list[str]:
        return list(self.lambda_.index)

    def cov_lv(self) -> pd.DataFrame:
        """Model-implied latent covariance matrix ``(I - B)^-1 Psi (I - B)^-T`` (lavaan's ``cov.lv``)."""
        ib_inv = np.linalg.inv(np.eye(len(self.beta)) - self.beta.to_numpy())
        v = ib_inv @ self.psi.to_numpy() @ ib_inv.T
        return pd.DataFrame(v, index=self.latent_names, columns=self.latent_names)

    def implied_cov(self) -> pd.DataFrame:
        """Model-implied covariance of the indicators ``Lambda cov_lv Lambda' + Theta`` (lavaan ``fitted``)."""
        lam = self.lambda_.to_numpy()
        s = lam @ self.cov_lv().to_numpy() @ lam.T + self.theta.to_numpy()
        return pd.DataFrame(s, index=self.observed_names, columns=self.observed_names)


def model_matrices(params: pd.DataFrame, group=None) -> ModelMatrices:
    """Rebuild Lambda, Psi, Beta and Theta from a lavaan-style parameter table.

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table (see the module docstring); uses ``lhs, op, rhs, est`` (and ``group``).
    group : optional
        Value of the ``group`` column to use; required when the table holds several groups.

    Returns
    -------
    ModelMatrices
        Latent variables are the left-hand sides of ``=~`` (in order of appearance); indicators are the
        right-hand sides of ``=~`` that are not latent. A latent ``rhs`` of ``=~`` is a higher-order
        loading (stored in ``beta``), as in lavaan.

    Notes
    -----
    Reproduces lavaan's ``lavInspect(fit, "est")`` matrices (``lambda``, ``psi``, ``beta``, ``theta``);
    :meth:`ModelMatrices.cov_lv` is ``lavInspect(fit, "cov.lv")`` and :meth:`ModelMatrices.implied_cov`
    is ``lavInspect(fit, "fitted")$cov`` (tested to 1e-10 on the reference fits).

    Raises
    ------
    NotImplementedError
        For regressions involving observed variables (not a measurement model).
    """
    p = _select_group(params, group)
    load = p[p["op"] == "=~"]
    if load.empty:
        raise ValueError("parameter table has no '=~' (loading) rows")
    lv = list(dict.fromkeys(load["lhs"]))
    lv_set = set(lv)
    ov = [v for v in dict.fromkeys(load["rhs"]) if v not in lv_set]
    lam = pd.DataFrame(0.0, index=ov, columns=lv)
    beta = pd.DataFrame(0.0, index=lv, columns=lv)
    psi = pd.DataFrame(0.0, index=lv, columns=lv)
    theta = pd.DataFrame(0.0, index=ov, columns=ov)
    for lhs, rhs, est in zip(load["lhs"], load["rhs"], load["est"].astype(float)):
        if rhs in lv_set:
            beta.loc[rhs, lhs] = est
        else:
            lam.loc[rhs, lhs] = est
    for lhs, rhs, est in p.loc[p["op"] == "~", ["lhs", "rhs", "est"]].itertuples(index=False):
        if lhs in lv_set and rhs in lv_set:
            beta.loc[lhs, rhs] = float(est)
        else:
            raise NotImplementedError(f"regression {lhs} ~ {rhs} involves an observed variable")
    ov_set = set(ov)
    for lhs, rhs, est in p.loc[p["op"] == "~~", ["lhs", "rhs", "est"]].itertuples(index=False):
        if lhs in lv_set and rhs in lv_set:
            psi.loc[lhs, rhs] = psi.loc[rhs, lhs] = float(est)
        elif lhs in ov_set and rhs in ov_set:
            theta.loc[lhs, rhs] = theta.loc[rhs, lhs] = float(est)
    return ModelMatrices(lambda_=lam, psi=psi, beta=beta, theta=theta)


def factor_items(params: pd.DataFrame, group=None) -> dict[str, list[str]]:
    """Factor -> observed indicators with a non-zero loading, from a parameter table.

    Higher-order factors (no observed indicators) are omitted. An indicator loading on several factors
    is listed under each. The per-factor indicator sets semTools derives from the ``=~`` rows of the
    model (``lavaan::lavaanify(model)`` in ``semTools::htmt``, non-zero rows of ``lambda`` in
    ``compRelSEM``/``AVE``).
    """
    lam = model_matrices(params, group).lambda_
    out = {fn: [i for i in lam.index if lam.loc[i, fn] != 0] for fn in lam.columns}
    return {fn: items for fn, items in out.items() if items}


def sample_covariance(data: pd.DataFrame, items: Sequence[str] | None = None, ddof: int = 0) -> pd.DataFrame:
    """Listwise-complete sample covariance matrix of ``items``, by default divided by N.

    With ``ddof=0`` this is lavaan's ``lavInspect(fit, "sampstat")$cov`` for an ML fit with
    ``missing = "listwise"`` (lavaan's default ``likelihood = "normal"`` divides by N, not N - 1), i.e.
    the matrix :func:`composite_reliability` and :func:`average_variance_extracted` expect. (For a FIML
    fit, lavaan uses the EM-estimated saturated covariance instead; pass that matrix directly.)

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, one row per respondent.
    items : sequence of str, optional
        Columns to use (default: all columns).
    ddof : int
        Delta degrees of freedom (0: divide by N as lavaan; 1: divide by N - 1 as ``stats::cov``).
    """
    x = data[list(items) if items is not None else list(data.columns)].dropna().astype(float)
    return x.cov(ddof=ddof)


def _check_cov(cov: pd.DataFrame, names: Sequence[str], what: str) -> pd.DataFrame:
    if not isinstance(cov, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame with item names as index and columns")
    missing = [n for n in names if n not in cov.index or n not in cov.columns]
    if missing:
        raise ValueError(f"{what} lacks indicator(s) {missing}")
    return cov.loc[list(names), list(names)].astype(float)


def _sigma(mm: ModelMatrices, sample_cov: pd.DataFrame | None, implied: bool) -> pd.DataFrame:
    if implied:
        return mm.implied_cov()
    if sample_cov is None:
        raise ValueError("sample_cov is required unless implied=True")
    return _check_cov(sample_cov, mm.observed_names, "sample_cov")


def _measured_factors(lam: pd.DataFrame, drop_single: bool) -> list[str]:
    """semTools' ``myFacNames``: factors with > 1 indicator (``dropSingle``) or with at least one."""
    nind = (lam != 0).sum(axis=0)
    return [fn for fn in lam.columns if nind[fn] > (1 if drop_single else 0)]


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
    mm = model_matrices(params, group)
    lam = mm.lambda_
    sigma = _sigma(mm, sample_cov, implied)
    phi = mm.cov_lv()
    thresholds = _thresholds(params, group)
    rows = []
    for fn in _measured_factors(lam, drop_single):
        ind = [i for i in lam.index if lam.loc[i, fn] != 0]
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
    p = _select_group(params, group)
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
            return stats.norm.cdf(np.minimum(a, b))
        return bvnu(-a, -b, rho)

    true = np.outer(lam, lam) * phi
    d = np.sqrt(np.diag(r))
    rd = r / np.outer(d, d)
    k = len(lam)
    p1 = [stats.norm.cdf(t).sum() for t in taus]
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
    implied: bool = False,
    standardized: bool = False,
    drop_single: bool = True,
    group=None,
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
    implied : bool
        Use model-implied instead of observed indicator variances.
    standardized : bool
        Return the mean squared standardized loading instead (ignores ``sample_cov``/``implied``).
    drop_single : bool
        Skip factors with a single indicator (semTools ``dropSingle``).
    group : optional
        Group to use when the table holds several groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``factor``, ``n_items``, ``ave``.
    """
    mm = model_matrices(params, group)
    lam = mm.lambda_
    sigma = _sigma(mm, sample_cov, implied or standardized)
    phi = mm.cov_lv()
    facs = _measured_factors(lam, drop_single)
    sub = lam[facs]
    xload = (sub.round(5) != 0).sum(axis=1) > 1
    rows = []
    for fn in facs:
        ind = [i for i in sub.index if sub.loc[i, fn] != 0]
        if xload[ind].any():
            value = np.nan
        elif standardized:
            value = float(np.mean(sub.loc[ind, fn].to_numpy() ** 2 * phi.loc[fn, fn] / np.diag(sigma.loc[ind, ind])))
        else:
            common = (sub.loc[ind, fn] ** 2).sum() * phi.loc[fn, fn]
            value = common / np.diag(sigma.loc[ind, ind].to_numpy()).sum()
        rows.append({"factor": fn, "n_items": len(ind), "ave": float(value)})
    return pd.DataFrame(rows, columns=["factor", "n_items", "ave"])


# ------------------------------------------------------------------------------------- Fornell-Larcker
@dataclass(frozen=True)
class FornellLarckerResult:
    """Fornell-Larcker criterion.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Factors x factors: sqrt(AVE) on the diagonal, latent correlations off the diagonal (symmetric).
    table : pandas.DataFrame
        One row per factor pair (model order, ``a`` before ``b``): ``pair`` ("a~~b"), ``factor_a``,
        ``factor_b``, ``r`` (latent correlation), ``r2``, ``ave_a``, ``ave_b``, ``sqrt_ave_a``,
        ``sqrt_ave_b`` and ``discriminant`` (nullable boolean: both AVEs exceed r^2, i.e. both sqrt(AVE)
        exceed |r|; ``<NA>`` when an AVE is undefined).
    """

    matrix: pd.DataFrame
    table: pd.DataFrame


def fornell_larcker(
    params: pd.DataFrame,
    sample_cov: pd.DataFrame | None = None,
    *,
    implied: bool = False,
    group=None,
) -> FornellLarckerResult:
    """Fornell-Larcker criterion: sqrt(AVE) of each factor against its correlations with the others.

    Discriminant validity holds for a pair when each factor's AVE exceeds the squared correlation
    between them (Fornell & Larcker 1981), equivalently sqrt(AVE) > |r| for both factors.

    AVE is :func:`average_variance_extracted` (``semTools::AVE``); the correlations are the model-implied
    latent correlations, ``cov2cor(lavInspect(fit, "cov.lv"))`` (``lavInspect(fit, "cor.lv")``), which for
    a CFA equal the ``std_all`` of the factor covariances. No single R function produces this table;
    its entries match ``semTools::AVE`` and ``lavInspect(fit, "cor.lv")``.

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table (module docstring).
    sample_cov : pandas.DataFrame, optional
        Sample covariance matrix for the AVE (required unless ``implied=True``).
    implied : bool
        Use model-implied indicator variances in the AVE.
    group : optional
        Group to use when the table holds several groups.

    Returns
    -------
    FornellLarckerResult
    """
    ave = average_variance_extracted(params, sample_cov, implied=implied, group=group)
    ave_map = dict(zip(ave["factor"], ave["ave"]))
    facs = list(ave["factor"])
    cov_lv = model_matrices(params, group).cov_lv().loc[facs, facs].to_numpy()
    sd = np.sqrt(np.diag(cov_lv))
    cor = cov_lv / np.outer(sd, sd)
    mat = pd.DataFrame(cor, index=facs, columns=facs)
    for fn in facs:
        mat.loc[fn, fn] = np.sqrt(ave_map[fn])
    rows = []
    for i, a in enumerate(facs):
        for b in facs[i + 1 :]:
            r = float(mat.loc[a, b])
            ave_a, ave_b = ave_map[a], ave_map[b]
            ok = pd.NA if np.isnan(ave_a) or np.isnan(ave_b) else bool(min(ave_a, ave_b) > r * r)
            rows.append(
                {
                    "pair": _pair_key(a, b),
                    "factor_a": a,
                    "factor_b": b,
                    "r": r,
                    "r2": r * r,
                    "ave_a": ave_a,
                    "ave_b": ave_b,
                    "sqrt_ave_a": float(np.sqrt(ave_a)),
                    "sqrt_ave_b": float(np.sqrt(ave_b)),
                    "discriminant": ok,
                }
            )
    cols = ["pair", "factor_a", "factor_b", "r", "r2", "ave_a", "ave_b", "sqrt_ave_a", "sqrt_ave_b", "discriminant"]
    table = pd.DataFrame(rows, columns=cols)
    table["discriminant"] = table["discriminant"].astype("boolean")
    return FornellLarckerResult(matrix=mat, table=table)


# -------------------------------------------------------------------------------------------------- HTMT
@dataclass(frozen=True)
class HTMTResult:
    """Heterotrait-monotrait ratios.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Factors x factors HTMT matrix as ``semTools::htmt`` (diagonal 1, or -1/NaN for a factor whose
        mean within-factor correlation is negative with ``absolute=False``).
    table : pandas.DataFrame
        One row per factor pair (``a`` before ``b`` in the order of ``factors``): ``pair`` ("a~~b"),
        ``factor_a``, ``factor_b``, ``htmt``, ``ci_lower``, ``ci_upper`` (percentile bootstrap; NaN when
        ``B=0``), ``below_085``, ``below_090`` (point estimate below :data:`HTMT_STRICT` /
        :data:`HTMT_LIBERAL`), ``ci_below_085``, ``ci_below_090`` (upper confidence limit below the
        threshold, the inferential test of Franke & Sarstedt 2019; ``<NA>`` without bootstrap) and
        ``verdict`` ("discriminant" below .85, "questionable" in [.85, .90), "not discriminant" from .90,
        "undefined" for NaN).
    n : int
        Respondents used (listwise complete on the items); ``None`` when computed from a matrix.
    B : int
        Bootstrap replicates drawn.
    n_boot_valid : int
        Replicates with a finite value for every pair (the CIs use, per pair, its finite replicates).
    boot : numpy.ndarray or None
        Bootstrap replicates, shape (B, n_pairs), columns in ``table`` order.
    """

    matrix: pd.DataFrame
    table: pd.DataFrame
    n: int | None
    B: int
    n_boot_valid: int
    boot: np.ndarray | None = None

    def as_dict(self) -> dict[str, float | None]:
        """``{"a~~b": htmt}`` (JSON-safe: NaN -> None)."""
        return {k: (None if not np.isfinite(v) else float(v)) for k, v in zip(self.table["pair"], self.table["htmt"])}


def _check_factors(factors: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str], list[np.ndarray]]:
    names = list(factors)
    if len(names) < 2:
        raise ValueError("HTMT needs at least two factors")
    items: list[str] = []
    blocks = []
    for fn in names:
        its = list(factors[fn])
        if not its:
            raise ValueError(f"factor {fn!r} has no items")
        dup = [i for i in its if i in items]
        if dup or len(set(its)) != len(its):
            raise ValueError(f"item(s) {dup or its} assigned to more than one factor; HTMT needs disjoint item sets")
        blocks.append(np.arange(len(items), len(items) + len(its)))
        items.extend(its)
    return names, items, blocks


def _htmt_matrix(r: np.ndarray, blocks: list[np.ndarray], absolute: bool, htmt2: bool) -> np.ndarray:
    """HTMT from an item correlation matrix (items ordered block by block); semTools' algorithm.

    ``r`` is one matrix (p x p) or a stack of them (resamples x p x p; the result is then stacked too). The
    mean of a block ignores the diagonal and undefined correlations (NaN); a block without any is NaN.
    """
    r = np.array(r, dtype=float, copy=True)
    single = r.ndim == 2
    if single:
        r = r[None]
    if absolute or htmt2:
        r = np.abs(r)
    d = np.arange(r.shape[1])
    r[:, d, d] = np.nan
    nf = len(blocks)
    m = np.empty((r.shape[0], nf, nf))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # mean of an empty block: NaN
        for i in range(nf):
            for j in range(i, nf):
                sub = r[:, blocks[i][:, None], blocks[j][None, :]]
                val = np.exp(np.nanmean(np.log(sub), axis=(1, 2))) if htmt2 else np.nanmean(sub, axis=(1, 2))
                m[:, i, j] = m[:, j, i] = val
        w = np.diagonal(m, axis1=1, axis2=2)
        out = m / np.sqrt(w[:, :, None] * w[:, None, :])
    return out[0] if single else out


def htmt_from_correlation(
    corr: pd.DataFrame,
    factors: Mapping[str, Sequence[str]],
    *,
    absolute: bool = True,
    htmt2: bool = True,
) -> pd.DataFrame:
    """HTMT matrix from an item correlation (or covariance) matrix.

    A covariance matrix is first converted to correlations. See :func:`htmt` for the formula.
    Matches ``semTools::htmt(model, sample.cov = corr, absolute = absolute, htmt2 = htmt2)``
    (semTools 0.5-6).

    Parameters
    ----------
    corr : pandas.DataFrame
        Item correlation or covariance matrix with item names as index and columns.
    factors : mapping
        Factor -> item names (disjoint sets).
    absolute : bool
        Use absolute correlations (semTools default ``TRUE``; always on when ``htmt2``).
    htmt2 : bool
        Geometric means (HTMT2, Roemer et al. 2021; semTools 0.5-6 default) instead of arithmetic means
        (the original HTMT of Henseler et al. 2015).

    Returns
    -------
    pandas.DataFrame
        Factors x factors HTMT matrix.
    """
    names, items, blocks = _check_factors(factors)
    c = _check_cov(corr, items, "corr").to_numpy()
    sd = np.sqrt(np.diag(c))
    c = c / np.outer(sd, sd)
    return pd.DataFrame(_htmt_matrix(c, blocks, absolute, htmt2), index=names, columns=names)


def _verdict(x: float) -> str:
    if not np.isfinite(x):
        return "undefined"
    if x < HTMT_STRICT:
        return "discriminant"
    if x < HTMT_LIBERAL:
        return "questionable"
    return "not discriminant"


def htmt(
    data: pd.DataFrame,
    factors: Mapping[str, Sequence[str]],
    *,
    absolute: bool = True,
    htmt2: bool = True,
    B: int = 0,
    seed: int | np.random.Generator | None = None,
    level: float = 0.95,
) -> HTMTResult:
    """Heterotrait-monotrait ratio of correlations (Henseler, Ringle & Sarstedt 2015) per factor pair.

    From the item correlation matrix of the listwise-complete responses::

        HTMT_ab = mean(r_ij : i in a, j in b) / sqrt(mean(r_ij : i<j in a) * mean(r_ij : i<j in b))

    With ``htmt2=True`` (the semTools 0.5-6 default) the means are geometric means of the absolute
    correlations (HTMT2, Roemer, Schuberth & Henseler 2021); with ``htmt2=False`` arithmetic means, of
    absolute correlations when ``absolute=True`` (default) or of the signed correlations otherwise (the
    original HTMT, which assumes all items keyed in the same direction).

    Matches ``semTools::htmt(model, data, missing = "listwise", absolute = absolute, htmt2 = htmt2)``
    (semTools 0.5-6) exactly (closed form). Ordinal (polychoric) correlations are not implemented.

    Confidence intervals (``B > 0``) are percentile intervals over ``B`` nonparametric bootstrap
    resamples of respondents (rows drawn with replacement from the complete cases, ``rng.integers(0, n, n)``
    per resample), reproducible through ``seed``; a pair whose upper limit is below .85 / .90 passes the
    inferential HTMT test (Henseler et al. 2015; Franke & Sarstedt 2019). semTools has no bootstrap;
    quantiles use numpy's default (R's ``quantile`` type 7).

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses (reverse-keyed items already recoded), one row per respondent.
    factors : mapping
        Factor -> item names; item sets must be disjoint (order defines the output order).
    absolute : bool
        Use absolute item correlations.
    htmt2 : bool
        Geometric (True) or arithmetic (False) means.
    B : int
        Bootstrap replicates (0: no confidence intervals).
    seed : int or numpy.random.Generator, optional
        Seed for ``numpy.random.default_rng``.
    level : float
        Confidence level of the percentile intervals.

    Returns
    -------
    HTMTResult
    """
    names, items, blocks = _check_factors(factors)
    missing = [i for i in items if i not in data.columns]
    if missing:
        raise ValueError(f"data lacks item column(s) {missing}")
    x = data[items].dropna().to_numpy(dtype=float)
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"only {n} complete cases")
    mat = _htmt_matrix(np.corrcoef(x, rowvar=False), blocks, absolute, htmt2)
    iu = np.triu_indices(len(names), 1)
    est = mat[iu]
    ci_lo = np.full(est.shape, np.nan)
    ci_hi = np.full(est.shape, np.nan)
    boot = None
    n_valid = 0
    if B and B > 0:
        rng = np.random.default_rng(seed)
        boot = np.empty((int(B), est.size))
        # resample b = rows rng.integers(0, n, n), correlations by numpy.corrcoef of the resampled rows. (A batched
        # version from row counts and weighted cross-products was tried: it agrees to rounding, except that an
        # item correlation that is exactly 0 in a resample of integer answers comes out as ~1e-17, and HTMT2's
        # geometric mean then differs from 0 by a lot: on the demo's 154 complete cases the lower CI limits moved
        # by up to .27. HTMT costs well under a second on the demo, so the exact arithmetic stays.)
        with np.errstate(divide="ignore", invalid="ignore"):
            for b in range(int(B)):
                xb = x[rng.integers(0, n, size=n)]
                boot[b] = _htmt_matrix(np.corrcoef(xb, rowvar=False), blocks, absolute, htmt2)[iu]
        finite = np.isfinite(boot)
        n_valid = int(finite.all(axis=1).sum())
        alpha = (1.0 - level) / 2.0
        for k in range(est.size):
            v = boot[finite[:, k], k]
            if v.size:
                ci_lo[k], ci_hi[k] = np.quantile(v, [alpha, 1.0 - alpha])
    has_ci = boot is not None
    rows = []
    for k, (i, j) in enumerate(zip(*iu)):
        a, b_ = names[i], names[j]
        rows.append(
            {
                "pair": _pair_key(a, b_),
                "factor_a": a,
                "factor_b": b_,
                "htmt": float(est[k]),
                "ci_lower": float(ci_lo[k]),
                "ci_upper": float(ci_hi[k]),
                "below_085": bool(est[k] < HTMT_STRICT),
                "below_090": bool(est[k] < HTMT_LIBERAL),
                "ci_below_085": bool(ci_hi[k] < HTMT_STRICT) if has_ci and np.isfinite(ci_hi[k]) else pd.NA,
                "ci_below_090": bool(ci_hi[k] < HTMT_LIBERAL) if has_ci and np.isfinite(ci_hi[k]) else pd.NA,
                "verdict": _verdict(est[k]),
            }
        )
    table = pd.DataFrame(rows)
    for c in ("ci_below_085", "ci_below_090"):
        table[c] = table[c].astype("boolean")
    return HTMTResult(
        matrix=pd.DataFrame(mat, index=names, columns=names),
        table=table,
        n=n,
        B=int(B or 0),
        n_boot_valid=n_valid,
        boot=boot,
    )


# --------------------------------------------------------------------------------- factor correlations
def factor_correlations(
    params: pd.DataFrame,
    *,
    n: int | None = None,
    level: float = 0.95,
    group=None,
) -> pd.DataFrame:
    """Latent factor correlations with confidence intervals, from the parameter table.

    The correlation of factors *a* and *b* is the ``std_all`` of the ``a ~~ b`` row (for a CFA the
    standardized factor covariance; with latent regressions it is a residual correlation, as in lavaan).
    Confidence interval, per row:

    * ``ci_method = "delta"`` when the table has a finite ``std_all_se`` (the ``se`` of
      ``lavaan::standardizedSolution``, delta method): ``r -/+ z_(1-alpha/2) * se``, identical to
      ``standardizedSolution(fit, level = level)``'s ``ci.lower``/``ci.upper``;
    * otherwise ``ci_method = "fisher_z"`` when ``n`` is given: ``tanh(atanh(r) -/+ z / sqrt(n - 3))``
      (Fisher 1921), which treats r like a Pearson correlation of n observations and ignores the
      estimation of the measurement model (so it is usually somewhat too narrow); ``se`` is then NaN;
    * otherwise no interval (``ci_method = "none"``).

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table with ``std_all`` and optionally ``std_all_se``.
    n : int, optional
        Number of observations for the Fisher-z fallback.
    level : float
        Confidence level.
    group : optional
        Group to use when the table holds several groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``pair`` ("a~~b", as in the table), ``factor_a``, ``factor_b``, ``r``, ``se``,
        ``ci_lower``, ``ci_upper``, ``ci_method``, ``level``.
    """
    p = _select_group(params, group)
    if "std_all" not in p.columns:
        raise ValueError("parameter table lacks column 'std_all'")
    lv = set(p.loc[p["op"] == "=~", "lhs"])
    sel = p[(p["op"] == "~~") & (p["lhs"] != p["rhs"]) & p["lhs"].isin(lv) & p["rhs"].isin(lv)]
    z = stats.norm.ppf(1.0 - (1.0 - level) / 2.0)
    rows = []
    for _, row in sel.iterrows():
        r = float(row["std_all"])
        se = float(row["std_all_se"]) if "std_all_se" in sel.columns and pd.notna(row["std_all_se"]) else np.nan
        if np.isfinite(se):
            lo, hi, method = r - z * se, r + z * se, "delta"
        elif n is not None and n > 3 and abs(r) < 1:
            h = z / np.sqrt(n - 3)
            lo, hi, method = float(np.tanh(np.arctanh(r) - h)), float(np.tanh(np.arctanh(r) + h)), "fisher_z"
        else:
            lo, hi, method = np.nan, np.nan, "none"
        rows.append(
            {
                "pair": _pair_key(row["lhs"], row["rhs"]),
                "factor_a": row["lhs"],
                "factor_b": row["rhs"],
                "r": r,
                "se": se,
                "ci_lower": lo,
                "ci_upper": hi,
                "ci_method": method,
                "level": level,
            }
        )
    cols = ["pair", "factor_a", "factor_b", "r", "se", "ci_lower", "ci_upper", "ci_method", "level"]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------------------------------------ summary
def _json_num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def validity_summary(
    params: pd.DataFrame,
    sample_cov: pd.DataFrame | None,
    data: pd.DataFrame,
    factors: Mapping[str, Sequence[str]] | None = None,
    *,
    implied: bool = False,
    absolute: bool = True,
    htmt2: bool = True,
    group=None,
) -> dict:
    """Compact validity summary for ``summary.json``.

    Parameters
    ----------
    params : pandas.DataFrame
        CFA parameter table (module docstring).
    sample_cov : pandas.DataFrame or None
        Sample covariance matrix of the indicators, divided by N (lavaan ``sampstat``); may be None
        when ``implied=True``.
    data : pandas.DataFrame
        Item responses (reverse-keyed items recoded) for the HTMT.
    factors : mapping, optional
        Factor (competency) -> items for the HTMT; default: the indicators of each factor in ``params``
        (:func:`factor_items`), which must then be disjoint.
    implied, group
        Passed to :func:`composite_reliability` and :func:`average_variance_extracted`.
    absolute, htmt2
        Passed to :func:`htmt`.

    Returns
    -------
    dict
        ``{factor: {"cr": omega, "ave": AVE}, ..., "htmt": {"a~~b": value, ...}}``; undefined values are
        ``None`` (AVE of a factor with cross-loaded indicators; CR and AVE of a single-indicator factor,
        which semTools drops). Factors in model order. CR is ``semTools::compRelSEM``, AVE
        ``semTools::AVE`` (both with observed variances unless ``implied``), HTMT ``semTools::htmt``
        (HTMT2 by default).
    """
    cr = composite_reliability(params, sample_cov, implied=implied, group=group)
    ave = average_variance_extracted(params, sample_cov, implied=implied, group=group)
    if factors is None:
        factors = factor_items(params, group)
    if "htmt" in factors or "htmt" in set(cr["factor"]):
        raise ValueError("a factor named 'htmt' would collide with the summary's 'htmt' key")
    out: dict = {}
    cr_map = dict(zip(cr["factor"], cr["cr"]))
    ave_map = dict(zip(ave["factor"], ave["ave"]))
    for fn in factor_items(params, group):  # every factor with indicators; single-indicator ones get None
        out[fn] = {"cr": _json_num(cr_map.get(fn, np.nan)), "ave": _json_num(ave_map.get(fn, np.nan))}
    out["htmt"] = htmt(data, factors, absolute=absolute, htmt2=htmt2).as_dict() if len(factors) > 1 else {}
    return out
