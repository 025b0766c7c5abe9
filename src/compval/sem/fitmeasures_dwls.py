"""``fitMeasures()`` of an ordinal model fitted by DWLS (WLSMV), one or more groups (lavaan 0.6.14 conventions),
with the robust (catML) indices of Savalei (2021)."""

from __future__ import annotations

import numpy as np

from . import fitindices as fi
from .teststat import scaled_shifted

__all__ = ["fit_measures_wlsmv"]


def fit_measures_wlsmv(samples: list, jacs: list, ests: list, npar: int, df: int, robust: bool = True) -> dict:
    """``fitMeasures()`` of an ordinal DWLS fit, one or more groups (lavaan 0.6.14 conventions; see
    :mod:`.dwlsfit`): T = sum_g (N_g - 1) F_g, the scaled-and-shifted test over the
    stacked groups, the baseline (thresholds free, correlations zero), CFI/TLI/... from T and from T_ss, RMSEA
    with N - G, the robust (catML) indices when ``robust``, and residual summaries on the correlation scale
    (group-weighted by N_g / N; the diagonal is fixed at 1 and free thresholds fit exactly).

    ``samples``, ``jacs``, ``ests``: per group the ordinal sample statistics, the Jacobian of the model
    statistics with respect to the estimated parameters, and the model statistics.
    """
    G = len(samples)
    ntot = sum(s.n for s in samples)
    ws = [1.0 / np.diag(s.gamma) for s in samples]
    es = [s.wls_obs - e for s, e in zip(samples, ests)]
    X2 = float(sum((s.n - 1) * np.sum(w * e * e) for s, w, e in zip(samples, ws, es)))
    ss = scaled_shifted(samples, jacs, X2, df)
    X2n = float(sum((s.n - 1) * np.sum(w[s.nth :] * s.wls_obs[s.nth :] ** 2) for s, w in zip(samples, ws)))
    dfn = sum(len(s.pair_i) for s in samples)
    nth_tot = sum(s.nth for s in samples)
    jb, off = [], 0
    for s in samples:
        J = np.zeros((len(s.wls_obs), nth_tot))
        J[: s.nth, off : off + s.nth] = np.eye(s.nth)
        off += s.nth
        jb.append(J)
    ssn = scaled_shifted(samples, jb, X2n, dfn)
    X2s, X2ns = ss["stat"], ssn["stat"]
    fm: dict[str, float] = {
        "npar": npar,
        "fmin": X2 / (2 * ntot),
        "chisq": X2,
        "df": df,
        "pvalue": fi.chisq_sf(X2, df) if df > 0 else np.nan,
        "chisq.scaled": X2s,
        "df.scaled": df,
        "pvalue.scaled": fi.chisq_sf(X2s, df) if df > 0 else np.nan,
        "chisq.scaling.factor": ss["scaling.factor"],
        "chisq.shift.parameter": ss["shift.parameter"],
        "trace.UGamma": ss["trace.UGamma"],
        "trace.UGamma2": ss["trace.UGamma2"],
        "baseline.chisq": X2n,
        "baseline.df": dfn,
        "baseline.pvalue": fi.chisq_sf(X2n, dfn),
        "baseline.chisq.scaled": X2ns,
        "baseline.df.scaled": dfn,
        "baseline.pvalue.scaled": fi.chisq_sf(X2ns, dfn),
        "baseline.chisq.scaling.factor": ssn["scaling.factor"],
    }
    fm["cfi"] = fi.cfi(X2, df, X2n, dfn)
    fm["tli"] = fi.tli(X2, df, X2n, dfn)
    fm["cfi.scaled"] = fi.cfi(X2s, df, X2ns, dfn)
    fm["tli.scaled"] = fi.tli(X2s, df, X2ns, dfn)
    fm.update({"nnfi": fm["tli"], **fi.incremental(X2, df, X2n, dfn)})
    fm.update({"nnfi.scaled": fm["tli.scaled"], **fi.incremental(X2s, df, X2ns, dfn, ".scaled")})
    fm.update(
        {"logl": np.nan, "unrestricted.logl": np.nan, "aic": np.nan, "bic": np.nan, "bic2": np.nan, "ntotal": ntot}
    )
    # RMSEA: lavaan uses ntotal minus the number of groups for DWLS
    nr = ntot - G
    lo, hi = fi.rmsea_ci(X2, df, nr, G)
    fm.update(
        {
            "rmsea": fi.rmsea(X2, df, nr, G),
            "rmsea.ci.lower": lo,
            "rmsea.ci.upper": hi,
            "rmsea.ci.level": 0.90,
            "rmsea.pvalue": fi.rmsea_pvalue(X2, df, nr, G),
            "rmsea.close.h0": 0.05,
            "rmsea.notclose.pvalue": fi.rmsea_notclose_pvalue(X2, df, nr, G),
            "rmsea.notclose.h0": 0.08,
        }
    )
    lo_s, hi_s = fi.rmsea_ci(X2s, df, nr, G)
    fm.update(
        {
            "rmsea.scaled": fi.rmsea(X2s, df, nr, G),
            "rmsea.ci.lower.scaled": lo_s,
            "rmsea.ci.upper.scaled": hi_s,
            "rmsea.pvalue.scaled": fi.rmsea_pvalue(X2s, df, nr, G),
            "rmsea.notclose.pvalue.scaled": fi.rmsea_notclose_pvalue(X2s, df, nr, G),
        }
    )
    if robust:
        fm.update(_catml_robust(samples, jacs, ests, df, nr))
    acc = dict.fromkeys(("rmr", "rmr_nomean", "crmr", "crmr_nomean"), 0.0)
    for s, e in zip(samples, es):
        p, nth, npair = len(s.ov), s.nth, len(s.pair_i)
        ss_r, ss_t = float(np.sum(e[nth:] ** 2)), float(np.sum(e[:nth] ** 2))
        nvech = p * (p + 1) // 2
        f = s.n / ntot
        acc["rmr"] += f * np.sqrt((ss_r + ss_t) / (nvech + nth))
        acc["rmr_nomean"] += f * np.sqrt(ss_r / nvech)
        acc["crmr"] += f * np.sqrt((ss_r + ss_t) / (npair + nth))
        acc["crmr_nomean"] += f * np.sqrt(ss_r / npair)
    fm.update(acc)
    fm.update({"srmr_bentler": acc["rmr"], "srmr_bentler_nomean": acc["rmr_nomean"], "srmr": acc["rmr_nomean"]})
    return fm


