"""Estimation of a model of continuous indicators by ML or MLR, complete data or FIML, one or more groups
(lavaan's ``lavaan()`` flow for ``cfa()``): parameter table, data checks, estimation, standard errors,
parameter table with standardized solutions, admissibility checks and fit measures, as the parts of a result."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fitmeasures
from .data import df_status, ml_groups
from .engine import Model, fit_ml
from .model import reflect
from .params import admissibility, param_table
from .partable import build_partable, observed_names
from .result import FitRecord
from .vcov import check_identified, ml_information, ml_vcov

__all__ = ["fit_ml_model", "ml_sample_statistics", "needs_rows"]


def ml_sample_statistics(data: pd.DataFrame, model, opts: dict) -> None:
    """Compute the sample statistics that an ML/MLR fit of ``model`` to ``data`` with ``opts`` (as
    :func:`fit_ml_model`) starts from, so that they are kept (:func:`.samplestats.group_data`'s cache of recent data
    sets) for the fits that follow, in this process or in processes forked from it. A problem with the data is left
    for the fit to report."""
    ov, group = observed_names(model.syntax), opts["group"]
    if any(c not in data.columns for c in ov) or (group is not None and group not in data.columns):
        return  # the fit raises for it
    ml_groups(data, ov, group, opts["missing"], [], [], rows=needs_rows(opts))


def needs_rows(opts: dict) -> bool:
    """Whether a fit with ``opts`` needs every row of its data kept beside the sample statistics: MLR's casewise
    scores (robust standard errors and test); ML's numbers come from the missing-data patterns' moments."""
    return opts["estimator"] == "MLR"


def fit_ml_model(data: pd.DataFrame, model, opts: dict) -> dict:
    """The parts of a :class:`compval.cfa.CFAResult` of an ML/MLR fit of ``model`` (a
    :class:`compval.cfa.ModelSpec`); ``opts``: the options of :func:`compval.cfa.fit_cfa` (``meanstructure``
    None: only for multi-group or FIML models, as lavaan).

    Never raises for estimation problems: they are reported in ``status`` and ``warnings``.
    """
    missing, group = opts["missing"], opts["group"]
    if missing not in ("listwise", "ml"):
        raise ValueError("missing must be 'listwise' or 'ml'")
    if opts["meanstructure"] is None:
        opts = dict(opts, meanstructure=group is not None or missing == "ml")
    rec = FitRecord(model, opts)
    # groups and their sample statistics first (the table needs their number); their reasons not to estimate
    # follow the model's own in the status
    g_status: list[str] = []
    g_warnings: list[str] = []
    rec.labels, groups = ml_groups(
        data, observed_names(model.syntax), group, missing, g_status, g_warnings, rows=needs_rows(opts)
    )
    pt, st = build_partable(
        model.syntax,
        ngroups=len(rec.labels),
        std_lv=opts["std_lv"],
        orthogonal=opts["orthogonal"],
        meanstructure=opts["meanstructure"],
        group_equal=opts["group_equal"],
    )
    m = rec.m = Model(pt, st)
    rec.st = st
    if not model.identified:
        rec.status.append("not identified (" + "; ".join(model.notes) + ")")
    p_ = len(st.ov_names)
    df_model = len(rec.labels) * (p_ * (p_ + 1) // 2 + (p_ if opts["meanstructure"] else 0)) - m.nfree
    df_status(df_model, rec.status, rec.warnings)
    rec.status += g_status
    rec.warnings += g_warnings
    if groups is None:
        return rec.failed()
    try:
        res = fit_ml(m, groups)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        return rec.failed(f"estimation failed ({exc})")
    x = reflect(m, res.x) if opts["std_lv"] else res.x
    if not res.converged:
        rec.status.insert(0, f"not converged ({res.message})")
    ntot = sum(g.n for g in groups)
    vcov = info = None
    try:
        if opts["se"] != "none":
            info, vcov = ml_vcov(m, x, groups, opts["estimator"], missing)
        elif opts["estimator"] == "MLR":  # no standard errors, but the scaled test needs the information
            info = ml_information(m, x, groups, opts["estimator"], missing)
        else:
            check_identified(m, x, groups)
    except np.linalg.LinAlgError:
        rec.warnings.append(
            "could not compute standard errors: the information matrix could not be inverted "
            "(the model may not be identified)"
            if opts["se"] != "none"
            else "the information matrix is singular (the model may not be identified)"
        )
        if "not identified" not in " ".join(rec.status):
            rec.status.append("not identified (singular information matrix)")
    params, std_extra = param_table(m, x, vcov, groups)
    imp, samp, r2 = {}, {}, []
    for g, gd in enumerate(groups):
        sigma, mu = m.implied(x, g, gd.mean)
        key = rec.labels[g] if group is not None else None
        imp[key] = pd.DataFrame(sigma, index=st.ov_names, columns=st.ov_names)
        samp[key] = pd.DataFrame(gd.cov, index=st.ov_names, columns=st.ov_names)
        r2.append(std_extra[g]["r2"])
    if group is None:
        moments = {"implied_cov": imp[None], "sample_cov": samp[None], "r2": r2[0]}
    else:
        r2_all = pd.concat(r2, keys=list(range(1, len(rec.labels) + 1)), names=["group", "name"])
        moments = {"implied_cov": imp, "sample_cov": samp, "r2": r2_all}
    rec.status += admissibility(m, x, params, std_extra, rec.warnings)
    fit = {}
    if res.converged and df_model >= 0:
        fit = rec.measure(
            fitmeasures.fit_measures, m, x, groups, ntot, opts["estimator"], info, info is not None, st, opts
        )
    return rec.result(res.converged, params, fit, vcov=vcov, _groups=groups, _x=x, **moments)
