"""Latent regression: the criterion regressed on the latent competencies with the SEM engine
(``lavaan::sem``)."""

from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr  # stats.norm.sf(x) is ndtr(-x), without scipy.stats' import

from .prepare import check_frame, control_design, normal_quantile

__all__ = ["LATENT_FIT_KEYS", "latent_regression_syntax", "latent_regression", "latent_summary"]

_NAME_RE = r"[A-Za-z][A-Za-z0-9_.]*"
LATENT_FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr")


def _lavaan_name(name: str, taken: set[str]) -> str:
    """A lavaan-safe variable name derived from ``name`` (invalid characters -> ``_``), unique within ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_.]", "_", str(name))
    if not re.fullmatch(_NAME_RE, base):
        base = "v_" + base
    out, k = base, 1
    while out in taken:
        k += 1
        out = f"{base}_{k}"
    taken.add(out)
    return out


def latent_regression_syntax(
    factors: Mapping[str, Sequence[str]],
    criterion: str,
    controls: Sequence[str] = (),
    *,
    suffix: str = "_lv",
) -> str:
    """lavaan syntax of the structural regression fitted by :func:`latent_regression`.

    The hypothesised measurement model (``factor =~ items``, as :func:`compval.cfa.hypothesized`), the observed
    criterion and each observed control as a single-indicator latent variable (``c_lv =~ 1*c``, ``c ~~ 0*c``:
    the latent variable *is* the observed variable, the phantom-variable device of Rindskopf 1984), and the
    regression ``criterion_lv ~ factors + controls_lv``. All names must already be valid lavaan names.
    Exogenous latent variables (competencies and controls) covary freely (lavaan's default).
    """
    lines = [f"{f} =~ {' + '.join(items)}" for f, items in factors.items()]
    single = [criterion, *controls]
    for v in single:
        lines.append(f"{v}{suffix} =~ 1*{v}")
    for v in single:
        lines.append(f"{v} ~~ 0*{v}")
    rhs = list(factors) + [f"{c}{suffix}" for c in controls]
    lines.append(f"{criterion}{suffix} ~ {' + '.join(rhs)}")
    return "\n".join(lines) + "\n"


def latent_regression(
    items: pd.DataFrame,
    factors: Mapping[str, Sequence[str]],
    criterion: pd.DataFrame | pd.Series,
    *,
    controls: pd.DataFrame | None = None,
    estimator: str = "ML",
    missing: str = "ml",
    conf: float = 0.95,
) -> pd.DataFrame:
    """Structural regression of each criterion on the latent competencies (SEM), criterion by criterion.

    Per criterion one structural equation model is fitted with :func:`compval.cfa.fit_cfa` (the lavaan-matching
    ML engine): the hypothesised measurement model (each competency a latent factor measured by its items,
    marker-variable identification, correlated factors) plus the regression of the criterion on all latent
    competencies (and the controls), i.e. the "latent variable regression" of Bollen (1989, ch. 8). Unlike the
    observed-score regression it is free of measurement error in the predictors. The observed criterion and the
    observed controls enter as single-indicator latent variables (``y_lv =~ 1*y``, ``y ~~ 0*y``; Rindskopf
    1984) so that the engine's latent-only regressions apply; this is the same model as lavaan's
    ``y ~ f1 + ... + x`` with ``fixed.x = FALSE``. Categorical controls are treatment coded first
    (:func:`control_design`, as R's ``model.matrix``) and every dummy enters as its own variable.

    Matches ``lavaan::sem(latent_regression_syntax(...), data, estimator = estimator, missing = missing)``
    (lavaan 0.6.14): ``missing = "ml"`` (default) is full-information ML (Arbuckle 1996), so respondents with a
    missing criterion still inform the measurement model and the factor covariances; ``"listwise"`` drops rows
    with any missing value among the model's variables.

    Parameters
    ----------
    items : DataFrame
        Item responses; rows aligned with ``criterion`` (and ``controls``) on the index.
    factors : mapping
        Competency key -> item columns (the hypothesised model, e.g. ``Codebook.groups("competency")``).
    criterion : DataFrame or Series
        One numeric column per criterion (transform skewed criteria beforehand, e.g. :func:`transform_criteria`).
    controls : DataFrame, optional
        Control variables entered beside the competencies (numeric or categorical).
    estimator : {"ML", "MLR"}
        Passed to :func:`compval.cfa.fit_cfa` (MLR: Huber-White SEs, Yuan-Bentler scaled test).
    missing : {"ml", "listwise"}
    conf : float
        Level of the Wald intervals ``b +- z se``.

    Returns
    -------
    DataFrame
        One row per (criterion, predictor): ``criterion, term, term_type`` ("competency" or "control"),
        ``b, se, z, p, ci_lower, ci_upper, std_all`` (standardized beta, lavaan ``std.all``), then the
        model-level columns repeated on each row: ``r2`` (R-squared of the criterion), ``n`` (rows used),
        ``n_criterion`` (of these, rows with an observed criterion), ``chisq, df, pvalue, cfi, tli, rmsea,
        srmr`` (``fitMeasures``; under MLR the scaled chi-square and robust indices are in ``chisq_scaled,
        cfi_robust, rmsea_robust``), ``converged``, ``status`` (from the engine: convergence, Heywood cases,
        identification) and ``estimator``, ``missing``. Estimation problems never raise: they are reported in
        ``status`` with missing estimates.
    """
    from .. import cfa as _cfa  # local import: the SEM engine is only needed here

    if isinstance(criterion, pd.Series):
        criterion = criterion.to_frame(criterion.name if criterion.name is not None else "criterion")
    check_frame(items, "items")
    check_frame(criterion, "criterion")
    if controls is not None:
        check_frame(controls, "controls")
    if missing not in ("ml", "listwise"):
        raise ValueError("missing must be 'ml' or 'listwise'")
    facs = {str(k): [str(i) for i in v] for k, v in factors.items()}
    if not facs or any(not v for v in facs.values()):
        raise ValueError("factors must map each competency to at least one item")
    item_cols = list(dict.fromkeys(i for v in facs.values() for i in v))
    absent = [i for i in item_cols if i not in items.columns]
    if absent:
        raise KeyError(f"items not in the data: {absent}")
    z = normal_quantile(conf)

    # lavaan-safe internal names (items, factors, criterion, controls), mapped back in the output
    taken: set[str] = set()
    item_name = {i: _lavaan_name(i, taken) for i in item_cols}
    fac_name = {f: _lavaan_name(f, taken) for f in facs}
    ifacs = {fac_name[f]: [item_name[i] for i in v] for f, v in facs.items()}
    # the items under their internal names, without copying a float table whose columns are the items already
    # (each copy is 400 MB at a million respondents): the criterion column is added to this frame, not to items
    base = items if list(items.columns) == item_cols else items[item_cols]
    if not all(isinstance(t, np.dtype) and t == np.float64 for t in base.dtypes):
        base = base.apply(pd.to_numeric, errors="raise").astype(float)
    base = base.set_axis([item_name[i] for i in item_cols], axis=1, copy=False)
    ctl_design, _ = control_design(controls, index=base.index if controls is not None else None)
    ctl_name = {}
    for c in ctl_design.columns:
        v = _lavaan_name(c, taken)
        while v + "_lv" in taken:  # its single-indicator latent variable must not clash either
            v = _lavaan_name(c, taken)
        ctl_name[c] = v
        taken.add(v + "_lv")
    for c in ctl_design.columns:  # added column by column: a join would copy the items (400 MB at 10^6 rows)
        base[ctl_name[c]] = ctl_design[c].reindex(base.index)
    ctl_columns = list(ctl_design.columns)
    del ctl_design  # its values are in base now (53 MB at 10^6 rows for the demo's controls)

    rows = []
    for cr in criterion.columns:
        t2 = set(taken)
        ycol = _lavaan_name(cr, t2)
        while ycol + "_lv" in t2:
            ycol = _lavaan_name(cr, t2)
        # the criterion is put beside the items and controls for its fit and removed after it (this function's
        # own frame: no copy of a million rows per criterion)
        data = base
        data[ycol] = pd.to_numeric(criterion[cr].reindex(base.index), errors="raise").astype(float)
        syntax = latent_regression_syntax(ifacs, ycol, list(ctl_name.values()))
        # the rows the fit uses and their criterion values, without a copy of the frame
        keep = data.notna().all(axis=1) if missing == "listwise" else data.notna().any(axis=1)
        n_used = int(keep.sum())
        yv = data[ycol][keep].dropna()
        if len(yv) < 2 or float(yv.var()) == 0.0:
            # nothing to regress: report instead of fitting (the engine would fail on the h1 model)
            fm, r2, conv = {}, np.nan, False
            status = f"not estimable: criterion has {len(yv)} observed value(s)" + (
                " without variance" if len(yv) >= 2 else ""
            )
            P = pd.DataFrame(columns=["lhs", "op", "rhs", "est", "se", "std_all"])
        else:
            fit = _cfa.fit_cfa(
                data, syntax, estimator=estimator, missing=missing, robust_fiml=estimator.upper() == "MLR"
            )
            fm = fit.fit or {}
            r2 = float(fit.r2.get(ycol + "_lv", np.nan)) if len(fit.r2) else np.nan
            conv, status, P = bool(fit.converged), fit.status, fit.params
            del fit  # its sample statistics (a copy of the rows) go before the next criterion's are made
        del data[ycol]
        model_cols = {
            "r2": r2,
            "n": int(fm.get("ntotal", n_used)),
            "n_criterion": int(len(yv)),
            **{k: float(fm.get(k, np.nan)) for k in LATENT_FIT_KEYS},
        }
        if estimator.upper() == "MLR":
            model_cols.update(
                {
                    "chisq_scaled": float(fm.get("chisq.scaled", np.nan)),
                    "cfi_robust": float(fm.get("cfi.robust", np.nan)),
                    "rmsea_robust": float(fm.get("rmsea.robust", np.nan)),
                }
            )
        model_cols.update(converged=conv, status=status, estimator=estimator.upper(), missing=missing)
        reg = P[(P["op"] == "~") & (P["lhs"] == ycol + "_lv")].set_index("rhs")
        terms = [(f, fac_name[f], "competency") for f in facs] + [
            (c, ctl_name[c] + "_lv", "control") for c in ctl_columns
        ]
        for label, rhs, kind in terms:
            r = reg.loc[rhs] if rhs in reg.index else None
            b = float(r["est"]) if r is not None else np.nan
            se = float(r["se"]) if r is not None else np.nan
            zval = b / se if se and np.isfinite(se) and se > 0 else np.nan
            rows.append(
                {
                    "criterion": cr,
                    "term": label,
                    "term_type": kind,
                    "b": b,
                    "se": se,
                    "z": zval,
                    "p": float(2 * ndtr(-abs(zval))) if np.isfinite(zval) else np.nan,
                    "ci_lower": b - z * se,
                    "ci_upper": b + z * se,
                    "std_all": float(r["std_all"]) if r is not None else np.nan,
                    **model_cols,
                }
            )
    return pd.DataFrame(rows)


def latent_summary(table: pd.DataFrame) -> dict:
    """JSON-ready summary of a :func:`latent_regression` table for ``summary.json``.

    ``{criterion: {"r2", "n", "status", "fit": {chisq, df, pvalue, cfi, tli, rmsea, srmr}, "betas":
    {competency: standardized beta (std.all)}}}``; controls are left out of ``betas``, missing numbers become
    ``None``.
    """

    def num(v):
        v = float(v)
        return None if math.isnan(v) else v

    out: dict = {}
    for cr, sub in table.groupby("criterion", sort=False):
        first = sub.iloc[0]
        comp = sub[sub["term_type"] == "competency"]
        out[cr] = {
            "r2": num(first["r2"]),
            "n": int(first["n"]),
            "status": str(first["status"]),
            "fit": {k: num(first[k]) for k in LATENT_FIT_KEYS},
            "betas": {str(t): num(b) for t, b in zip(comp["term"], comp["std_all"])},
        }
    return out
