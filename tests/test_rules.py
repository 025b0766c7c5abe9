"""compval.present.rules: each cut-off written once, its defaults those of the configuration schema, and every
place that judges a value against it agreeing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compval import validity as V
from compval.config import config_defaults
from compval.present import rules as R


def test_the_schema_defaults_are_the_rules_defaults():
    d = config_defaults()
    assert R.cutoff_rules(d["cfa"]["cutoffs"]) == R.DEFAULT_CUTOFFS  # Hu & Bentler (1999), same order
    assert d["validity"]["delta_cfi"] == R.CHEN_DELTA_CFI and d["validity"]["delta_rmsea"] == R.CHEN_DELTA_RMSEA


@pytest.mark.parametrize(
    ("index", "rule", "expected"),
    [
        ("cfi", 0.95, (">=", 0.95)),
        ("rmsea", 0.06, ("<=", 0.06)),
        ("rmsea.robust", 0.06, ("<=", 0.06)),
        ("srmr", np.float64(0.08), ("<=", 0.08)),
        ("tli", [">=", 0.9], (">=", 0.9)),
        ("rmsea", (">=", 0), (">=", 0.0)),
    ],
)
def test_a_cutoff_becomes_a_direction(index, rule, expected):
    assert R.cutoff_rule(index, rule) == expected


def test_judging_and_the_report_verdict_agree():
    fit = {"cfi": 0.951, "cfi.robust": 0.94, "rmsea": 0.061, "srmr": np.nan}
    rows = R.judge_cutoffs(fit, R.DEFAULT_CUTOFFS, robust=True)
    assert [(r["index"], r["ok"]) for r in rows] == [
        ("cfi.robust", False),
        ("tli", False),
        ("rmsea", False),
        ("srmr", False),
    ]
    assert R.index_verdict("cfi", 0.951, 0.95)[1] is True and R.index_verdict("srmr", np.nan, 0.08)[1] is None
    assert not any(R.judge_cutoffs(fit, R.DEFAULT_CUTOFFS, robust=False, usable=False)[k]["ok"] for k in range(4))


@pytest.mark.parametrize(
    ("value", "cls", "ok"),
    [
        (0.5, "discriminant", True),
        (0.85, "questionable", False),
        (0.899, "questionable", False),
        (0.9, "not discriminant", False),
    ],
)
def test_htmt_bands_are_the_same_for_the_table_and_the_report(value, cls, ok):
    assert R.htmt_class(value) == cls and R.htmt_verdict(value)[1] is ok
    assert R.htmt_class(np.nan) == "undefined" and R.htmt_verdict(None) == ("not available", None)
    assert (V.HTMT_STRICT, V.HTMT_LIBERAL) == (R.HTMT_STRICT, R.HTMT_LIBERAL)


def test_convergent_and_fornell_larcker_rules():
    assert R.meets_minimum(0.70, R.CR_MIN) and not R.meets_minimum(0.69, R.CR_MIN)
    assert R.meets_minimum(0.50, R.AVE_MIN) and not R.meets_minimum(np.nan, R.AVE_MIN)
    assert R.fornell_larcker_holds(0.5, 0.6, 0.7) and not R.fornell_larcker_holds(0.48, 0.6, 0.7)
    assert R.significant(0.049) and not R.significant(0.05) and not R.significant(None)


def test_fit_verdict_returns_a_table():
    v = R.fit_verdict({"cfi": 0.96, "rmsea": 0.07}, {"cfi": 0.95, "rmsea": 0.06})
    assert isinstance(v, pd.DataFrame) and v["ok"].tolist() == [True, False]
