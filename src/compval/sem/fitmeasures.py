"""``fitMeasures()`` of a model fitted by ML or MLR (lavaan 0.6.14 ``lav_fit_measures``): chi-square and its
scaled version, baseline, CFI/TLI and the other incremental indices (standard, scaled, robust), log-likelihood and
information criteria, RMSEA with its interval and tests, and the residual summaries; the formulas of single
indices are in :mod:`.fitindices`."""

from __future__ import annotations

import numpy as np

from . import fitindices as fi
from .baseline import baseline
from .engine import Model, loglik, objective
from .fiml_corrected import fiml_corrected
from .teststat import robust_test

__all__ = ["fit_measures", "logl"]


def logl(groups, m: Model, x) -> tuple[float, float]:
    """Log-likelihood of the model and of the unrestricted (h1) model, summed over groups (casewise FIML with
    missing data)."""
    ll0 = ll1 = 0.0
    for g, gd in enumerate(groups):
        sigma, mu = m.implied(x, g, gd.mean)
        ll0 += loglik(gd, mu, sigma)
        ll1 += loglik(gd, gd.mean, gd.cov)
    return ll0, ll1


def _rms(x):
    return float(np.sqrt(np.sum(np.square(x)) / len(x))) if len(x) else 0.0


def _residual_summaries(m: Model, x, groups, ntot) -> dict:
    """rmr, srmr (Bentler), crmr, with and without means, as ``lav_residuals_summary`` (group-weighted)."""
    acc = {k: 0.0 for k in ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean")}
    p = m.p
    il = np.tril_indices(p)
    il_off = np.tril_indices(p, -1)
    for g, gd in enumerate(groups):
        sigma, mu = m.implied(x, g, gd.mean)
        S, ybar = gd.cov, gd.mean
        w = gd.n / ntot

        def rescale(c, mvec, dcov, dmean):
            scale_c = np.outer(1 / np.sqrt(dcov), 1 / np.sqrt(dcov))
            scale_c = np.where(np.abs(c) < 1e-5, 1.0, scale_c)
            scale_m = np.where(np.abs(mvec) < 1e-5, 1.0, 1 / np.sqrt(dmean))
            return c * scale_c, mvec * scale_m

        vo, ve = np.diag(S), np.diag(sigma)
        raw_c, raw_m = S - sigma, ybar - mu
        so_c, so_m = rescale(S, ybar, vo, vo)
        se_c, se_m = rescale(sigma, mu, vo, vo)
        b_c, b_m = so_c - se_c, so_m - se_m
        eo_c, eo_m = rescale(S, ybar, vo, vo)
        ee_c, ee_m = rescale(sigma, mu, ve, vo)
        c_c, c_m = eo_c - ee_c, eo_m - ee_m
        for name, rc, rm, idx in (
            ("rmr", raw_c, raw_m, il),
            ("srmr_bentler", b_c, b_m, il),
            ("crmr", c_c, c_m, il_off),
        ):
            cov_part = rc[idx]
            acc[name + "_nomean"] += w * _rms(cov_part)
            tot = np.concatenate([rm, cov_part]) if m.meanstructure else cov_part
            acc[name] += w * _rms(tot)
    acc["srmr"] = acc["srmr_bentler"]
    return acc


def fit_measures(m: Model, x, groups, ntot, estimator, info, have_info, st, opts) -> dict:
    """``fitMeasures()`` (lavaan 0.6.14 ``lav_fit_measures``) for a converged model."""
    G = len(groups)
    f = objective(m, x, groups)
    X2 = ntot * f
    p = m.p
    nmom = G * (p * (p + 1) // 2 + (p if m.meanstructure else 0))
    npar = m.nfree
    df = nmom - npar
    fm: dict[str, float] = {
        "npar": npar,
        "fmin": f / 2,
        "chisq": X2,
        "df": df,
        "pvalue": fi.chisq_sf(X2, df) if df > 0 else np.nan,
    }
    base = baseline(m, groups, estimator)
    X2n, dfn = base["chisq"], base["df"]
    scaled = estimator == "MLR" and have_info and df > 0
    fiml = opts.get("missing") == "ml"
    if scaled:
        c, sf_h1, sf_h0, trug = robust_test(m, x, groups, ntot, info, df)
        c0 = base["c"]
        X2s, X2ns = X2 / c, X2n / c0
        fm.update(
            {
                "chisq.scaled": X2s,
                "df.scaled": df,
                "pvalue.scaled": fi.chisq_sf(X2s, df),
                "chisq.scaling.factor": c,
            }
        )
    # ingredients of the robust indices (lav_fit_cfi_lavobject / lav_fit_rmsea_lavobject)
    robust = scaled or (fiml and df > 0)
    if fiml and opts.get("robust_fiml") is False:
        robust = False
    if robust:
        if fiml:
            fc = fiml_corrected(m, x, groups, ntot, base, "V3" if scaled else "V6")
            XX3, df3, c3, XX3s = fc["XX3"], fc["df3"], fc["c3"], fc["XX3.scaled"]
            XX3n, c3n = fc["XX3.null"], fc["c3.null"]
        else:
            XX3, df3, c3, XX3s, XX3n, c3n = X2, df, c, X2s, X2n, c0
    fm.update({"baseline.chisq": X2n, "baseline.df": dfn, "baseline.pvalue": fi.chisq_sf(X2n, dfn)})
    if scaled:
        fm.update(
            {
                "baseline.chisq.scaled": X2ns,
                "baseline.df.scaled": dfn,
                "baseline.pvalue.scaled": fi.chisq_sf(X2ns, dfn),
                "baseline.chisq.scaling.factor": c0,
            }
        )
    fm["cfi"] = fi.cfi(X2, df, X2n, dfn)
    fm["tli"] = fi.tli(X2, df, X2n, dfn)
    if scaled:
        fm["cfi.scaled"] = fi.cfi(X2s, df, X2ns, dfn)
        fm["tli.scaled"] = fi.tli(X2s, df, X2ns, dfn)
    if robust:
        fm["cfi.robust"] = fi.cfi(XX3, df, XX3n, dfn, c3, c3n)
        fm["tli.robust"] = fi.tli(XX3, df, XX3n, dfn, c3, c3n)
    fm.update({"nnfi": fm["tli"], **fi.incremental(X2, df, X2n, dfn)})
    if scaled:
        fm.update({"nnfi.scaled": fm["tli.scaled"], **fi.incremental(X2s, df, X2ns, dfn, ".scaled")})
    if robust:
        fm.update({"nnfi.robust": fm["tli.robust"], "rni.robust": fi.rni(XX3, df, XX3n, dfn, c3, c3n)})
    ll0, ll1 = logl(groups, m, x)
    fm.update(
        {
            "logl": ll0,
            "unrestricted.logl": ll1,
            "aic": -2 * ll0 + 2 * npar,
            "bic": -2 * ll0 + npar * np.log(ntot),
            "ntotal": ntot,
            "bic2": -2 * ll0 + npar * np.log((ntot + 2) / 24),
        }
    )
    if scaled:
        fm["scaling.factor.h1"] = sf_h1
        fm["scaling.factor.h0"] = sf_h0
    lo, hi = fi.rmsea_ci(X2, df, ntot, G)
    fm.update(
        {
            "rmsea": fi.rmsea(X2, df, ntot, G),
            "rmsea.ci.lower": lo,
            "rmsea.ci.upper": hi,
            "rmsea.ci.level": 0.90,
            "rmsea.pvalue": fi.rmsea_pvalue(X2, df, ntot, G),
            "rmsea.close.h0": 0.05,
            "rmsea.notclose.pvalue": fi.rmsea_notclose_pvalue(X2, df, ntot, G),
            "rmsea.notclose.h0": 0.08,
        }
    )
    if scaled:
        lo_s, hi_s = fi.rmsea_ci(X2, trug, ntot, G)
        fm.update(
            {
                "rmsea.scaled": fi.rmsea(X2, trug, ntot, G),
                "rmsea.ci.lower.scaled": lo_s,
                "rmsea.ci.upper.scaled": hi_s,
                "rmsea.pvalue.scaled": fi.rmsea_pvalue(X2, trug, ntot, G),
                "rmsea.notclose.pvalue.scaled": fi.rmsea_notclose_pvalue(X2, trug, ntot, G),
            }
        )
    if robust:
        lo_r, hi_r = fi.rmsea_ci(XX3s, df3, ntot, G, c=c3)
        fm.update(
            {
                "rmsea.robust": fi.rmsea(XX3, df3, ntot, G, c=c3),
                "rmsea.ci.lower.robust": lo_r,
                "rmsea.ci.upper.robust": hi_r,
                "rmsea.pvalue.robust": fi.rmsea_pvalue(XX3s, df3, ntot, G, c=c3),
                "rmsea.notclose.pvalue.robust": fi.rmsea_notclose_pvalue(XX3s, df3, ntot, G, c=c3),
            }
        )
    fm.update(_residual_summaries(m, x, groups, ntot))
    fm["mfi"] = float(np.exp(-0.5 * (X2 - df) / ntot))
    fm["ecvi"] = float(X2 / ntot + 2 * npar / ntot) if G == 1 else np.nan
    return fm
