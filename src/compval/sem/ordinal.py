"""Ordinal indicators: thresholds, polychoric correlations, their asymptotic covariance, and DWLS estimation.

This is the categorical branch of lavaan 0.6.14 (``cfa(..., ordered = TRUE, estimator = "WLSMV")``):

* Stage 1 (univariate): the thresholds of each item, ``tau_k = qnorm(P(y <= k))`` (the ML estimates of a probit
  model without covariates; ``lavaan:::lav_uvord_fit``), and each case's scores with respect to them.
* Stage 2 (bivariate): the polychoric correlation of each pair with the thresholds held fixed (two-step ML;
  Olsson 1979; ``lavaan:::lav_bvord_cor_twostep_fit``), and each case's scores with respect to the correlation
  and both items' thresholds.
* The asymptotic covariance matrix of (thresholds, correlations), Gamma = N * B^-1 (S'S) B^-T (Muthen 1984;
  Muthen & Satorra 1995; ``lavaan:::muthen1984``), B holding the stage-1 and stage-2 information.
* DWLS estimation (diagonally weighted least squares, weights 1 / diag(Gamma); Muthen, du Toit & Spisic
  1997) of a measurement model under the delta parameterisation (latent-response variances fixed at 1), with
  the robust ("sandwich") covariance matrix of the estimates and the mean- and variance-adjusted test
  ("scaled.shifted"; Asparouhov & Muthen 2010) -- lavaan's WLSMV.

Missing values: ``missing = "pairwise"`` as lavaan: each statistic uses the cases that observed its items,
and a case contributes zero scores to statistics it did not observe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from .bivariate import brent_fmin, bvn_cell_probs

__all__ = [
    "OrdinalSample",
    "ordinal_sample",
    "polychoric_pair",
    "dwls_fit",
    "DWLSResult",
    "scaled_shifted",
    "lower_pairs",
]

_SQEPS = float(np.sqrt(np.finfo(float).eps))


def _npdf(z):
    """Standard normal density (as ``stats.norm.pdf``, without its per-call overhead)."""
    return np.exp(-0.5 * np.square(z)) / np.sqrt(2 * np.pi)


def lower_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i > j, in lavaan's order (``lav_matrix_vech_idx(p, diagonal = FALSE)``: column by
    column of the strict lower triangle)."""
    i, j = [], []
    for c in range(p - 1):
        for r in range(c + 1, p):
            i.append(r)
            j.append(c)
    return np.array(i, dtype=int), np.array(j, dtype=int)


@dataclass
class OrdinalSample:
    """Sample statistics of ordinal items (one group).

    Attributes
    ----------
    ov : list of str
    n : int
        Number of cases (rows with at least one observed item).
    levels : list of list
        The observed categories of each item, in order (coded 1..K internally).
    th : ndarray
        All thresholds, item by item (item i has K_i - 1).
    th_var : ndarray
        Item index of each threshold.
    cor : ndarray (p x p)
        Polychoric correlation matrix.
    pair_i, pair_j : ndarray
        Item indices of the correlations in ``wls_obs`` (lavaan order).
    wls_obs : ndarray
        (thresholds, correlations) -- lavaan's ``lavInspect(fit, "wls.obs")``.
    gamma : ndarray
        N times the asymptotic covariance matrix of ``wls_obs`` (``lavInspect(fit, "gamma")``).
    names : list of str
        lavaan names of ``wls_obs`` (``"A1|t1"``, ``"A1~~A2"``).
    empty_cells : list of (str, str)
        Item pairs whose bivariate table has empty cells (reported, as lavaan's ``zero.cell.tables``).
    """

    ov: list
    n: int
    levels: list
    th: np.ndarray
    th_var: np.ndarray
    cor: np.ndarray
    pair_i: np.ndarray
    pair_j: np.ndarray
    wls_obs: np.ndarray
    gamma: np.ndarray
    names: list
    empty_cells: list = field(default_factory=list)

    @property
    def nth(self) -> int:
        return len(self.th)


def _code(y: np.ndarray) -> tuple[np.ndarray, list]:
    """Recode one item's observed values to 1..K (NaN -> 0); returns the codes and the categories."""
    obs = ~np.isnan(y)
    cats = np.unique(y[obs])
    codes = np.zeros(len(y), dtype=int)
    codes[obs] = np.searchsorted(cats, y[obs]) + 1
    return codes, [float(c) for c in cats]


