"""Comparisons of a fitted CFA (``compval.cfa.fit_cfa``) with lavaan's stored output, shared by the SEM tests.

Each comparison takes the names of its tolerances (``tests/tolerances.py``) from the calling test, so that every
tolerance name is written out where it is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tolerances import assert_close

#: our parameter-table column -> lavaan's parameterEstimates() column
PARAM_COLUMNS = {
    "est": "est",
    "se": "se",
    "z": "z",
    "pvalue": "pvalue",
    "ci_lower": "ci.lower",
    "ci_upper": "ci.upper",
    "std_lv": "std.lv",
    "std_all": "std.all",
}

#: written by lavaan beside the fit measures (bookkeeping, not measures)
NOT_FIT_MEASURES = {"converged", "post.check", "warnings", "seconds"}
#: counts and fixed settings: compared exactly
EXACT_FIT_MEASURES = {
    "npar",
    "df",
    "df.scaled",
    "baseline.df",
    "baseline.df.scaled",
    "ntotal",
    "rmsea.ci.level",
    "rmsea.close.h0",
    "rmsea.notclose.h0",
}
#: statistics on an open scale (chi-squares, log-likelihoods, information criteria): compared relatively
STATISTICS = {"logl", "unrestricted.logl", "aic", "bic", "bic2", "fmin", "cn_05", "cn_01"}


def fit_measure_kind(key: str) -> str:
    """``"exact"``, ``"pvalue"`` (log scale), ``"stat"`` (relative) or ``"index"`` (absolute)."""
    if key in EXACT_FIT_MEASURES:
        return "exact"
    if "pvalue" in key:
        return "pvalue"
    if key in STATISTICS or key.startswith(("chisq", "baseline.chisq")):
        return "stat"
    return "index"


def read_params(path) -> pd.DataFrame:
    """A stored parameterEstimates() table with ``rhs`` "" for intercepts (not NaN) and ``group`` 1 if absent."""
    p = pd.read_csv(path, keep_default_na=False, na_values=[""])
    p["rhs"] = p["rhs"].fillna("")
    if "group" not in p.columns:
        p["group"] = 1
    return p


def compare_params(mine: pd.DataFrame, ref: pd.DataFrame, tols: dict[str, str], err: str) -> pd.DataFrame:
    """Every row and every column lavaan stored (of ``PARAM_COLUMNS``), matched on lhs, op, rhs, group; ``tols``
    maps our column to the tolerance name. Returns the merged table (R's columns suffixed ``_r``)."""
    mine = mine.assign(rhs=mine["rhs"].fillna(""))
    on = ["lhs", "op", "rhs", "group"]
    m = ref.merge(mine, on=on, suffixes=("_r", ""), how="left", indicator=True)
    missing = m.loc[m["_merge"] != "both", on]
    assert missing.empty, f"{err}: rows lavaan reports that we do not:\n{missing}"
    assert len(m) == len(ref), f"{err}: duplicated rows"
    if "free_r" in m.columns:
        assert (m["free_r"].astype(bool) == m["free"].astype(bool)).all(), f"{err}: free"
    for ours, theirs in PARAM_COLUMNS.items():
        if theirs not in ref.columns:  # the demo's tables have no CI columns
            continue
        col_r = f"{ours}_r" if theirs == ours else theirs
        assert_close(m[ours].to_numpy(float), m[col_r].to_numpy(float), tols[ours], err_msg=f"{err}: {ours}")
    return m


def compare_fit_measures(fit: dict, ref: dict, tols: dict[str, str], err: str) -> list[str]:
    """Every fit measure lavaan stored that we report; ``tols`` maps ``stat`` / ``index`` / ``pvalue`` / ``zero``
    (a statistic lavaan reports as exactly 0) to the tolerance names. A measure lavaan left NA must be absent or
    NaN here. Returns the stored measures we do not report, ``"<key> (NaN here)"`` for those we report as NaN
    where lavaan has a value (the caller checks them against its documented list)."""
    not_reported = []
    for k, v in ref.items():
        if k in NOT_FIT_MEASURES:
            continue
        if v is None:
            assert k not in fit or not np.isfinite(fit[k]), f"{err}: {k} is NA in lavaan, {fit[k]} here"
            continue
        if k not in fit:
            not_reported.append(k)
            continue
        if not np.isfinite(fit[k]):
            not_reported.append(f"{k} (NaN here)")
            continue
        kind = fit_measure_kind(k)
        if kind == "stat" and v == 0:  # a saturated model: zero up to rounding, no relative comparison
            kind = "zero"
        if kind == "exact":
            assert fit[k] == v, f"{err}: {k} {fit[k]} != {v}"
        else:
            assert_close(fit[k], v, tols[kind], err_msg=f"{err}: {k}")
    return sorted(not_reported)


def drop_unlisted_delta_constants(ref: pd.DataFrame, mine: pd.DataFrame, f) -> pd.DataFrame:
    """lavaan's rows that compval does not list -- the scale factors (``~*~``) and the observed intercepts
    (``~1``) where they are constants of the delta parameterisation (1 and 0: every single-group fit; the
    intercepts of multi-group fits) -- must be exactly those constants; returns the other rows."""
    key = ["lhs", "op", "rhs", "group"]
    m = ref.merge(mine[key], on=key, how="left", indicator=True)
    absent = ref[(m["_merge"] == "left_only").to_numpy()]
    assert absent["op"].isin(["~*~", "~1"]).all(), absent
    scale, intercepts = absent[absent["op"] == "~*~"], absent[absent["op"] == "~1"]
    assert (scale["lhs"] == scale["rhs"]).all() and set(absent["lhs"]) <= set(f.ov_names + f.lv_names)
    assert ("free" not in absent or not absent["free"].any()) and (absent["se"] == 0).all()
    assert (scale["est"] == 1).all() and (scale["std.all"] == 1).all()
    assert (intercepts["est"] == 0).all() and (intercepts["std.all"] == 0).all()
    return ref[(m["_merge"] == "both").to_numpy()]