def _catml_robust(samples: list, jacs: list, ests: list, df: int, nr: int) -> dict:
    """Robust CFI/TLI/RNI/RMSEA for categorical data (Savalei 2021), as ``lavaan:::lav_fit_catml_dwls``.

    The DWLS solution is evaluated with the normal-theory ML discrepancy on the polychoric correlation matrix R
    (no re-estimation): XX3 = sum_g N_g [log|Sigma_g| - log|R_g| + tr(R_g Sigma_g^-1) - p], baseline
    XX3.null = -sum_g N_g log|R_g| on G p(p-1)/2 df. Scaling: c = tr(WiU' V WiU Gamma_r) / df with V the expected
    ML information of the correlations at Sigma (V_(ij),(kl) = s^ik s^jl + s^il s^jk, s = Sigma^-1),
    WiU = I - D_r (D'WD)^-1 D_r' W_r, and c0 = tr(Gamma_r) / (G p(p-1)/2), the groups stacked with V_g, W_g
    weighted by f_g = N_g/N and Gamma_g divided by f_g; the indices then follow Brosseau-Liard & Savalei (2014)
    with ``nr`` (N - G) in the RMSEA. Empty (lavaan: NA) when an R_g is not positive definite (an eigenvalue
    below sqrt(machine eps)).

    ``samples``, ``jacs``, ``ests``: per group the ordinal sample statistics, the Jacobian of the model
    statistics with respect to the estimated parameters, and the model statistics.
    """
    from scipy.linalg import block_diag  # here: only DWLS fits need scipy.linalg

    G = len(samples)
    ntot = sum(s.n for s in samples)
    fg = [s.n / ntot for s in samples]
    if df <= 0 or any(np.linalg.eigvalsh(s.cor).min() < np.sqrt(np.finfo(float).eps) for s in samples):
        return {}
    E = sum(f * J.T @ ((1.0 / np.diag(s.gamma))[:, None] * J) for f, J, s in zip(fg, jacs, samples))
    Ei = np.linalg.inv(E)
    XX3 = XX3n = 0.0
    Vb, Wb, Gb, Db = [], [], [], []
    for f, s, J, est in zip(fg, samples, jacs, ests):
        p = s.cor.shape[0]
        nth = s.nth
        sigma = np.eye(p)
        sigma[s.pair_i, s.pair_j] = sigma[s.pair_j, s.pair_i] = est[nth:]
        si = np.linalg.inv(sigma)
        XX3 += s.n * (np.linalg.slogdet(sigma)[1] - np.linalg.slogdet(s.cor)[1] + np.sum(s.cor * si) - p)
        XX3n += -s.n * np.linalg.slogdet(s.cor)[1]
        i, j = s.pair_i, s.pair_j
        Vb.append(f * (si[np.ix_(i, i)] * si[np.ix_(j, j)] + si[np.ix_(i, j)] * si[np.ix_(j, i)]))
        Wb.append(f / np.diag(s.gamma)[nth:])
        Gb.append(s.gamma[nth:, nth:] / f)
        Db.append(J[nth:])
    V, Gm = block_diag(*Vb), block_diag(*Gb)
    W = np.concatenate(Wb)
    D = np.vstack(Db)
    WiU = np.eye(len(W)) - D @ Ei @ D.T * W[None, :]
    c = float(np.sum((WiU.T @ V @ WiU) * Gm.T)) / df
    dfn = sum(len(s.pair_i) for s in samples)
    c0 = float(np.trace(Gm)) / dfn
    XX3s = XX3 / c
    lo, hi = fi.rmsea_ci(XX3s, df, nr, G, c=c)
    return {
        "cfi.robust": fi.cfi(XX3, df, XX3n, dfn, c, c0),
        "tli.robust": fi.tli(XX3, df, XX3n, dfn, c, c0),
        "nnfi.robust": fi.tli(XX3, df, XX3n, dfn, c, c0),
        "rni.robust": fi.rni(XX3, df, XX3n, dfn, c, c0),
        "rmsea.robust": fi.rmsea(XX3, df, nr, G, c=c),
        "rmsea.ci.lower.robust": lo,
        "rmsea.ci.upper.robust": hi,
        "rmsea.pvalue.robust": fi.rmsea_pvalue(XX3s, df, nr, G, c=c),
        "rmsea.notclose.pvalue.robust": fi.rmsea_notclose_pvalue(XX3s, df, nr, G, c=c),
    }
