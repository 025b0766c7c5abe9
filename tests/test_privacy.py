"""End to end through Snakemake: no direct identifier or raw id in any output, data/raw/ untouched, the cleaning
outputs complete; and a failing input stops the run with one readable message and no outputs of the failed rule.

Each scenario runs the pipeline ONCE in a temporary copy (module-scoped fixtures), limited to the cleaning
targets so that it stays fast.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from compval.clean import make_pseudonymizer
from compval.io import read_json

from conftest import demo_config

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
KEY = "e2e-test-key"
TARGETS = ["results/cleaning_report.json", "results/descriptives/items.csv"]
INGEST_OUTPUTS = [
    "data/processed/responses.csv",
    "data/processed/performance_all.csv",
    "data/processed/ingest_exclusions.csv",
    "results/cleaning/ingest_log.csv",
    "results/cleaning/ingest_report.json",
]

pytestmark = pytest.mark.e2e


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run(workdir: Path, config: dict, targets: list[str]) -> subprocess.CompletedProcess:
    cfg_path = workdir / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "COMPVAL_PSEUDONYM_KEY": KEY}
    cmd = [
        str(SNAKEMAKE),
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(cfg_path),
        "--cores",
        "1",
        "--nocolor",
        *targets,
    ]
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)


def _demo_config(workdir: Path) -> dict:
    cfg = demo_config()
    cfg["survey"] = str(workdir / "data" / "raw" / "survey.csv")
    cfg["performance"]["path"] = str(workdir / "data" / "raw" / "sales.csv")
    cfg["codebook"] = str(ROOT / "config" / "codebook.yaml")
    cfg["variants"] = {  # the demo's variant codebooks, from the repository
        name: {**v, "codebook": str(ROOT / v["codebook"])} if isinstance(v, dict) else str(ROOT / v)
        for name, v in cfg.get("variants", {}).items()
    }
    cfg["privacy"] = {**cfg.get("privacy", {}), "key_file": str(workdir / "no-such.key")}
    return cfg


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e_demo")
    shutil.copytree(ROOT / "data" / "raw", work / "data" / "raw")
    before = _hashes(work / "data" / "raw")
    proc = _run(work, _demo_config(work), TARGETS)
    return {"work": work, "proc": proc, "before": before}


def _written_files(work: Path) -> list[Path]:
    return [p for d in ("data/processed", "results", "logs") for p in sorted((work / d).rglob("*")) if p.is_file()]


def test_demo_run_succeeds(demo_run):
    proc = demo_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    for t in TARGETS:
        assert (demo_run["work"] / t).is_file()


def test_no_identifier_reaches_any_output(demo_run):
    """Every name, e-mail, phone and raw id of the survey (and every employee id of the performance file) is absent
    from every file under data/processed/, results/ and logs/."""
    work = demo_run["work"]
    raw = pd.read_csv(work / "data" / "raw" / "survey.csv", dtype=str, keep_default_na=False)
    sales = pd.read_csv(work / "data" / "raw" / "sales.csv", dtype=str, keep_default_na=False)
    secrets = set()
    for c in ("name", "email", "phone", "respondent_id"):
        secrets |= {v.strip() for v in raw[c] if v.strip()}
    secrets |= {v.strip() for v in sales["employee_id"] if v.strip()}
    assert len(secrets) > 3 * 600
    files = _written_files(work)
    assert len(files) >= 15
    leaks = {}
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        found = [s for s in secrets if s in text]
        if found:
            leaks[str(f.relative_to(work))] = sorted(found)[:5]
    assert not leaks, leaks


def test_raw_data_unchanged(demo_run):
    assert _hashes(demo_run["work"] / "data" / "raw") == demo_run["before"]


def test_cleaning_outputs_and_conservation(demo_run):
    work = demo_run["work"]
    rep = read_json(work / "results" / "cleaning_report.json")
    assert rep["n_raw"] == 602
    assert rep["n_analyzed"] + sum(rep["excluded"].values()) == rep["n_raw"]
    excl = pd.read_csv(work / "data" / "processed" / "exclusions.csv")
    assert len(excl) == sum(rep["excluded"].values())
    # every respondent is either analysed or excluded, under its pseudonym
    pseudo = make_pseudonymizer(KEY.encode())
    raw = pd.read_csv(work / "data" / "raw" / "survey.csv", dtype=str, keep_default_na=False)
    items = pd.read_csv(work / "data" / "processed" / "items.csv", index_col="pid")
    assert set(items.index) | set(excl["pid"]) == set(raw["respondent_id"].str.strip().map(pseudo))
    assert len(items) == rep["n_analyzed"]
    # join with the performance file: every count reported and consistent
    perf = rep["performance"]
    assert perf["matched"] + perf["survey_only"] == rep["n_analyzed"]
    assert (
        perf["matched"] + perf["performance_only"] + perf["performance_of_excluded"]
        == perf["n_performance_records"]
        == 593
    )
    log = pd.read_csv(work / "results" / "cleaning" / "screen_log.csv")
    assert set(log.loc[log.step == "performance", "count"]) <= set(perf.values())
    # missingness: item and respondent tables (pseudonymous ids only) and Little's test
    resp = pd.read_csv(work / "results" / "cleaning" / "respondent_missingness.csv")
    assert list(resp.columns) == ["pid", "n_items", "n_missing", "share_missing"]
    assert resp["pid"].str.fullmatch(r"P[0-9a-f]{16}").all()
    assert set(resp["pid"]) <= set(raw["respondent_id"].str.strip().map(pseudo))
    assert len(resp) == rep["ingest"]["n_ingested"]
    items_miss = pd.read_csv(work / "results" / "cleaning" / "item_missingness.csv")
    assert resp["n_missing"].sum() == items_miss["n_missing"].sum()
    assert rep["little_mcar"]["df"] > 0 and 0 <= rep["little_mcar"]["p"] <= 1


# ------------------------------------------------------------------------------------------------ a failing input
@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    """The corpus file out_of_range_stop.csv (code 9 at row 6, column P2) with out_of_range: stop."""
    work = tmp_path_factory.mktemp("e2e_fail")
    corpus = ROOT / "tests" / "corpus"
    (work / "input").mkdir()
    for f in ("out_of_range_stop.csv", "perf_base.csv"):
        shutil.copy(corpus / f, work / "input" / f)
    cfg = _demo_config(work)
    cfg.update(
        {
            "survey": str(work / "input" / "out_of_range_stop.csv"),
            "codebook": str(corpus / "codebook.yaml"),
            "out_of_range": "stop",
            "careless": "flag",
            "max_missing": 0.5,
            "careless_thresholds": {},
        }
    )
    # the corpus instrument has none of the demo's respondent columns (checked before anything runs)
    cfg["criterion"] = {**cfg["criterion"], "controls": ["tenure"]}
    cfg["validity"] = {**cfg["validity"], "invariance_group": None}
    cfg["performance"] = {"path": str(work / "input" / "perf_base.csv"), "id_column": "employee_id"}
    cfg["variants"] = {}  # the demo's variants are revisions of the demo's codebook, not of the corpus one
    before = _hashes(work / "input")
    proc = _run(work, cfg, TARGETS)
    return {"work": work, "proc": proc, "before": before}


def test_failing_input_stops_with_one_readable_message(failing_run):
    proc, work = failing_run["proc"], failing_run["work"]
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    message = (
        f"{work / 'input' / 'out_of_range_stop.csv'}, row 6, column 'P2': invalid response (code 9) "
        "(expected an integer from 1 to 5 or an empty cell)"
    )
    assert message in proc.stderr
    assert "Traceback" not in out
    log = (work / "logs" / "ingest.log").read_text()
    assert log.count(message) == 1


def test_failing_input_leaves_no_outputs(failing_run):
    work = failing_run["work"]
    for f in INGEST_OUTPUTS + TARGETS:
        assert not (work / f).exists(), f
    leftovers = [p for d in ("data", "results") if (work / d).exists() for p in (work / d).rglob("*") if p.is_file()]
    assert leftovers == []
    assert _hashes(work / "input") == failing_run["before"]
