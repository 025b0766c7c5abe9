"""The baseline (independence) model, fitted like the model (lavaan's ``lav_object_independence``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .engine import Model, fit_ml, objective, observed_information_analytic
from .partable import ModelStructure
from .teststat import robust_test

__all__ = ["baseline"]


def _independence_model(m: Model) -> Model:
    syn_rows = []
    for g in range(m.ngroups):
        for v in m.ov:
            syn_rows.append({"lhs": v, "op": "~~", "rhs": v, "group": g + 1})
            if m.meanstructure:
                syn_rows.append({"lhs": v, "op": "~1", "rhs": "", "group": g + 1})
    bpt = pd.DataFrame(syn_rows)
    bpt["user"] = True
    bpt["free"] = np.arange(1, len(bpt) + 1)
    bpt["value"] = np.nan
    bpt["label"] = ""
    bpt["start"] = np.nan
    bst = ModelStructure(ov_names=list(m.ov), lv_names=[], ngroups=m.ngroups, meanstructure=m.meanstructure)
    return Model(bpt, bst)


def baseline(m: Model, groups, estimator) -> dict:
    """Independence model (variances, plus means with a mean structure), fitted like the model
    (``lav_object_independence``): chisq, df, estimates and, under MLR, its scaling factor."""
    bm = _independence_model(m)
    ov = m.ov
    x0 = np.zeros(bm.nfree)
    for k, r in enumerate(bm.pt.itertuples()):
        gd = groups[r.group - 1]
        i = ov.index(r.lhs)
        x0[k] = gd.cov[i, i] if r.op == "~~" else gd.mean[i]
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
