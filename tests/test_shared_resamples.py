"""One stream of resamples for a whole reliability table (``compval.resampling.SharedResamples``): the stream is
the one ``resample_counts`` / ``blb_counts`` draw from ``default_rng(seed)``, a statistic with fewer resamples
takes its first ones, every statistic computed on it is the one it would be alone, and a scale's intervals do not
depend on the other scales of the table (an unchanged scale of a revised codebook keeps them bit for bit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compval.reliability import bootstrap_ci, bootstrap_cis, reliability_table
from compval.resampling import SharedResamples, blb_counts, blb_plan, resample_counts

ITEMS = {"A": ["a1", "a2", "a3", "a4"], "B": ["b1", "b2", "b3"]}


def _sample(n: int, seed: int = 5) -> pd.DataFrame:
    """Two correlated factors, rating-scale items with about 5% of the answers missing."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 2))
    f[:, 1] = 0.4 * f[:, 0] + np.sqrt(0.84) * f[:, 1]
    cols = {}
    for k, (name, items) in enumerate(ITEMS.items()):
        for item in items:
            cols[item] = np.clip(np.round(3 + 0.9 * f[:, k] + 0.8 * rng.standard_normal(n)), 1, 5)
    x = pd.DataFrame(cols)
    return x.mask(rng.random(x.shape) < 0.05)


def _stack(batches) -> np.ndarray:
    return np.concatenate(list(batches))


@pytest.mark.parametrize("cache_bytes", [0, 1 << 30])
def test_counts_are_the_seeds_stream_and_fewer_take_the_first(cache_bytes):
    """Kept or drawn again, the counts are those of ``resample_counts(default_rng(seed), n, B)``; asking for fewer
    resamples, before or after more, gives the first ones."""
    s = SharedResamples(7, cache_bytes=cache_bytes)
    want = _stack(resample_counts(np.random.default_rng(7), 50, 30))
    np.testing.assert_array_equal(_stack(s.counts(50, 10)), want[:10])
    np.testing.assert_array_equal(_stack(s.counts(50, 30)), want)
    np.testing.assert_array_equal(_stack(s.counts(50, 20)), want[:20])
    other_n = _stack(s.counts(40, 5))
    np.testing.assert_array_equal(other_n, _stack(resample_counts(np.random.default_rng(7), 40, 5)))


def test_blb_subsets_are_the_seeds_stream_and_fewer_take_the_first():
    s = SharedResamples(3)
    big, small = blb_plan(5000, 300, r=50), blb_plan(5000, 100, r=50)
    assert (big.s, small.s) == (6, 2) and big.b == small.b
    want = list(blb_counts(np.random.default_rng(3), big))
    for plan in (small, big, small):
        got = list(s.blb(plan))
        assert len(got) == plan.s
        for (rows, w), (rows0, w0) in zip(got, want):
            np.testing.assert_array_equal(rows, rows0)
            np.testing.assert_array_equal(w, w0)
            assert w.dtype == np.float64


@pytest.mark.parametrize("max_n", [None, 500])
def test_statistics_together_equal_each_alone(max_n):
    """``bootstrap_cis`` computes alpha and omega total from one pass of moments per batch: each interval, and
    each replicate, is bit for bit the one ``bootstrap_ci`` gives for the statistic alone on the same stream
    (full bootstrap, and the bag of little bootstraps above ``max_n``)."""
    x = _sample(800)[ITEMS["A"]]
    together = bootstrap_cis(x, ("alpha", "omega_total"), 120, SharedResamples(11), max_n=max_n)
    for stat, ci in together.items():
        alone = bootstrap_ci(x, stat, 120, 11, max_n=max_n)
        assert (ci.lower, ci.upper, ci.estimate, ci.method, ci.B) == (alone.lower, alone.upper, alone.estimate,
                                                                      alone.method, alone.B)  # fmt: skip
        np.testing.assert_array_equal(ci.values, alone.values)
        assert ci.lower < ci.estimate < ci.upper
    with pytest.raises(ValueError, match="alpha_std"):
        bootstrap_cis(x, ("alpha_std",), 10, 1)


@pytest.mark.parametrize("max_n", [None, 500])
def test_a_scales_intervals_do_not_depend_on_the_other_scales(max_n):
    """The same scale gets the same intervals alone, after another scale or in another order: what lets a
    revision compare an unchanged scale without Monte Carlo noise."""
    x = _sample(800)
    kw = dict(n_boot=100, seed=9, n_boot_omega_h=20, omega_h_nfactors=1, bootstrap_max_n=max_n)
    alone = reliability_table(x, {"A": ITEMS["A"]}, **kw).set_index("key")
    both = reliability_table(x, {"B": ITEMS["B"], "A": ITEMS["A"]}, **kw).set_index("key")
    pd.testing.assert_frame_equal(both.loc[["A"]], alone)
    shared = SharedResamples(9)
    kw["seed"] = shared
    first = reliability_table(x, {"B": ITEMS["B"]}, **kw)
    second = reliability_table(x, {"A": ITEMS["A"]}, **kw).set_index("key")
    pd.testing.assert_frame_equal(second, alone)
    pd.testing.assert_frame_equal(first.set_index("key"), both.loc[["B"]])
    bounds = ["alpha_boot_lower", "alpha_boot_upper", "omega_total_boot_lower", "omega_total_boot_upper"]
    assert alone[bounds].notna().all(axis=None)
    assert (alone["omega_hierarchical_boot_lower"] < alone["omega_hierarchical_boot_upper"]).all()
