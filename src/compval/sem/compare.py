"""Tests of nested models (lavaan's ``lavTestLRT``): chi-square differences under ML, the Satorra-Bentler (2001)
scaled difference under MLR, and the DIFFTEST of ordinal (DWLS) models (``lav_test_diff_Satorra2000``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import pandas as pd

from .fitindices import chisq_sf

if TYPE_CHECKING:
    from .result import CFAResult

__all__ = ["fitval", "compare_models", "difftest"]


def fitval(f: CFAResult | None, key: str) -> float:
    """A fit measure as float, NaN when absent (no fit, model not estimated, not converged, ...)."""
    v = f.fit.get(key) if f is not None and isinstance(f.fit, Mapping) else None
    try:
        return float(v) if v is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def compare_models(fits: Sequence[CFAResult] | Mapping[str, CFAResult], method: str | None = None) -> pd.DataFrame:
    """Chi-square difference tests of nested models, as ``lavaan::lavTestLRT`` (models sorted by df).

    Under ML the difference of the chi-squares; under MLR the Satorra-Bentler (2001) scaled difference
    ``(T0 - T1) / cd`` with ``cd = (df0 c0 - df1 c1) / (df0 - df1)``; under WLSMV the scaled-and-shifted
    difference test of Satorra (2000) / Asparouhov & Muthen (2006) (:func:`difftest`, lavaan's
    ``method = "satorra.2000"``). Also delta CFI / RMSEA (later row minus
    earlier row in the sorted order) and AIC/BIC ranks (1 = best).

    Models without fit measures (not estimated, not converged) never raise: they are sorted last and get a row
    of NaN (the model name kept), and are left out of the differences and ranks.

    Returns
    -------
    DataFrame with columns model, df, aic, bic, chisq, chisq_diff, df_diff, pvalue, cfi, rmsea, delta_cfi,
    delta_rmsea, aic_rank, bic_rank (ranks as nullable integers, <NA> for models without fit measures).
    """
    items = (
        list(fits.items())
        if isinstance(fits, Mapping)
        else [(f.model_name or f"m{i + 1}", f) for i, f in enumerate(fits)]
    )

    def has_fit(f):
        return np.isfinite(fitval(f, "df")) and np.isfinite(fitval(f, "chisq"))

    items = sorted(items, key=lambda kv: (not has_fit(kv[1]), fitval(kv[1], "df") if has_fit(kv[1]) else 0.0))
    ests = {f.estimator for _, f in items}
    if method is None:
        method = {frozenset({"MLR"}): "satorra.bentler.2001", frozenset({"WLSMV"}): "satorra.2000"}.get(
            frozenset(ests), "standard"
        )
    rows = []
    prev = None
    for name, f in items:
        v = {
            k: fitval(f, k)
            for k in (
                "df",
                "aic",
                "bic",
                "chisq",
                "cfi",
                "rmsea",
                "cfi.robust",
                "rmsea.robust",
                "cfi.scaled",
                "rmsea.scaled",
                "chisq.scaling.factor",
            )
        }

        def pick(idx):  # robust version under MLR/WLSMV, else scaled (WLSMV), else standard
            order = [f"{idx}.robust", f"{idx}.scaled"] if method != "standard" else []
            return next((v[k] for k in order if np.isfinite(v[k])), v[idx])

        r = {
            "model": name,
            "df": v["df"],
            "aic": v["aic"],
            "bic": v["bic"],
            "chisq": v["chisq"],
            "chisq_diff": np.nan,
            "df_diff": np.nan,
            "pvalue": np.nan,
            "cfi": pick("cfi"),
            "rmsea": pick("rmsea"),
            "delta_cfi": np.nan,
            "delta_rmsea": np.nan,
        }
        if prev is not None and has_fit(f):
            pv = prev[1]
            ddf = v["df"] - pv["df"]
            if method == "standard":
                d = v["chisq"] - pv["chisq"]
            elif method == "satorra.2000":
                dt = difftest(prev[2], f)
                d, ddf = dt["chisq_diff"], dt["df_diff"]
            else:
                c1, c0 = pv["chisq.scaling.factor"], v["chisq.scaling.factor"]
                cd = (v["df"] * c0 - pv["df"] * c1) / ddf if ddf != 0 else np.nan
                d = (v["chisq"] - pv["chisq"]) / cd
            r["chisq_diff"], r["df_diff"] = d, ddf
            r["pvalue"] = chisq_sf(d, ddf) if ddf > 0 and np.isfinite(d) else np.nan
            r["delta_cfi"] = r["cfi"] - prev[0]["cfi"]
            r["delta_rmsea"] = r["rmsea"] - prev[0]["rmsea"]
        rows.append(r)
        if has_fit(f):
            prev = (r, v, f)
    out = pd.DataFrame(
        rows,
        columns=[
            "model",
            "df",
            "aic",
            "bic",
            "chisq",
            "chisq_diff",
            "df_diff",
            "pvalue",
            "cfi",
            "rmsea",
            "delta_cfi",
            "delta_rmsea",
        ],
    )
    for crit in ("aic", "bic"):
        out[f"{crit}_rank"] = out[crit].rank(method="min").astype("Int64")
    return out


def _ordinal_parts(fit: CFAResult) -> tuple[list, list]:
    """Per group: the ordinal sample statistics and the Jacobian of the model statistics with respect to the
    estimated parameters (thresholds and structural parameters), of a WLSMV fit."""
    if "ordinal_mg" in fit._options:
        o = fit._options["ordinal_mg"]
        return o["samples"], o["fit"].jac
    if "ordinal" in fit._options:
        o = fit._options["ordinal"]
        return [o["sample"]], [o["dwls"].delta]
    raise ValueError("difftest needs two WLSMV fits")


def difftest(fit1: CFAResult, fit0: CFAResult, scaled_shifted: bool = True) -> dict:
    """Chi-square difference test of two nested ordinal (WLSMV) models, as ``lavTestLRT(fit1, fit0)`` for DWLS
    (``lavaan:::lav_test_diff_Satorra2000``, ``A.method = "delta"``; Satorra 2000; Asparouhov & Muthen 2006,
    Mplus DIFFTEST).

    With m1 the less restricted model (smaller df) and m0 the other: H = Delta1^+ Delta0, A the orthogonal
    complement of the columns of H (transposed), P = Delta1' W Delta1 (W = 1/diag(Gamma)),
    U = W Delta1 P^-1 A' (A P^-1 A')^+ A P^-1 Delta1' W; with tr1 = tr(U Gamma), tr2 = tr((U Gamma)^2) and
    m = df0 - df1: scaled-and-shifted (default) T = a (T0 - T1) + b, a = sqrt(m / tr2), b = m - a tr1, on m df;
    otherwise (Satterthwaite) T = (T0 - T1) tr1 / tr2 on tr1^2 / tr2 df. T0, T1 are the unscaled DWLS
    chi-squares; Delta0 is evaluated at m0's estimates, everything else at m1's.

    Multiple groups: Gamma = blockdiag(Gamma_g / f_g), W = blockdiag(f_g W_g), Delta stacked over the groups
    (f_g = N_g / N), as lavaan.

    Returns a dict: chisq_diff, df_diff, pvalue, scale (a), shift (b), trace_ugamma, trace_ugamma2.
    """
    from scipy.linalg import block_diag, null_space  # here: only WLSMV comparisons need scipy.linalg

    if fit1.fit.get("df", np.inf) > fit0.fit.get("df", np.inf):
        fit1, fit0 = fit0, fit1
    s1, j1 = _ordinal_parts(fit1)
    s0, j0 = _ordinal_parts(fit0)
    if len(s1) != len(s0) or any(set(a.names) != set(b.names) or a.n != b.n for a, b in zip(s1, s0)):
        raise ValueError("the two models are not fitted to the same groups, thresholds and correlations")
    d0 = []
    for a, b, J in zip(s1, s0, j0):
        pos = {nm: k for k, nm in enumerate(b.names)}
        d0.append(J[[pos[nm] for nm in a.names]])
    ntot = sum(a.n for a in s1)
    fg = [a.n / ntot for a in s1]
    D1, D0 = np.vstack(j1), np.vstack(d0)
    G = block_diag(*[a.gamma / f for a, f in zip(s1, fg)])
    w = np.concatenate([f / np.diag(a.gamma) for a, f in zip(s1, fg)])
    T1, T0 = fit1.fit["chisq"], fit0.fit["chisq"]
    m = int(round(fit0.fit["df"] - fit1.fit["df"]))
    if m == 0:
        return {
            "chisq_diff": T0 - T1,
            "df_diff": 0,
            "pvalue": np.nan,
            "scale": np.nan,
            "shift": np.nan,
            "trace_ugamma": np.nan,
            "trace_ugamma2": np.nan,
        }
    H = np.linalg.pinv(D1) @ D0
    A = null_space(H.T).T
    P = D1.T @ (w[:, None] * D1)
    Pi = np.linalg.inv(P)
    APA = A @ Pi @ A.T
    keep = ~(
        (np.abs(APA.sum(axis=1)) < np.sqrt(np.finfo(float).eps))
        & (np.abs(APA.sum(axis=0)) < np.sqrt(np.finfo(float).eps))
    )
    A = A[keep]
    PAAPAAP = Pi @ A.T @ np.linalg.pinv(A @ Pi @ A.T) @ A @ Pi
    WD = w[:, None] * D1
    UG = WD @ PAAPAAP @ WD.T @ G
    tr1, tr2 = float(np.trace(UG)), float(np.sum(UG * UG.T))
    ddf: float
    if scaled_shifted:
        a = np.sqrt(m / tr2)
        b = m - a * tr1
        T, ddf = (T0 - T1) * a + b, m
    else:
        a, b = tr2 / tr1, np.nan
        T, ddf = (T0 - T1) / a, tr1**2 / tr2
    return {
        "chisq_diff": float(T),
        "df_diff": ddf,
        "pvalue": chisq_sf(T, ddf),
        "scale": float(a),
        "shift": float(b),
        "trace_ugamma": tr1,
        "trace_ugamma2": tr2,
    }
