"""compval.missingness against R (tests/reference/missingness/make_reference.R).

Little's MCAR test: chi2 (relative) and p (log scale); the EM maximum-likelihood mean and covariance against the
same EM in R and against lavaan's FIML saturated model (lavaan converges less tightly). Tolerances are the named
entries "little_mcar_chi2", "little_mcar_p", "em_same_algorithm_r" and "em_vs_lavaan_fiml" of tests/tolerances.py.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compval import missingness as mi
from tolerances import assert_close

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def ref():
    return json.loads((REF / "missingness" / "little_mcar.json").read_text())


@pytest.fixture(scope="module")
def bfi_items(ref):
    data = pd.read_csv(REF / "data" / "bfi.csv", index_col="id")
    return data[ref["bfi"]["items"]].astype(float)


def hs_with_missing() -> pd.DataFrame:
    """HolzingerSwineford1939 x1..x9 with values deleted by the fixed rule of make_reference.R."""
    hs = pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv")
    h = hs[[f"x{i}" for i in range(1, 10)]].copy()
    idv = hs["id"]
    h.loc[idv % 7 == 0, "x3"] = np.nan
    h.loc[(hs["x1"] < 4) & (idv % 2 == 0), "x5"] = np.nan  # depends on x1: MAR, not MCAR
    h.loc[(hs["x4"] > 4) & (idv % 3 == 0), "x7"] = np.nan
    h.loc[(idv % 11 == 0) | (idv % 13 == 1), "x9"] = np.nan
    h.loc[idv == 300, :] = np.nan
    h.index = pd.Index(idv, name="id")
    return h


@pytest.fixture(scope="module")
def little_bfi(bfi_items):
    return mi.little_mcar(bfi_items)


@pytest.fixture(scope="module")
def little_hs():
    return mi.little_mcar(hs_with_missing())


def test_hs_deletion_rule_reproduces_r():
    stored = pd.read_csv(REF / "missingness" / "hs_missing.csv", index_col="id")
    pd.testing.assert_frame_equal(hs_with_missing(), stored, check_dtype=False, atol=1e-12)


@pytest.mark.parametrize("name", ["bfi", "hs"])
def test_little_mcar_matches_r(name, ref, little_bfi, little_hs):
    res = little_bfi if name == "bfi" else little_hs
    r = ref[name]["little"]
    assert_close(res.chi2, r["chi2"], "little_mcar_chi2")
    assert res.df == r["df"]
    assert_close(res.p, r["p"], "little_mcar_p")
    assert res.n_patterns == r["n_patterns"]
    assert res.n == r["n"]
    assert res.estimate.converged
    t = res.to_frame()
    assert t.loc[0, "chi2"] == res.chi2 and t.loc[0, "df"] == res.df


def test_little_mcar_rejects_mar_deletion_and_drops_empty_rows(little_hs):
    assert little_hs.p < 0.001  # x5 deleted depending on x1
    assert little_hs.n_excluded_empty == 1 and little_hs.n == 300


def test_little_mcar_leaves_the_callers_rows_as_they_were():
    """With empty rows, little_mcar sorts its own copy of the other rows in place (row_patterns(consume=True)):
    the caller's frame is unchanged, and the test is the one of the frame without its empty rows."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 4))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[[5, 17]] = np.nan  # two empty rows
    items = pd.DataFrame(x, columns=list("abcd"))
    before = items.copy()
    with_empty = mi.little_mcar(items)
    pd.testing.assert_frame_equal(items, before)
    without = mi.little_mcar(items.dropna(how="all"))
    assert with_empty.n_excluded_empty == 2 and with_empty.n == without.n == 198
    assert with_empty.chi2 == without.chi2 and with_empty.df == without.df and with_empty.p == without.p


def test_little_mcar_given_the_rows_sorts_them_in_place_with_the_same_result(bfi_items):
    """consume=True (the screen step's call): the rows of a frame made of a C-ordered array are sorted in that
    array instead of a copy, and the test is the same to the bit. A frame whose values are not such an array
    (the usual column-major block) is left as it was."""
    frame = bfi_items.dropna(how="all").astype(float)
    usual = mi.little_mcar(frame)
    rows = np.ascontiguousarray(frame.to_numpy())
    given = mi.little_mcar(pd.DataFrame(rows, columns=frame.columns, copy=False), consume=True)
    assert (given.chi2, given.df, given.p, given.n_patterns, given.n) == (
        usual.chi2,
        usual.df,
        usual.p,
        usual.n_patterns,
        usual.n,
    )
    pd.testing.assert_frame_equal(given.estimate.cov, usual.estimate.cov, check_exact=True)
    assert not np.array_equal(rows, frame.to_numpy(), equal_nan=True)  # sorted (and zero-filled) in place
    before = frame.copy()
    block = frame.copy()  # a frame of its own block, column-major: not given away
    assert not block.to_numpy().flags.c_contiguous
    again = mi.little_mcar(block, consume=True)
    pd.testing.assert_frame_equal(block, before)
    assert again.chi2 == usual.chi2


