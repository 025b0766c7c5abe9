"""Modification indices (lavaan's ``modindices()``; Sorbom 1989): score tests of fixed-to-zero parameters of a
fitted model, by ML or, for ordinal models, by DWLS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .dwls import structural
from .result import groups_of
from .engine import Model, gradient_info

if TYPE_CHECKING:
    from .result import CFAResult

__all__ = ["modification_indices"]


def modification_indices(fit: CFAResult, top: int | None = None, minimum: float = 0.0) -> pd.DataFrame:
    """Univariate score tests for fixed-to-zero parameters, as ``lavaan::modindices()`` (Sorbom 1989).

    Candidates: cross-loadings (every factor -> every indicator it does not load on), residual covariances
    among indicators and covariances among exogenous factors that are not free. ``mi = N * d^2 / v`` with d the
    gradient of F_ML/2 and v the diagonal of I_22 - I_21 I_11^-1 I_12 (expected information, lavaan's default
    also for MLR fits); ``epc`` the expected parameter change and ``sepc.lv``/``sepc.all`` its standardized
    versions. For an ordinal (WLSMV) fit: the score test of the DWLS objective (:func:`_mi_dwls`).
    Candidates with v < sqrt(machine eps) (not identified given the model) are dropped, as lavaan does.
    Single-group models only.

    Returns
    -------
    DataFrame with columns lhs, op, rhs, mi, epc, sepc.lv, sepc.all, sorted by decreasing mi (``top`` rows).
    """
    m, groups, x = fit._model, groups_of(fit, "modification indices"), fit._x
    if m.ngroups != 1:
        raise NotImplementedError("modification indices are implemented for single-group models")
    cand = _mi_candidates(m)
    if not cand:
        return pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all"])
    # extended model: add candidates as free parameters (value 0)
    pt = m.pt
    ext = pt[
        ~pt.apply(
            lambda r: (
                r["op"] == "~~" and r["lhs"] != r["rhs"] and r["free"] == 0 and (r["lhs"], "~~", r["rhs"]) in cand
            ),
            axis=1,
        )
    ].copy()
    nq = m.nfree
    add = pd.DataFrame(
        [
            {
                "lhs": l,
                "op": o,
                "rhs": r,
                "group": 1,
                "user": False,
                "free": nq + k + 1,
                "value": np.nan,
                "label": "",
                "start": np.nan,
            }
            for k, (l, o, r) in enumerate(cand)
        ]
    )
    ext = pd.concat([ext, add], ignore_index=True)
    em = Model(ext, m.st)
    xe = np.concatenate([x, np.zeros(len(cand))])
    if fit.estimator == "WLSMV":
        mi, epc = _mi_dwls(em, xe, fit._options["ordinal"]["sample"], nq, len(cand))
    else:
        grad, H = gradient_info(em, xe, groups)
        g = 0.5 * grad
        I = 0.5 * H
        I11, I12, I22 = I[:nq, :nq], I[:nq, nq:], I[nq:, nq:]
        V = I22 - I12.T @ np.linalg.solve(I11, I12)
        v = np.diag(V).copy()
        v[v < np.sqrt(np.finfo(float).eps)] = np.nan  # candidate not identified given the model: dropped (lavaan)
        g2 = g[nq:]
        n = fit.fit.get("ntotal", sum(gd.n for gd in groups))
        mi = n * g2**2 / v
        epc = -g2 / v
    # standardized EPCs
    M = m.matrices(x, 0)
    A = np.linalg.inv(np.eye(m.m) - M["B"])
    veta = A @ M["P"] @ A.T
    sd_lv = np.sqrt(np.diag(veta))
    sigma, _ = m.implied(x, 0, groups[0].mean)
    sd_ov = np.sqrt(np.diag(sigma))
    sepc_lv, sepc_all = [], []
    for (l, o, r), e in zip(cand, epc):
        if o == "=~":
            s_lv = e * sd_lv[m.lv.index(l)]
            sepc_lv.append(s_lv)
            sepc_all.append(s_lv / sd_ov[m.ov.index(r)])
        elif l in m.ov:
            sepc_lv.append(e)
            th = M["T"]
            i, j = m.ov.index(l), m.ov.index(r)
            with np.errstate(invalid="ignore"):  # a negative residual variance (Heywood case): NaN, as lavaan
                sepc_all.append(e / np.sqrt(th[i, i] * th[j, j]))
        else:
            i, j = m.lv.index(l), m.lv.index(r)
            sepc_lv.append(e / (sd_lv[i] * sd_lv[j]))
            sepc_all.append(e / (sd_lv[i] * sd_lv[j]))
    out = pd.DataFrame(
        {
            "lhs": [c[0] for c in cand],
            "op": [c[1] for c in cand],
            "rhs": [c[2] for c in cand],
            "mi": mi,
            "epc": epc,
            "sepc.lv": sepc_lv,
            "sepc.all": sepc_all,
        }
    )
    out = (
        out[out["mi"].notna() & (out["mi"] >= minimum)]
        .sort_values("mi", ascending=False, kind="mergesort")
        .reset_index(drop=True)
    )
    return out.head(top) if top else out


def _mi_candidates(m: Model) -> list[tuple[str, str, str]]:
    """Fixed-to-zero parameters tested by :func:`modification_indices`: cross-loadings, residual covariances
    among indicators, covariances among exogenous factors that are not free."""
    pt = m.pt
    have = set(zip(pt["lhs"], pt["op"], pt["rhs"]))
    have |= {(r, "~~", l) for l, o, r in zip(pt["lhs"], pt["op"], pt["rhs"]) if o == "~~"}
    cand = []
    first_lv = [f for f in m.lv if f not in m._endo()]
    for f in m.lv:
        for v in m.ov:
            if (f, "=~", v) not in have:
                cand.append((f, "=~", v))
    for i, a in enumerate(m.ov):
        for b in m.ov[i + 1 :]:
            if (a, "~~", b) not in have:
                cand.append((a, "~~", b))
    for i, a in enumerate(first_lv):
        for b in first_lv[i + 1 :]:
            if (a, "~~", b) not in have or _is_fixed(pt, a, b):
                cand.append((a, "~~", b))
    return cand


def _mi_dwls(em: Model, xe: np.ndarray, samp, nq: int, ncand: int) -> tuple[np.ndarray, np.ndarray]:
    """Score tests of an ordinal (DWLS) fit, as ``modindices()`` for WLSMV: with D the Jacobian of the model
    statistics (thresholds, correlations) of the extended model, W = 1/diag(Gamma), e = s - sigma:
    d = -(N-1)/N D'We (gradient of lavaan's DWLS fmin), I = D'WD, v = diag(I22 - I21 I11^-1 I12);
    mi = N d^2 / v, epc = -d / v (the candidates' residual variances stay implied by the delta
    parameterisation)."""
    _, par = structural(em)
    dS, _ = em.derivatives(xe, 0)
    nth = samp.nth
    J = dS[par][:, samp.pair_i, samp.pair_j].T
    D = np.zeros((nth + len(samp.pair_i), nth + len(par)))
    D[:nth, :nth] = np.eye(nth)
    D[nth:, nth:] = J
    w = 1.0 / np.diag(samp.gamma)
    sigma, _ = em.implied(xe, 0)
    e = np.concatenate([np.zeros(nth), samp.wls_obs[nth:] - sigma[samp.pair_i, samp.pair_j]])
    n = samp.n
    d = -(n - 1) / n * (D.T @ (w * e))
    I = D.T @ (w[:, None] * D)
    pos = {a: k for k, a in enumerate(par)}
    cc = nth + np.array([pos[nq + k] for k in range(ncand)])
    base = np.setdiff1d(np.arange(D.shape[1]), cc)
    I11, I12, I22 = I[np.ix_(base, base)], I[np.ix_(base, cc)], I[np.ix_(cc, cc)]
    v = np.diag(I22 - I12.T @ np.linalg.solve(I11, I12)).copy()
    v[v < np.sqrt(np.finfo(float).eps)] = np.nan
    d2 = d[cc]
    return n * d2**2 / v, -d2 / v


def _is_fixed(pt, a, b):
    r = pt[(pt["op"] == "~~") & (((pt["lhs"] == a) & (pt["rhs"] == b)) | ((pt["lhs"] == b) & (pt["rhs"] == a)))]
    return len(r) > 0 and (r["free"] == 0).all() and (r["value"].fillna(0) == 0).all()
