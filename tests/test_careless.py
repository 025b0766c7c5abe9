"""compval.careless against re-implementations of the R package careless 1.2.2 on psych::bfi.

Reference: tests/reference/careless/make_reference.R (writes bfi_careless.csv and bfi_careless_meta.json).
All indices are closed form; they are compared with the named tolerance "careless_r" of tests/tolerances.py.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from compval import careless as cl
from tolerances import assert_close as named_close

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def bfi():
    data = pd.read_csv(REF / "data" / "bfi.csv", index_col="id")
    ref = pd.read_csv(REF / "careless" / "bfi_careless.csv", index_col="id")
    meta = json.loads((REF / "careless" / "bfi_careless_meta.json").read_text())
    items = [f"{f}{i}" for f in "ACENO" for i in range(1, 6)]
    raw = data[items].astype(float)
    scored = raw.copy()
    for k in meta["reverse_items"]:
        scored[k] = 7 - scored[k]
    scales = {f: [f"{f}{i}" for i in range(1, 6)] for f in "ACENO"}
    assert ref.index.equals(raw.index)
    return {"raw": raw, "scored": scored, "ref": ref, "meta": meta, "scales": scales}


def assert_close(actual, expected):
    """Against R: same NA pattern as R, values within the named tolerance "careless_r"."""
    named_close(actual, expected, "careless_r")


# ------------------------------------------------------------------------------------------------ vs R
def test_longstring_matches_careless(bfi):
    ls = cl.longstring(bfi["raw"])
    assert ls.index.equals(bfi["raw"].index)
    np.testing.assert_array_equal(ls["longstring"].to_numpy(), bfi["ref"]["longstr"].to_numpy())
    assert_close(ls["avgstr"], bfi["ref"]["avgstr"])


def test_longstring_missing_values_break_runs_like_rle():
    x = pd.DataFrame([[1, 1, np.nan, np.nan, 1], [2, 2, 2, 3, 3], [4, 4, 4, 4, 4]], dtype=float)
    ls = cl.longstring(x)
    # rle(c(1, 1, NA, NA, 1))$lengths == c(2, 1, 1, 1)
    assert ls["longstring"].tolist() == [2, 3, 5]
    assert ls["avgstr"].tolist() == [5 / 4, 5 / 2, 5.0]


def test_irv_matches_careless_total_and_split(bfi):
    iv = cl.irv(bfi["raw"], num_split=3)
    assert list(iv.columns) == ["irv", "irv1", "irv2", "irv3"]
    for col in iv.columns:
        assert_close(iv[col], bfi["ref"][col])


def test_irv_chunks_follow_r_cut():
    # R: table(cut(1:25, 3, labels = FALSE)) -> 9 8 8; cut(1:10, 4) -> 3 2 2 3; cut(1:25, 4) -> 7 6 6 6
    assert [len(c) for c in cl._r_cut_chunks(25, 3)] == [9, 8, 8]
    assert [len(c) for c in cl._r_cut_chunks(10, 4)] == [3, 2, 2, 3]
    assert [len(c) for c in cl._r_cut_chunks(25, 4)] == [7, 6, 6, 6]
    x = pd.DataFrame([[1.0, 1.0, np.nan, 5.0]])
    iv = cl.irv(x)
    assert iv["irv"].iloc[0] == pytest.approx(np.std([1, 1, 5], ddof=1))
    assert np.isnan(cl.irv(pd.DataFrame([[np.nan, 3.0, np.nan]]))["irv"].iloc[0])  # sd of one value is NA


def test_mahad_complete_cases_matches_careless(bfi):
    cc = bfi["raw"].dropna().index
    d2 = cl.mahad(bfi["scored"].loc[cc])
    assert_close(d2.reindex(bfi["raw"].index), bfi["ref"]["mahad_cc"])
    # reverse-keying is an affine recode: D2 unchanged (R computed it on the raw answers too)
    assert_close(cl.mahad(bfi["raw"].loc[cc]).reindex(bfi["raw"].index), bfi["ref"]["mahad_cc_raw"])


def test_mahad_flag_matches_careless_confidence_99(bfi):
    cc = bfi["raw"].dropna().index
    ind = cl.careless_indices(bfi["raw"].loc[cc], bfi["scales"], scored=bfi["scored"].loc[cc])
    flags = cl.flag_careless(ind, {"mahad_alpha": 0.01, "longstring_share": None, "seconds_per_item_min": None})
    expected = bfi["ref"].loc[cc, "mahad_cc_flag99"].astype(bool)
    assert expected.sum() > 0
    np.testing.assert_array_equal(flags["mahad"].to_numpy(), expected.to_numpy())
    # careless' cut: D2 > qchisq(.99, ncol(x))
    cut = bfi["meta"]["mahad_cut99"]
    assert cut == pytest.approx(stats.chi2.ppf(0.99, 25), abs=1e-10)
    np.testing.assert_array_equal((ind["mahad"] > cut).to_numpy(), expected.to_numpy())


def test_mahad_with_missing_values_matches_psych_outlier(bfi):
    assert bfi["raw"].isna().any(axis=1).sum() == 364
    assert_close(cl.mahad(bfi["scored"]), bfi["ref"]["mahad_na"])


def test_evenodd_matches_careless(bfi):
    eo = cl.evenodd(bfi["scored"], bfi["scales"])
    assert_close(eo["evenodd"], bfi["ref"]["evenodd"])
    np.testing.assert_array_equal(eo["evenodd_n"].to_numpy(), bfi["ref"]["evenodd_n"].to_numpy())
    assert eo["evenodd"].isna().sum() > 0  # zero-variance half-means give NA as in careless


def test_evenodd_needs_two_scales(bfi):
    with pytest.raises(ValueError, match="two scales"):
        cl.evenodd(bfi["scored"], {"A": bfi["scales"]["A"]})


def test_item_pairs_match_careless(bfi):
    syn = cl.item_pairs(bfi["scored"], 0.40)
    expected = pd.DataFrame(bfi["meta"]["psychsyn40_pairs"])
    assert syn[["first", "second"]].values.tolist() == expected[["first", "second"]].values.tolist()
    assert (syn["r"] > 0.40).all()
    ant = cl.item_pairs(bfi["raw"], 0.30, anto=True)
    expected = pd.DataFrame(bfi["meta"]["psychant30_pairs"])
    assert ant[["first", "second"]].values.tolist() == expected[["first", "second"]].values.tolist()
    assert (ant["r"] < -0.30).all()


def test_psychsyn_matches_careless(bfi):
    s = cl.psychsyn(bfi["scored"], 0.40)
    assert_close(s["psychsyn"], bfi["ref"]["psychsyn40"])
    np.testing.assert_array_equal(s["psychsyn_n"].to_numpy(), bfi["ref"]["psychsyn40_n"].to_numpy())
    # at careless' default .60 only one pair exists: every score is NA (more than two pairs are needed)
    s60 = cl.psychsyn(bfi["scored"])
    assert s60["psychsyn"].isna().all() and bfi["ref"]["psychsyn60"].isna().all()
    np.testing.assert_array_equal(s60["psychsyn_n"].to_numpy(), bfi["ref"]["psychsyn60_n"].to_numpy())


def test_psychant_matches_careless(bfi):
    a = cl.psychant(bfi["raw"], 0.30)
    assert_close(a["psychant"], bfi["ref"]["psychant30"])
    np.testing.assert_array_equal(a["psychant_n"].to_numpy(), bfi["ref"]["psychant30_n"].to_numpy())
    assert a["psychant"].mean() < 0  # attentive respondents answer antonyms in opposite directions


def test_declared_synonym_pairs_from_codebook_match_r(bfi):
    decl = bfi["meta"]["declared_pairs"]
    # a codebook-like dict declaring the same pairs through `synonym_of`
    items = [{"id": i, "text": i} for i in bfi["raw"].columns]
    syn = {d["a"]: d["b"] for d in decl}
    for it in items:
        if it["id"] in syn:
            it["synonym_of"] = syn[it["id"]]
    data = {"modules": [{"competencies": [{"dimensions": [{"items": items}]}]}]}
    pairs = cl.declared_synonym_pairs(data)
    assert sorted(pairs) == sorted((d["a"], d["b"]) for d in decl)
    s = cl.psychsyn(bfi["scored"], pairs=pairs)
    assert_close(s["psychsyn"], bfi["ref"]["psychsyn_decl"])
    np.testing.assert_array_equal(s["psychsyn_n"].to_numpy(), bfi["ref"]["psychsyn_decl_n"].to_numpy())


def test_psychsyn_no_pairs_gives_nan_and_resample_is_seeded():
    x = pd.DataFrame(np.random.default_rng(1).integers(1, 6, size=(50, 6)).astype(float), columns=list("abcdef"))
    out = cl.psychsyn(x, 0.95)
    assert out["psychsyn"].isna().all() and (out["psychsyn_n"] == 0).all()
    # first items constant, second items varying: NA; swapping within pairs can give a value
    y = pd.DataFrame([[3, 1, 3, 2, 3, 4, 3, 5]], columns=list("abcdefgh"), dtype=float)
    pairs = [("a", "b"), ("c", "d"), ("e", "f"), ("g", "h")]
    assert np.isnan(cl.psychsyn(y, pairs=pairs)["psychsyn"].iloc[0])
    r1 = cl.psychsyn(y, pairs=pairs, resample_na=True, seed=3)["psychsyn"].iloc[0]
    r2 = cl.psychsyn(y, pairs=pairs, resample_na=True, seed=3)["psychsyn"].iloc[0]
    assert r1 == r2 and not np.isnan(r1)
    with pytest.raises(ValueError, match="seed"):
        cl.psychsyn(y, pairs=pairs, resample_na=True)


# ------------------------------------------------------------------------------------------------ table, flags
def test_careless_indices_table(bfi):
    raw, ref = bfi["raw"], bfi["ref"]
    duration = pd.Series(np.linspace(20, 400, len(raw)), index=raw.index)
    ind = cl.careless_indices(
        raw, bfi["scales"], duration, scored=bfi["scored"], psychsyn_critval=0.40, psychant_critval=0.30
    )
    assert ind.index.equals(raw.index)
    for col, rcol in [
        ("longstring", "longstr"),
        ("irv", "irv"),
        ("mahad", "mahad_na"),
        ("evenodd", "evenodd"),
        ("psychsyn", "psychsyn40"),
        ("psychant", "psychant30"),
    ]:
        assert_close(ind[col], ref[rcol])
    assert (ind["n_items"] == 25).all()
    np.testing.assert_array_equal(ind["n_answered"], raw.notna().sum(axis=1))
    np.testing.assert_allclose(ind["seconds_per_item"], duration / raw.notna().sum(axis=1), rtol=1e-15)
    np.testing.assert_allclose(ind["mahad_p"], stats.chi2.sf(ref["mahad_na"], 25), rtol=0, atol=1e-12)


def test_seconds_per_item_counts_answered_items_only():
    x = pd.DataFrame({"a": [1, np.nan, np.nan], "b": [2, 3, np.nan]}, index=["r1", "r2", "r3"])
    d = pd.Series({"r3": 10.0, "r2": 5.0, "r1": 8.0})  # aligned by label
    assert cl.seconds_per_item(x, d).tolist()[:2] == [4.0, 5.0]
    assert np.isnan(cl.seconds_per_item(x, d).iloc[2])


def test_flag_careless_straightliner_and_speeder():
    rng = np.random.default_rng(7)
    n, p = 200, 20
    cols = [f"i{k}" for k in range(p)]
    x = pd.DataFrame(rng.integers(1, 6, size=(n, p)).astype(float), columns=cols, index=[f"r{k}" for k in range(n)])
    x.iloc[0] = 3.0  # straight-liner
    x.iloc[1, :12] = 5.0  # run of 12 >= 20 / 2
    x.iloc[1, 12:] = [1, 2, 1, 2, 1, 2, 1, 2]
    duration = pd.Series(300.0, index=x.index)
    duration.iloc[2] = 20.0  # 1 s per item
    duration.iloc[3] = np.nan
    scales = {"s1": cols[:5], "s2": cols[5:10], "s3": cols[10:15], "s4": cols[15:]}
    ind = cl.careless_indices(x, scales, duration)
    f = cl.flag_careless(ind)
    assert f.loc["r0", "longstring"] and f.loc["r1", "longstring"] and f.loc["r2", "speed"]
    assert not f.loc["r3", "speed"]  # missing duration never flags
    assert f.loc["r0", "reasons"].startswith("longstring 20 >= 10")
    assert f.loc["r2", "reasons"] == "speed 1 < 2 s/item"
    assert f["n_flags"].equals(f[["longstring", "mahad", "speed"]].sum(axis=1))
    assert f["any"].equals(f["n_flags"] > 0)
    assert set(f.columns) == {"longstring", "mahad", "speed", "n_flags", "any", "reasons"}
    assert (f.loc[~f["any"], "reasons"] == "").all()
    # an absolute longstring threshold overrides the share; extra criteria switch on
    g = cl.flag_careless(ind, {"longstring_min": 15, "irv_min": 0.1, "evenodd_max": -0.3})
    assert g.loc["r0", "longstring"] and not g.loc["r1", "longstring"]
    assert g.loc["r0", "irv_low"] and g.loc["r0", "reasons"].split("; ")[1] == "irv 0 < 0.1"
    assert "evenodd" in g and not g.loc["r0", "evenodd"]  # straight-liner's evenodd is NA -> no flag
    with pytest.raises(ValueError, match="unknown thresholds"):
        cl.flag_careless(ind, {"longstring": 10})


def test_row_blocks_give_the_same_bits_as_one_pass(monkeypatch):
    """The row-wise indices (IRV, Mahalanobis D2, even-odd, synonyms) computed by blocks of rows are bit-for-bit
    those of one pass over all rows."""
    rng = np.random.default_rng(7)
    n, p = 1000, 12
    x = rng.integers(1, 6, size=(n, p)).astype(float)
    x[:, 1] = np.clip(x[:, 0] + rng.integers(-1, 2, size=n), 1, 5)  # a synonym pair
    x[rng.random((n, p)) < 0.05] = np.nan
    items = pd.DataFrame(x, columns=[f"i{j}" for j in range(p)])
    scales = {"a": [f"i{j}" for j in range(6)], "b": [f"i{j}" for j in range(6, p)]}
    whole = cl.careless_indices(items, scales, irv_split=3)
    monkeypatch.setattr(cl, "_ROW_BLOCK", 37)
    blocks = cl.careless_indices(items, scales, irv_split=3)
    assert list(blocks.columns) == list(whole.columns)
    for c in whole.columns:
        a, b = whole[c].to_numpy(dtype=float), blocks[c].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), c
        assert np.array_equal(a[~np.isnan(a)].view(np.int64), b[~np.isnan(b)].view(np.int64)), c
