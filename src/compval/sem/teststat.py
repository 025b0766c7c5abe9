"""Model test statistics beyond the normal-theory chi-square (lavaan's ``lav_test_*``): the Yuan-Bentler (Mplus
variant) scaling under MLR and the scaled-and-shifted test of DWLS (one or more groups)."""

from __future__ import annotations

import numpy as np

from .engine import GroupData, Model, first_order_information, h1_information_missing, h1_inverse_missing
from .fitindices import chisq_sf

__all__ = ["robust_test", "scaled_shifted"]


def _h1_mats(gd: GroupData, meanstructure: bool):
    """A1 (expected = observed h1 information at the sample moments) and B1 (first-order) in vech coordinates."""
    S, ybar = gd.cov, gd.mean
    p = len(ybar)
    Si = np.linalg.inv(S)
    K, L = np.tril_indices(p)
    # tr(Si E_kl Si E_mn) for symmetric basis matrices
    t = Si[L][:, K] * Si[K][:, L] + Si[L][:, L] * Si[K][:, K] + Si[K][:, K] * Si[L][:, L] + Si[K][:, L] * Si[L][:, K]
    dk = np.where(K == L, 2.0, 1.0)
    t = t / np.outer(dk, dk)
    A_cov = 0.5 * t
    y = gd.blocks[0].y
    z = y - ybar
    u = z @ Si
    # casewise score wrt vech(Sigma): 0.5*(u u' - Si)_kl * (2 if k != l)
    mult = np.where(K == L, 1.0, 2.0)
    sc_cov = 0.5 * (u[:, K] * u[:, L] - Si[K, L][None, :]) * mult[None, :]
    if meanstructure:
        A1 = np.block([[Si, np.zeros((p, len(K)))], [np.zeros((len(K), p)), A_cov]])
        sc = np.hstack([u, sc_cov])
    else:
        A1, sc = A_cov, sc_cov
    B1 = sc.T @ sc / gd.n
    return A1, B1


def _h1_trace(m: Model, gd: GroupData) -> tuple[float, int]:
    """tr(A1^-1 B1) of the unrestricted model of group ``gd`` and the dimension of A1 (``_h1_mats``, or the FIML
    h1 matrices with missing data). The same for the model and its baseline: kept with the group's h1 matrices
    (``gd._h1``, kept for the newest data set: :func:`.samplestats.group_data`)."""
    cache = gd.__dict__.setdefault("_h1", {})
    key = ("trace_h1", m.meanstructure, tuple(m.ov))
    if key not in cache:
        if gd.complete:
            A1, B1 = _h1_mats(gd, m.meanstructure)
        else:
            _, A1, B1, _ = h1_information_missing(m.ov, gd)
        A1i = np.linalg.inv(A1) if gd.complete else h1_inverse_missing(m.ov, gd)
        cache[key] = (np.sum(B1 * A1i.T), A1.shape[0])
    return cache[key]


def robust_test(m: Model, x, groups, ntot, info, df):
    """Yuan-Bentler (Mplus variant) scaling: c = (tr(A1^-1 B1) - tr(B0 E^-1)) / df (lavaan's
    ``lav_test_yuan_bentler_mplus_trace``); also returns the h1/h0 average traces and tr(U Gamma).

    A1/B1: observed/first-order information of the unrestricted model (at the sample moments, or the EM
    estimates with missing data), B0: first-order information of the model, E: its observed information.
    """
    einv = np.linalg.inv(info)
    tr_h1 = tr_h0 = 0.0
    ndat = 0
    for g, gd in enumerate(groups):
        t1, nd = _h1_trace(m, gd)
        tr_h1 += t1
        ndat += nd
        B0 = first_order_information(m, x, gd, g)
        tr_h0 += gd.n / ntot * np.sum(B0 * einv.T)
    c = (tr_h1 - tr_h0) / df if df > 0 else np.nan
    # lavaan divides by nx.free: free parameters counted before equality constraints
    n_unco = max(int((m.free_idx >= 0).sum()), 1)
    return c, tr_h1 / ndat, tr_h0 / n_unco, tr_h1 - tr_h0


def scaled_shifted(samples: list, jac: list, stat: float, df: int) -> dict:
    """Mean- and variance-adjusted ("scaled and shifted") test of a DWLS fit, one or more groups, as
    ``lavaan:::lav_test_satorra_bentler`` (``test = "scaled.shifted"``, ``lav_test_satorra_bentler_trace_original``;
    Asparouhov & Muthen 2010).

    Over the stacked groups (f_g = N_g / N): V = blockdiag(f_g W_g) with W_g = 1/diag(Gamma_g),
    Gamma = blockdiag(Gamma_g / f_g), D = the stacked Jacobians (``jac``) of the model statistics;
    U = V - V D (D'VD)^-1 D'V; a = sqrt(df / tr((U Gamma)^2)); shift = df - a tr(U Gamma); T_ss = a T + shift;
    the reported scaling factor is 1 / a. Also the mean-scaled (Satorra-Bentler) factor tr(U Gamma) / df.
    """
    from scipy.linalg import block_diag  # here: only DWLS fits need scipy.linalg

    ntot = sum(s.n for s in samples)
    fg = [s.n / ntot for s in samples]
    w = np.concatenate([f * (1.0 / np.diag(s.gamma)) for f, s in zip(fg, samples)])
    gamma = block_diag(*[s.gamma / f for f, s in zip(fg, samples)])
    delta = np.vstack(jac)
    V = np.diag(w)
    E = delta.T @ (w[:, None] * delta)
    U = V - (w[:, None] * delta) @ np.linalg.solve(E, (delta * w[:, None]).T)
    UG = U @ gamma
    tr1 = float(np.trace(UG))
    tr2 = float(np.sum(UG * UG.T))
    a = np.sqrt(df / tr2) if df > 0 else np.nan
    shift = df - a * tr1
    return {
        "stat": a * stat + shift,
        "df": df,
        "scaling.factor": 1 / a,
        "shift.parameter": shift,
        "trace.UGamma": tr1,
        "trace.UGamma2": tr2,
        "pvalue": chisq_sf(a * stat + shift, df),
        "mean.scaling.factor": tr1 / df if df > 0 else np.nan,
    }
