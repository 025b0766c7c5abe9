"""Build the analysed, reverse-scored item data of the bundled demo exactly as the pipeline does.

Run from the repository root (writes the files beside this script)::

    .venv/bin/python tests/reference/demo/make_demo_items.py

The steps are those of the Snakemake rules ``ingest`` -> ``screen`` -> ``score`` (workflow/scripts/ingest.py,
screen.py, score.py): ``compval.io.read_table`` -> ``compval.clean.ingest_survey`` (+ ``pseudonymize_performance``)
-> CSV round trip of the ingested responses as the pipeline writes and reads them -> ``screen_respondents`` (+
``match_performance``) -> ``Codebook.reverse_score`` -> ``compval.scoring.mean_scores``, with the cleaning options
of ``config/config.yaml`` (defaults filled in from the config schema, as ``workflow/rules/common.smk``) and a fixed
pseudonymisation key (:data:`TEST_KEY`, so that the result does not depend on the machine's key; pseudonyms are not
written anyway).

Files written (rows = analysed respondents in the pipeline's order; no ids):

* ``items_scored.csv``       reverse-scored items (blank = missing), the data every R reference here analyses
* ``scores_competency.csv``  competency mean scores (``mean_scores``, as data/processed/scores_competency.csv)
* ``performance.csv``        criteria of the same rows (blank for respondents without a performance record)
* ``controls.csv``           tenure_years, region, role_level of the same rows (criterion controls)
* ``groups.json``            competency -> items, module -> items, dimension -> items, competency -> module
* ``demo_items_meta.json``   n_raw, n_analysed, exclusions by reason, performance match counts
* ``models/<name>.lav``      lavaan syntax of every model the CFA stage fits (``compval.comparison.build_models``
                             with the rivals of config/config.yaml, ``ModelSpec.syntax`` verbatim) and of
                             ``merged``: the hypothesised model of a deliberately wrong codebook in which the
                             competencies :data:`MERGED` (same module) are one factor, and of
                             ``subabilities_second_order``: the hypothesis of the config's variant
                             ``subabilities`` (config/variants/subabilities.yaml, ``model: second_order``)
* ``parcels.csv``            the indicators of the ``parcels`` rival (dimension means, the model's own transform)

:func:`build` is importable so that tests/test_demo.py can re-derive the data and assert it is identical.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pandas as pd
import yaml


from compval.clean import (
    CleaningOptions,
    ingest_survey,
    make_pseudonymizer,
    match_performance,
    pseudonymize_performance,
    screen_respondents,
)
from compval.codebook import Codebook, load_codebook
from compval.config import validate_config
from compval.revision.compare import variant_model
from compval.io import FLOAT_FORMAT, read_table
from compval.scoring import mean_scores

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(__file__).resolve().parent
TEST_KEY = b"compval-demo-reference-key"
MERGED = ("team", "communication")  # two competencies of the module managing_others


def cleaning_options(config: dict) -> dict:
    """The cleaning policies from a validated config (as workflow/rules/common.smk)."""
    keys = (
        "out_of_range",
        "duplicates",
        "missing",
        "max_missing",
        "careless",
        "careless_thresholds",
        "unknown_columns",
        "loss_guard",
    )
    return {k: config[k] for k in keys}


def _roundtrip(df: pd.DataFrame, **read_kw) -> pd.DataFrame:
    """Write a table as compval.io.write_table does and read it back as the next rule does."""
    buf = io.StringIO()
    df.to_csv(buf, index=True, float_format=FLOAT_FORMAT, lineterminator="\n", na_rep="")
    buf.seek(0)
    return pd.read_csv(buf, **read_kw)


def build(root: Path = ROOT, key: bytes = TEST_KEY) -> dict:
    """Run the pipeline's cleaning and scoring steps on the demo data.

    Returns a dict with DataFrames ``items_scored``, ``scores_competency``, ``performance``, ``controls`` (all
    indexed by pid, same row order), the ``codebook`` and a ``meta`` dict.
    """
    config = validate_config(yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8")))
    cb_full = load_codebook(root / config["codebook"])
    options = CleaningOptions(**cleaning_options(config))
    pseudo = make_pseudonymizer(key)
    # ---- rule ingest
    survey_path = root / config["survey"]
    raw, _ = read_table(survey_path, **config.get("survey_options", {}))
    ing = ingest_survey(raw, cb_full.ingest_spec(), options, source=str(config["survey"]), pseudonymize=pseudo)
    perf_cfg = config["performance"]
    perf_raw, _ = read_table(root / perf_cfg["path"], sheet=perf_cfg.get("sheet"))
    perf_all = pseudonymize_performance(
        perf_raw,
        id_column=perf_cfg["id_column"],
        criteria=perf_cfg.get("criteria"),
        source=perf_cfg["path"],
        pseudonymize=pseudo,
    )
    # ---- rule screen (reads the CSVs the ingest rule wrote)
    cb = Codebook.from_structure(cb_full.structure())
    responses = _roundtrip(ing.responses, index_col="pid", keep_default_na=False, na_values=[""])
    prior = _roundtrip(ing.exclusions.set_index(ing.exclusions.columns[0]), dtype=str, keep_default_na=False)
    scr = screen_respondents(
        responses, cb, options, prior_exclusions=prior, n_raw=ing.report["n_raw"], source=ing.report["source"]
    )
    perf_all = _roundtrip(perf_all, index_col="pid")
    perf, counts = match_performance(perf_all, analysed=scr.items.index, surveyed=responses.index)
    # ---- rule score (reads data/processed/items.csv)
    items = _roundtrip(scr.items, index_col="pid")[cb.item_ids]
    scored = cb.reverse_score(items)
    scores = mean_scores(scored, cb.groups("competency"))
    respondents = _roundtrip(scr.respondents, index_col="pid")
    controls = respondents.loc[scores.index, config["criterion"]["controls"]]
    performance = perf.reindex(scores.index)
    meta = {
        "n_raw": int(scr.report["n_raw"]),
        "n_analysed": int(len(scored)),
        "excluded": scr.report["excluded"],
        "performance": counts,
        "n_with_performance": int(performance.notna().any(axis=1).sum()),
        "pseudonymisation_key": key.decode(),
        "cleaning_options": cleaning_options(config),
    }
    return {
        "items_scored": scored,
        "scores_competency": scores,
        "performance": performance,
        "controls": controls,
        "codebook": cb,
        "meta": meta,
    }


def groups_json(cb: Codebook) -> dict:
    return {
        "competency": cb.groups("competency"),
        "module": cb.groups("module"),
        "dimension": cb.groups("dimension"),
        "competency_module": cb.competency_module(),
        "dimension_competency": cb.dimension_competency(),
        "reverse_items": list(cb.reverse_items),
    }


def merged_codebook(cb: Codebook, keep: str, absorb: str) -> Codebook:
    """A wrong codebook: competency ``absorb`` moved into ``keep`` (its dimensions and items become ``keep``'s)."""
    data = cb.to_dict()
    for m in data["modules"]:
        comps = {c["key"]: c for c in m["competencies"]}
        if keep in comps and absorb in comps:
            comps[keep]["dimensions"] = comps[keep]["dimensions"] + comps[absorb]["dimensions"]
            m["competencies"] = [c for c in m["competencies"] if c["key"] != absorb]
            return Codebook.from_dict(data, source=f"<{keep}+{absorb} merged>")
    raise ValueError(f"{keep!r} and {absorb!r} are not competencies of one module")


def demo_models(cb: Codebook, config: dict | None = None) -> dict:
    """The CFA stage's models for the demo (as workflow/scripts/cfa.py builds them) plus ``merged``."""
    from compval import cfa
    from compval.comparison import build_models

    if config is None:
        config = validate_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8")))
    c = config.get("cfa") or {}
    models = build_models(
        cb.groups("competency"),
        cb.competency_module(),
        cb.groups("dimension"),
        cb.dimension_competency(),
        rivals=c.get("rivals", ["one_factor", "modules", "second_order", "orthogonal", "parcels"]),
        user_models=c.get("user_models", {}),
    )
    wrong = merged_codebook(cb, *MERGED)
    models["merged"] = (cfa.hypothesized(wrong.groups("competency"), name="merged"), None)
    # the variant subabilities' hypothesis (config variants.subabilities), fitted by make_second_order_ridge.R
    sub = load_codebook(ROOT / "config" / "variants" / "subabilities.yaml")
    models["subabilities_second_order"] = (variant_model(sub, "second_order"), None)
    return models


def main(out: Path = OUT) -> int:
    res = build()
    kw = dict(index=False, float_format="%.10g", lineterminator="\n", na_rep="")
    res["items_scored"].to_csv(out / "items_scored.csv", **kw)
    res["scores_competency"].to_csv(out / "scores_competency.csv", **kw)
    res["performance"].to_csv(out / "performance.csv", **kw)
    res["controls"].to_csv(out / "controls.csv", **kw)
    (out / "groups.json").write_text(json.dumps(groups_json(res["codebook"]), indent=2) + "\n", encoding="utf-8")
    (out / "models").mkdir(exist_ok=True)
    for name, (spec, transform) in demo_models(res["codebook"]).items():
        (out / "models" / f"{name}.lav").write_text(spec.syntax, encoding="utf-8")
        if transform is not None:
            transform(res["items_scored"]).to_csv(out / f"{name}.csv", index=False, lineterminator="\n", na_rep="")
    (out / "demo_items_meta.json").write_text(json.dumps(res["meta"], indent=2) + "\n", encoding="utf-8")
    print(json.dumps(res["meta"], indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
