"""Ordinal indicators: thresholds, polychoric correlations, their asymptotic covariance, and DWLS estimation.

This is the categorical branch of lavaan 0.6.14 (``cfa(..., ordered = TRUE, estimator = "WLSMV")``):

* Stage 1 (univariate): the thresholds of each item, ``tau_k = qnorm(P(y <= k))`` (the ML estimates of a probit
  model without covariates; ``lavaan:::lav_uvord_fit``), and each case's scores with respect to them.
* Stage 2 (bivariate): the polychoric correlation of each pair with the thresholds held fixed (two-step ML;
  Olsson 1979; ``lavaan:::lav_bvord_cor_twostep_fit``), and each case's scores with respect to the correlation
  and both items' thresholds.
* The asymptotic covariance matrix of (thresholds, correlations), Gamma = N * B^-1 (S'S) B^-T (Muthen 1984;
  Muthen & Satorra 1995; ``lavaan:::muthen1984``), B holding the stage-1 and stage-2 information.
The estimation on these statistics (DWLS, delta parameterisation) is in :mod:`.dwls`, the robust test in
:mod:`.teststat`.

Missing values: ``missing = "pairwise"`` as lavaan: each statistic uses the cases that observed its items,
and a case contributes zero scores to statistics it did not observe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .bivariate import brent_fmin, bvn_cell_probs

__all__ = [
    "OrdinalSample",
    "ordinal_sample",
    "polychoric_pair",
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
        th = special.ndtri(np.cumsum(freq)[:-1] / freq.sum())
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