def _bounds(th: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper (z1) and lower (z2) thresholds of each case's category, +-100 for the open ends (as lavaan);
    NaN for missing cases."""
    ext = np.concatenate([[-100.0], th, [100.0]])
    z1 = np.where(codes > 0, ext[np.clip(codes, 1, None)], np.nan)
    z2 = np.where(codes > 0, ext[np.clip(codes - 1, 0, None)], np.nan)
    return z1, z2


def _pi_table(rho: float, t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
    """Bivariate cell probabilities, floored at sqrt(machine eps) (``lavaan:::lav_bvord_noexo_pi``)."""
    P = bvn_cell_probs(t1, t2, rho)
    return np.maximum(P, _SQEPS)


def polychoric_pair(freq: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> float:
    """Two-step ML polychoric correlation of one bivariate frequency table with fixed thresholds
    (``lavaan:::lav_bvord_cor_twostep_fit``; zero cells of 2 x 2 tables get 0.5, margins kept).

    The log-likelihood sum(f log pi(rho)) is maximised over rho in [-0.999, 0.999] by Brent's method followed
    by Newton steps with the analytic gradient, to full precision.
    """
    freq = np.asarray(freq, dtype=float).copy()
    if freq.shape == (2, 2):
        zero = np.flatnonzero(freq.ravel() == 0)
        if len(zero) == 2:
            return 1.0 if freq[0, 0] > 0 else -1.0
        if len(zero) == 1:
            d = 0.5 if zero[0] in (0, 3) else -0.5
            freq += np.array([[d, -d], [-d, d]])
        if freq[0, 0] * freq[1, 1] == freq[0, 1] * freq[1, 0]:
            return 0.0

    def negll(rho):
        return float(-(freq * np.log(_pi_table(rho, t1, t2))).sum())

    rho = brent_fmin(negll, -0.999, 0.999, tol=1e-10)
    # polish: Newton on the score with a numerical derivative of the analytic score
    for _ in range(5):
        g = _dll(freq, t1, t2, rho)
        h = (_dll(freq, t1, t2, rho + 1e-6) - _dll(freq, t1, t2, rho - 1e-6)) / 2e-6
        if not np.isfinite(h) or h >= 0:
            break
        step = -g / h
        new = float(np.clip(rho + step, -0.999, 0.999))
        if abs(new - rho) < 1e-13:
            rho = new
            break
        rho = new
    return rho


def _phi_table(rho: float, t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
    """d pi_ab / d rho: the bivariate normal density at the four corners of each cell (``lav_bvord_noexo_phi``)."""
    n1, n2 = len(t1), len(t2)
    T1, T2 = np.meshgrid(t1, t2, indexing="ij")
    R2 = 1 - rho * rho
    dens = np.exp(-(T1**2 - 2 * rho * T1 * T2 + T2**2) / (2 * R2)) / (2 * np.pi * np.sqrt(R2))
    p = np.zeros((n1 + 2, n2 + 2))
    p[1:-1, 1:-1] = dens
    return p[1:, 1:] - p[:-1, 1:] - p[1:, :-1] + p[:-1, :-1]


def _dll(freq, t1, t2, rho) -> float:
    P = _pi_table(rho, t1, t2)
    return float((freq * _phi_table(rho, t1, t2) / P).sum())


def _bv_scores(c1, c2, th1, th2, rho):
    """Casewise scores of the bivariate log-likelihood of items 1 and 2 with respect to rho and the thresholds
    of both items (``lavaan:::lav_bvord_cor_scores``); zero for cases missing either item."""
    n = len(c1)
    ok = (c1 > 0) & (c2 > 0)
    P = bvn_cell_probs(th1, th2, rho)
    phi = _phi_table(rho, th1, th2)
    lik = np.full(n, np.nan)
    lik[ok] = P[c1[ok] - 1, c2[ok] - 1]
    bad = ~(lik > _SQEPS)
    lik[bad] = np.nan
    d_rho = np.zeros(n)
    d_rho[~bad] = phi[c1[~bad] - 1, c2[~bad] - 1] / lik[~bad]
    R = np.sqrt(1 - rho * rho)
    z11, z21 = _bounds(th1, c1)  # upper / lower of item 1
    z12, z22 = _bounds(th2, c2)
    nd, pn = _npdf, special.ndtr

    def th_scores(za_up, za_lo, zb_up, zb_lo, codes, nth):
        Z1 = nd(za_up) * (pn((zb_up - rho * za_up) / R) - pn((zb_lo - rho * za_up) / R))
        Z2 = nd(za_lo) * (pn((zb_up - rho * za_lo) / R) - pn((zb_lo - rho * za_lo) / R))
        out = np.zeros((n, nth))
        rows = np.flatnonzero(~bad)
        up = codes[rows] <= nth  # category k has upper threshold k
        out[rows[up], codes[rows[up]] - 1] += Z1[rows[up]] / lik[rows[up]]
        lo = codes[rows] >= 2
        out[rows[lo], codes[rows[lo]] - 2] -= Z2[rows[lo]] / lik[rows[lo]]
        return out

    d_th1 = th_scores(z11, z21, z12, z22, c1, len(th1))
    d_th2 = th_scores(z12, z22, z11, z21, c2, len(th2))
    return d_rho, d_th1, d_th2


def ordinal_sample(y: np.ndarray, ov: list[str]) -> OrdinalSample:
    """Thresholds, polychoric correlations and Gamma of ordinal items, as ``lavaan:::muthen1984``.

    Parameters
    ----------
    y : ndarray (n x p)
        Item responses (any ordered numeric codes; NaN = missing). Rows with every item missing must have been
        removed.
    ov : list of str
        Item names.

    Returns
    -------
    OrdinalSample

    Raises
    ------
    ValueError
        If an item has fewer than two observed categories.
    """
    y = np.asarray(y, dtype=float)
    n, p = y.shape
    codes, levels, ths, names = [], [], [], []
    th_var_list: list[int] = []
    sc_th_blocks = []
    for i in range(p):
        c, cats = _code(y[:, i])
        if len(cats) < 2:
            raise ValueError(f"item {ov[i]!r} has fewer than two observed categories ({cats})")
        K = len(cats)
        freq = np.bincount(c[c > 0], minlength=K + 1)[1:].astype(float)
        th = stats.norm.ppf(np.cumsum(freq)[:-1] / freq.sum())
        codes.append(c)
        levels.append(cats)
        ths.append(th)
        th_var_list += [i] * (K - 1)
        names += [f"{ov[i]}|t{k + 1}" for k in range(K - 1)]
        # univariate scores (lav_uvord_scores): d log pi_i / d tau_k
        z1, z2 = _bounds(th, c)
        ok = c > 0
        pi = np.where(ok, special.ndtr(np.nan_to_num(z1)) - special.ndtr(np.nan_to_num(z2)), 1.0)
        sc = np.zeros((n, K - 1))
        r = np.flatnonzero(ok & (c <= K - 1))
        sc[r, c[r] - 1] += _npdf(z1[r]) / pi[r]
        r = np.flatnonzero(ok & (c >= 2))
        sc[r, c[r] - 2] -= _npdf(z2[r]) / pi[r]
        sc_th_blocks.append(sc)
    th_all = np.concatenate(ths)
    th_var = np.array(th_var_list, dtype=int)
    start = np.concatenate([[0], np.cumsum([len(t) for t in ths])])
    pi_, pj_ = lower_pairs(p)
    pstar = len(pi_)
    cor = np.eye(p)
    sc_cor = np.zeros((n, pstar))
    nth = len(th_all)
    A21 = np.zeros((pstar, nth))
    empty = []
    for k, (i, j) in enumerate(zip(pi_, pj_)):
        ci, cj = codes[i], codes[j]
        ok = (ci > 0) & (cj > 0)
        freq = np.zeros((len(ths[i]) + 1, len(ths[j]) + 1))
        np.add.at(freq, (ci[ok] - 1, cj[ok] - 1), 1.0)
        if (freq == 0).any():
            empty.append((ov[j], ov[i]))
        rho = polychoric_pair(freq, ths[i], ths[j])
        cor[i, j] = cor[j, i] = rho
        d_rho, d_thi, d_thj = _bv_scores(ci, cj, ths[i], ths[j], rho)
        sc_cor[:, k] = d_rho
        A21[k, start[i] : start[i + 1]] = d_rho @ d_thi
        A21[k, start[j] : start[j + 1]] = d_rho @ d_thj
    sc_th = np.hstack(sc_th_blocks)
    SC = np.hstack([sc_th, sc_cor])
    inner = SC.T @ SC
    A11i = np.zeros((nth, nth))
    for i in range(p):
        s = slice(start[i], start[i + 1])
        A11i[s, s] = np.linalg.inv(inner[s, s])
    a22 = (sc_cor**2).sum(axis=0)
    A22i = np.diag(1.0 / a22)
    Binv = np.block([[A11i, np.zeros((nth, pstar))], [-A22i @ A21 @ A11i, A22i]])
    gamma = n * (Binv @ inner @ Binv.T)
    names += [f"{ov[j]}~~{ov[i]}" for i, j in zip(pi_, pj_)]
    wls_obs = np.concatenate([th_all, cor[pi_, pj_]])
    return OrdinalSample(
        ov=list(ov),
        n=n,
        levels=levels,
        th=th_all,
        th_var=th_var,
        cor=cor,
        pair_i=pi_,
        pair_j=pj_,
        wls_obs=wls_obs,
        gamma=gamma,
        names=names,
        empty_cells=empty,
    )


# ============================================================================================ estimation
@dataclass
class DWLSResult:
    """A DWLS fit: ``x`` (all free parameters of the engine's model, residual variances set to
    1 - communality), ``th`` (model thresholds), the objective, Delta (Jacobian of the model statistics with
    respect to the estimated parameters: thresholds, then the structural parameters ``par``), and status."""

    x: np.ndarray
    th: np.ndarray
    f: float
    converged: bool
    iterations: int
    par: np.ndarray  # indices (into x) of the estimated structural parameters
    delta: np.ndarray
    est_stats: np.ndarray
    message: str = ""


def _structural(model) -> tuple[np.ndarray, np.ndarray]:
    """Free-parameter indices of the model split into residual variances of the indicators (implied by the
    delta parameterisation) and the rest."""
    pt = model.pt
    ovs = set(model.ov)
    resvar = set()
    other = set()
    for k, r in enumerate(pt.itertuples()):
        a = model.free_idx[k]
        if a < 0:
            continue
        if r.op == "~~" and r.lhs == r.rhs and r.lhs in ovs:
            resvar.add(a)
        else:
            other.add(a)
    if resvar & other:
        raise ValueError(
            "an indicator's residual variance is constrained equal to another parameter; not "
            "possible under the delta parameterisation"
        )
    return np.array(sorted(resvar), dtype=int), np.array(sorted(other), dtype=int)


def _resvar_rows(model) -> list[tuple[int, int]]:
    """(free index, indicator index) of each free residual variance (one group)."""
    return _resvar_rows_group(model, 0)


def _with_resvar(model, x: np.ndarray) -> np.ndarray:
    """Set the indicators' residual variances so that the implied latent-response variances are 1."""
    x = x.copy()
    rv = _resvar_rows(model)
    if rv:
        for a, _ in rv:
            x[a] = 0.0
        sigma, _ = model.implied(x, 0)
        for a, i in rv:
            x[a] = 1.0 - sigma[i, i]
    return x


def dwls_fit(model, sample: OrdinalSample, x0: np.ndarray, maxit: int = 500, tol: float = 1e-10) -> DWLSResult:
    """Minimise F = sum_k w_k (s_k - sigma_k(theta))^2, w = 1 / diag(Gamma), by Gauss-Newton with step halving.

    ``model`` is an engine :class:`~compval.sem.engine.Model` of one group without mean structure; its
    indicators' residual variances are not estimated (delta parameterisation: they are 1 minus the
    communality). Thresholds are free parameters (one per threshold), so the threshold part of the
    discrepancy is saturated.
    """
    _, par = _structural(model)
    w = 1.0 / np.diag(sample.gamma)
    nth = sample.nth
    pi_, pj_ = sample.pair_i, sample.pair_j
    w_r = w[nth:]
    r_obs = sample.wls_obs[nth:]

    def resid(x):
        sigma, _ = model.implied(x, 0)
        return r_obs - sigma[pi_, pj_]

    def jac(x):
        dS, _ = model.derivatives(x, 0)
        return dS[par][:, pi_, pj_].T  # pstar x npar

    x = _with_resvar(model, np.asarray(x0, dtype=float))
    e = resid(x)
    f = float(np.sum(w_r * e * e))
    converged = False
    it = 0
    msg = ""
    for it in range(1, maxit + 1):
        J = jac(x)
        H = J.T @ (w_r[:, None] * J)
        g = J.T @ (w_r * e)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        improved = False
        for _ in range(30):
            xn = x.copy()
            xn[par] = x[par] + t * step
            xn = _with_resvar(model, xn)
            en = resid(xn)
            fn = float(np.sum(w_r * en * en))
            if np.isfinite(fn) and fn <= f + 1e-15 * max(1.0, f):
                improved = True
                break
            t /= 2
        if not improved:
            msg = "no decrease of the DWLS objective along the Gauss-Newton direction"
            converged = float(np.max(np.abs(g))) < 1e-6
            break
        dx = float(np.max(np.abs(xn[par] - x[par])))
        x, e, fold, f = xn, en, f, fn
        if dx < tol or abs(fold - f) < tol * 1e-3 * max(1.0, f):
            converged = True
            break
    else:
        msg = f"no convergence in {maxit} iterations"
    th = sample.th.copy()
    p_th = len(th)
    J = jac(x)
    q = len(par)
    delta = np.zeros((p_th + len(pi_), p_th + q))
    delta[:p_th, :p_th] = np.eye(p_th)
    delta[p_th:, p_th:] = J
    sigma, _ = model.implied(x, 0)
    est = np.concatenate([th, sigma[pi_, pj_]])
    # objective with the saturated threshold part (exactly zero residuals there)
    return DWLSResult(
        x=x, th=th, f=f, converged=converged, iterations=it, par=par, delta=delta, est_stats=est, message=msg
    )


def scaled_shifted(gamma: np.ndarray, delta: np.ndarray, w: np.ndarray, stat: float, df: int) -> dict:
    """Mean- and variance-adjusted ("scaled and shifted") test, as ``lavaan:::lav_test_satorra_bentler``
    (``test = "scaled.shifted"``, one group; Asparouhov & Muthen 2010).

    U = V - V D (D'VD)^-1 D'V with V = diag(w); a = sqrt(df / tr((U Gamma)^2)); shift = df - a tr(U Gamma);
    T_ss = a T + shift; the reported scaling factor is 1 / a. Also the mean-scaled (Satorra-Bentler) factor
    tr(U Gamma) / df.
    """
    V = np.diag(w)
    E = delta.T @ (w[:, None] * delta)
    U = V - (w[:, None] * delta) @ np.linalg.solve(E, (delta * w[:, None]).T)
    UG = U @ gamma
    tr1 = float(np.trace(UG))
    tr2 = float(np.sum(UG * UG.T))
    a = np.sqrt(df / tr2) if df > 0 else np.nan
    shift = df - a * tr1
    out = {
        "stat": a * stat + shift,
        "df": df,
        "scaling.factor": 1 / a,
        "shift.parameter": shift,
        "trace.UGamma": tr1,
        "trace.UGamma2": tr2,
        "pvalue": float(stats.chi2.sf(a * stat + shift, df)),
        "mean.scaling.factor": tr1 / df if df > 0 else np.nan,
    }
    return out


def reflected(model, sample: OrdinalSample, res: DWLSResult, x: np.ndarray) -> DWLSResult:
    """The same solution with some factors reflected (``x``, equivalent): Delta recomputed, fit unchanged."""
    if np.array_equal(x, res.x):
        return res
    dS, _ = model.derivatives(x, 0)
    delta = res.delta.copy()
    nth = sample.nth
    delta[nth:, nth:] = dS[res.par][:, sample.pair_i, sample.pair_j].T
    return DWLSResult(
        x=x,
        th=res.th,
        f=res.f,
        converged=res.converged,
        iterations=res.iterations,
        par=res.par,
        delta=delta,
        est_stats=res.est_stats,
        message=res.message,
    )


# ============================================================================================ multiple groups
@dataclass
class MGResult:
    """A multi-group DWLS fit (delta parameterisation). ``z`` is the estimated parameter vector
    (structural parameters, thresholds, scale factors, latent means); ``x`` the engine's parameters (residual
    variances implied) per the last group; ``parts`` the per-group unpacked values; ``jac`` the per-group
    Jacobians of the model statistics with respect to ``z``."""

    z: np.ndarray
    f: float
    converged: bool
    message: str
    groups: list
    jac: list
    est: list


class MGOrdinal:
    """Multi-group ordinal measurement model as lavaan builds it for ``cfa(..., ordered = TRUE, group = g,
    estimator = "WLSMV", group.equal = ...)`` (delta parameterisation, marker identification):

    * per group: loadings, factor (co)variances and thresholds; intercepts 0; the indicators' residual
      variances implied (``1/delta^2 - communality``);
    * with equal thresholds (``"thresholds"`` in ``group_equal``): the scale factors delta and the latent means
      are free in groups 2..G (fixed at 1 and 0 in group 1); otherwise delta = 1 and means 0 in every group;
    * model statistics of group g: thresholds ``delta_i (tau_ik - (Lambda alpha_g)_i)`` and correlations
      ``delta_i delta_j (Lambda Psi Lambda')_ij``.

    ``model`` is the engine :class:`~compval.sem.engine.Model` with ``ngroups = G`` (its ``group_equal`` carries
    the loading constraints).
    """

    def __init__(self, model, samples: list, eq_thresholds: bool):
        self.model = model
        self.samples = samples
        self.G = len(samples)
        self.eq_thresholds = eq_thresholds
        _, self.par = _structural(model)
        k = len(self.par)
        self.th_index: list = []
        nth = samples[0].nth  # the same categories in every group (checked by the caller)
        for g in range(self.G):
            if eq_thresholds and g > 0:
                self.th_index.append(self.th_index[0])
            else:
                self.th_index.append(np.arange(k, k + nth))
                k += nth
        p, m = model.p, model.m
        self.scale_index, self.mean_index = [], []
        for g in range(self.G):
            if eq_thresholds and g > 0:
                self.scale_index.append(np.arange(k, k + p))
                k += p
                self.mean_index.append(np.arange(k, k + m))
                k += m
            else:
                self.scale_index.append(np.full(p, -1))
                self.mean_index.append(np.full(m, -1))
        self.nz = k
        self._resvar = [_resvar_rows_group(model, g) for g in range(self.G)]

    def unpack(self, z: np.ndarray, g: int):
        """(x, thresholds, scales, means) of group g; x has the group's residual variances implied."""
        m = self.model
        x = np.zeros(m.nfree)
        x[self.par] = z[: len(self.par)]
        th = z[self.th_index[g]]
        si, mi = self.scale_index[g], self.mean_index[g]
        scales = np.where(si >= 0, z[np.clip(si, 0, None)], 1.0)
        means = np.where(mi >= 0, z[np.clip(mi, 0, None)], 0.0)
        M = m.matrices(x, g)
        A = np.linalg.inv(np.eye(m.m) - M["B"])
        LA = M["L"] @ A
        C = LA @ M["P"] @ LA.T
        for a, i in self._resvar[g]:
            x[a] = 1.0 / scales[i] ** 2 - C[i, i]
        return x, th, scales, means, C, LA

    def stats(self, z: np.ndarray, g: int) -> np.ndarray:
        s = self.samples[g]
        _, th, scales, means, C, LA = self.unpack(z, g)
        shift = LA @ means
        th_star = scales[s.th_var] * (th - shift[s.th_var])
        corr = scales[s.pair_i] * scales[s.pair_j] * C[s.pair_i, s.pair_j]
        return np.concatenate([th_star, corr])

    def jacobian(self, z: np.ndarray, g: int, h: float = 1e-6) -> np.ndarray:
        """d stats_g / dz by central differences (the statistics are smooth polynomials in z)."""
        J = np.empty((len(self.samples[g].wls_obs), self.nz))
        for k in range(self.nz):
            zp, zm = z.copy(), z.copy()
            zp[k] += h
            zm[k] -= h
            J[:, k] = (self.stats(zp, g) - self.stats(zm, g)) / (2 * h)
        return J

    def start(self) -> np.ndarray:
        from .engine import GroupData

        m = self.model
        gds = [GroupData(n=s.n, blocks=[], complete=True, mean=np.zeros(m.p), cov=s.cor) for s in self.samples]
        x0 = m.start(gds)
        z = np.zeros(self.nz)
        z[: len(self.par)] = x0[self.par]
        for g, s in enumerate(self.samples):
            if not (self.eq_thresholds and g > 0):
                z[self.th_index[g]] = s.th
            si = self.scale_index[g]
            z[si[si >= 0]] = 1.0
        return z

    def fit(self, maxit: int = 200, tol: float = 1e-9) -> MGResult:
        """Minimise T(z) = sum_g (N_g - 1) sum_k w_gk (s_gk - sigma_gk(z))^2 (lavaan's multi-group DWLS) by
        Gauss-Newton with step halving."""
        c = np.array([s.n - 1 for s in self.samples], dtype=float)
        ws = [1.0 / np.diag(s.gamma) for s in self.samples]

        def objective(z):
            return float(
                sum(c[g] * np.sum(ws[g] * (s.wls_obs - self.stats(z, g)) ** 2) for g, s in enumerate(self.samples))
            )

        z = self.start()
        f = objective(z)
        converged, msg = False, ""
        for _ in range(maxit):
            H = np.zeros((self.nz, self.nz))
            grad = np.zeros(self.nz)
            for g, s in enumerate(self.samples):
                J = self.jacobian(z, g)
                e = s.wls_obs - self.stats(z, g)
                H += c[g] * J.T @ (ws[g][:, None] * J)
                grad += c[g] * J.T @ (ws[g] * e)
            try:
                step = np.linalg.solve(H, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(H, grad, rcond=None)[0]
            t = 1.0
            for _ in range(30):
                zn = z + t * step
                fn = objective(zn)
                if np.isfinite(fn) and fn <= f + 1e-12 * max(1.0, f):
                    break
                t /= 2
            else:
                msg = "no decrease of the DWLS objective along the Gauss-Newton direction"
                converged = float(np.max(np.abs(grad))) < 1e-6 * max(1.0, c.max())
                break
            dz = float(np.max(np.abs(zn - z)))
            z, f = zn, fn
            if dz < tol:
                converged = True
                break
        else:
            msg = f"no convergence in {maxit} iterations"
        jac = [self.jacobian(z, g) for g in range(self.G)]
        est = [self.stats(z, g) for g in range(self.G)]
        return MGResult(
            z=z,
            f=f,
            converged=converged,
            message=msg,
            groups=[self.unpack(z, g) for g in range(self.G)],
            jac=jac,
            est=est,
        )


def _resvar_rows_group(model, g: int) -> list[tuple[int, int]]:
    """(free index, indicator index) of the free residual variances of group g (0-based)."""
    out = []
    for k, r in enumerate(model.pt.itertuples()):
        a = model.free_idx[k]
        if a >= 0 and r.group == g + 1 and r.op == "~~" and r.lhs == r.rhs and r.lhs in model.ov:
            out.append((a, model.ov.index(r.lhs)))
    return out


def mg_scaled_shifted(samples: list, jac: list, stat: float, df: int) -> dict:
    """Scaled-and-shifted test of a multi-group DWLS fit (``lav_test_satorra_bentler_trace_original``):
    V = blockdiag(f_g W_g), Gamma = blockdiag(Gamma_g / f_g), Delta = the stacked Jacobians, f_g = N_g / N."""
    ntot = sum(s.n for s in samples)
    fg = [s.n / ntot for s in samples]
    w = np.concatenate([f * (1.0 / np.diag(s.gamma)) for f, s in zip(fg, samples)])
    blocks = [s.gamma / f for f, s in zip(fg, samples)]
    G = np.zeros((len(w), len(w)))
    o = 0
    for b in blocks:
        G[o : o + len(b), o : o + len(b)] = b
        o += len(b)
    return scaled_shifted(G, np.vstack(jac), w, stat, df)
