"""Measurement invariance: configural -> metric -> scalar -> strict across groups (Meredith 1993), each step
compared with the previous by :func:`.compare.compare_models` and Chen's (2007) criteria."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..parallel import forked_map
from .compare import compare_models, fitval
from .result import without_rows

if TYPE_CHECKING:
    from .result import CFAResult
    from .spec import ModelSpec

__all__ = ["INVARIANCE_STEPS", "measurement_invariance"]


INVARIANCE_STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


def measurement_invariance(
    data: pd.DataFrame,
    model: ModelSpec | str,
    group: str,
    *,
    fit: Callable[..., CFAResult],
    std_lv: bool = False,
    estimator: str = "ML",
    missing: str = "listwise",
    steps: Sequence[str] = tuple(INVARIANCE_STEPS),
    delta_cfi: float,
    delta_rmsea: float,
    robust_fiml: bool | None = None,
    fallback: tuple[str, str] | None = None,
    workers: int = 1,
    prepare: Callable[..., None] | None = None,
    se: str = "none",
):
    """Configural -> metric -> scalar -> strict invariance across ``group`` (Meredith 1993; Chen 2007 criteria).

    Each step is ``cfa(model, group=, group.equal=, missing=)``; consecutive steps are compared with
    :func:`compare_models` (``lavTestLRT``). A step holds when CFI drops by at most ``delta_cfi`` and RMSEA rises
    by at most ``delta_rmsea`` relative to the previous step (Chen 2007); under MLR the robust CFI/RMSEA and the
    Satorra-Bentler (2001) scaled difference test are used. Under WLSMV (ordinal items, delta parameterisation):
    metric = equal loadings, scalar = equal loadings and thresholds (scale factors and latent means then free in
    the other groups, as lavaan), compared by the DIFFTEST and the scaled CFI/RMSEA; strict is reported as not
    applicable (residual variances are not parameters under the delta parameterisation).

    Parameters
    ----------
    fit : callable
        Fits one step: :func:`compval.cfa.fit_cfa` (``cfa.measurement_invariance`` passes it; the engine does not
        import its front end).
    missing : {"listwise", "ml"}
        Passed to every ``fit`` call (``"ml"``: FIML).
    robust_fiml : bool, optional
        Passed to ``fit`` (with ``missing="ml"``: False skips the FIML-corrected robust indices; under
        MLR the steps are then compared on the normal-theory CFI/RMSEA). Default None: computed under MLR
        (the table uses them), skipped under ML (the table uses the normal-theory CFI/RMSEA).

    fallback : (estimator, missing), optional
        Under WLSMV: when the configural model cannot be estimated because a category is empty in a group (lavaan
        stops there), the whole sequence is fitted with this continuous estimator instead (e.g. ("MLR", "ml")),
        and ``note`` says why.
    se : {"none", "standard"}
        Passed to ``fit``: the table reads the steps' fit measures only, so by default they have no standard
        errors (lavaan's ``se = "none"``; estimates, tests and fit measures unchanged). ``"standard"`` gives the
        returned fits their standard errors.
    workers : int
        The steps are fitted by up to this many processes (:func:`compval.parallel.forked_map`); the numbers are
        the same whatever ``workers`` is, the fits come back without their rows (:func:`.result.without_rows`).
    prepare : callable, optional
        Computes the sample statistics of a fit ahead of it, with ``fit``'s arguments
        (:func:`compval.cfa.prepare_sample_statistics`): called once before the workers are forked, so that they
        inherit the groups' statistics, which every step shares, instead of computing them again.

    Never raises for a step that cannot be estimated (e.g. a group too small, non-convergence): that row keeps
    its ``status``, its fit values are NaN, ``holds`` is NaN, and the next steps are still fitted (a step
    following one without fit measures has NaN differences and ``holds`` NaN). The configural step holds
    (True) when it has fit measures.

    Returns
    -------
    (table, fits, first_failure)
        table: DataFrame (step, estimator, df, chisq, cfi, rmsea, srmr, chisq_diff, df_diff, pvalue, delta_cfi,
        delta_rmsea, holds, status, note); fits: dict step -> CFAResult (None if fitting raised; without its
        rows when ``workers`` > 1);
        first_failure: name of the first step whose comparison with the previous step fails Chen's criteria,
        or None (steps with ``holds`` NaN are not failures).
    """

    ordinal = estimator.upper() == "WLSMV"
    if missing not in (("listwise", "pairwise", "ml") if ordinal else ("listwise", "ml")):
        raise ValueError("missing must be 'listwise' or 'ml' ('pairwise' with WLSMV)")
    if estimator.upper() not in ("ML", "MLR", "WLSMV"):
        raise ValueError("estimator must be 'ML', 'MLR' or 'WLSMV'")
    unknown = [s for s in steps if s not in INVARIANCE_STEPS]
    if unknown:
        raise ValueError(f"unknown invariance steps {unknown}; known: {list(INVARIANCE_STEPS)}")
    if group not in data.columns:
        raise KeyError(f"grouping column {group!r} not in data")
    rob = estimator.upper() == "MLR"
    if robust_fiml is None:
        robust_fiml = None if rob else False
    strict_ordinal = (
        "not applicable: under the delta parameterisation of ordinal items the residual variances "
        "are not parameters (strict invariance needs the theta parameterisation)"
    )
    todo = [s for s in steps if not (ordinal and "residuals" in INVARIANCE_STEPS[s])]

    def fit_step(s: str) -> CFAResult | str:
        try:
            return fit(
                data,
                model,
                std_lv=std_lv,
                estimator=estimator,
                missing=missing,
                group=group,
                group_equal=INVARIANCE_STEPS[s],
                robust_fiml=robust_fiml,
                se=se,
            )
        except Exception as exc:  # a step that cannot be set up is reported (its status), never raised
            return f"estimation failed ({type(exc).__name__}: {exc})"

    def prelude() -> None:
        if prepare is not None:
            prepare(data, model, std_lv=std_lv, estimator=estimator, missing=missing, group=group)

    done = forked_map(
        fit_step, todo, workers, detach=lambda r: r if isinstance(r, str) else without_rows(r), prelude=prelude
    )
    fits: dict[str, CFAResult | None] = {}
    errors: dict[str, str] = {}
    for s in steps:
        r = done.get(s, strict_ordinal)
        if isinstance(r, str):
            fits[s], errors[s] = None, r
        else:
            fits[s] = r
    rows = []
    prev = None
    first_fail = None
    for s in steps:
        f = fits[s]
        fm = f.fit if f is not None else {}
        ok = bool(fm) and np.isfinite(fitval(f, "chisq")) and np.isfinite(fitval(f, "df"))
        if ordinal:  # the scaled indices exist for every step (lavaan has no robust ones with free scales)
            c = fitval(f, "cfi.scaled")
            r = fitval(f, "rmsea.scaled")
        else:
            c = fitval(f, "cfi.robust") if f is not None and rob and "cfi.robust" in fm else fitval(f, "cfi")
            r = fitval(f, "rmsea.robust") if f is not None and rob and "rmsea.robust" in fm else fitval(f, "rmsea")
        row: dict[str, Any] = {
            "step": s,
            "df": fitval(f, "df"),
            "chisq": fitval(f, "chisq"),
            "cfi": c,
            "rmsea": r,
            "srmr": fitval(f, "srmr"),
            "chisq_diff": np.nan,
            "df_diff": np.nan,
            "pvalue": np.nan,
            "delta_cfi": np.nan,
            "delta_rmsea": np.nan,
            "holds": True if ok else np.nan,
            "status": f.status if f is not None else errors[s],
        }
        if prev is not None:
            pf = fits[prev]
            prev_ok = rows[-1]["_ok"]
            if ok and prev_ok:
                assert f is not None and pf is not None  # both have fit measures
                cmp = compare_models({prev: pf, s: f})
                last = cmp.loc[cmp["model"] == s].iloc[0]
                row.update(
                    {
                        "chisq_diff": last["chisq_diff"],
                        "df_diff": last["df_diff"],
                        "pvalue": last["pvalue"],
                        "delta_cfi": c - rows[-1]["cfi"],
                        "delta_rmsea": r - rows[-1]["rmsea"],
                    }
                )
                if np.isfinite(row["delta_cfi"]) and np.isfinite(row["delta_rmsea"]):
                    row["holds"] = bool((-row["delta_cfi"]) <= delta_cfi and row["delta_rmsea"] <= delta_rmsea)
                else:
                    row["holds"] = np.nan
                if row["holds"] is False and first_fail is None:
                    first_fail = s
            else:
                row["holds"] = np.nan
        row["_ok"] = ok
        rows.append(row)
        prev = s
    table = pd.DataFrame(rows).drop(columns="_ok")
    table.insert(1, "estimator", estimator.upper())
    table["note"] = ""
    conf = table.loc[table["step"] == "configural", "status"]
    if ordinal and fallback is not None and len(conf) and "is empty in group" in str(conf.iloc[0]):
        fb_table, fb_fits, fb_fail = measurement_invariance(
            data,
            model,
            group,
            fit=fit,
            std_lv=std_lv,
            estimator=fallback[0],
            missing=fallback[1],
            steps=steps,
            delta_cfi=delta_cfi,
            delta_rmsea=delta_rmsea,
            workers=workers,
            se=se,
        )
        fb_table["note"] = (
            f"WLSMV not estimable ({conf.iloc[0].removeprefix('not estimable: ')}); fitted by {fallback[0]}"
        )
        return fb_table, fb_fits, fb_fail
    return table, fits, first_fail
