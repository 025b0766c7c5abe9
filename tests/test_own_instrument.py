"""Running the pipeline on one's own instrument: neutral defaults, names checked up front, shorthands, the loss
guard, continuous scores, studies side by side (issue 11). Each end-to-end run uses a study folder of its own under
pytest's tmp_path, with ``--directory``, as the README shows."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from own_instrument import codebook, export, performance, run_study, write_study

PREFIXES = ["A", "B", "C", "D"]


def _results(folder):
    return (
        sorted(p.relative_to(folder).as_posix() for p in (folder / "results").rglob("*") if p.is_file())
        if (folder / "results").exists()
        else []
    )


@pytest.fixture(scope="module")
def four_factor(tmp_path_factory):
    """A 4-factor instrument on a 1-7 scale, no covariates, and a two-key config (survey, codebook)."""
    folder = tmp_path_factory.mktemp("four_factor")
    survey, eta = export(n=240, prefixes=PREFIXES, items_per_factor=4, scale=(1, 7))
    cfg = write_study(
        folder,
        survey,
        codebook(PREFIXES, 4, {"min": 1, "max": 7}),
        {"survey": "survey.csv", "codebook": "codebook.yaml"},
        perf=performance(list(survey["rid"]), eta),
    )
    repo_results = _results(ROOT)
    r = run_study(folder, cfg)
    return {"folder": folder, "run": r, "repo_results": repo_results, "survey": survey}


@pytest.mark.slow
def test_two_key_config_runs_to_the_report(four_factor):
    r, folder = four_factor["run"], four_factor["folder"]
    assert r.returncode == 0, r.stderr[-4000:]
    assert (folder / "results" / "report.html").is_file()
    summary = json.loads((folder / "results" / "summary.json").read_text())
    assert summary["n_analyzed"] == 240
    assert "criterion" not in summary  # no performance key: no criterion stage
    eff = summary["provenance"]["config"]
    # the tool's neutral defaults, never the demo's choices
    assert eff["validity"]["invariance_group"] is None and eff["criterion"]["controls"] == []
    assert eff["performance"] is None and eff["careless"] == "flag"
    fit = pd.read_csv(folder / "results" / "cfa" / "fit.csv").set_index("model")
    assert fit.loc["hypothesized", "cfi"] > 0.95


@pytest.mark.slow
def test_study_runs_beside_the_repository_without_touching_its_results(four_factor):
    """Studies side by side: each study's results and processed data stay in its own folder."""
    folder = four_factor["folder"]
    assert four_factor["run"].returncode == 0
    assert _results(ROOT) == four_factor["repo_results"]
    assert (folder / "data" / "processed" / "items.csv").is_file()
    assert (folder / "results" / "summary.json").is_file()


@pytest.mark.slow
def test_performance_as_a_plain_path_turns_on_the_criterion_stage(four_factor, tmp_path):
    folder = tmp_path / "with_performance"
    survey = four_factor["survey"]
    _, eta = export(n=240, prefixes=PREFIXES, items_per_factor=4, scale=(1, 7))
    cfg = write_study(
        folder,
        survey,
        codebook(PREFIXES, 4, {"min": 1, "max": 7}),
        {"survey": "survey.csv", "codebook": "codebook.yaml", "performance": "perf.csv"},
        perf=performance(list(survey["rid"]), eta),
    )
    r = run_study(folder, cfg)
    assert r.returncode == 0, r.stderr[-4000:]
    summary = json.loads((folder / "results" / "summary.json").read_text())
    assert summary["provenance"]["config"]["performance"]["id_column"] == "rid"  # the codebook's id_column
    corr = pd.read_csv(folder / "results" / "criterion" / "correlations.csv")
    assert set(corr["criterion"]) == {"sales", "rating"}
    assert (folder / "results" / "figures" / "fig09_criterion_validity.png").is_file()
    # the first study is untouched by the second
    assert not (four_factor["folder"] / "results" / "criterion").exists()


# ------------------------------------------------------------------------------ names checked before anything runs
BAD_NAMES = {
    "criterion.controls[0]": ({"criterion": {"controls": ["tenure_yrs"]}}, "tenure_yrs", "tenure_years"),
    "validity.invariance_group": ({"validity": {"invariance_group": "regoin"}}, "regoin", "region"),
    "performance.criteria[1]": (
        {"performance": {"path": "perf.csv", "criteria": ["sales", "ratng"]}},
        "ratng",
        "rating",
    ),
    "performance.log_criteria[0]": ({"performance": {"path": "perf.csv", "log_criteria": ["sale"]}}, "sale", "sales"),
    "performance.id_column": ({"performance": {"path": "perf.csv", "id_column": "r_id"}}, "r_id", "rid"),
    "cfa.user_models.two": ({"cfa": {"user_models": {"two": "f =~ A1 + A2 + B1\ng =~ C1 + C2 + D9"}}}, "D9", "D1"),
}


@pytest.fixture(scope="module")
def named_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("names")
    survey, eta = export(n=60, prefixes=PREFIXES, items_per_factor=4, scale=(1, 7))
    survey["region"] = ["north", "south"] * 30
    survey["tenure_years"] = range(60)
    cols = [{"name": "region", "role": "group"}, {"name": "tenure_years", "role": "covariate"}]
    write_study(
        folder,
        survey,
        codebook(PREFIXES, 4, {"min": 1, "max": 7}, columns=cols),
        {"survey": "survey.csv", "codebook": "codebook.yaml"},
        perf=performance(list(survey["rid"]), eta),
    )
    return folder


