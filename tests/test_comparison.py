"""The CFA stage's model set and comparison (compval.comparison), on data where the answer is known."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from compval import cfa
from compval.comparison import build_models, comparison_tables
from compval.present.html import sections as report_sections
from compval.sem import fitmeasures

from conftest import REF
from tolerances import assert_close

HS = pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv")
FACTORS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
MODULE = {"visual": "m1", "textual": "m1", "speed": "m2"}
DIMS = {
    "visual__a": ["x1"],
    "visual__b": ["x2"],
    "visual__c": ["x3"],
    "textual__a": ["x4"],
    "textual__b": ["x5"],
    "textual__c": ["x6"],
    "speed__a": ["x7"],
    "speed__b": ["x8"],
    "speed__c": ["x9"],
}
DIM_FACTOR = {d: d.split("__")[0] for d in DIMS}


def _fit_all(data, **kw):
    models = build_models(FACTORS, MODULE, DIMS, DIM_FACTOR, **kw)
    return models, {n: cfa.fit_cfa(data if t is None else t(data), spec) for n, (spec, t) in models.items()}


def test_build_models_follows_the_structure():
    models = build_models(
        FACTORS,
        MODULE,
        DIMS,
        DIM_FACTOR,
        user_models={"x9_cross": ("visual =~ x1 + x2 + x3 + x9\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9")},
    )
    assert list(models) == [
        "hypothesized",
        "one_factor",
        "modules",
        "second_order",
        "orthogonal",
        "parcels",
        "x9_cross",
    ]
    assert "visual =~ x1 + x2 + x3" in models["hypothesized"][0].syntax
    one = build_models(FACTORS, {k: "m" for k in FACTORS}, DIMS, DIM_FACTOR, rivals=["modules", "one_factor"])
    assert list(one) == ["hypothesized", "one_factor"]  # one module: the modules model would equal one_factor
    with pytest.raises(ValueError):
        build_models(FACTORS, MODULE, DIMS, DIM_FACTOR, user_models={"hypothesized": "f =~ x1 + x2 + x3"})


def test_comparison_prefers_the_true_structure_and_reports_higher_order():
    _, fits = _fit_all(HS)
    t = comparison_tables(fits, cutoffs={"cfi": 0.90, "rmsea": 0.10, "srmr": 0.08})
    comp = t["comparison"].set_index("model")
    # nested rivals: chi-square differences equal the differences of the fitted chi-squares (lavTestLRT, ML)
    for m in ("one_factor", "orthogonal"):
        assert comp.loc[m, "chisq_diff"] == pytest.approx(fits[m].fit["chisq"] - fits["hypothesized"].fit["chisq"])
        assert comp.loc[m, "df_diff"] == fits[m].fit["df"] - fits["hypothesized"].fit["df"]
        assert comp.loc[m, "reference_preferred"]
    assert not comp.loc["parcels", "comparable"]  # different indicators: reported apart
    s = t["summary"]
    assert s["comparison"]["verdict"] == "supported"
    assert s["comparison"]["best_bic"] == "hypothesized"
    assert set(s["comparison"]["higher_order"]) == {"second_order"}
    assert s["hypothesized"]["loadings_std"]["visual"]["x1"] == pytest.approx(
        fits["hypothesized"].params.query("op == '=~' and lhs == 'visual' and rhs == 'x1'")["std_all"].iloc[0]
    )
    assert set(s["hypothesized"]["factor_correlations"]) == {"visual~~textual", "visual~~speed", "textual~~speed"}
    fit = t["fit"].set_index("model")
    # the hypothesized model is tests/test_cfa.py's case hs3_ml (lavaan: cfi = .931)
    lavaan = json.loads((REF / "cfa" / "hs3_ml_fit.json").read_text())
    for k in ("cfi", "tli", "rmsea", "srmr"):
        assert_close(fit.loc["hypothesized", k], lavaan[k], "cfa.fit.index", err_msg=k)
    for k in ("chisq", "bic"):
        assert_close(fit.loc["hypothesized", k], lavaan[k], "cfa.fit.stat", err_msg=k)
    assert fit.loc["hypothesized", "bic_rank"] < fit.loc["one_factor", "bic_rank"]
    v = t["verdicts"]
    assert set(v["model"]) == set(fits) and v["ok"].dtype == bool


def test_wrong_structure_is_not_supported():
    merged = {"visual_textual": FACTORS["visual"] + FACTORS["textual"], "speed": FACTORS["speed"]}
    fits = {
        "hypothesized": cfa.fit_cfa(HS, cfa.hypothesized(merged)),
        "correct": cfa.fit_cfa(HS, cfa.hypothesized(FACTORS)),
        "one_factor": cfa.fit_cfa(HS, cfa.one_factor(merged)),
    }
    s = comparison_tables(fits)["summary"]["comparison"]
    assert s["verdict"] == "not supported"
    assert s["best_bic"] == "correct"


def test_failed_models_are_reported_not_raised():
    small = HS.iloc[:30]  # lavaan does not converge here either (tests/test_cfa.py)
    _, fits = _fit_all(small, rivals=["one_factor", "orthogonal"])
    t = comparison_tables(fits)
    fit = t["fit"].set_index("model")
    assert set(fit.index) == {"hypothesized", "one_factor", "orthogonal"}
    assert not fit.loc["hypothesized", "converged"]
    assert fit.loc["hypothesized", "status"].startswith("not converged")
    assert np.isnan(fit.loc["hypothesized", "cfi"]) and not fit.loc["hypothesized", "meets_cutoffs"]
    s = t["summary"]
    assert s["hypothesized"]["status"] == fits["hypothesized"].status and s["hypothesized"]["converged"] is False
    assert s["comparison"]["verdict"] == "not supported"
    assert not t["comparison"].set_index("model")["comparable"].any()


def test_heywood_status_reaches_the_summary():
    heywood = HS.iloc[:100]  # a negative residual variance (lavaan flags it too; tests/test_cfa.py)
    fits = {
        "hypothesized": cfa.fit_cfa(heywood, cfa.hypothesized(FACTORS)),
        "one_factor": cfa.fit_cfa(heywood, cfa.one_factor(FACTORS)),
    }
    t = comparison_tables(fits)
    assert "heywood case" in t["summary"]["hypothesized"]["status"]
    fit = t["fit"].set_index("model")
    assert fit.loc["hypothesized", "converged"] and np.isfinite(fit.loc["hypothesized", "cfi"])
    assert not fit.loc["hypothesized", "meets_cutoffs"]  # an improper solution never meets the cut-offs
    assert t["summary"]["comparison"]["verdict"] == "not supported"


def test_a_fit_whose_measures_fail_has_a_failed_status_never_ok(monkeypatch):
    """An exception while computing fit measures marks the fit failed (not "ok" with an empty fit): the fit
    table, the summary, the cut-off verdicts and the comparison treat it as failed."""
    real = fitmeasures.fit_measures  # looked up there by the ML fit (compval.sem.mlfit)
    calls = {"n": 0}

    def fail_on_one_factor(m, *args, **kwargs):
        if len(m.lv) == 1:  # the one-factor rival only
            calls["n"] += 1
            raise FloatingPointError("planted failure")
        return real(m, *args, **kwargs)

    monkeypatch.setattr(fitmeasures, "fit_measures", fail_on_one_factor)
    _, fits = _fit_all(HS, rivals=["one_factor", "orthogonal"])
    assert calls["n"] == 1
    failed = fits["one_factor"]
    assert failed.converged and failed.fit == {}
    assert failed.status == "failed: fit measures could not be computed (FloatingPointError: planted failure)"
    t = comparison_tables(fits)
    fit = t["fit"].set_index("model")
    assert fit.loc["one_factor", "status"].startswith("failed") and not fit.loc["one_factor", "meets_cutoffs"]
    assert t["summary"]["one_factor"]["status"].startswith("failed")
    verdicts = t["verdicts"][t["verdicts"]["model"] == "one_factor"]
    assert len(verdicts) == 4 and not verdicts["ok"].any()
    assert not t["comparison"].set_index("model").loc["one_factor", "comparable"]
    assert fit.loc["hypothesized", "status"] == "ok" and fit.loc["orthogonal", "status"] == "ok"
    # the report's model comparison says so beside the rival (the summary's cfa section, as the report reads it)
    html = "".join(report_sections.cfa({"cfa": t["summary"]}, {}))
    row = re.search(r"<tr><td>[^<]*One factor[^<]*</td>.*?</tr>", html, re.I | re.S)
    assert row and "failed: fit measures could not be computed" in row.group(0), html
