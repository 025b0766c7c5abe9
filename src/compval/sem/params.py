"""The parameter table of a fitted model (lavaan's ``parameterEstimates(standardized = TRUE)``): estimates,
standard errors, tests, confidence intervals, standardized solutions and R-squared; the rows an ordinal model
adds (thresholds, scale factors, latent means); and the admissibility checks (Heywood cases, non-positive-definite
matrices)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import normal

from .model import Model

__all__ = ["PARAM_COLUMNS", "param_table", "admissibility", "implied_residual_variances", "extra_rows"]


PARAM_COLUMNS = [
    "lhs",
    "op",
    "rhs",
    "group",
    "free",
    "est",
    "se",
    "z",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "std_lv",
    "std_all",
]


def param_table(m: Model, x, vcov, groups):
    """(parameter table, per-group extras): one row per row of the engine's table with estimate, standard error
    (NaN without ``vcov``), z, p-value, 95% interval, ``std_lv`` and ``std_all`` (lavaan's standardization);
    extras per group: R-squared (``r2``), Var(eta) (``veta``), implied Sigma (``sigma``) and matrices (``M``)."""
    pt = m.pt
    est = np.where(m.free_idx >= 0, x[np.clip(m.free_idx, 0, None)] if len(x) else 0.0, m.fixed_val)
    se = np.zeros(len(pt))
    if vcov is not None:
        sd = np.sqrt(np.clip(np.diag(vcov), 0, None))
        se = np.where(m.free_idx >= 0, sd[np.clip(m.free_idx, 0, None)] if len(x) else 0.0, 0.0)
    else:
        se = np.where(m.free_idx >= 0, np.nan, 0.0)
    free = m.free_idx >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free & (se > 0), est / se, np.nan)
    pval = 2 * normal.sf(np.abs(z))
    q = normal.ppf(0.975)
    ci_l = np.where(free, est - q * se, est)
    ci_u = np.where(free, est + q * se, est)
    std_lv = np.full(len(pt), np.nan)
    std_all = np.full(len(pt), np.nan)
    extras = []
    ovi = {v: i for i, v in enumerate(m.ov)}
    lvi = {v: i for i, v in enumerate(m.lv)}
    lhs_, op_, rhs_ = pt["lhs"].tolist(), pt["op"].tolist(), pt["rhs"].tolist()
    est_ = est.tolist()
    for g, gd in enumerate(groups):
        M = m.matrices(x, g)
        A = np.linalg.inv(np.eye(m.m) - M["B"])
        veta = A @ M["P"] @ A.T
        sigma, mu = m.implied(x, g, gd.mean)
        with np.errstate(invalid="ignore"):
            sd_lv = np.sqrt(np.diag(veta))
            sd_ov = np.sqrt(np.diag(sigma))
        rows = np.flatnonzero(pt["group"].to_numpy() == g + 1).tolist()
        endo = m._endo()
        for k in rows:
            lhs, op, rhs = lhs_[k], op_[k], rhs_[k]
            e = est_[k]
            if op == "=~":
                if rhs in ovi:
                    std_lv[k] = e * sd_lv[lvi[lhs]]
                    std_all[k] = std_lv[k] / sd_ov[ovi[rhs]]
                else:
                    std_lv[k] = std_all[k] = e * sd_lv[lvi[lhs]] / sd_lv[lvi[rhs]]
            elif op == "~":
                std_lv[k] = std_all[k] = e * sd_lv[lvi[rhs]] / sd_lv[lvi[lhs]]
            elif op == "~~":
                # lavaan: a (residual) covariance is standardized by the residual variances (a residual
                # correlation); a variance by the total variance
                if lhs in ovi:
                    std_lv[k] = e
                    if lhs == rhs:
                        std_all[k] = e / sd_ov[ovi[lhs]] ** 2
                    else:
                        th = M["T"]
                        i, j = ovi[lhs], ovi[rhs]
                        std_all[k] = e / np.sqrt(th[i, i] * th[j, j])
                else:
                    i, j = lvi[lhs], lvi[rhs]
                    if lhs != rhs and lhs in endo and rhs in endo:
                        std_lv[k] = std_all[k] = e / np.sqrt(M["P"][i, i] * M["P"][j, j])
                    else:
                        std_lv[k] = std_all[k] = e / (sd_lv[i] * sd_lv[j])
            elif op == "~1":
                if lhs in ovi:
                    std_lv[k] = e
                    std_all[k] = e / sd_ov[ovi[lhs]]
                else:
                    std_lv[k] = std_all[k] = e / sd_lv[lvi[lhs]]
        # R-squared (lavInspect "r2"): indicators, then endogenous latent variables
        r2 = {}
        for i, v in enumerate(m.ov):
            r2[v] = 1 - M["T"][i, i] / sigma[i, i]
        for v in m.lv:
            j = lvi[v]
            if v in m._endo():
                r2[v] = 1 - M["P"][j, j] / veta[j, j]
        extras.append({"r2": pd.Series(r2, name="r2"), "veta": veta, "sigma": sigma, "M": M})
    params = pd.DataFrame(
        {  # the order of PARAM_COLUMNS
            "lhs": lhs_,
            "op": op_,
            "rhs": rhs_,
            "group": pt["group"].to_numpy(),
            "free": free,
            "est": est,
            "se": se,
            "z": z,
            "pvalue": pval,
            "ci_lower": ci_l,
            "ci_upper": ci_u,
            "std_lv": std_lv,
            "std_all": std_all,
        }
    )
    return params, extras


def admissibility(m: Model, x, params: pd.DataFrame, extras, warnings) -> list[str]:
    """Problems of an estimated solution, for the status: Heywood cases (negative variances, standardized
    loadings beyond 1) and latent or residual covariance matrices that are not positive definite (also added to
    ``warnings``)."""
    status = []
    heywood = []
    lhs, op, rhs = (params[c].to_numpy() for c in ("lhs", "op", "rhs"))
    est, std_all, grp = (params[c].to_numpy() for c in ("est", "std_all", "group"))
    for k in np.flatnonzero((op == "~~") & (lhs == rhs) & (est < 0)):
        heywood.append(f"negative variance {lhs[k]} ~~ {rhs[k]} = {est[k]:.3f} (group {grp[k]})")
    with np.errstate(invalid="ignore"):
        big = (op == "=~") & np.isfinite(std_all) & (np.abs(std_all) > 1)
    for k in np.flatnonzero(big):
        heywood.append(f"standardized loading {lhs[k]} =~ {rhs[k]} = {std_all[k]:.3f} > 1 (group {grp[k]})")
    if heywood:
        status.append("heywood case: " + "; ".join(heywood))
        warnings.extend(heywood)
    for g, ex in enumerate(extras):
        P = ex["M"]["P"]
        if P.size and np.linalg.eigvalsh(P).min() < -1e-10 * max(1.0, np.abs(P).max()):
            status.append(f"latent covariance matrix not positive definite (group {g + 1})")
            warnings.append(status[-1])
        T = ex["M"]["T"]
        if np.linalg.eigvalsh(T).min() < 0 and not any("negative variance" in h for h in heywood):
            status.append(f"residual covariance matrix (theta) not positive definite (group {g + 1})")
            warnings.append(status[-1])
    return status


def implied_residual_variances(params: pd.DataFrame, ov: list) -> None:
    """Mark the indicators' residual variances as fixed (se 0, no test), in place: under the delta
    parameterisation they are implied (1/delta^2 - communality), and lavaan reports them so."""
    rv = params["op"].eq("~~") & params["lhs"].eq(params["rhs"]) & params["lhs"].isin(ov)
    params.loc[rv, "free"] = False
    params.loc[rv, ["se", "z", "pvalue"]] = [0.0, np.nan, np.nan]
    params.loc[rv, "ci_lower"] = params.loc[rv, "est"]
    params.loc[rv, "ci_upper"] = params.loc[rv, "est"]


def extra_rows(rows: list, group: int) -> pd.DataFrame:
    """Rows of an ordinal model that the engine's table lacks (thresholds ``|``, scale factors ``~*~``, latent
    means ``~1``), from tuples (lhs, op, rhs, free, est, se, std_all): z, p-value and confidence interval for
    the free ones; ``std_lv`` is ``std_all`` for latent means and the estimate otherwise."""
    q = normal.ppf(0.975)
    extra = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "free", "est", "se", "std_all"])
    extra["group"] = group
    with np.errstate(divide="ignore", invalid="ignore"):
        extra["z"] = np.where(extra["free"], extra["est"] / extra["se"], np.nan)
    extra["pvalue"] = 2 * normal.sf(np.abs(extra["z"]))
    extra["ci_lower"] = extra["est"] - q * extra["se"]
    extra["ci_upper"] = extra["est"] + q * extra["se"]
    extra["std_lv"] = np.where(extra["op"] == "~1", extra["std_all"], extra["est"])
    return extra[PARAM_COLUMNS]
