import numpy as np
import pandas as pd

from compval.codebook import Codebook
from compval.descriptives import item_descriptives, response_distribution
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