def _run_with(folder, extra: dict, name: str):
    cfg = folder / f"{name}.yaml"
    cfg.write_text(yaml.safe_dump({"survey": "survey.csv", "codebook": "codebook.yaml", **extra}))
    return run_study(folder, cfg)


def _problems(folder, extra: dict, monkeypatch) -> str:
    """The message with which the config check that the Snakefile runs first (compval.config.prepare_config, in
    the study folder, as ``--directory`` does) stops ``extra``; the Snakemake run below shows it stops the run."""
    from compval.config import ConfigError, prepare_config

    monkeypatch.chdir(folder)
    with pytest.raises(ConfigError) as err:
        prepare_config({"survey": "survey.csv", "codebook": "codebook.yaml", **extra}, source="bad.yaml")
    return str(err.value)


def test_a_wrong_name_stops_the_snakemake_run_before_anything_runs(named_study):
    extra, wrong, closest = BAD_NAMES["criterion.controls[0]"]
    r = _run_with(named_study, extra, "bad_controls")
    assert r.returncode != 0
    line = next((ln for ln in r.stderr.splitlines() if ln.strip().startswith("- criterion.controls[0]:")), None)
    assert line is not None, r.stderr[-3000:]
    assert repr(wrong) in line and "available: " + closest in line
    assert not (named_study / "results").exists() and not (named_study / "data" / "processed").exists()


@pytest.mark.parametrize("key", list(BAD_NAMES))
def test_a_wrong_name_is_named_with_the_closest_available_first(named_study, key, monkeypatch):
    extra, wrong, closest = BAD_NAMES[key]
    message = _problems(named_study, extra, monkeypatch)
    line = next((ln for ln in message.splitlines() if ln.strip().startswith(f"- {key}:")), None)
    assert line is not None, message
    assert repr(wrong) in line and "available: " + closest in line  # closest match first


def test_n_factors_beyond_the_items_stops_the_run(named_study, monkeypatch):
    message = _problems(named_study, {"efa": {"n_factors": 14}}, monkeypatch)
    assert "efa.n_factors: 14 factors cannot be extracted from 16 items (at most 10" in message


def test_performance_shorthand_without_the_codebooks_id_column_says_what_to_write(named_study, monkeypatch):
    perf = pd.read_csv(named_study / "perf.csv").rename(columns={"rid": "staff_no"})
    perf.to_csv(named_study / "perf_staff.csv", index=False)
    message = _problems(named_study, {"performance": "perf_staff.csv"}, monkeypatch)
    assert (
        "performance: the file perf_staff.csv has no column 'rid' (the codebook's id_column)" in message
        and "performance: {path: perf_staff.csv, id_column: <one of: " in message
        and "staff_no" in message
    ), message


def test_a_wrong_key_is_named_with_the_known_keys(named_study, monkeypatch):
    message = _problems(named_study, {"validity": {"invariance_grp": "region"}}, monkeypatch)
    assert "validity.invariance_grp: unknown key; known keys: invariance_group" in message


# ------------------------------------------------------------------------------------ continuous scores, loss guard
def _continuous(folder, scale: dict):
    survey, _ = export(n=300, prefixes=["S", "T", "U"], items_per_factor=3, scale=(0, 10), continuous=True, reverse=())
    cb = codebook(["S", "T", "U"], 3, scale, reverse=())
    return write_study(folder, survey, cb, {"survey": "survey.csv", "codebook": "codebook.yaml"}), survey


@pytest.mark.slow
def test_continuous_scores_run_end_to_end_and_lose_no_cell(tmp_path):
    cfg, survey = _continuous(tmp_path, {"type": "continuous", "min": 0, "max": 10})
    assert (survey.iloc[:, 1:] % 1 != 0).to_numpy().mean() > 0.5  # mostly decimals
    r = run_study(tmp_path, cfg)
    assert r.returncode == 0, r.stderr[-4000:]
    report = json.loads((tmp_path / "results" / "cleaning_report.json").read_text())
    assert report["ingest"]["cells_set_missing"] == 0 and report["n_analyzed"] == 300
    assert report["careless_not_computed"]["longstring"].startswith("not applicable: the scale is continuous")
    items = pd.read_csv(tmp_path / "data" / "processed" / "items.csv", index_col="pid")
    assert items.notna().all().all()
    assert (tmp_path / "results" / "report.html").is_file()


@pytest.mark.e2e
def test_continuous_scores_declared_as_likert_stop_with_the_guards_message(tmp_path):
    cfg, _ = _continuous(tmp_path, {"min": 1, "max": 5})
    r = run_study(tmp_path, cfg)
    assert r.returncode != 0
    msg = next(ln for ln in r.stderr.splitlines() if "cleaning would set" in ln)
    assert "of all item cells" in msg and "loss_guard.total is 10%" in msg
    assert "commonest rejected values:" in msg
    assert "declare `scale: {type: continuous, min: 0, max: 10}`" in msg
    assert not (tmp_path / "data" / "processed" / "items.csv").exists()  # screen never ran
    assert not (tmp_path / "results" / "cleaning_report.json").exists()
