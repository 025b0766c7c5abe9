import numpy as np
import pandas as pd
import pytest

from compval.codebook import Codebook
from compval.descriptives import item_descriptives, moments, response_distribution
from compval.scoring import mean_scores

from conftest import REF, bfi_codebook_dict
from tolerances import assert_close


def test_item_descriptives_match_psych_describe(bfi):
    ref = pd.read_csv(REF / "descriptives" / "bfi_describe.csv").set_index("item")
    items = bfi[ref.index.tolist()]
    got = item_descriptives(items, 1, 6).set_index("item")
    for col in ["n", "mean", "sd", "median", "min", "max", "skew", "kurtosis"]:
        assert_close(got[col], ref[col], "describe_psych", col)
    assert (got["n"] + got["n_missing"] == len(bfi)).all()
    np.testing.assert_allclose(got.loc["A1", "floor"], (bfi["A1"] == 1).sum() / bfi["A1"].notna().sum())


def test_response_distribution_counts_every_category(bfi):
    dist = response_distribution(bfi[["A1", "A2"]], 1, 6)
    assert len(dist) == 12
    a1 = dist[dist["item"] == "A1"]
    assert a1["count"].sum() == bfi["A1"].notna().sum()
    np.testing.assert_allclose(a1["share"].sum(), 1.0)


def test_mean_scores_match_psych_scoreItems(bfi):
    cb = Codebook.from_dict(bfi_codebook_dict())
    ref = pd.read_csv(REF / "descriptives" / "bfi_scores.csv").set_index("id")
    scored = cb.reverse_score(bfi.set_index("id")[cb.item_ids])
    got = mean_scores(scored, cb.groups("competency"), min_share=0)
    # psych returns NA only when every item of the scale is missing
    assert_close(got.to_numpy(), ref[got.columns].to_numpy(), "score_items_psych")


def test_mean_scores_min_share():
    items = pd.DataFrame({"a": [1.0, np.nan, np.nan], "b": [3.0, 4.0, np.nan], "c": [5.0, np.nan, np.nan]})
    s = mean_scores(items, {"f": ["a", "b", "c"]}, min_share=0.5)["f"]
    assert s.iloc[0] == 3.0 and np.isnan(s.iloc[1]) and np.isnan(s.iloc[2])


@pytest.mark.parametrize("layout", ["F", "C"])
def test_mean_scores_are_pandas_row_means_bit_for_bit(layout):
    rng = np.random.default_rng(9)
    x = rng.normal(3, 1, size=(3000, 40))
    x[rng.random(x.shape) < 0.15] = np.nan
    items = pd.DataFrame(np.asarray(x, order=layout), columns=[f"q{j}" for j in range(40)], copy=False)
    groups = {f"g{k}": [f"q{j}" for j in rng.permutation(40)[:k]] for k in (1, 3, 7, 8, 9, 17, 40)}
    got = mean_scores(items, groups, min_share=0.5)
    for key, cols in groups.items():
        block = items[cols]
        want = block.mean(axis=1).where(block.notna().sum(axis=1) >= max(1, 0.5 * len(cols)))
        assert np.array_equal(got[key].to_numpy(), want.to_numpy(), equal_nan=True), key
    with pytest.raises(KeyError, match="q99"):
        mean_scores(items, {"g": ["q1", "q99"]})


def test_moments_are_numpys_mean_and_sd_and_the_type_3_skew_and_kurtosis():
    # mean and SD bit for bit numpy's; skew and kurtosis as m3 / s^3 and m4 / s^4 - 3 with d**3, d**4 (pow), to
    # rounding; degenerate inputs give NaN for what is not defined
    v = np.random.default_rng(4).integers(1, 6, 10_001).astype(float)
    mean, sd, skew, kurt = moments(v)
    assert mean == v.mean() and sd == v.std(ddof=1)
    d = v - v.mean()
    np.testing.assert_allclose([skew, kurt], [np.mean(d**3) / sd**3, np.mean(d**4) / sd**4 - 3], rtol=1e-13)
    assert np.isnan(moments(np.array([]))).all()
    assert moments(np.array([2.0]))[0] == 2.0 and np.isnan(moments(np.array([2.0]))[1:]).all()
    assert moments(np.array([3.0, 3.0]))[:2] == (3.0, 0.0) and np.isnan(moments(np.array([3.0, 3.0]))[2:]).all()
