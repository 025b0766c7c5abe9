"""Revision suggestions (compval.revision.suggest): planted defects are found with their evidence, each change is
applied to a valid codebook and refitted alone (issue 13, point 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compval import cfa
from compval.codebook import Codebook, CodebookError
from compval.efa import fa
from compval.reliability import item_analysis
from compval.revision.suggest import SUGGESTION_COLUMNS, apply_change, evaluate_suggestions, suggest_revisions
from compval.sem.modindices import modification_indices
from own_instrument import codebook as codebook_dict

PREFIXES = ["A", "B", "C"]


def _planted(defect: str = "", n: int = 900, seed: int = 3) -> tuple[Codebook, pd.DataFrame, pd.Series]:
    """Three competencies of six items (two dimensions of three each), loadings .7, factor correlations .3, and one
    planted defect: ``misplaced`` (A6 measures B, not A), ``weak`` (C6 loads .15) or ``duplicate`` (B2 repeats B1)."""
    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal(np.zeros(3), 0.7 * np.eye(3) + 0.3, size=n)
    cols = {}
    for f, p in enumerate(PREFIXES):
        for j in range(1, 7):
            fac = 1 if (defect, p, j) == ("misplaced", "A", 6) else f
            lam = 0.15 if (defect, p, j) == ("weak", "C", 6) else 0.7
            cols[f"{p}{j}"] = lam * eta[:, fac] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
    if defect == "duplicate":
        cols["B2"] = cols["B1"] + 0.4 * rng.standard_normal(n)
    items = pd.DataFrame(cols, index=pd.Index([f"r{i:04d}" for i in range(n)], name="pid"))
    criterion = pd.Series(0.5 * eta[:, 2] + rng.standard_normal(n), index=items.index)
    return Codebook.from_dict(codebook_dict(PREFIXES, 6, {"min": 1, "max": 7}, reverse=())), items, criterion


def _suggest(cb: Codebook, items: pd.DataFrame) -> pd.DataFrame:
    """The suggestions from every kind of evidence, as the pipeline has it."""
    fit = cfa.fit_cfa(items[cb.item_ids], cfa.hypothesized(cb.groups("competency")), estimator="ML")
    assert fit.status == "ok"
    rest = pd.concat([item_analysis(items[m]).set_index("item")["r_drop"] for m in cb.groups("competency").values()])
    pattern = fa(items[cb.item_ids].corr(), 3).loadings
    return suggest_revisions(cb, items, fit=fit, item_rest=rest, efa_pattern=pattern, mi=modification_indices(fit))


@pytest.fixture(scope="module")
def planted():
    out = {}
    for defect in ("misplaced", "weak"):
        cb, items, criterion = _planted(defect)
        out[defect] = (cb, items, criterion, _suggest(cb, items))
    return out


def _one(suggestions: pd.DataFrame, change: str, subject: str) -> dict:
    rows = suggestions[(suggestions["change"] == change) & (suggestions["subject"] == subject)]
    assert len(rows) == 1, suggestions[["change", "subject", "target", "kind"]]
    return rows.iloc[0].to_dict()


def test_a_correct_model_draws_only_chance_modification_indices():
    """No loading, item-total, EFA, redundancy or coherence suggestion on data the model describes; modification
    indices of 10 (p = .0016 each, 1 df) can occur by chance among its 189 fixed parameters: at most one here."""
    cb, items, _ = _planted()
    s = _suggest(cb, items)
    assert list(s.columns) == SUGGESTION_COLUMNS
    assert len(s) <= 1 and set(s["kind"]) <= {"mi_residual", "mi_cross_loading"} and (s["value"] < 12).all()


def test_each_planted_defect_is_the_first_suggestion_with_its_evidence(planted):
    cb, _, _, s = planted["misplaced"]
    assert list(s.columns) == SUGGESTION_COLUMNS and list(s["suggestion"]) == [
        f"s{k:02d}" for k in range(1, len(s) + 1)
    ]
    first = s.iloc[0]  # A6 measures B: moved into one of B's dimensions, on EFA and MI evidence
    assert (first["change"], first["subject"], first["source"]) == ("move", "A6", "c_A")
    assert cb.dimension_competency()[first["target"]] == "c_B"
    assert {"efa_other_factor", "mi_cross_loading"} <= set(first["kind"].split("+"))
    first = planted["weak"][3].iloc[0]  # C6 barely loads: low standardized loading and low item-rest r
    assert (first["change"], first["subject"]) == ("drop", "C6")
    assert {"low_loading", "low_item_rest"} <= set(first["kind"].split("+"))
    assert "standardized loading 0.2" in first["evidence"] and "corrected item-total r" in first["evidence"]
    cb, items, _ = _planted("duplicate")
    first = _suggest(cb, items).iloc[0]  # B1/B2: the one with the lower item-rest r is dropped
    assert first["change"] == "drop" and first["subject"] in ("B1", "B2")
    assert {"redundant_pair", "mi_residual"} <= set(first["kind"].split("+"))


def test_an_incoherent_dimension_is_merged_into_its_closest_sibling():
    cb, items, _ = _planted()
    rng = np.random.default_rng(9)
    noise = pd.DataFrame(rng.standard_normal((len(items), 3)), index=items.index, columns=["A1", "A2", "A3"])
    s = suggest_revisions(cb, items.assign(**noise))  # "A one" (A1-A3): three unrelated items
    merge = _one(s, "merge", "c_A__a_one")
    assert merge["target"] == "c_A__a_two" and merge["kind"] == "incoherent_dimension" and merge["value"] < 0.15


def test_each_change_gives_a_valid_codebook_and_a_bad_one_names_the_problem():
    cb = _planted()[0]
    moved = apply_change(cb, "move", "A6", "c_B__b_two")
    assert moved.groups("competency")["c_B"][-1] == "A6" and "A6" not in moved.groups("competency")["c_A"]
    dropped = apply_change(cb, "drop", "C6")
    assert "C6" not in dropped.item_ids and len(dropped.item_ids) == len(cb.item_ids) - 1
    merged = apply_change(cb, "merge", "c_A__a_one", "c_A__a_two")
    assert "c_A__a_one" not in merged.dimensions and len(merged.groups("dimension")["c_A__a_two"]) == 6
    assert cb.item_ids == Codebook.from_dict(cb.to_dict()).item_ids  # the original is untouched
    last = cb
    for item in ("C1", "C2", "C3", "C4", "C5"):
        last = apply_change(last, "drop", item)
    with pytest.raises(CodebookError):
        apply_change(last, "drop", "C6")  # the last item of a competency
    with pytest.raises(ValueError, match="no dimension 'nowhere'"):
        apply_change(cb, "move", "A6", "nowhere")


def test_each_suggestion_refitted_alone(planted):
    cb, items, _, s = planted["misplaced"]
    ev = evaluate_suggestions(cb, items, s, estimator="ML").set_index("suggestion")
    assert ev.loc["baseline", "status"] == "ok" and ev.loc["baseline", "cfi"] < 0.97
    move = ev.loc[_one(s, "move", "A6")["suggestion"]]
    assert move["delta_cfi"] > 0.02 and move["delta_bic"] < -100  # same items: BIC comparable, far better
    assert move["delta_alpha"] > 0  # c_A without the item that measures B
    cb, items, criterion, s = planted["weak"]
    ev = evaluate_suggestions(cb, items, s, criterion=criterion, estimator="ML").set_index("suggestion")
    drop = ev.loc[_one(s, "drop", "C6")["suggestion"]]
    # a weak item is no misfit (CFI stays 1 with or without it), but it dilutes its competency's score
    assert drop["cfi"] == 1 and drop["delta_cfi"] == 0 and np.isnan(drop["delta_bic"])  # other items: no BIC
    assert drop["delta_alpha"] > 0 and drop["delta_criterion_r"] > 0  # c_C scored without its noise item
    # the refit of one suggestion is the hypothesised model of the changed codebook
    variant = apply_change(cb, "drop", "C6")
    ref = cfa.fit_cfa(items[variant.item_ids], cfa.hypothesized(variant.groups("competency")), estimator="ML")
    assert drop["cfi"] == ref.fit["cfi"]
