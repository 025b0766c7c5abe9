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
    team["key"], team["name"] = "teamwork", "Teamwork"  # renamed: same items
    moved = _comp(new, "learning")["dimensions"][0]["items"].pop()  # one item to planning
    _comp(new, "planning")["dimensions"][0]["items"].append(moved)
    flipped = _comp(new, "customer")["dimensions"][0]["items"][0]
    flipped["reverse"] = not flipped.get("reverse", False)
    dropped = _comp(new, "achievement")["dimensions"][0]["items"].pop(0)
    _comp(new, "customer")["dimensions"][0]["items"].append({"id": "CUS_NEW_1", "text": "A new item"})
    diff = diff_codebooks(Codebook.from_dict(old), Codebook.from_dict(new))
    assert _rows(diff, "renamed", "competency") == [
        {
            "level": "competency",
            "change": "renamed",
            "name": "Teamwork",
            "from": "team (Team management)",
            "to": "teamwork (Teamwork)",
            "detail": "",
        }
    ]
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
        {"key": "plan_b", "name": "Planning B", "dimensions": dims[len(dims) // 2 :]},
    ]
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
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "compval",
            "diff",
            str(ROOT / "config" / "codebook.yaml"),
            str(tmp_path / "b.yaml"),
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == [
        "level,change,name,from,to,detail",
        "competency,renamed,Teams,team (Team management),team (Teams),",
    ]


# ------------------------------------------------------------------------------------------------- holdout guard
def test_holdout_split_is_disjoint_covering_stratified_and_independent_of_the_id_values():
    import numpy as np
    import pandas as pd

    from compval.revision import holdout_split

    ids = pd.Index([f"P{k:04d}" for k in range(1, 501)])
    strata = pd.Series(np.where(np.arange(500) < 100, "senior", "junior"), index=ids)
    strata.iloc[7] = None
    split = holdout_split(ids, 0.3, seed=11, strata=strata)
    assert list(split.index) == list(ids) and set(split) == {"training", "holdout"}
    hold, train = set(split.index[split == "holdout"]), set(split.index[split == "training"])
    assert not hold & train and hold | train == set(ids)
    assert (split[strata == "senior"] == "holdout").sum() == 30  # round(.3 * 100), stratum by stratum
    assert (split[strata == "junior"] == "holdout").sum() == round(0.3 * 399)
    # the same positions whatever the ids are called (pseudonyms under another key): reproducible by a reviewer
    renamed = pd.Index([f"Q{k:04d}x" for k in range(500, 0, -1)])
    again = holdout_split(renamed, 0.3, seed=11, strata=strata.set_axis(renamed))
    assert list(again) == list(split)
    assert not holdout_split(ids, 0.3, seed=12, strata=strata).equals(split)  # the seed draws it
    assert (holdout_split(ids, 0.0, seed=11) == "training").all()


def test_a_spurious_residual_covariance_planted_in_training_only_does_not_hold_out():
    """A revision (freeing a residual covariance) that helps only because of a quirk of the training rows: its
    gain in CFI does not hold out, and the guard flags it; a real one holds."""
    import numpy as np
    import pandas as pd

    from compval import cfa
    from compval.revision import holdout_split, holds_out

    rng = np.random.default_rng(5)
    n, lam = 1200, 0.7
    eta = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    e = rng.standard_normal((n, 8)) * np.sqrt(1 - lam**2)
    x = np.column_stack([lam * eta[:, k // 4] for k in range(8)]) + e
    ids = pd.Index([f"P{k:05d}" for k in range(n)])
    data = pd.DataFrame(x, index=ids, columns=[f"x{k + 1}" for k in range(8)])
    split = holdout_split(ids, 0.5, seed=3)
    train = split == "training"
    shared = rng.standard_normal(n) * 0.6  # planted: x1 and x2 share a quirk, in the training rows only
    data.loc[train, "x1"] += shared[train.to_numpy()]
    data.loc[train, "x2"] += shared[train.to_numpy()]
    base = "f1 =~ x1 + x2 + x3 + x4\nf2 =~ x5 + x6 + x7 + x8"

    def gain(extra: str, rows) -> float:
        d = data.loc[rows]
        f0 = cfa.fit_cfa(d, cfa.from_syntax(base))
        f1 = cfa.fit_cfa(d, cfa.from_syntax(base + "\n" + extra))
        return f1.fit["cfi"] - f0.fit["cfi"]

    spurious = (gain("x1 ~~ x2", train), gain("x1 ~~ x2", ~train))
    assert spurious[0] > 0.02 and not holds_out(*spurious)
    # a residual covariance present in every row holds out
    other = rng.standard_normal(n) * 0.6
    data["x6"] += other
    data["x7"] += other
    real = (gain("x6 ~~ x7", train), gain("x6 ~~ x7", ~train))
    assert real[0] > 0.01 and holds_out(*real)


def _two_factor_sample(n: int, seed: int):
    """Continuous answers of a 2-factor, 8-item population (loadings .7, factor correlation .4), ids r0000..."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    cols = {f"x{j + 1}": 0.7 * eta[:, j // 4] + np.sqrt(1 - 0.49) * rng.standard_normal(n) for j in range(8)}
    return pd.DataFrame(cols, index=pd.Index([f"r{i:04d}" for i in range(n)], name="pid")), rng


def _planted(where: str):
    """The sample with a residual covariance of x1 and x2 planted in the training part only or in every row; the
    original model and the revision that frees that residual covariance."""
    from compval import cfa
    from compval.revision import holdout_split

    data, rng = _two_factor_sample(800, seed=5)
    split = holdout_split(data.index, 0.3, seed=11)
    rows = split == "training" if where == "training" else split.notna()
    shared = rng.standard_normal(int(rows.sum()))
    data.loc[rows, ["x1", "x2"]] += 0.7 * shared[:, None]
    syntax = "f1 =~ x1 + x2 + x3 + x4\nf2 =~ x5 + x6 + x7 + x8\n"
    return data, split, cfa.from_syntax(syntax, "original"), cfa.from_syntax(syntax + "x1 ~~ x2\n", "revised")


def test_the_holdout_guard_flags_a_revision_that_only_fits_the_training_part():
    from compval.revision import check_on_holdout

    data, split, original, revised = _planted("training")
    check = check_on_holdout(data, original, revised, split, estimator="ML")
    t = check.table.set_index("part")
    assert list(t.index) == ["training", "holdout", "full"] and t["n"].tolist() == [560, 240, 800]
    assert check.gain_training > 0.02  # the freed residual covariance fits the training part much better
    assert check.gain_holdout < 0.5 * check.gain_training  # ... and does not hold out
    assert check.holds is False and check.note == ""
    assert t["delta_bic"].notna().all() and t.loc["training", "delta_bic"] < -10  # same items: BIC comparable


def test_the_holdout_guard_passes_a_revision_true_in_every_row():
    from compval.revision import check_on_holdout

    data, split, original, revised = _planted("everywhere")
    check = check_on_holdout(data, original, revised, split, estimator="ML")
    assert check.gain_training > 0.02 and check.gain_holdout >= 0.5 * check.gain_training
    assert check.holds is True


def test_the_holdout_guard_never_passes_a_failed_fit_and_needs_every_respondent_in_the_split():
    import pytest

    from compval import cfa
    from compval.revision import check_on_holdout

    data, split, original, _ = _planted("training")
    unidentified = cfa.from_syntax("f1 =~ x1 + x2\n", "revised")  # one factor on two items: not identified
    check = check_on_holdout(data, original, unidentified, split, estimator="ML")
    assert check.holds is None and "revised model on the training part" in check.note
    assert check.table["delta_bic"].isna().all()  # other items: BIC not comparable
    with pytest.raises(ValueError, match="not in the split"):
        check_on_holdout(data, original, original, split.iloc[:-5], estimator="ML")


def test_fit_by_part_fits_each_part_alone_and_equals_a_direct_fit():
    import numpy as np

    from compval import cfa
    from compval.revision import fit_by_part, holdout_split

    data, _rng = _two_factor_sample(600, seed=3)
    split = holdout_split(data.index, 0.3, seed=2)
    model = cfa.from_syntax("f1 =~ x1 + x2 + x3 + x4\nf2 =~ x5 + x6 + x7 + x8\n", "m")
    t = fit_by_part(data, model, split, estimator="ML").set_index("part")
    assert t["n"].to_dict() == {"training": 420, "holdout": 180}
    direct = cfa.fit_cfa(data.loc[split == "holdout"], model, estimator="ML").fit
    for key in ("chisq", "df", "cfi", "rmsea", "srmr", "bic"):
        assert np.isclose(t.loc["holdout", key], direct[key], rtol=0, atol=1e-10), key


def _merged_codebook(cb: Codebook) -> Codebook:
    d = cb.to_dict()
    comps = d["modules"][0]["competencies"]
    comps[0]["dimensions"] += comps[1]["dimensions"]
    del comps[1]
    return Codebook.from_dict(d)


def test_nesting_is_read_from_item_membership_and_keys():
    from compval.revision.compare import nesting
    from compval.revision.suggest import apply_change

    from conftest import small_codebook_dict

    cb = Codebook.from_dict(small_codebook_dict(n_factors=3, items_per_factor=4, n_modules=1))
    merged = _merged_codebook(cb)
    assert nesting(cb, cb) == "same"
    assert nesting(cb, merged) == "in_original" and nesting(merged, cb) == "contains_original"
    assert nesting(cb, apply_change(cb, "drop", cb.item_ids[0])) == ""  # other items
    d = cb.to_dict()
    item = d["modules"][0]["competencies"][0]["dimensions"][0]["items"][0]
    item["reverse"] = not item.get("reverse", False)
    assert nesting(cb, Codebook.from_dict(d)) == ""  # the same items scored otherwise: other data


def _summary(cfi, bic, cfi_train, cfi_hold, alphas=(0.8, 0.7)):
    return {
        "cfa": {
            "hypothesized": {
                "status": "ok",
                "chisq": 100.0,
                "df": 50,
                "cutoff_values": {"cfi": cfi, "tli": cfi, "rmsea": 0.05, "srmr": 0.04},
                "aic": bic - 50,
                "bic": bic,
            }
        },
        "reliability": {f"c{k}": {"alpha": a, "omega_total": a + 0.01} for k, a in enumerate(alphas)},
        "validity": {"c0": {"cr": 0.8, "ave": 0.5}, "c1": {"cr": 0.7, "ave": 0.4}, "htmt": {"c0~~c1": 0.6}},
        "criterion": {
            "sales": {"c0": {"r": 0.2}, "c1": {"r": -0.3}},
            "score_type": "mean_scores",
            "regression": {"sales": {"delta_r2": 0.2}},
            "dominance": {"sales": {"c0": 0.05, "c1": 0.1}},
        },
        "holdout": {
            "training": {"n": 70, "status": "ok", "cfi": cfi_train},
            "holdout": {"n": 30, "status": "ok", "cfi": cfi_hold},
        },
    }


def test_compare_variants_lines_up_deltas_tests_and_the_holdout_guard():
    import numpy as np

    from compval.revision.compare import compare_variants
    from compval.revision.suggest import apply_change

    from conftest import small_codebook_dict

    cb = Codebook.from_dict(small_codebook_dict(n_factors=3, items_per_factor=4, n_modules=1))
    codebooks = {"original": cb, "merged": _merged_codebook(cb), "dropped": apply_change(cb, "drop", cb.item_ids[0])}
    summaries = {
        "original": _summary(0.95, 1000.0, 0.95, 0.94),
        "merged": _summary(0.90, 1040.0, 0.90, 0.89),
        "dropped": _summary(0.97, 950.0, 0.98, 0.94),  # gains .03 on training, none on the holdout
    }
    tests = {"merged": {"chisq_diff": 45.0, "df_diff": 2.0, "pvalue": 1e-10}}
    t = compare_variants(summaries, codebooks, tests).set_index("variant")
    assert list(t.index) == ["original", "merged", "dropped"]
    assert t.loc["merged", "nested"] == "in_original" and t.loc["merged", "p_diff"] == 1e-10
    assert np.isclose(t.loc["merged", "delta_bic"], 40.0) and np.isclose(t.loc["merged", "delta_cfi"], -0.05)
    assert np.isnan(t.loc["dropped", "delta_bic"]) and not t.loc["dropped", "same_items"]  # other items: no BIC
    assert t.loc["dropped", "holds"] is False and t.loc["merged", "holds"] is True
    assert t.loc["original", "holds"] is None
    assert np.isclose(t.loc["original", "alpha_mean"], 0.75) and t.loc["original", "dominant_sales"] == "c1"
    assert t.loc["original", "r_max_sales"] == -0.3 and t.loc["original", "delta_r2_sales"] == 0.2


def test_the_variant_verdict_is_one_rule():
    from compval.present.rules import variant_preferred

    assert variant_preferred(same_items=True, nested="in_original", delta_bic=40.0, p_diff=1e-6, holds=True) is False
    assert variant_preferred(same_items=True, nested="in_original", delta_bic=-5.0, p_diff=0.4, holds=True) is True
    assert variant_preferred(same_items=True, nested="contains_original", delta_bic=-5.0, p_diff=0.01, holds=None)
    assert variant_preferred(same_items=False, nested="", delta_bic=float("nan"), p_diff=None, holds=True) is None
    assert variant_preferred(same_items=True, nested="", delta_bic=-30.0, p_diff=None, holds=False) is False
