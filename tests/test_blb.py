"""The bag of little bootstraps (Kleiner, Talwalkar, Sarkar & Jordan 2014) that replaces the full bootstrap above
the pipeline's ``bootstrap_max_n`` respondents: its counts, its agreement with the full percentile bootstrap and
with Feldt's interval, that nothing changes below the threshold, and that the method is named in the tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from threadpoolctl import threadpool_limits

from compval.criterion import dominance_analysis
from compval.i18n import language
from compval.present import tables as T
from compval.present.formatting import interval_method, interval_methods
from compval.reliability import bootstrap_ci, cronbach_alpha, reliability_table
from compval.resampling import (
    PERCENTILE_BOOTSTRAP,
    blb_counts,
    blb_interval,
    blb_plan,
    correlations,
    pairwise_moments,
    parse_method,
    uniform_multinomial,
    use_blb,
)
from compval.validity import htmt

FACTORS = {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]}


def _sample(n: int, seed: int = 11) -> pd.DataFrame:
    """Two correlated (r = .5) factors, three parallel normal items each (loadings .7 and .6): alpha's
    population model is compound symmetric, where Feldt's interval is exact."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 2))
    f[:, 1] = 0.5 * f[:, 0] + np.sqrt(0.75) * f[:, 1]
    a = 0.7 * f[:, [0]] + np.sqrt(0.51) * rng.standard_normal((n, 3))
    b = 0.6 * f[:, [1]] + 0.8 * rng.standard_normal((n, 3))
    return pd.DataFrame(np.hstack([a, b]), columns=FACTORS["A"] + FACTORS["B"])


@pytest.fixture(scope="module")
def large() -> pd.DataFrame:
    return _sample(50_000)


# ----------------------------------------------------------------------------------------------- counts
def test_blb_plan_sizes():
    p = blb_plan(10**6, 1000)
    assert (p.b, p.s, p.r) == (15849, 10, 100)  # ceil(10^(6 * .7)) = ceil(15848.93)
    assert (blb_plan(10**6, 200).s, blb_plan(10**6, 200).r) == (2, 100)
    assert (blb_plan(1000, 250).b, blb_plan(1000, 250).s) == (126, 3)
    assert blb_plan(10**10, 100).b == 10**7  # an exact power is not rounded up
    assert blb_plan(50, 30).r == 30 and blb_plan(50, 30).s == 1
    assert p.method == "bag of little bootstraps (b = 15849, s = 10, r = 100)"
    assert parse_method(p.method) == {"b": 15849, "s": 10, "r": 100} and parse_method(PERCENTILE_BOOTSTRAP) is None
    assert use_blb(20_001, 20_000) and not use_blb(20_000, 20_000) and not use_blb(10**7, None)


def test_blb_counts_sum_to_n_within_the_subset_and_are_seeded():
    n = 5000
    plan = blb_plan(n, 300)
    draws = list(blb_counts(np.random.default_rng(3), plan))
    assert len(draws) == plan.s
    for rows, w in draws:
        assert rows.shape == (plan.b,) and len(np.unique(rows)) == plan.b and (np.diff(rows) > 0).all()
        assert rows.min() >= 0 and rows.max() < n
        assert w.shape == (plan.r, plan.b) and (w >= 0).all() and (w == np.round(w)).all()
        np.testing.assert_array_equal(w.sum(axis=1), n)  # resamples of size n over the subset's b rows
    # the subsets differ from one another; the same seed draws the same subsets and counts, another does not
    assert not np.array_equal(draws[0][0], draws[1][0])
    again = list(blb_counts(np.random.default_rng(3), plan))
    for (r1, w1), (r2, w2) in zip(draws, again):
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(w1, w2)
    other = next(blb_counts(np.random.default_rng(4), plan))
    assert not np.array_equal(other[0], draws[0][0])


def test_uniform_multinomial_has_the_multinomial_distribution():
    # Poisson counts corrected to the total exactly: every count vector's frequency against the multinomial
    # probability function (n = 6 draws over b = 3 rows: 28 vectors), both corrections (adding and removing draws)
    rng = np.random.default_rng(12)
    n, b, size = 6, 3, 60_000
    w = uniform_multinomial(rng, n, b, size)
    assert w.shape == (size, b) and w.dtype == np.int64 and (w >= 0).all()
    np.testing.assert_array_equal(w.sum(axis=1), n)
    vectors, freq = np.unique(w, axis=0, return_counts=True)
    assert len(vectors) == 28  # every composition of 6 into 3 parts
    expected = stats.multinomial(n, np.full(b, 1 / b)).pmf(vectors) * size
    assert stats.chisquare(freq, expected).pvalue > 0.01
    # the Poisson totals fell short of n and exceeded it in these draws, so both corrections were exercised
    totals = np.random.default_rng(12).poisson(n / b, size=(size, b)).sum(axis=1)
    assert (totals < n).any() and (totals > n).any()
    # at the pipeline's sizes: moments of Multinomial(n, 1/b) (mean n/b, variance n/b (1 - 1/b))
    big = uniform_multinomial(np.random.default_rng(13), 100_000, 50, 2000)
    np.testing.assert_array_equal(big.sum(axis=1), 100_000)
    var = 100_000 / 50 * (1 - 1 / 50)
    assert abs(big.mean() - 2000) < 4 * np.sqrt(var / big.size)
    assert abs(big.var(axis=0).mean() / var - 1) < 0.05


