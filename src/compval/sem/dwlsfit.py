"""Estimation of a model of ordinal indicators by WLSMV, one or more groups, as ``lavaan::cfa(model, data,
ordered = TRUE, estimator = "WLSMV")`` (lavaan 0.6.14, delta parameterisation): sample statistics, DWLS
estimation, the robust sandwich, the parameter table with thresholds (and, with groups, scale factors and latent
means), admissibility checks and fit measures, as the parts of a result.

Sample statistics: thresholds and polychoric correlations with their asymptotic covariance Gamma (Muthen 1984;
:func:`.ordinal.ordinal_sample`). Estimates minimise F = sum w (s - sigma(theta))^2 with w = 1/diag(Gamma)
(Muthen, du Toit & Spisic 1997; :mod:`.dwls`). Standard errors: the sandwich (:func:`.vcov.dwls_vcov`). Test:
T = sum_g (N_g - 1) F_g (lavaan's DWLS convention) and the scaled-and-shifted T_ss = a T + b (Asparouhov &
Muthen 2010). Fit indices: CFI/TLI/RMSEA from T (``cfi``, ...) and from T_ss against the baseline model's T_ss
(``cfi.scaled``, ...); residual summaries on the correlation scale (``srmr`` is the mean over the
correlations, as lavaan for categorical data; the thresholds are fitted exactly). The log-likelihood, AIC and
BIC are not defined (NaN, as lavaan) (:func:`.fitmeasures_dwls.fit_measures_wlsmv`).

One group is estimated by :func:`.dwls.dwls_fit` (analytic derivatives of the engine's model), several by
:class:`.dwls.MGOrdinal` (thresholds, scale factors and latent means as parameters of their own); both share the
data preparation, the sandwich, the extra rows of the parameter table and the fit measures.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from . import ordinal as ordm
from .data import prepare_groups
from .dwls import MGOrdinal, dwls_fit, reflected, structural
from .engine import GroupData, Model
from .fitmeasures_dwls import fit_measures_wlsmv
from .model import reflect
from .params import admissibility, extra_rows, implied_residual_variances, param_table
from .partable import build_partable
from .result import FitRecord
from .vcov import dwls_vcov

__all__ = ["fit_dwls_model"]


def fit_dwls_model(data: pd.DataFrame, model, opts: dict) -> dict:
    """The parts of a :class:`compval.cfa.CFAResult` of a WLSMV fit of ``model`` (a :class:`compval.cfa.ModelSpec`);
    ``opts``: the options of :func:`compval.cfa.fit_cfa` (``missing`` "listwise", or "pairwise" -- "ml" is read
    as "pairwise"; no mean structure, no FIML).

    Never raises for estimation problems: they are reported in ``status`` and ``warnings``.
    """
    missing = opts["missing"]
    opts = dict(opts, meanstructure=False, robust_fiml=None)
    pt, st = build_partable(model.syntax, std_lv=opts["std_lv"], orthogonal=opts["orthogonal"])
    if missing not in ("listwise", "pairwise", "ml"):
        raise ValueError("missing must be 'listwise' or 'pairwise' with estimator='WLSMV'")
    opts["missing"] = "listwise" if missing == "listwise" else "pairwise"
    labels, ys = prepare_groups(data, st.ov_names, opts["group"], "listwise" if missing == "listwise" else "ml")
    if opts["group"] is None:
        return _fit_one(FitRecord(model, opts, st=st, m=Model(pt, st)), ys[0])
    return _fit_groups(FitRecord(model, opts, labels=labels), ys)


@functools.lru_cache(maxsize=4)
def _ordinal_sample_cached(data: bytes, shape: tuple, ov: tuple):
    """Memoised :func:`compval.sem.ordinal.ordinal_sample`: the rival models of a comparison share the same
    items and rows, so thresholds, polychorics and Gamma are computed once (the result is never modified)."""
    return ordm.ordinal_sample(np.frombuffer(data, dtype=float).reshape(shape), list(ov))


def _fit_one(rec: FitRecord, y: np.ndarray) -> dict:
    """One group: :func:`.dwls.dwls_fit` on the engine's parameters (reflected under ``std_lv``)."""
    model, m, st = rec.model, rec.m, rec.st
    if not model.identified:
        rec.status.append("not identified (" + "; ".join(model.notes) + ")")
    ov = st.ov_names
    if len(y) < 2:
        return rec.failed("not estimable: fewer than 2 rows")
    try:
        samp = _ordinal_sample_cached(y.tobytes(), y.shape, tuple(ov))
    except ValueError as exc:
        return rec.failed(f"not estimable: {exc}")
    if samp.empty_cells:
        rec.warnings.append(f"{len(samp.empty_cells)} item pair(s) have empty cells in their bivariate table")
    try:
        resvar_idx, par = structural(m)
    except ValueError as exc:
        return rec.failed(f"not estimable: {exc}")
    nth, pstar = samp.nth, len(samp.pair_i)
    npar = nth + len(par)
    df_model = nth + pstar - npar
    if df_model < 0:
        rec.status.append(f"not identified (df = {df_model} < 0)")
    gd = GroupData(n=samp.n, blocks=[], complete=True, mean=np.zeros(len(ov)), cov=samp.cor)
    try:
        x0 = m.start([gd])
        res = dwls_fit(m, samp, x0)
        if rec.opts["std_lv"]:
            res = reflected(m, samp, res, reflect(m, res.x))
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        return rec.failed(f"estimation failed ({exc})")
    x = res.x
    if not res.converged:
        rec.status.insert(0, f"not converged ({res.message})")
    vcov_th = None
    vcov = None
    try:
        vcov_th = dwls_vcov([samp], [res.delta])
        vcov = np.full((m.nfree, m.nfree), np.nan)
        vcov[np.ix_(par, par)] = vcov_th[nth:, nth:]
        for a in resvar_idx:
            vcov[a, :] = vcov[:, a] = np.nan
    except np.linalg.LinAlgError:
        rec.warnings.append("could not compute standard errors: singular information matrix")
        if "not identified" not in " ".join(rec.status):
            rec.status.append("not identified (singular information matrix)")
    if rec.opts["se"] == "none":  # the sandwich is cheap and the test needs it: only the standard errors go
        vcov = None
    params, std_extra = param_table(m, x, vcov, [gd])
    implied_residual_variances(params, ov)
    th_se = (
        np.sqrt(np.clip(np.diag(vcov_th)[:nth], 0, None))
        if vcov_th is not None and vcov is not None
        else np.full(nth, np.nan)
    )
    th_rows = [
        (ov[i], "|", nm.split("|")[1], True, t, se, t)
        for i, nm, t, se in zip(samp.th_var, samp.names[:nth], res.th, th_se)
    ]
    params = pd.concat([params, extra_rows(th_rows, 1)], ignore_index=True)
    sigma, _ = m.implied(x, 0)
    rec.opts["ordinal"] = {"sample": samp, "dwls": res, "vcov_full": vcov_th}
    rec.status += admissibility(m, x, params[params["op"] != "|"], std_extra, rec.warnings)
    fit = {}
    if res.converged and df_model >= 0 and vcov_th is not None:
        fit = rec.measure(fit_measures_wlsmv, [samp], [res.delta], [res.est_stats], npar, df_model)
    moments = {
        "implied_cov": pd.DataFrame(sigma, index=ov, columns=ov),
        "sample_cov": pd.DataFrame(samp.cor, index=ov, columns=ov),
        "r2": std_extra[0]["r2"],
    }
    return rec.result(res.converged, params, fit, vcov=vcov, _groups=[gd], _x=x, **moments)


