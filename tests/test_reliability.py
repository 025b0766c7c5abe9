"""compval.reliability against psych 2.2.9 (values stored by tests/reference/reliability/make_reference.R).

Tolerances are the named entries of tests/tolerances.py (agreement measured on these references times a
margin): "alpha_psych", "alpha_signal_noise_psych" and "item_stats_psych" (closed form), "omega_psych" (an
iterative minres fit and an oblimin rotation; the implementation mirrors psych's optimiser).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from compval import reliability as rel
from compval.efa import minres  # the minres of omega's Schmid-Leiman solution (compval.reliability.omegas)

from tolerances import assert_close

HERE = Path(__file__).parent
DATA = HERE / "reference" / "data"
REF = HERE / "reference" / "reliability"

BFI_REVERSED = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
BFI_GROUPS = {k: [f"{k}{i}" for i in range(1, 6)] for k in "ACENO"}
HS_GROUPS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


@pytest.fixture(scope="module")
def datasets() -> dict[str, pd.DataFrame]:
    raw = pd.read_csv(DATA / "bfi.csv")
    bfi = raw.copy()
    bfi[BFI_REVERSED] = 7 - bfi[BFI_REVERSED]
    hs = pd.read_csv(DATA / "HolzingerSwineford1939.csv")
    return {"bfi": bfi, "bfi_raw": raw, "hs": hs}


def _groups(dataset: str) -> dict[str, list[str]]:
    return HS_GROUPS if dataset == "hs" else BFI_GROUPS


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name)


def _cases(df: pd.DataFrame, cols=("dataset", "scale", "missing")) -> list[tuple]:
    return list(df[list(cols)].drop_duplicates().itertuples(index=False, name=None))


ALPHA_TOTAL = _ref("alpha_total.csv")
ITEM_STATS = _ref("item_stats.csv")
ALPHA_DROP = _ref("alpha_drop.csv")
OMEGA = _ref("omega.csv")
OMEGA_SL = _ref("omega_sl.csv")


def _select(ref: pd.DataFrame, dataset: str, scale: str, missing: str) -> pd.DataFrame:
    return ref[(ref.dataset == dataset) & (ref.scale == scale) & (ref.missing == missing)]


def _items_of(dataset: str, scale: str, missing: str) -> list[str]:
    return _select(ITEM_STATS, dataset, scale, missing)["item"].tolist()


# ----------------------------------------------------------------------------- alpha
@pytest.mark.parametrize("dataset,scale,missing", _cases(ALPHA_TOTAL))
def test_alpha_total_matches_psych(datasets, dataset, scale, missing):
    ref = _select(ALPHA_TOTAL, dataset, scale, missing).iloc[0]
    a = rel.cronbach_alpha(datasets[dataset][_items_of(dataset, scale, missing)], missing=missing)
    got = {
        "raw_alpha": a.alpha, "std_alpha": a.alpha_std, "G6": a.lambda6, "average_r": a.average_r,
        "median_r": a.median_r, "ase": a.ase, "mean": a.mean_total, "sd": a.sd_total,
        "feldt_lower": a.feldt_lower, "feldt_upper": a.feldt_upper,
        "duhachek_lower": a.duhachek_lower, "duhachek_upper": a.duhachek_upper,
    }  # fmt: skip
    for key, value in got.items():
        assert_close(value, ref[key], "alpha_psych", key)
    assert_close(a.signal_noise, ref["s_n"], "alpha_signal_noise_psych")
    assert (a.k, a.n, a.n_complete) == (ref["nvar"], ref["n_obs"], ref["n_complete"])
    assert a.feldt_lower < a.alpha < a.feldt_upper


def test_pairwise_and_listwise_policies_differ_and_listwise_is_na_omit(datasets):
    x = datasets["bfi"][BFI_GROUPS["A"]]
    pw = rel.cronbach_alpha(x, missing="pairwise")
    lw = rel.cronbach_alpha(x, missing="listwise")
    assert pw.n == len(x) == 2800 and lw.n == lw.n_complete == 2709
    assert abs(pw.alpha - lw.alpha) > 1e-4  # the policy matters on bfi
    same = rel.cronbach_alpha(x.dropna(), missing="pairwise")
    assert lw.alpha == pytest.approx(same.alpha, abs=1e-12) and lw.ase == pytest.approx(same.ase, abs=1e-12)
    assert pw.n_pairwise_min < pw.n
    with pytest.raises(ValueError):
        rel.cronbach_alpha(x, missing="mean")


@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
def test_alpha_equals_pingouin(datasets, policy):
    x = datasets["bfi"][BFI_GROUPS["C"]]
    assert rel.cronbach_alpha(x, missing=policy).alpha == pytest.approx(
        pg.cronbach_alpha(x, nan_policy=policy)[0], abs=1e-12
    )


def test_alpha_needs_two_items(datasets):
    with pytest.raises(ValueError):
        rel.cronbach_alpha(datasets["hs"][["x1"]])


# ----------------------------------------------------------------------------- item analysis
@pytest.mark.parametrize("dataset,scale,missing", _cases(ITEM_STATS))
def test_item_analysis_matches_psych(datasets, dataset, scale, missing):
    items = _items_of(dataset, scale, missing)
    got = rel.item_analysis(datasets[dataset][items], missing=missing, scale_min=1, scale_max=6)
    assert got["item"].tolist() == items
    stats_ref = _select(ITEM_STATS, dataset, scale, missing)
    for col in ["n", "mean", "sd", "skew", "kurtosis", "raw_r", "std_r", "r_cor", "r_drop"]:
        assert_close(got[col], stats_ref[col], "item_stats_psych", col)
    drop_ref = _select(ALPHA_DROP, dataset, scale, missing)
    pairs = {
        "alpha_if_deleted": "raw_alpha", "alpha_std_if_deleted": "std_alpha", "lambda6_if_deleted": "G6",
        "average_r_if_deleted": "average_r", "median_r_if_deleted": "med_r", "alpha_se_if_deleted": "alpha_se",
    }  # fmt: skip
    for mine, theirs in pairs.items():
        assert_close(got[mine], drop_ref[theirs], "alpha_psych", mine)


def test_item_analysis_floor_ceiling_and_flags(datasets):
    x = datasets["bfi"][BFI_GROUPS["O"]]
    t = rel.item_analysis(x, scale_min=1, scale_max=6)
    o5 = x["O5"].dropna()
    row = t.set_index("item").loc["O5"]
    assert row["floor"] == pytest.approx((o5 == 1).mean()) and row["ceiling"] == pytest.approx((o5 == 6).mean())
    alpha = rel.cronbach_alpha(x).alpha
    np.testing.assert_array_equal(t["flag_alpha"], t["alpha_if_deleted"] > alpha)
    np.testing.assert_array_equal(t["flag_r_drop"], t["r_drop"] < 0.30)
    np.testing.assert_array_equal(t["flag"], t["flag_alpha"] | t["flag_r_drop"])
    # In psych's bfi Openness scale O4 has r.drop = .22 and alpha if deleted .61 > .60: flagged twice;
    # the other items are not flagged.
    flagged = t.set_index("item")
    assert bool(flagged.loc["O4", "flag_r_drop"]) and bool(flagged.loc["O4", "flag_alpha"])
    assert flagged["flag"].tolist() == [False, False, False, True, False]
    assert not bool(row["flag"])
    # thresholds are arguments
    t0 = rel.item_analysis(x, r_drop_min=0.0, alpha_gain=1.0)
    assert not t0["flag"].any()
    assert t0["floor"].isna().all()


# ----------------------------------------------------------------------------- omega
@pytest.mark.parametrize("dataset,scale,missing,nfactors", _cases(OMEGA, ("dataset", "scale", "missing", "nfactors")))
def test_omega_matches_psych(datasets, dataset, scale, missing, nfactors):
    ref = OMEGA[
        (OMEGA.dataset == dataset) & (OMEGA.scale == scale) & (OMEGA.missing == missing) & (OMEGA.nfactors == nfactors)
    ].iloc[0]
    groups = _groups(dataset)
    items = sum(groups.values(), []) if scale == "all" else groups[scale]
    o = rel.omega(datasets[dataset][items], nfactors=int(nfactors), missing=missing)
    assert_close(o.omega_total, ref["omega_tot"], "omega_psych", "omega_tot")
    assert_close(o.omega_hierarchical, ref["omega_h"], "omega_psych", "omega_h")
    assert_close(o.omega_limit, ref["omega_lim"], "omega_psych", "omega_lim")
    assert_close(o.alpha, ref["alpha"], "alpha_psych", "alpha")
    assert_close(o.lambda6, ref["G6"], "alpha_psych", "G6")
    assert o.converged


@pytest.mark.parametrize("dataset,missing,nfactors", _cases(OMEGA_SL, ("dataset", "missing", "nfactors")))
def test_schmid_leiman_loadings_match_psych(datasets, dataset, missing, nfactors):
    ref = OMEGA_SL[(OMEGA_SL.dataset == dataset) & (OMEGA_SL.missing == missing) & (OMEGA_SL.nfactors == nfactors)]
    items = sum(_groups(dataset).values(), [])
    o = rel.omega(datasets[dataset][items], nfactors=int(nfactors), missing=missing)
    got = o.loadings.set_index("item").loc[items]
    # psych appends "-" to the names of flipped items; rows are in item order.
    for col in ("g", "h2", "u2"):
        assert_close(got[col], ref[col], "omega_psych", col)


def test_omega_flips_negatively_keyed_items(datasets):
    raw = rel.omega(datasets["bfi_raw"][BFI_GROUPS["A"]], nfactors=1)
    rev = rel.omega(datasets["bfi"][BFI_GROUPS["A"]], nfactors=1)
    assert raw.key.tolist() == [-1, 1, 1, 1, 1]
    assert raw.omega_total == pytest.approx(rev.omega_total, abs=1e-10)


def test_omega_needs_three_items(datasets):
    with pytest.raises(ValueError):
        rel.omega(datasets["hs"][["x1", "x2"]], nfactors=1)


def test_minres_reproduces_a_known_one_factor_structure():
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    fit = minres(r, 1)
    np.testing.assert_allclose(np.abs(fit["loadings"][:, 0]), lam, atol=1e-4)


# ----------------------------------------------------------------------------- bootstrap
def test_bootstrap_is_seeded_and_brackets_estimate(datasets):
    x = datasets["bfi"][BFI_GROUPS["N"]]
    b1 = rel.bootstrap_ci(x, "alpha", B=60, seed=11)
    b2 = rel.bootstrap_ci(x, "alpha", B=60, seed=11)
    b3 = rel.bootstrap_ci(x, "alpha", B=60, seed=12)
    assert (b1.lower, b1.upper) == (b2.lower, b2.upper)
    assert (b1.lower, b1.upper) != (b3.lower, b3.upper)
    assert b1.estimate == pytest.approx(rel.cronbach_alpha(x).alpha)
    assert b1.lower < b1.estimate < b1.upper and b1.n_failed == 0
    # the percentile interval is close to the analytic Feldt interval for n = 2800
    a = rel.cronbach_alpha(x)
    assert abs(b1.lower - a.feldt_lower) < 0.01 and abs(b1.upper - a.feldt_upper) < 0.01


def test_bootstrap_omega_total_and_callable(datasets):
    x = datasets["hs"][HS_GROUPS["visual"]]
    b = rel.bootstrap_ci(x, "omega_total", B=25, seed=3)
    assert_close(b.estimate, 0.635071712917424, "omega_psych")  # psych::omega(hs[, x1:x3], 1)$omega.tot
    assert b.lower < b.estimate < b.upper
    c = rel.bootstrap_ci(x, lambda d: float(d["x1"].mean()), B=40, seed=1, level=0.9)
    assert c.lower < x["x1"].mean() < c.upper and c.level == 0.9


def _row_resampled(x: pd.DataFrame, stat: str, B: int, seed: int, missing: str, nfactors: int = 1) -> np.ndarray:
    """The replicates the row-by-row way: the statistic of x[rng.integers(0, n, n)] by the public functions."""
    rng = np.random.default_rng(seed)
    arr, out = x.to_numpy(dtype=float), []
    for _ in range(B):
        xb = pd.DataFrame(arr[rng.integers(0, len(arr), len(arr))], columns=x.columns)
        try:
            out.append(
                rel.cronbach_alpha(xb, missing=missing).alpha
                if stat == "alpha"
                else getattr(rel.omega(xb, nfactors=nfactors, missing=missing), stat)
            )
        except ValueError:
            out.append(np.nan)
    return np.array(out)


@pytest.mark.slow
@pytest.mark.parametrize(
    "key, stat, B, missing, tol",
    [
        ("achievement", "alpha", 300, "pairwise", 1e-12),
        ("planning", "alpha", 300, "listwise", 1e-12),
        ("achievement", "omega_total", 100, "pairwise", 1e-6),
        ("planning", "omega_total", 100, "listwise", 1e-6),
        ("planning", "omega_hierarchical", 8, "pairwise", 1e-6),
    ],
)
def test_vectorised_bootstrap_equals_resampling_rows_on_the_demo(key, stat, B, missing, tol):
    """The batched bootstrap (row counts x per-row cross-products; Newton's method for one-factor omega) draws
    the same resamples as resampling rows and gives the same replicates: alpha to rounding, omega to psych's
    optimiser tolerance -- so the intervals agree far inside their Monte Carlo error (demo competencies)."""
    demo = HERE / "reference" / "demo"
    import json

    cols = json.loads((demo / "groups.json").read_text(encoding="utf-8"))["competency"][key]
    x = pd.read_csv(demo / "items_scored.csv")[cols]
    nf = 3 if stat == "omega_hierarchical" else 1
    b = rel.bootstrap_ci(x, stat, B, seed=5, missing=missing, nfactors=nf)
    ref = _row_resampled(x, stat, B, 5, missing, nf)
    assert b.n_failed == 0 and np.isfinite(ref).all()
    np.testing.assert_allclose(b.values, ref, rtol=0, atol=tol)
    lo, hi = np.quantile(ref, [0.025, 0.975])
    assert b.lower == pytest.approx(lo, abs=tol) and b.upper == pytest.approx(hi, abs=tol)
    # Monte Carlo standard error of the 2.5% endpoint (sample quantile of a near-normal distribution:
    # sd sqrt(q (1 - q) / B) / phi(z_q)) dwarfs the difference
    se = np.std(ref, ddof=1) * np.sqrt(0.025 * 0.975 / B) / stats.norm.pdf(stats.norm.ppf(0.025))
    assert max(abs(b.lower - lo), abs(b.upper - hi)) < 0.01 * se


def test_omega_h_bootstrap_rotates_in_stacks_with_the_numbers_of_one_resample_at_a_time():
    """The omega_h replicates (minres fits, varimax and oblimin of a batch of resamples at once) are bit for bit
    those of psych's Schmid-Leiman path run on each resample's correlation matrix by itself (demo competency, 3
    group factors)."""
    import json

    from compval.reliability.matrices import stacked_cor
    from compval.reliability.omegas import omega_from_correlations
    from compval.resampling import pairwise_moments, resample_counts
    from threadpoolctl import threadpool_limits

    demo = HERE / "reference" / "demo"
    cols = json.loads((demo / "groups.json").read_text(encoding="utf-8"))["competency"]["achievement"]
    x = pd.read_csv(demo / "items_scored.csv")[cols]
    b = rel.bootstrap_ci(x, "omega_hierarchical", 12, seed=4, nfactors=3)
    arr = x.to_numpy(float)
    w = np.concatenate(list(resample_counts(np.random.default_rng(4), len(arr), 12)))
    with threadpool_limits(limits=1, user_api="blas"):  # as bootstrap_ci: sums independent of the thread count
        r = stacked_cor(*pairwise_moments(arr, w))
        one_at_a_time = [omega_from_correlations(r[i], 3)["omega_h"] for i in range(12)]
    np.testing.assert_array_equal(b.values, one_at_a_time)


def test_one_factor_omega_bootstrap_falls_back_to_psychs_path_for_heywood_resamples(datasets):
    """A near-duplicate item drives the one-factor loading towards 1 (uniqueness below psych's bound .005 in
    some resamples, 2 of these 40): those resamples are refitted by psych's L-BFGS-B path, the others by
    Newton's method; the replicates still equal the row-by-row ones to 1e-5 (near the bound psych's optimiser
    stops further from the minimum than elsewhere: up to 5e-6 here)."""
    x = datasets["hs"][HS_GROUPS["visual"]].copy()
    x["x1b"] = x["x1"] + np.random.default_rng(0).normal(0, 0.07, len(x))
    b = rel.bootstrap_ci(x, "omega_total", 40, seed=2)
    ref = _row_resampled(x, "omega_total", 40, 2, "pairwise")
    np.testing.assert_allclose(b.values, ref, rtol=0, atol=1e-5)


# ----------------------------------------------------------------------------- tables
def test_reliability_table_matches_psych_and_handles_small_groups(datasets):
    bfi = datasets["bfi"]
    groups = {"A": BFI_GROUPS["A"], "pair": ["C1", "C2"], "single": ["E1"]}
    t = rel.reliability_table(bfi, groups, missing="pairwise", n_boot=20, seed=5)
    assert t.columns.tolist() == rel.RELIABILITY_COLUMNS
    assert t["key"].tolist() == ["A", "pair", "single"] and (t["level"] == "competency").all()
    a = t.set_index("key").loc["A"]
    ref = _select(ALPHA_TOTAL, "bfi", "A", "pairwise").iloc[0]
    for mine, theirs in (
        ("alpha", "raw_alpha"),
        ("alpha_ci_lower", "feldt_lower"),
        ("alpha_ci_upper", "feldt_upper"),
        ("lambda6", "G6"),
    ):
        assert_close(a[mine], ref[theirs], "alpha_psych", mine)
    om = OMEGA[(OMEGA.dataset == "bfi") & (OMEGA.scale == "A") & (OMEGA.missing == "pairwise")].iloc[0]
    assert_close(a["omega_total"], om["omega_tot"], "omega_psych")
    assert a["alpha_boot_lower"] < a["alpha"] < a["alpha_boot_upper"]
    assert a["omega_total_boot_lower"] < a["omega_total"] < a["omega_total_boot_upper"]
    # 5 items cannot carry 3 group factors -> NaN omega_h with a note
    assert np.isnan(a["omega_hierarchical"]) and "omega_h" in a["note"]
    pair = t.set_index("key").loc["pair"]
    assert np.isfinite(pair["alpha"]) and np.isnan(pair["omega_total"]) and "not identified" in pair["note"]
    single = t.set_index("key").loc["single"]
    assert np.isnan(single["alpha"]) and "fewer than 2 items" in single["note"]
    assert t[["cr", "ave"]].isna().all().all()
    # reproducible
    t2 = rel.reliability_table(bfi, groups, missing="pairwise", n_boot=20, seed=5)
    pd.testing.assert_frame_equal(t, t2)


def test_reliability_table_listwise_and_omega_h(datasets):
    hs = datasets["hs"]
    groups = {"all": [f"x{i}" for i in range(1, 10)], "visual": HS_GROUPS["visual"]}
    t = rel.reliability_table(hs, groups, missing="listwise", n_boot=0, level="module").set_index("key")
    ref = OMEGA[(OMEGA.dataset == "hs") & (OMEGA.scale == "all") & (OMEGA.nfactors == 3)].iloc[0]
    assert_close(t.loc["all", "omega_hierarchical"], ref["omega_h"], "omega_psych")
    assert t.loc["all", "omega_h_nfactors"] == 3
    assert np.isnan(t.loc["all", "alpha_boot_lower"])  # n_boot = 0
    vis = _select(ALPHA_TOTAL, "hs", "visual", "listwise").iloc[0]
    assert_close(t.loc["visual", "alpha"], vis["raw_alpha"], "alpha_psych")
    assert (t["level"] == "module").all() and (t["missing"] == "listwise").all()


def test_item_analysis_table(datasets):
    bfi = datasets["bfi"]
    groups = {"A": BFI_GROUPS["A"], "single": ["E1"]}
    t = rel.item_analysis_table(bfi, groups, 1, 6)
    assert t.columns.tolist() == rel.ITEM_ANALYSIS_COLUMNS
    assert len(t) == 6 and t["key"].tolist() == ["A"] * 5 + ["single"]
    ref = _select(ITEM_STATS, "bfi", "A", "pairwise")
    assert_close(t["r_drop"].iloc[:5], ref["r_drop"], "item_stats_psych")
    single = t.iloc[5]
    assert np.isnan(single["r_drop"]) and single["n"] == bfi["E1"].notna().sum() and single["note"]


def test_degenerate_groups_give_nan_and_notes_without_warnings(datasets, recwarn):
    hs = datasets["hs"][["x1", "x2", "x3", "x4"]].copy()
    hs["const"] = 1.0
    hs["empty"] = np.nan
    hs["early"] = hs["x4"].where(hs.index < 150)
    hs["late"] = hs["x1"].where(hs.index >= 150)
    groups = {
        "const": ["x1", "x2", "x3", "const"],
        "empty": ["x1", "x2", "empty"],
        "disjoint": ["early", "late", "x3"],
        "none": [],
    }
    t = rel.reliability_table(hs, groups, n_boot=5, seed=0).set_index("key")
    # psych::alpha drops items without variance: same alpha as without them
    assert t.loc["const", "alpha"] == pytest.approx(rel.cronbach_alpha(hs[["x1", "x2", "x3"]]).alpha, abs=1e-12)
    assert_close(t.loc["const", "omega_total"], 0.635071712917424, "omega_psych")
    assert "no variance, left out: const" in t.loc["const", "note"]
    assert np.isnan(t.loc["empty", "omega_total"]) and "left out: empty" in t.loc["empty", "note"]
    assert np.isnan(t.loc["disjoint", "alpha"]) and "not computable" in t.loc["disjoint", "note"]
    assert np.isnan(t.loc["none", "alpha"]) and t.loc["none", "n_items"] == 0
    a = rel.cronbach_alpha(hs[["x1", "x2", "x3", "const"]])
    assert a.dropped_items == ("const",) and a.k == 3
    ia = rel.item_analysis_table(hs, groups, 0, 10).set_index("item")
    assert bool(ia.loc["const", "flag"]) and ia.loc["const", "note"].startswith("no variance")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    with pytest.raises(ValueError):
        rel.omega(hs[["x1", "x2", "const"]], nfactors=1)


def test_omega_hierarchical_bootstrap_ci_is_seeded_and_brackets_the_resamples():
    """n_boot_omega_h > 0: percentile CI of omega_h from resampled Schmid-Leiman solutions (psych::omega(n.iter)
    style); same seed, same interval; 0 resamples leave the columns empty."""
    from compval.reliability import reliability_table

    d = pd.read_csv(DATA / "bfi.csv")
    items = d[[f"C{i}" for i in range(1, 6)] + [f"E{i}" for i in range(1, 6)]].copy()
    items[["C4", "C5", "E1", "E2"]] = 7 - items[["C4", "C5", "E1", "E2"]]
    groups = {"ce": list(items.columns)}
    a = reliability_table(items, groups, n_boot=0, n_boot_omega_h=40, seed=3)
    b = reliability_table(items, groups, n_boot=0, n_boot_omega_h=40, seed=3)
    lo, hi = a.loc[0, "omega_hierarchical_boot_lower"], a.loc[0, "omega_hierarchical_boot_upper"]
    assert 0 < lo < hi < 1
    assert (lo, hi) == (b.loc[0, "omega_hierarchical_boot_lower"], b.loc[0, "omega_hierarchical_boot_upper"])
    assert lo - 0.1 < a.loc[0, "omega_hierarchical"] < hi + 0.1
    c = reliability_table(items, groups, n_boot=0, seed=3)
    assert c[["omega_hierarchical_boot_lower", "omega_hierarchical_boot_upper"]].isna().all().all()
    assert np.isfinite(c.loc[0, "omega_hierarchical"])


def test_pairwise_matrices_of_the_same_values_are_the_same_whatever_the_memory_layout():
    # the pairwise sums are kept by a digest of the values and their layout: a column-major copy, a transposed
    # layout with the same bytes and a strided view must each give their own matrix
    from compval.reliability.matrices import pairwise_cor, pairwise_cov

    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 3))
    x[rng.random(x.shape) < 0.2] = np.nan
    want = pd.DataFrame(x).cov().to_numpy()  # pandas: pairwise-complete, as R's use = "pairwise"
    for arr in (
        x,
        np.asfortranarray(x),
        x[:, [0, 1, 2]],
        np.repeat(x, 2, axis=0)[::2],
        np.repeat(x, 2, axis=1)[:, ::2],
    ):
        np.testing.assert_allclose(pairwise_cov(arr), want, rtol=1e-12)
    same_bytes = np.ascontiguousarray(x.T).reshape(40, 3)  # in C order the bytes of x in column-major order
    strided = np.repeat(same_bytes, 2, axis=0)[::2]  # the same values, neither C- nor column-major in memory
    np.testing.assert_allclose(pairwise_cov(np.asfortranarray(x)), want, rtol=1e-12)
    for arr in (strided, same_bytes):
        np.testing.assert_allclose(pairwise_cov(arr), pd.DataFrame(same_bytes).cov().to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(pairwise_cor(arr), pd.DataFrame(same_bytes).corr().to_numpy(), rtol=1e-12)
