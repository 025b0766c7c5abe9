"""The bundled demo fits like real data and gives revision something to find (issue 13, point 7).

The demo's population (config/simulation.yaml, ``model_error``; data/raw/population_model.json) has what real
self-ratings have beyond the six competencies: a wording (method) factor on the reverse-keyed items, three
cross-loadings, three same-stem item pairs with correlated unique parts and 100 Tucker-Koopman-Linn minor factors.
So the hypothesised model fits acceptably but not perfectly (its fit from lavaan, tests/reference/demo/
cfa_hypothesized_fit.json, written by make_reference.R: no R at test time), still beats every rival, and the
revision suggestions (compval.revision.suggest) find the planted effects first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from compval.codebook import load_codebook
from compval.revision.suggest import revision_evidence, suggest_revisions

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "tests" / "reference" / "demo"
RIVALS = ["one_factor", "modules", "orthogonal", "merged"]


def _r_fit(name: str) -> dict:
    return json.loads((DEMO / f"cfa_{name}_fit.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def population() -> dict:
    return json.loads((ROOT / "data" / "raw" / "population_model.json").read_text(encoding="utf-8"))


def test_demo_fits_acceptably_but_not_perfectly():
    """lavaan's fit of the hypothesised model on the demo (FIML): CFI in [.93, .96] and RMSEA in [.03, .05]
    (acceptable, not perfect, as real 50-item questionnaires), and still within Hu and Bentler's cut-offs."""
    h = _r_fit("hypothesized")
    assert h["converged"]
    assert 0.93 <= h["cfi"] <= 0.96, h["cfi"]
    assert 0.03 <= h["rmsea"] <= 0.05, h["rmsea"]
    assert h["tli"] >= 0.95 and h["srmr"] <= 0.08, (h["tli"], h["srmr"])
    # the chi-square test rejects the model: its error is real, not sampling noise
    assert h["pvalue"] < 0.001


def test_demo_hypothesized_model_beats_every_rival():
    """Every rival fitted to the same items (lavaan) fits worse: lower CFI, higher BIC, and the chi-square
    difference to the hypothesised model (all are nested in it) significant at .001."""
    from scipy.stats import chi2

    h = _r_fit("hypothesized")
    for name in RIVALS:
        r = _r_fit(name)
        assert r["converged"], name
        assert r["cfi"] < h["cfi"] and r["bic"] - h["bic"] > 10, (name, r["cfi"], r["bic"] - h["bic"])
        d, df = r["chisq"] - h["chisq"], r["df"] - h["df"]
        assert df > 0 and chi2.sf(d, df) < 0.001, (name, d, df)


@pytest.fixture(scope="module")
def suggestions() -> pd.DataFrame:
    """suggest_revisions on the demo's analysed items with the evidence the pipeline computes
    (compval.revision.suggest.revision_evidence): the hypothesised model (ML, FIML as config/config.yaml's cfa
    defaults) and its modification indices, corrected item-total r within each competency, and the EFA pattern
    (minres, oblimin, one factor per competency)."""
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    items = pd.read_csv(DEMO / "items_scored.csv")[cb.item_ids]
    evidence = revision_evidence(cb, items, missing="ml")
    assert evidence["fit"] is not None and evidence["fit"].status == "ok"
    return suggest_revisions(cb, items, **evidence)


def _planted(population: dict) -> tuple[set[str], set[frozenset[str]], dict[str, set[str]]]:
    """(items on the method factor, residual pairs, item -> competencies it cross-loads on) of the population."""
    method = {it["item"] for it in population["items"] if it["method_loading"] > 0}
    pairs = {frozenset(p["items"]) for p in population["model_error"]["residual_correlations"]}
    cross = {it["item"]: set(it["cross_loadings"]) for it in population["items"] if it["cross_loadings"]}
    return method, pairs, cross


def _residual_pairs(evidence: str) -> list[frozenset[str]]:
    """The item pairs a suggestion's modification-index evidence names (suggest.py's wording)."""
    return [frozenset(m) for m in re.findall(r"residual covariance of (\S+) and (\S+?)(?:;|$)", evidence)]


@pytest.mark.slow
def test_demo_suggestions_find_the_planted_effects_first(suggestions, population):
    """Among the five strongest suggestions: the planted reverse-keyed method effect (a residual covariance of two
    reverse-keyed items, which share only the method factor) or a planted same-stem pair; and every one of the five
    is a planted effect (method factor, same-stem pair or a cross-loading moved to the competency it loads on)."""
    method, pairs, cross = _planted(population)
    assert len(method) == 9 and len(pairs) == 3 and len(cross) == 3
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    dim_comp = cb.dimension_competency()
    top = suggestions.head(5)
    assert len(top) == 5

    def planted_residual(row) -> bool:
        named = _residual_pairs(row["evidence"])
        return "mi_residual" in row["kind"] and any(p in pairs or p <= method for p in named)

    def planted_cross(row) -> bool:
        return row["change"] == "move" and dim_comp.get(row["target"]) in cross.get(row["subject"], set())

    found = [planted_residual(r) for _, r in top.iterrows()]
    assert any(found), top[["change", "subject", "kind", "evidence"]].to_string()
    assert all(f or planted_cross(r) for f, (_, r) in zip(found, top.iterrows())), top.to_string()
    # the method effect itself: a suggestion among the five names two reverse-keyed items of different competencies
    items = cb.items.set_index("item")["competency"]
    method_rows = [
        p
        for _, r in top.iterrows()
        for p in _residual_pairs(r["evidence"])
        if p <= method and len({items[i] for i in p}) == 2
    ]
    assert method_rows, top.to_string()


def test_the_demo_variant_trimmed_is_the_short_form_the_suggestions_write():
    """config/variants/trimmed.yaml drops the weakest item of each competency found on the demo's training part,
    as the suggestions rule writes it (results/revision/codebooks/weakest_per_competency.yaml): the same holdout
    split (config seed and revision.holdout, stratified on the invariance group, in the export's order), the same
    fit on the training part, compval.revision.suggest.drop_weakest_items."""
    import yaml

    from compval.config import validate_config
    from compval.revision import holdout_split
    from compval.revision.suggest import drop_weakest_items

    config = validate_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8")))
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    items = pd.read_csv(DEMO / "items_scored.csv")[cb.item_ids]
    groups = pd.read_csv(DEMO / "controls.csv")[config["validity"]["invariance_group"]]
    split = holdout_split(items.index, config["revision"]["holdout"], config["seed"], strata=groups)
    training = items.loc[split == "training"]
    evidence = revision_evidence(cb, training, missing="ml")
    expected = drop_weakest_items(cb, evidence["fit"])
    trimmed = load_codebook(ROOT / "config" / "variants" / "trimmed.yaml")
    assert trimmed.groups("competency") == expected.groups("competency")
    assert len(cb.item_ids) - len(trimmed.item_ids) == len(cb.competencies)  # one item per competency