def _fit_groups(rec: FitRecord, ys: list) -> dict:
    """Several groups (:class:`.dwls.MGOrdinal`, delta parameterisation, marker identification).

    ``group_equal``: "loadings" and "thresholds" ("intercepts" is read as "thresholds": for ordinal items the
    thresholds take the intercepts' place; "residuals" is not applicable under the delta parameterisation -- the
    residual variances are not parameters -- and is ignored with a warning, as lavaan does). Equal thresholds
    free the scale factors and latent means of groups 2..G. Test: sum_g (N_g - 1) F_g, scaled and shifted over
    the groups (weights N_g / N); RMSEA with N - G; robust (catML) indices when no scale factor is free (lavaan
    reports none otherwise).
    """
    model, labels, opts = rec.model, rec.labels, rec.opts
    eq = set(opts["group_equal"])
    if "intercepts" in eq:
        eq = (eq - {"intercepts"}) | {"thresholds"}
    if "residuals" in eq:
        rec.warnings.append("group_equal 'residuals' has no effect under the delta parameterisation (ordinal items)")
    unsupported = eq - {"loadings", "thresholds", "residuals"}
    eng_equal = tuple(e for e in ("loadings",) if e in eq)
    pt, st = build_partable(
        model.syntax, ngroups=len(labels), std_lv=opts["std_lv"], orthogonal=opts["orthogonal"], group_equal=eng_equal
    )
    m = rec.m = Model(pt, st)
    rec.st = st
    if opts["std_lv"] or unsupported:
        what = "unit-variance identification" if opts["std_lv"] else f"group_equal {sorted(unsupported)}"
        return rec.failed(f"not estimable: {what} is not implemented for multi-group ordinal models")
    ov = st.ov_names
    try:
        samples = [ordm.ordinal_sample(y, ov) for y in ys]
    except ValueError as exc:
        return rec.failed(f"not estimable: {exc}")
    # lavaan stops when a category observed in the data is empty in a group (thresholds are defined on the
    # categories of the whole sample): report which item and group
    for i, v in enumerate(ov):
        cats = sorted(set().union(*[s.levels[i] for s in samples]))
        for lab, s in zip(labels, samples):
            if s.levels[i] != cats:
                empty = [c for c in cats if c not in s.levels[i]]
                return rec.failed(
                    f"not estimable: category {', '.join(f'{c:g}' for c in empty)} of item {v!r} is "
                    f"empty in group {lab} (as lavaan: collapse categories, or use a continuous "
                    "estimator for the invariance analysis)"
                )
    mg = MGOrdinal(m, samples, "thresholds" in eq)
    nstat = sum(len(s.wls_obs) for s in samples)
    df = nstat - mg.nz
    if df < 0:
        rec.status.append(f"not identified (df = {df} < 0)")
    try:
        res = mg.fit()
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        return rec.failed(f"estimation failed ({exc})")
    if not res.converged:
        rec.status.insert(0, f"not converged ({res.message})")
    vz = None
    try:
        vz = dwls_vcov(samples, res.jac)
    except np.linalg.LinAlgError:
        rec.warnings.append("could not compute standard errors: singular information matrix")
    # parameter table: the engine's rows per group (x with that group's implied residual variances), then
    # thresholds, scale factors and latent means
    tables, extras, imp, samp_cov, r2 = [], [], {}, {}, []
    # without standard errors (se = "none") the sandwich only gates the test, as in the one-group fit
    vse = None if rec.opts["se"] == "none" else vz
    sd_z = np.sqrt(np.clip(np.diag(vse), 0, None)) if vse is not None else np.full(mg.nz, np.nan)
    for g, s in enumerate(samples):
        x, th, scales, means, C, LA = res.groups[g]
        vcov = None
        if vse is not None:
            vcov = np.full((m.nfree, m.nfree), np.nan)
            k = len(mg.par)
            vcov[np.ix_(mg.par, mg.par)] = vse[:k, :k]
        gd = GroupData(n=s.n, blocks=[], complete=True, mean=np.zeros(len(ov)), cov=s.cor)
        ptab, ext = param_table(m, x, vcov, [gd] * len(samples))
        ptab = ptab[ptab["group"] == g + 1].copy()
        implied_residual_variances(ptab, ov)
        veta = ext[g]["veta"]
        rows = []
        for k_, (i, nm) in enumerate(zip(s.th_var, s.names[: s.nth])):
            zi = mg.th_index[g][k_]
            rows.append((ov[i], "|", nm.split("|")[1], True, th[k_], sd_z[zi], th[k_] * scales[i]))
        for i, v in enumerate(ov):
            zi = mg.scale_index[g][i]
            rows.append((v, "~*~", v, zi >= 0, scales[i], sd_z[zi] if zi >= 0 else 0.0, 1.0))
        for j, lv in enumerate(st.lv_names):
            zi = mg.mean_index[g][j]
            rows.append((lv, "~1", "", zi >= 0, means[j], sd_z[zi] if zi >= 0 else 0.0, means[j] / np.sqrt(veta[j, j])))
        tables += [ptab, extra_rows(rows, g + 1)]
        extras.append(ext[g])
        sigma = C + np.diag(1.0 / scales**2 - np.diag(C))
        imp[labels[g]] = pd.DataFrame(sigma, index=ov, columns=ov)
        samp_cov[labels[g]] = pd.DataFrame(s.cor, index=ov, columns=ov)
        r2.append(ext[g]["r2"])
    params = pd.concat(tables, ignore_index=True)
    rec.opts = dict(opts, ordinal_mg={"samples": samples, "fit": res, "model": mg})
    adm = []
    for g in range(len(samples)):
        pg = params[(params["group"] == g + 1) & ~params["op"].isin(["|", "~*~", "~1"])]
        adm += [
            a.replace("(group 1)", f"(group {g + 1})")
            for a in admissibility(m, res.groups[g][0], pg, [extras[g]], rec.warnings)
        ]
    rec.status += list(dict.fromkeys(adm))
    fit = {}
    if res.converged and df >= 0 and vz is not None:
        robust = all((si < 0).all() for si in mg.scale_index)
        fit = rec.measure(fit_measures_wlsmv, samples, res.jac, res.est, mg.nz, df, robust=robust)
    r2_all = pd.concat(r2, keys=list(range(1, len(labels) + 1)), names=["group", "name"])
    moments = {"implied_cov": imp, "sample_cov": samp_cov, "r2": r2_all}
    return rec.result(res.converged, params, fit, vcov=vse, _x=res.groups[-1][0], **moments)
