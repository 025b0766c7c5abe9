import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from compval.codebook import Codebook, CodebookError, IngestSpec, load_codebook

from conftest import bfi_codebook_dict, small_codebook_dict


def test_shipped_codebook_encodes_the_seed_model(root):
    cb = load_codebook(root / "config" / "codebook.yaml")
    assert len(cb.modules) == 3
    assert len(cb.competencies) == 6
    assert len(cb.dimensions) == 23
    sizes = cb.items.groupby("dimension").size()
    assert (sizes >= 2).all()
    rev = cb.items.groupby("competency")["reverse"].sum()
    assert (rev >= 1).all(), "every competency needs a reverse-keyed item"
    assert set(cb.pii_columns()) >= {"name", "email", "phone"}
    assert "27" in cb.data.get("notes", "") and "23" in cb.data.get("notes", "")


def test_groups_follow_codebook_order():
    cb = Codebook.from_dict(bfi_codebook_dict())
    g = cb.groups("competency")
    assert list(g) == ["agree", "conscientious", "extraversion", "neuroticism", "openness"]
    assert g["agree"] == ["A1", "A2", "A3", "A4", "A5"]
    assert cb.competency_module() == {k: "big_five" for k in g}
    assert cb.reverse_items == ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]


def test_reverse_score_uses_min_plus_max():
    cb = Codebook.from_dict(small_codebook_dict(scale=(1, 6)))
    items = pd.DataFrame({i: [1.0, 6.0, None] for i in cb.item_ids})
    out = cb.reverse_score(items)
    for i in cb.reverse_items:
        assert out[i].tolist()[:2] == [6.0, 1.0]
        assert pd.isna(out[i].iloc[2])
    untouched = [i for i in cb.item_ids if i not in cb.reverse_items]
    assert out[untouched].equals(items[untouched])


def test_reverse_score_in_place_recodes_the_given_array_to_the_same_numbers():
    cb = Codebook.from_dict(small_codebook_dict(scale=(1, 6)))
    rng = np.random.default_rng(3)
    values = rng.integers(1, 7, size=(50, len(cb.item_ids))).astype(float)
    values[rng.random(values.shape) < 0.1] = np.nan
    items = pd.DataFrame(values, columns=cb.item_ids)
    expected = cb.reverse_score(items)  # a copy: items unchanged
    assert np.array_equal(items.to_numpy(), values, equal_nan=True)
    out = cb.reverse_score(items, in_place=True)
    pd.testing.assert_frame_equal(out, expected, check_exact=True)
    assert np.shares_memory(out.to_numpy(), values)  # no copy of the answers


def test_errors_are_reported_with_key_paths():
    d = small_codebook_dict()
    d["modules"][0]["competencies"][0]["dimensions"][1]["items"][0]["id"] = "bad id"
    d["modules"][1]["competencies"][0]["key"] = d["modules"][0]["competencies"][0]["key"]
    del d["scale"]["max"]
    with pytest.raises(CodebookError) as exc:
        Codebook.from_dict(d, source="x.yaml")
    msg = str(exc.value)
    assert "x.yaml" in msg
    assert "modules[0].competencies[0].dimensions[1].items[0].id" in msg
    assert "scale: 'max' is a required property" in msg


def test_semantic_errors_duplicate_ids_and_labels():
    d = small_codebook_dict()
    first = d["modules"][0]["competencies"][0]["dimensions"][0]["items"][0]["id"]
    d["modules"][1]["competencies"][0]["dimensions"][0]["items"][0]["id"] = first
    d["scale"]["labels"] = ["a", "b"]
    with pytest.raises(CodebookError) as exc:
        Codebook.from_dict(d)
    problems = exc.value.problems
    assert any("already used at modules[0].competencies[0].dimensions[0].items[0].id" in p for p in problems)
    assert any(p.startswith("scale.labels: 2 labels given for a 6-point scale") for p in problems)


def test_structure_ignores_wording_but_not_structure():
    d = bfi_codebook_dict()
    cb = Codebook.from_dict(d)
    d2 = copy.deepcopy(d)
    d2["modules"][0]["competencies"][0]["dimensions"][0]["items"][0]["text"] = "new wording"
    assert Codebook.from_dict(d2).structure() == cb.structure()
    d3 = copy.deepcopy(d)
    moved = d3["modules"][0]["competencies"][0]["dimensions"][0]["items"].pop()
    d3["modules"][0]["competencies"][1]["dimensions"][0]["items"].append(moved)
    assert Codebook.from_dict(d3).structure() != cb.structure()
    assert Codebook.from_dict(d3).ingest_spec() == cb.ingest_spec()
    rebuilt = Codebook.from_structure(cb.structure())
    assert rebuilt.groups("competency") == cb.groups("competency")
    assert rebuilt.reverse_items == cb.reverse_items


def test_ingest_spec_round_trip():
    cb = Codebook.from_dict(bfi_codebook_dict())
    spec = IngestSpec.from_dict(cb.ingest_spec())
    assert spec.item_ids == cb.item_ids and spec.scale_max == 6 and spec.id_column == "id"


def test_yaml_syntax_error_names_line(tmp_path):
    p = tmp_path / "cb.yaml"
    p.write_text("instrument: x\nscale: {min: 1, max: 5\nid_column: id\n")
    with pytest.raises(CodebookError) as exc:
        load_codebook(p)
    assert str(p) in str(exc.value) and "line" in str(exc.value)


def test_codebook_file_round_trip(tmp_path):
    p = tmp_path / "cb.yaml"
    p.write_text(yaml.safe_dump(small_codebook_dict(n_factors=5, scale=(1, 6))))
    cb = load_codebook(p)
    assert len(cb.competencies) == 5 and cb.scale_max == 6
    assert len(cb.sha256()) == 64