@pytest.mark.parametrize("name", ["bfi", "hs"])
def test_em_estimates_match_r_and_lavaan(name, ref, little_bfi, little_hs):
    est = (little_bfi if name == "bfi" else little_hs).estimate
    r = ref[name]
    assert list(est.mean.index) == r["items"]
    assert_close(est.mean.to_numpy(), r["em_mean"], "em_same_algorithm_r", "mean")
    assert_close(est.cov.to_numpy(), np.array(r["em_cov"]), "em_same_algorithm_r", "cov")
    assert_close(est.mean.to_numpy(), r["lavaan_mean"], "em_vs_lavaan_fiml", "mean")
    assert_close(est.cov.to_numpy(), np.array(r["lavaan_cov"]), "em_vs_lavaan_fiml", "cov")


def test_em_complete_data_is_sample_moments_with_denominator_n():
    x = pd.DataFrame(np.random.default_rng(3).normal(size=(40, 3)), columns=list("abc"))
    est = mi.em_mvn(x)
    np.testing.assert_allclose(est.mean, x.mean(), atol=1e-12)
    np.testing.assert_allclose(est.cov, x.cov(ddof=0), atol=1e-12)
    res = mi.little_mcar(x)  # one pattern: df 0, no test
    assert res.df == 0 and res.n_patterns == 1 and np.isnan(res.p) and res.chi2 == pytest.approx(0, abs=1e-20)


def test_item_and_respondent_missingness_match_r(ref, bfi_items):
    im = mi.item_missingness(bfi_items)
    assert im["item"].tolist() == ref["bfi"]["items"]
    assert im["n_missing"].tolist() == [ref["bfi"]["item_n_missing"][i] for i in ref["bfi"]["items"]]
    np.testing.assert_allclose(im["share_missing"], im["n_missing"] / 2800)
    rm = mi.respondent_missingness(bfi_items)
    assert rm.index.equals(bfi_items.index)
    counts = rm["n_missing"].value_counts().sort_index()
    assert {str(k): int(v) for k, v in counts.items()} == ref["bfi"]["respondent_n_missing_table"]
    np.testing.assert_allclose(rm["share_missing"], rm["n_missing"] / 25)


def test_missing_patterns(ref, bfi_items):
    pat = mi.missing_patterns(bfi_items)
    assert len(pat) == ref["bfi"]["n_patterns_all"]
    assert pat["n"].sum() == 2800
    top = pat.iloc[0]
    assert top["pattern"] == "0" * 25 and top["n"] == 2436 and top["missing_items"] == ""
    hs_pat = mi.missing_patterns(hs_with_missing())
    assert len(hs_pat) == ref["hs"]["n_patterns_all"] == 11
    assert hs_pat.loc[hs_pat["n_missing"] == 9, "n"].tolist() == [1]


def test_apply_missing_policy():
    h = hs_with_missing()
    share = h.isna().mean(axis=1)
    kept, excl = mi.apply_missing_policy(h, "pairwise", max_missing=0.2)
    assert set(excl.index) == set(share[share > 0.2].index)  # 2 of 9 missing (0.22) or all
    assert kept.equals(h.index[share <= 0.2])
    assert excl.loc[300, "reason"] == "all_missing" and excl.loc[300, "value"] == 1.0
    assert (excl.drop(index=300)["reason"] == "too_many_missing").all()
    np.testing.assert_allclose(excl["value"], share[excl.index])
    kept_l, excl_l = mi.apply_missing_policy(h, "listwise")
    assert len(kept_l) == int((share == 0).sum()) == 191
    assert excl_l["reason"].value_counts().to_dict() == {"incomplete": 96, "too_many_missing": 13, "all_missing": 1}
    assert kept_l.intersection(excl_l.index).empty and len(kept_l) + len(excl_l) == len(h)
    kept_all, excl_none = mi.apply_missing_policy(h, "pairwise", max_missing=1.0)
    assert len(excl_none) == 1  # only the empty respondent
    with pytest.raises(ValueError):
        mi.apply_missing_policy(h, "mean")
    with pytest.raises(ValueError):
        mi.apply_missing_policy(h, "pairwise", max_missing=1.5)
