"""The baseline (independence) model, fitted like the model (lavaan's ``lav_object_independence``)."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from .engine import Model, fit_ml, objective, observed_information_analytic
from .partable import ModelStructure
from .samplestats import patterns
from .teststat import robust_test

__all__ = ["baseline"]


def _independence_model(m: Model, groups) -> tuple[Model, np.ndarray]:
    """The independence model of ``m`` (a variance, and with a mean structure an intercept, per indicator and
    group, all free) and its start values: each indicator's mean and (N-divisor) variance over the rows where it
    is observed.

    These are the maximum-likelihood estimates, also under FIML with missing data: with Sigma diagonal a row's
    log-likelihood is the sum of univariate normal terms over its observed variables, so the likelihood
    factorises over the indicators and each one's estimates are its observed mean and variance. The search
    then only confirms the optimum (lavaan finds the same point iteratively, to its tolerance)."""
    lhs: list[str] = []
    op: list[str] = []
    x0: list[float] = []
    group: list[int] = []
    for g in range(m.ngroups):
        gd = groups[g]
        if gd.complete:
            var, mean = np.diag(gd.cov), gd.mean
        else:
            pt = patterns(gd)
            var, mean = pt.observed_variances(), pt.observed_means()
        for i, v in enumerate(m.ov):
            lhs.append(v)
            op.append("~~")
            x0.append(var[i])
            group.append(g + 1)
            if m.meanstructure:
                lhs.append(v)
                op.append("~1")
                x0.append(mean[i])
                group.append(g + 1)
    k = len(lhs)
    bpt = pd.DataFrame(
        {
            "lhs": lhs,
            "op": op,
            "rhs": [v if o == "~~" else "" for v, o in zip(lhs, op)],
            "group": group,
            "user": np.ones(k, dtype=bool),
            "free": np.arange(1, k + 1),
            "value": np.full(k, np.nan),
            "label": [""] * k,
            "start": np.full(k, np.nan),
        }
    )
    bst = ModelStructure(ov_names=list(m.ov), lv_names=[], ngroups=m.ngroups, meanstructure=m.meanstructure)
    return Model(bpt, bst), np.array(x0, dtype=float)


def baseline(m: Model, groups, estimator) -> dict:
    """Independence model (variances, plus means with a mean structure), fitted like the model
    (``lav_object_independence``): chisq, df, estimates and, under MLR, its scaling factor.

    It depends on the data, the indicators, the mean structure and the estimator only, so the fits of rival
    models and invariance steps to the same sample statistics share one (kept with the first group's
    statistics, :func:`.samplestats.group_data`); callers treat the result as read-only."""
    key = (tuple(m.ov), m.ngroups, m.meanstructure, estimator)
    kept = groups[0].__dict__.setdefault("_baseline", [])
    for gs, k, out in kept:
        if k == key and len(gs) == len(groups) and all(a() is b for a, b in zip(gs, groups)):
            return out
    out = _baseline(m, groups, estimator)
    # weak references to the groups: kept with the first group's statistics, a strong one would be a reference
    # cycle, and the statistics (a copy of the rows) would outlive their last user until a garbage collection
    kept.append((tuple(weakref.ref(g) for g in groups), key, out))
    return out


def _baseline(m: Model, groups, estimator) -> dict:
    bm, x0 = _independence_model(m, groups)
    ov = m.ov
    complete = all(gd.complete for gd in groups)
    if complete:
        xb, f = x0, objective(bm, x0, groups)
    else:
        res = fit_ml(bm, groups, x0=x0)
        xb, f = res.x, res.f
    ntot = sum(g.n for g in groups)
    nmom = sum(len(ov) * (len(ov) + 1) // 2 + (len(ov) if m.meanstructure else 0) for _ in groups)
    out = {"chisq": ntot * f, "df": nmom - bm.nfree, "model": bm, "x": xb}
    if estimator == "MLR":
        info = observed_information_analytic(bm, xb, groups)
        out["c"] = robust_test(bm, xb, groups, ntot, info, out["df"])[0]
    return out