def test_blb_resample_statistic_is_that_of_the_expanded_rows():
    """A BLB resample is a size-n resample of the subset's rows: the weighted sums on b rows equal the plain sums
    on the n expanded rows (covariance and correlation matrices, to rounding)."""
    x = _sample(3000).to_numpy()
    x[::7, 2] = np.nan  # pairwise-complete moments too
    plan = blb_plan(len(x), 5)
    rows, w = next(blb_counts(np.random.default_rng(1), plan))
    n_, s, cross, q = pairwise_moments(x[rows], w)
    full = x[~np.isnan(x).any(axis=1)]
    r = correlations(full[:1000], np.ones((1, 1000)))
    np.testing.assert_allclose(r[0], np.corrcoef(full[:1000], rowvar=False), atol=1e-13)
    for k in range(plan.r):
        xb = np.repeat(x[rows], w[k].astype(int), axis=0)
        assert len(xb) == len(x)
        want = pd.DataFrame(xb).cov().to_numpy()
        got = (cross[k] - s[k] * np.swapaxes(s[k], -1, -2) / n_[k]) / (n_[k] - 1)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_blb_interval_recentres_each_subset():
    """Each subset's bounds count relative to its own estimate; the averaged offsets go on the full estimate."""
    sub = np.array([1.0, 3.0])
    reps = np.vstack([1.0 + np.linspace(-0.5, 0.5, 101)[:100], 3.0 + np.linspace(-1.0, 1.0, 101)[:100]])
    lo, hi = blb_interval(2.0, sub, reps, 0.95)
    q = [np.quantile(reps[j], [0.025, 0.975], method="weibull") - sub[j] for j in range(2)]
    np.testing.assert_allclose([lo, hi], 2.0 + np.mean(q, axis=0), rtol=0, atol=1e-15)
    # failed resamples and subsets are left out; nothing left: NaN
    reps[1, :10] = np.nan
    assert np.isfinite(blb_interval(2.0, np.array([np.nan, 3.0]), reps)).all()
    assert np.isnan(blb_interval(2.0, np.array([np.nan, np.nan]), reps)).all()


# ------------------------------------------------------------------------------- agreement at n = 50,000
def test_blb_agrees_with_the_full_bootstrap_and_feldt(large):
    """At n = 50,000 (b = 1947, s = 10, r = 100) the BLB interval of alpha and of an HTMT ratio agrees with the
    full percentile bootstrap (B = 1000) and alpha's with Feldt's analytic interval.

    Tolerance, in units of the statistic's standard error SE = (upper - lower) / (2 * 1.96) of the full
    bootstrap: the Monte Carlo SD of a 2.5% (97.5%) bound from B = 1000 replicates is
    sqrt(.025 * .975 / 1000) / phi(1.96) SE = 0.085 SE (phi = the normal density); a BLB bound averages s = 10
    subset bounds from r = 100 replicates each, sqrt(.025 * .975 / 100) / phi(1.96) / sqrt(10) = 0.085 SE, plus
    the subsets' spread of b-row standard errors (relative SD about 1 / sqrt(2 b) = .016, so .016 * 1.96 /
    sqrt(10) = 0.01 SE). The difference of the two bounds has SD sqrt(2 * .085^2 + .01^2) = 0.12 SE; 0.5 SE is
    four of those (and the BLB's own approximation error, of order 1 / b, is far smaller). Feldt's bounds
    are exact here (parallel normal items) and have no Monte Carlo error: 0.5 SE is six SDs of the BLB bound.
    """
    items = large[FACTORS["A"]]
    a = cronbach_alpha(items)
    full = bootstrap_ci(items, "alpha", 1000, 5)
    blb = bootstrap_ci(items, "alpha", 1000, 5, max_n=20_000)
    assert full.method == PERCENTILE_BOOTSTRAP
    assert blb.method == "bag of little bootstraps (b = 1947, s = 10, r = 100)" and blb.B == 1000
    assert blb.estimate == full.estimate and blb.n_failed == 0
    se = (full.upper - full.lower) / (2 * stats.norm.ppf(0.975))
    tol = 0.5 * se
    assert abs(blb.lower - full.lower) < tol and abs(blb.upper - full.upper) < tol
    assert abs(blb.lower - a.feldt_lower) < tol and abs(blb.upper - a.feldt_upper) < tol
    assert blb.lower < blb.estimate < blb.upper

    h_full = htmt(large, FACTORS, B=1000, seed=6)
    h_blb = htmt(large, FACTORS, B=1000, seed=6, max_n=20_000)
    assert h_blb.method == blb.method and (h_blb.table["ci_method"] == blb.method).all()
    assert (h_full.table["ci_method"] == PERCENTILE_BOOTSTRAP).all()
    assert h_blb.B == 1000 and h_blb.n_boot_valid == 1000 and h_blb.boot.shape == (1000, 1)
    f, b = h_full.table.iloc[0], h_blb.table.iloc[0]
    assert b["htmt"] == f["htmt"]
    se = (f["ci_upper"] - f["ci_lower"]) / (2 * stats.norm.ppf(0.975))
    assert abs(b["ci_lower"] - f["ci_lower"]) < 0.5 * se and abs(b["ci_upper"] - f["ci_upper"]) < 0.5 * se


