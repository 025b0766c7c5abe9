"""Codebook diff (compval.revision, `python -m compval diff`): changes found from item membership, not names."""

from __future__ import annotations

import copy
import subprocess
import sys

import yaml

from compval.codebook import Codebook, load_codebook
from compval.revision import diff_codebooks

from conftest import ROOT


def _demo() -> dict:
    return load_codebook(ROOT / "config" / "codebook.yaml").to_dict()


def _comp(d: dict, key: str) -> dict:
    return next(c for m in d["modules"] for c in m["competencies"] if c["key"] == key)


def _rows(diff, change, level=None):
    sel = diff[(diff.change == change) & ((diff.level == level) if level else True)]
    return sel.to_dict("records")


def test_identical_codebooks_have_no_diff():
    cb = Codebook.from_dict(_demo())
    assert diff_codebooks(cb, cb).empty


def test_rename_move_reverse_add_drop():
    old = _demo()
    new = copy.deepcopy(old)
    team = _comp(new, "team")
    team["key"], team["name"] = "teamwork", "Teamwork"             # renamed: same items
    moved = _comp(new, "learning")["dimensions"][0]["items"].pop()  # one item to planning
    _comp(new, "planning")["dimensions"][0]["items"].append(moved)
    flipped = _comp(new, "customer")["dimensions"][0]["items"][0]
    flipped["reverse"] = not flipped.get("reverse", False)
    dropped = _comp(new, "achievement")["dimensions"][0]["items"].pop(0)
    _comp(new, "customer")["dimensions"][0]["items"].append({"id": "CUS_NEW_1", "text": "A new item"})
    diff = diff_codebooks(Codebook.from_dict(old), Codebook.from_dict(new))
    assert _rows(diff, "renamed", "competency") == [
        {"level": "competency", "change": "renamed", "name": "Teamwork", "from": "team (Team management)",
         "to": "teamwork (Teamwork)", "detail": ""}]
    assert [(r["name"], r["from"], r["to"]) for r in _rows(diff, "moved")] == [(moved["id"], "learning", "planning")]
    assert [r["name"] for r in _rows(diff, "reverse_changed")] == [flipped["id"]]
    assert [r["name"] for r in _rows(diff, "dropped", "item")] == [dropped["id"]]
    assert [(r["name"], r["to"]) for r in _rows(diff, "added", "item")] == [("CUS_NEW_1", "customer")]
    # a renamed competency does not make its dimensions "renamed"
    assert _rows(diff, "renamed", "dimension") == []
    assert set(diff.change) == {"renamed", "moved", "reverse_changed", "dropped", "added"}


def test_merge_and_split_are_found_from_item_membership():
    old = _demo()
    new = copy.deepcopy(old)
    comps = new["modules"][1]["competencies"]
    comm, team = _comp(new, "communication"), _comp(new, "team")
    merged = {"key": "people", "name": "Working with people", "dimensions": team["dimensions"] + comm["dimensions"]}
    new["modules"][1]["competencies"] = [c for c in comps if c["key"] not in ("communication", "team")] + [merged]
    plan = _comp(new, "planning")
    module = next(m for m in new["modules"] if plan in m["competencies"])
    dims = plan["dimensions"]
    module["competencies"] = [c for c in module["competencies"] if c["key"] != "planning"] + [
        {"key": "plan_a", "name": "Planning A", "dimensions": dims[: len(dims) // 2]},
        {"key": "plan_b", "name": "Planning B", "dimensions": dims[len(dims) // 2:]}]
    diff = diff_codebooks(Codebook.from_dict(old), Codebook.from_dict(new))
    merged_rows = _rows(diff, "merged", "competency")
    assert [(r["from"], r["to"]) for r in merged_rows] == [("team, communication", "people")]
    split_rows = _rows(diff, "split", "competency")
    assert [(r["from"], r["to"]) for r in split_rows] == [("planning", "plan_a, plan_b")]
    assert _rows(diff, "moved") == []  # no item is reported as moved: they moved as groups
    assert not _rows(diff, "renamed", "competency")


def test_cli_prints_the_diff(tmp_path):
    new = _demo()
    _comp(new, "team")["name"] = "Teams"
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(new, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "compval", "diff", str(ROOT / "config" / "codebook.yaml"),
                        str(tmp_path / "b.yaml"), "--format", "csv"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == ["level,change,name,from,to,detail",
                                         "competency,renamed,Teams,team (Team management),team (Teams),"]
