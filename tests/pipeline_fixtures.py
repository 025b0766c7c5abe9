"""A tiny, non-seed instrument and data set for end-to-end pipeline tests.

Five factors on a 1-6 scale in two modules, four items each (two facets of two items), drawn by the demo
simulator with effects keyed to these factors; performance file included.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import yaml

from compval.codebook import Codebook
from compval.simulate import simulate, write_outputs

from conftest import ROOT, demo_config, small_codebook_dict

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def tiny_codebook_dict() -> dict:
    d = small_codebook_dict(n_factors=5, items_per_factor=4, scale=(1, 6), n_modules=2)
    d["columns"] = [
        {"name": "name", "role": "pii", "pii": True},
        {"name": "email", "role": "pii", "pii": True},
        {"name": "phone", "role": "pii", "pii": True},
        {"name": "region", "role": "group"},
        {"name": "role_level", "role": "group"},
        {"name": "tenure_years", "role": "covariate"},
        {"name": "completion_time_sec", "role": "duration"},
        {"name": "submitted_at", "role": "ignore"},
    ]
    return d


def tiny_simulation_params(n: int = 160) -> dict:
    params = yaml.safe_load((ROOT / "config" / "simulation.yaml").read_text())
    params = copy.deepcopy(params)
    params["n_respondents"] = n
    params["n_no_survey"] = 3
    params["n_no_sales"] = 5
    params["defects"]["n_duplicates"] = 1
    # the tiny instrument keeps the item settings it was designed with: the demo's model error names the demo
    # codebook's items, and its stronger loadings serve the demo's fit targets, not this fixture's
    params.pop("model_error", None)
    params["items"]["loading_range"] = [0.55, 0.80]
    params["criteria"] = {
        "sales": {
            "type": "lognormal",
            "median": 500,
            "sdlog": 0.4,
            "decimals": 0,
            "tenure_effect": 0.1,
            "effects": {"f1": 0.45, "f3": 0.15},
        },
        "rating": {
            "type": "normal",
            "mean": 3.0,
            "sd": 0.8,
            "decimals": 2,
            "tenure_effect": 0.0,
            "effects": {"f2": 0.40},
        },
    }
    return params


def merged_variant(cb_dict: dict) -> dict:
    """The tiny codebook with its first module's first two competencies merged into one (a variant nested in it)."""
    d = copy.deepcopy(cb_dict)
    comps = d["modules"][0]["competencies"]
    first, second = comps[0], comps[1]
    first["dimensions"] = first["dimensions"] + second["dimensions"]
    first["key"] = f"{first['key']}_{second['key']}"
    del comps[1]
    return d


def trimmed_variant(cb_dict: dict) -> dict:
    """The tiny codebook with the last item of its last competency dropped (a variant on other items)."""
    d = copy.deepcopy(cb_dict)
    d["modules"][-1]["competencies"][-1]["dimensions"][-1]["items"].pop()
    return d


def write_project(tmp: Path, *, n: int = 160, n_boot: int = 30) -> Path:
    """Write codebook, data and config for a pipeline run in ``tmp``; return the config path. The config has two
    variants, ``merged`` (:func:`merged_variant`) and ``trimmed`` (:func:`trimmed_variant`), and the revision
    workflow's suggestions."""
    cb_dict = tiny_codebook_dict()
    (tmp / "config" / "variants").mkdir(parents=True, exist_ok=True)
    (tmp / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (tmp / "config" / "codebook.yaml").write_text(yaml.safe_dump(cb_dict, sort_keys=False))
    (tmp / "config" / "variants" / "merged.yaml").write_text(yaml.safe_dump(merged_variant(cb_dict), sort_keys=False))
    (tmp / "config" / "variants" / "trimmed.yaml").write_text(yaml.safe_dump(trimmed_variant(cb_dict), sort_keys=False))
    res = simulate(Codebook.from_dict(cb_dict), tiny_simulation_params(n))
    write_outputs(res, tmp / "data" / "raw")
    config = demo_config()
    config.update(
        {
            "survey": "data/raw/survey.csv",
            "codebook": "config/codebook.yaml",
            "performance": {"path": "data/raw/sales.csv", "id_column": "employee_id", "log_criteria": ["sales"]},
            "criterion": {
                "controls": ["tenure_years", "region"],
                "top_quantile": 0.25,
                "n_boot": n_boot,
                "reliability": "alpha",
            },
            "reliability": {"n_boot": n_boot, "ci": 0.95},
            "variants": {"merged": "config/variants/merged.yaml", "trimmed": "config/variants/trimmed.yaml"},
            "revision": {"holdout": 0.3, "suggestions": True, "max_suggestions": 3},
            "privacy": {"strict": True, "key_env": "COMPVAL_TEST_KEY", "key_file": str(tmp / "no-such-key")},
        }
    )
    cfg = tmp / "config" / "config.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    return cfg


def run_snakemake(
    workdir: Path, *args: str, env_key: str = "e2e-test-key", cores: int = 2
) -> subprocess.CompletedProcess:
    import os

    # SOURCE_DATE_EPOCH fixes the report's run date, the one non-deterministic element of the outputs
    env = dict(os.environ, COMPVAL_TEST_KEY=env_key, SOURCE_DATE_EPOCH="0")
    cmd = [
        SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config" / "config.yaml"),
        "--cores",
        str(cores),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir)


def build_e2e_project(tmp: Path, *, cores: int = 2) -> Path:
    """Write the tiny project (:func:`write_project`, with the demo config's languages, so Chinese copies too, and
    30 HTMT resamples) into ``tmp`` and run the whole pipeline there once; fails the calling test on any error."""
    cfg_path = write_project(tmp)
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["validity"] = {**cfg.get("validity", {}), "htmt_boot": 30}
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = run_snakemake(tmp, cores=cores)
    assert r.returncode == 0, r.stderr[-4000:]
    return tmp
