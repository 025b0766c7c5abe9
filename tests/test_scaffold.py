"""``python -m compval init``: a codebook and config drafted from a bare export (CSV in GBK with Chinese
headers, XLSX, SPSS SAV with value labels) that validate and run with no edit (compval.scaffold)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from compval.codebook import load_codebook
from compval.config import validate_config
from compval.io import read_table
from compval.scaffold import draft_study, item_prefix

from own_instrument import export, run_study


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "compval", *args], capture_output=True, text=True, cwd=cwd)


def _chinese_export(n=200) -> pd.DataFrame:
    """A GBK export as a Chinese survey platform writes it: Chinese headers for the respondent columns."""
    items, _ = export(n=n, prefixes=["ACH_", "LRN_", "COM_"], items_per_factor=4, scale=(1, 5), reverse=(1,))
    rng = np.random.default_rng(11)
    front = pd.DataFrame(
        {
            "工号": [f"E{k:05d}" for k in range(1, n + 1)],
            "姓名": [f"员工{k}" for k in range(1, n + 1)],
            "手机": [f"138{k:08d}" for k in range(1, n + 1)],
            "部门": rng.choice(["零售", "对公", "信用卡"], size=n),
            "司龄": rng.integers(0, 30, size=n),
            "用时秒": rng.integers(200, 900, size=n),
        }
    )
    return pd.concat([front, items.drop(columns="rid")], axis=1)


def test_item_prefix():
    assert item_prefix("ACH_EXC_1") == "ACH_EXC"
    assert item_prefix("Q3.2") == "Q3"
    assert item_prefix("sat4") == "sat"
    assert item_prefix("工号") is None and item_prefix("age") is None


def test_draft_from_a_chinese_gbk_export_guesses_every_column(tmp_path):
    path = tmp_path / "export.csv"
    _chinese_export().to_csv(path, index=False, encoding="gbk")
    raw, meta = read_table(path)
    assert meta.encoding.lower() in ("gbk", "gb18030")
    d = draft_study(raw, meta, survey="export.csv", instrument="测评", seed=5)
    roles = {g.name: g.role for g in d.columns}
    assert roles["工号"] == "id" and roles["姓名"] == "pii" and roles["手机"] == "pii"
    assert roles["部门"] == "group" and roles["司龄"] == "covariate" and roles["用时秒"] == "duration"
    comps = d.codebook["modules"][0]["competencies"]
    assert [c["key"] for c in comps] == ["ACH", "LRN", "COM"]
    assert d.codebook["scale"] == {"min": 1, "max": 5}
    # the reverse-keyed second item of each prefix is guessed from its negative item-rest correlation
    rev = [it["id"] for c in comps for it in c["dimensions"][0]["items"] if it["reverse"]]
    assert rev == ["ACH_2"]
    assert "# reverse: guessed from its negative correlation" in d.codebook_yaml
    assert yaml.safe_load(d.codebook_yaml) == d.codebook  # the comments change nothing


def test_a_lone_item_like_column_is_left_out_with_a_comment(tmp_path):
    df, _ = export(n=80, prefixes=["A", "B"], items_per_factor=3, scale=(1, 5))
    df["Z1"] = df["A1"]
    path = tmp_path / "e.csv"
    df.to_csv(path, index=False)
    d = draft_study(*read_table(path), survey="e.csv", instrument="x", seed=1)
    z = next(g for g in d.columns if g.name == "Z1")
    assert z.role == "ignore" and "could not tell its competency" in z.why
    assert "could not tell its competency" in d.codebook_yaml


def test_init_never_overwrites(tmp_path):
    df, _ = export(n=60, prefixes=["A", "B"], items_per_factor=3, scale=(1, 5))
    df.to_csv(tmp_path / "e.csv", index=False)
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "codebook.yaml").write_text("mine\n")
    r = _cli("init", "--survey", str(tmp_path / "e.csv"), "--out", str(tmp_path / "study"))
    assert r.returncode == 2 and "not overwriting" in r.stderr
    assert (tmp_path / "study" / "codebook.yaml").read_text() == "mine\n"
    assert not (tmp_path / "study" / "config.yaml").exists()


def _sav(path):
    pyreadstat = pytest.importorskip("pyreadstat")
    df, _ = export(n=220, prefixes=["sat", "eng", "com"], items_per_factor=4, scale=(1, 5), reverse=(0,))
    df["gender"] = np.where(np.arange(len(df)) % 2, 1, 2)
    labels = {
        k: v for k, v in zip(range(1, 6), ["strongly disagree", "disagree", "neutral", "agree", "strongly agree"])
    }
    items = [c for c in df.columns if c not in ("rid", "gender")]
    pyreadstat.write_sav(
        df,
        str(path),
        variable_value_labels={**{c: labels for c in items}, "gender": {1: "male", 2: "female"}},
        column_labels={c: f"Question {c}" for c in df.columns},
    )


EXPORTS = {
    "gbk_csv": lambda p: _chinese_export().to_csv(p / "export.csv", index=False, encoding="gbk") or "export.csv",
    "xlsx": lambda p: (
        export(n=220, prefixes=["Q1_", "Q2_", "Q3_", "Q4_"], items_per_factor=4, scale=(1, 7))[0].to_excel(
            p / "export.xlsx", index=False
        )
        or "export.xlsx"
    ),
    "sav": lambda p: _sav(p / "export.sav") or "export.sav",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(EXPORTS))
def test_init_drafts_a_codebook_that_runs_with_no_edit(tmp_path, kind):
    name = EXPORTS[kind](tmp_path)
    study = tmp_path / "studies" / "my_study"
    r = _cli("init", "--survey", str(tmp_path / name), "--out", str(study))
    assert r.returncode == 0, r.stderr
    cb = load_codebook(study / "codebook.yaml")  # validates
    cfg = validate_config(yaml.safe_load((study / "config.yaml").read_text()))
    assert cfg["survey"] == f"../../{name}" and cfg["codebook"] == "codebook.yaml"
    if kind == "sav":
        assert cb.scale_labels == ["strongly disagree", "disagree", "neutral", "agree", "strongly agree"]
        assert cb.items.set_index("item").loc["sat2", "text"] == "Question sat2"
    run = run_study(study)
    assert run.returncode == 0, run.stderr[-4000:]
    summary = json.loads((study / "results" / "summary.json").read_text())
    assert summary["n_analyzed"] > 0.9 * summary["n_raw"]
    assert (study / "results" / "report.html").is_file()