def test_blb_dominance_and_omega_name_their_method(large):
    rng = np.random.default_rng(2)
    y = pd.Series(large.to_numpy() @ np.array([0.3, 0.2, 0.1, 0.1, 0.0, 0.2]) + rng.standard_normal(len(large)))
    X = large[["a1", "b1", "b2"]]
    full = dominance_analysis(y, X, n_boot=200, seed=1)
    blb = dominance_analysis(y, X, n_boot=200, seed=1, max_n=20_000)
    assert (full["weight_ci_method"] == PERCENTILE_BOOTSTRAP).all()
    assert (blb["weight_ci_method"] == "bag of little bootstraps (b = 1947, s = 2, r = 100)").all()
    np.testing.assert_array_equal(blb["weight"], full["weight"])
    assert ((blb["weight_ci_lower"] < blb["weight"]) & (blb["weight"] < blb["weight_ci_upper"])).all()
    # 200 resamples: the Monte Carlo SD of either bound is about 0.19 SE, so 1 SE is about four SDs of the difference
    se = (full["weight_ci_upper"] - full["weight_ci_lower"]) / (2 * 1.96)
    assert ((blb["weight_ci_lower"] - full["weight_ci_lower"]).abs() < se).all()
    assert ((blb["weight_ci_upper"] - full["weight_ci_upper"]).abs() < se).all()
    om = bootstrap_ci(large[FACTORS["B"]], "omega_total", 200, 3, max_n=20_000)
    assert om.method.endswith("s = 2, r = 100)") and om.n_failed == 0 and om.lower < om.estimate < om.upper


# --------------------------------------------------------------------------------- below the threshold
def test_below_the_threshold_nothing_changes():
    """At or below ``bootstrap_max_n`` the full bootstrap runs exactly as without the switch (same random
    stream, same numbers); the method columns say "percentile bootstrap"."""
    x = _sample(400)
    groups = {"A": FACTORS["A"], "AB": FACTORS["A"] + FACTORS["B"]}
    kw = dict(n_boot=60, seed=3, n_boot_omega_h=20, omega_h_nfactors=1)
    base = reliability_table(x, groups, **kw)
    same = reliability_table(x, groups, bootstrap_max_n=400, **kw)
    pd.testing.assert_frame_equal(base, same)
    assert (base["boot_ci_method"] == PERCENTILE_BOOTSTRAP).all()
    assert base.loc[1, "omega_h_boot_ci_method"] == PERCENTILE_BOOTSTRAP
    above = reliability_table(x, groups, bootstrap_max_n=399, **kw)
    assert above["boot_ci_method"].str.startswith("bag of little bootstraps (b = 67,").all()
    assert above.loc[1, "omega_h_boot_ci_method"] == "bag of little bootstraps (b = 67, s = 1, r = 20)"
    cols = ["alpha", "omega_total", "omega_hierarchical", "alpha_ci_lower", "alpha_ci_upper"]
    pd.testing.assert_frame_equal(above[cols], base[cols])  # the estimates and Feldt's CI do not move
    none = reliability_table(x, groups, n_boot=0, seed=3)
    assert (none["boot_ci_method"] == "").all() and (none["omega_h_boot_ci_method"] == "").all()

    h0 = htmt(x, FACTORS, B=50, seed=2)
    h1 = htmt(x, FACTORS, B=50, seed=2, max_n=400)
    pd.testing.assert_frame_equal(h0.table, h1.table)
    np.testing.assert_array_equal(h0.boot, h1.boot)
    assert htmt(x, FACTORS).table["ci_method"].eq("").all()
    y = x["a1"] + x["b1"]
    d0 = dominance_analysis(y, x[["a2", "b2"]], n_boot=50, seed=1)
    d1 = dominance_analysis(y, x[["a2", "b2"]], n_boot=50, seed=1, max_n=10**6)
    pd.testing.assert_frame_equal(d0, d1)


