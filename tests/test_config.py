"""The configuration: one schema holds every default, neutral ones; shorthands; names checked against the codebook
(compval.config)."""

from __future__ import annotations

import json

import pytest
import yaml

from compval.codebook import Codebook, load_codebook
from compval.config import (
    ConfigError,
    check_names,
    closest_first,
    config_defaults,
    config_schema,
    expand_shorthands,
    validate_config,
)

from conftest import ROOT, demo_config, small_codebook_dict

DEMO_COLUMNS = {
    "role_level",
    "region",
    "tenure_years",
    "card_sales_volume",
    "employee_id",
    "respondent_id",
    "completion_time_sec",
    "target_attainment",
    "new_accounts",
    "supervisor_rating",
}


def _strings(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


def test_no_default_names_a_column_of_the_demo():
    defaults = config_defaults()
    assert not DEMO_COLUMNS & set(_strings(defaults))
    assert defaults["validity"]["invariance_group"] is None and defaults["criterion"]["controls"] == []
    assert defaults["performance"] is None
    # every default of the schema, nested ones too, is filled in
    assert defaults["cfa"]["cutoffs"] == {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08}
    assert defaults["loss_guard"] == {"item": 0.2, "total": 0.1}


def test_every_optional_key_has_its_default_in_the_schema():
    """The schema is the one place defaults live: every leaf property of an object section declares one."""
    missing = []

    def walk(schema, path):
        for name, sub in schema.get("properties", {}).items():
            p = f"{path}.{name}" if path else name
            if name in schema.get("required", []):
                continue
            if "default" not in sub:
                missing.append(p)
            if sub.get("type") == "object":
                walk(sub, p)

    walk(config_schema(), "")
    # careless_thresholds' keys override compval.careless.DEFAULT_THRESHOLDS, which documents their defaults;
    # a survey option left out means "detect it from the file" (first sheet, encoding, delimiter)
    assert [m for m in missing if not m.startswith(("careless_thresholds.", "survey_options."))] == []


def test_two_keys_are_a_complete_config():
    cfg = validate_config({"survey": "s.csv", "codebook": "c.yaml"})
    assert cfg["missing"] == "pairwise" and cfg["careless"] == "flag" and cfg["seed"] == 1
    assert cfg["reliability"] == {"n_boot": 1000, "ci": 0.95, "omega_h_boot": 0}


def test_the_demo_config_means_what_it_meant_before_the_defaults_moved():
    """Every setting the demo used before config/config.yaml was trimmed to its own choices (git 2c50a77)."""
    cfg = demo_config()
    before = {
        "survey": "data/raw/survey.csv",
        "survey_options": {},
        "codebook": "config/codebook.yaml",
        "performance": {
            "path": "data/raw/sales.csv",
            "id_column": "employee_id",
            "log_criteria": ["card_sales_volume"],
        },
        "missing": "pairwise",
        "max_missing": 0.2,
        "careless": "exclude",
        "careless_thresholds": {"longstring_share": 0.25, "mahad_alpha": 0.001, "seconds_per_item_min": 2.0},
        "out_of_range": "missing",
        "duplicates": "keep_most_complete",
        "unknown_columns": "drop",
        "privacy": {"strict": False, "key_env": "COMPVAL_PSEUDONYM_KEY", "key_file": "~/.config/compval/pseudonym.key"},
        "reliability": {"n_boot": 1000, "omega_h_boot": 200, "ci": 0.95},
        "efa": {
            "method": "minres",
            "rotation": "oblimin",
            "cor": "pearson",
            "n_factors": None,
            "n_iter": 20,
            "split_half": False,
            "min_loading": 0.40,
            "cross_loading": 0.30,
        },
        "cfa": {
            "estimator": "ML",
            "identification": "marker",
            "rivals": ["one_factor", "modules", "second_order", "orthogonal", "parcels"],
            "user_models": {},
            "cutoffs": {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08},
            "modindices_top": 20,
            "sample": "all",
        },
        "validity": {"htmt_boot": 1000, "invariance_group": "role_level", "delta_cfi": 0.010, "delta_rmsea": 0.015},
        "criterion": {
            "controls": ["tenure_years", "region", "role_level"],
            "top_quantile": 0.25,
            "n_boot": 1000,
            "reliability": "alpha",
            "latent": True,
        },
        "seed": 20261129,
    }
    for key, value in before.items():
        assert cfg[key] == value, key


def test_schema_problems_name_the_key_path_and_what_is_expected():
    with pytest.raises(ConfigError) as info:
        validate_config(
            {
                "survey": "s.csv",
                "codebook": "c.yaml",
                "missing": "everything",
                "cfa": {"estimatr": "ML"},
                "performance": 3,
            }
        )
    text = str(info.value)
    assert "missing: 'everything' is not one of listwise, pairwise, fiml" in text
    assert "cfa.estimatr: unknown key; known keys: estimator," in text
    assert "performance: 3 is not valid here; expected a file path (`performance: sales.csv`" in text
    with pytest.raises(ConfigError, match=r"<root>: 'codebook' is a required property"):
        validate_config({"survey": "s.csv"})


def test_performance_shorthand_takes_the_codebooks_id_column():
    cb = Codebook.from_dict(small_codebook_dict())
    cfg = expand_shorthands(validate_config({"survey": "s", "codebook": "c", "performance": "sales.csv"}), cb)
    assert cfg["performance"] == {
        "path": "sales.csv",
        "id_column": "rid",
        "id_column_from": "codebook",
        "criteria": None,
        "log_criteria": [],
    }
    named = expand_shorthands(
        validate_config({"survey": "s", "codebook": "c", "performance": {"path": "p.csv", "id_column": "emp"}}), cb
    )
    assert named["performance"]["id_column"] == "emp" and named["performance"]["id_column_from"] == "config"


def _cfg(**sections):
    cfg = validate_config({"survey": "s", "codebook": "c", **sections})
    return cfg


def test_check_names_reports_every_problem_with_the_closest_names_first():
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    cfg = expand_shorthands(
        _cfg(
            criterion={"controls": ["tenure", "region"]},
            validity={"invariance_group": "role"},
            performance={"path": "x.csv", "id_column": "employee_id", "log_criteria": ["card_sales"]},
            cfa={"user_models": {"m": "f =~ ACH_EXC_1 + ACH_EXC_2 + ACH_EXC_9"}},
            efa={"n_factors": 45},
        ),
        cb,
    )
    problems = check_names(cfg, cb, ["employee_id", "card_sales_volume", "new_accounts"])
    assert problems == [
        "criterion.controls[0]: 'tenure' is not a codebook column with role covariate or group; available: "
        "tenure_years, region, role_level",
        "validity.invariance_group: 'role' is not a codebook column with role group; available: role_level, region",
        "performance.log_criteria[0]: 'card_sales' is not one of the criteria; available: card_sales_volume, "
        "new_accounts",
        problems[3],
        "efa.n_factors: 45 factors cannot be extracted from 50 items (at most 40 leave positive degrees of freedom)",
    ]
    assert problems[3].startswith(
        "cfa.user_models.m: 'ACH_EXC_9' is not an item of the codebook; available: ACH_EXC_1, ACH_EXC_2"
    )
    assert check_names(expand_shorthands(_cfg(), cb), cb, None) == []


def test_ordinal_options_are_refused_for_continuous_scores():
    d = small_codebook_dict()
    d["scale"] = {"type": "continuous", "min": 0, "max": 10}
    cb = Codebook.from_dict(d)
    problems = check_names(_cfg(cfa={"estimator": "WLSMV"}, efa={"cor": "polychoric"}), cb)
    assert [p.split(":")[0] for p in problems] == ["cfa.estimator", "efa.cor"]
    assert "scale type continuous; use ML or MLR" in problems[0]


def test_closest_first_orders_by_similarity():
    assert closest_first("regoin", ["tenure_years", "role_level", "region"])[0] == "region"


def test_the_shipped_demo_config_is_valid_and_json_serialisable():
    cfg = validate_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    json.dumps(cfg)


def _variant_project(tmp_path, variants: dict) -> dict:
    """A prepared config on the small codebook with ``variants`` (name -> codebook dict) written beside it."""
    from compval.config import prepare_config

    main = small_codebook_dict(n_factors=3, items_per_factor=4)
    (tmp_path / "codebook.yaml").write_text(yaml.safe_dump(main, sort_keys=False))
    (tmp_path / "survey.csv").write_text("respondent_id\n")
    paths = {}
    for name, d in variants.items():
        path = tmp_path / f"{name}.yaml"
        if d is not None:
            path.write_text(yaml.safe_dump(d, sort_keys=False))
        paths[name] = str(path)
    cfg, cb = prepare_config(
        {"survey": str(tmp_path / "survey.csv"), "codebook": str(tmp_path / "codebook.yaml"), "variants": paths}
    )
    return cfg, cb


def test_variants_are_checked_against_the_main_codebook_all_problems_at_once(tmp_path):
    from compval.config import prepare_variants

    main = small_codebook_dict(n_factors=3, items_per_factor=4)
    foreign = small_codebook_dict(n_factors=3, items_per_factor=4)
    foreign["modules"][0]["competencies"][0]["dimensions"][0]["items"][0]["id"] = "NEW_1"
    other_scale = small_codebook_dict(n_factors=3, items_per_factor=4, scale=(1, 7))
    cfg, cb = _variant_project(tmp_path, {"ok": main, "foreign": foreign, "scale7": other_scale, "gone": None})
    with pytest.raises(ConfigError) as err:
        prepare_variants(cfg, cb)
    lines = [line.strip().removeprefix("- ") for line in str(err.value).splitlines()]
    foreign_lines = [line for line in lines if line.startswith("variants.foreign")]
    assert len(foreign_lines) == 1 and "NEW_1" in foreign_lines[0] and "not in the main codebook" in foreign_lines[0]
    assert any(line.startswith("variants.scale7") and "scale 1-7" in line for line in lines)
    assert any(line.startswith("variants.gone: file not found") for line in lines)
    assert not any(line.startswith("variants.ok") for line in lines)


def test_a_valid_variant_comes_back_beside_the_original(tmp_path):
    from compval.config import prepare_variants

    main = small_codebook_dict(n_factors=3, items_per_factor=4)
    cfg, cb = _variant_project(tmp_path, {"same": main})
    out = prepare_variants(cfg, cb)
    assert list(out) == ["original", "same"]
    assert out["same"].item_ids == cb.item_ids


def test_the_name_original_is_reserved_for_the_main_codebook():
    with pytest.raises(ConfigError, match="variants"):
        validate_config({"survey": "s.csv", "codebook": "c.yaml", "variants": {"original": "c.yaml"}})


def test_a_variant_is_a_path_or_a_codebook_with_the_model_stating_its_hypothesis(tmp_path):
    main = small_codebook_dict(n_factors=3, items_per_factor=4)
    cfg, _cb = _variant_project(tmp_path, {"plain": main})
    assert cfg["variants"]["plain"] == {"codebook": str(tmp_path / "plain.yaml"), "model": "hypothesized"}
    cb = Codebook.from_dict(main)
    expanded = expand_shorthands(
        validate_config(
            {
                "survey": "s.csv",
                "codebook": "c.yaml",
                "variants": {"so": {"codebook": "v.yaml", "model": "second_order"}},
            }
        ),
        cb,
    )
    assert expanded["variants"]["so"] == {"codebook": "v.yaml", "model": "second_order"}
    with pytest.raises(ConfigError, match="variants"):
        validate_config(
            {"survey": "s.csv", "codebook": "c.yaml", "variants": {"x": {"codebook": "v.yaml", "model": "nope"}}}
        )


def test_labels_are_texts_or_language_maps_of_the_output_languages():
    """config labels: a text or a map of output languages to non-empty texts; a lookup table, so a name the run
    does not have (another study's criterion) is no problem."""
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    labels = {"card_sales_volume": {"en": "Card sales", "zh": "信用卡销售额"}, "trimmed": "Trimmed", "other": "x"}
    cfg = expand_shorthands(_cfg(performance={"path": "x.csv", "id_column": "employee_id"}, labels=labels), cb)
    assert cfg["labels"] == labels
    assert check_names(cfg, cb, ["employee_id", "card_sales_volume", "new_accounts"]) == []
    with pytest.raises(ConfigError, match="labels"):
        _cfg(labels={"card_sales_volume": {"fr": "Ventes"}})  # a language the outputs do not have
    with pytest.raises(ConfigError, match="labels"):
        _cfg(labels={"card_sales_volume": ""})
    assert _cfg()["labels"] == {}