def test_blb_does_not_depend_on_blas_threads():
    """BLAS runs on one thread inside the BLB loops, so the numbers do not depend on the threads available."""
    x = _sample(5000)
    y = x["a1"] + x["b2"]

    def run():
        r = reliability_table(x, {"A": FACTORS["A"]}, n_boot=100, seed=1, bootstrap_max_n=1000)
        h = htmt(x, FACTORS, B=100, seed=1, max_n=1000)
        d = dominance_analysis(y, x[["a2", "b1", "b3"]], n_boot=100, seed=1, max_n=1000)
        return r, h.table, d

    with threadpool_limits(limits=1):
        one = run()
    with threadpool_limits(limits=2):
        two = run()
    for a, b in zip(one, two):
        pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------------------------------ presentation
def test_tables_and_report_name_the_method():
    blb = blb_plan(10**6, 1000).method
    rel = pd.DataFrame(
        {
            "level": ["competency"],
            "key": ["a"],
            "n_items": [3],
            "alpha": [0.8],
            "alpha_ci_lower": [0.79],
            "alpha_ci_upper": [0.81],
            "omega_total": [0.81],
            "omega_total_boot_lower": [0.80],
            "omega_total_boot_upper": [0.82],
            "boot_ci_method": [blb],
            "omega_h_boot_ci_method": [""],
        }
    )
    note = T.reliability_table(rel).note
    assert "omega total with bag of little bootstraps (b = 15849, s = 10, r = 100) 95% CI" in note
    assert "(Schmid-Leiman, with percentile bootstrap 95% CI where computed)" in note
    # without the method columns (tables written before them): the percentile bootstrap, as the note always said
    old = T.reliability_table(rel.drop(columns=["boot_ci_method", "omega_h_boot_ci_method"])).note
    assert "omega total with percentile bootstrap 95% CI" in old
    assert interval_methods(rel, ["boot_ci_method", "omega_h_boot_ci_method", "absent"]) == [blb]
    assert interval_methods(rel.assign(boot_ci_method=PERCENTILE_BOOTSTRAP), ["boot_ci_method"], blb_only=True) == []
    with language("zh"):
        assert interval_method(blb) == "小 bootstrap 袋法（bag of little bootstraps；b = 15849，s = 10，r = 100）"
        assert interval_method(PERCENTILE_BOOTSTRAP) == "百分位 bootstrap"
        assert "ω 总系数及小 bootstrap 袋法" in T.reliability_table(rel).note


def test_report_captions_name_the_bag_of_little_bootstraps():
    """The reliability and dominance figures' captions add the method when their intervals came from a bag of
    little bootstraps, and stay as they were (the percentile bootstrap) otherwise."""
    from test_report import synthetic_figures, synthetic_summary, synthetic_tables

    from compval.present import html as H

    blb = blb_plan(10**6, 1000).method
    tables = synthetic_tables()
    before = H.render_report(synthetic_summary(), tables, synthetic_figures(), run_date="test")
    assert "(Kleiner et al., 2014)" not in before and "bag of little bootstraps" not in before
    tables["reliability"] = tables["reliability"].assign(boot_ci_method=blb, omega_h_boot_ci_method="")
    tables["dominance"] = pd.DataFrame({"criterion": ["y"], "weight_ci_method": [blb_plan(10**5, 1000).method]})
    html = H.render_report(synthetic_summary(), tables, synthetic_figures(), run_date="test")
    # each caption once as the figure's caption and once as its alt text
    assert html.count("Bootstrap intervals: bag of little bootstraps (b = 15849, s = 10, r = 100) (Kleiner") == 2
    assert html.count("Bootstrap intervals: bag of little bootstraps (b = 3163, s = 10, r = 100) (Kleiner") == 2
    assert "omega total with bag of little bootstraps (b = 15849, s = 10, r = 100) 95% CI" in html
    with language("zh"):
        zh = H.render_report(synthetic_summary(), tables, synthetic_figures(), run_date="test")
    assert "Bootstrap 区间：小 bootstrap 袋法（bag of little bootstraps；b = 15849，s = 10，r = 100）" in zh
