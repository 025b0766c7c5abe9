"""Tests for compval.validity against semTools 0.5-6 / lavaan 0.6.14 / psych 2.2.9.

Reference values: tests/reference/validity/make_reference.R (cases: Holzinger-Swineford 3-factor CFA
``hs``; the same with a cross-loading and a residual covariance ``hs_xload``; a single-indicator factor
first ``hs_single``; a second-order factor ``hs_higher``; psych::bfi 5-factor CFA with reverse-keyed items
``bfi`` and raw ``bfi_raw``).
The parameter tables are lavaan's parameterEstimates(fit, standardized = TRUE) + std_all_se, renamed as
compval's CFA table (dots -> underscores).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compval import validity as V
from tolerances import assert_close

REF = Path(__file__).parent / "reference" / "validity"
DATA = Path(__file__).parent / "reference" / "data"
BFI_REVERSED = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
CASES = ["hs", "hs_xload", "hs_single", "hs_higher", "bfi", "bfi_raw"]
HTMT_CASES = ["hs", "hs_single", "bfi", "bfi_raw"]  # semTools::htmt errors on cross-loaded items


def _num(v) -> float:
    return float("nan") if isinstance(v, str) else float(v)  # R's "NA"/"NaN" in JSON


def _mat(entry) -> pd.DataFrame:
    vals = np.array([[_num(v) for v in row] for row in entry["values"]], dtype=float)
    return pd.DataFrame(vals, index=entry["names"], columns=entry["names"])


def _vec(entry) -> pd.Series:
    return pd.Series({k: _num(v) for k, v in entry.items()}, dtype=float)


def _params(case: str) -> pd.DataFrame:
    p = pd.read_csv(REF / f"{case}_params.csv")
    return p.rename(columns={c: c.replace(".", "_") for c in p.columns})


class Case:
    def __init__(self, name: str):
        self.name = name
        self.params = _params(name)
        self.sampstat = pd.read_csv(REF / f"{name}_sampstat_cov.csv", index_col=0)
        self.fitted = pd.read_csv(REF / f"{name}_fitted_cov.csv", index_col=0)
        self.stdsol = pd.read_csv(REF / f"{name}_stdsol.csv")
        self.values = json.loads((REF / f"{name}_values.json").read_text())


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    return {c: Case(c) for c in CASES}


@pytest.fixture(scope="module")
def datasets() -> dict[str, pd.DataFrame]:
    hs = pd.read_csv(DATA / "HolzingerSwineford1939.csv")
    bfi_raw = pd.read_csv(DATA / "bfi.csv")
    bfi = bfi_raw.copy()
    bfi[BFI_REVERSED] = 7 - bfi[BFI_REVERSED]
    return {"hs": hs, "hs_xload": hs, "hs_single": hs, "bfi": bfi, "bfi_raw": bfi_raw}


def _assert_series(got: pd.Series, want: pd.Series, name: str, err_msg: str = ""):
    assert list(got.index) == list(want.index)
    assert_close(got.to_numpy(), want.to_numpy(), name, err_msg=err_msg)


# ------------------------------------------------------------------------------------------ inputs
@pytest.mark.parametrize("case", ["hs", "bfi"])
def test_sample_covariance_is_lavaan_sampstat(cases, datasets, case):
    c = cases[case]
    got = V.sample_covariance(datasets[case], list(c.sampstat.index))
    assert_close(got.to_numpy(), c.sampstat.to_numpy(), "validity.sampstat", err_msg=case)
    assert c.values["nobs"] == len(datasets[case][list(c.sampstat.index)].dropna())


@pytest.mark.parametrize("case", CASES)
def test_model_matrices_reproduce_lavaan_fitted_and_cov_lv(cases, case):
    c = cases[case]
    mm = V.model_matrices(c.params)
    implied = mm.implied_cov().loc[c.fitted.index, c.fitted.columns]
    assert_close(implied.to_numpy(), c.fitted.to_numpy(), "validity.model_matrices", err_msg=case)
    cov_lv = _mat(c.values["cov_lv"])
    got_lv = mm.cov_lv().loc[cov_lv.index, cov_lv.columns].to_numpy()
    assert_close(got_lv, cov_lv.to_numpy(), "validity.model_matrices", err_msg=f"{case}: cov.lv")


# ----------------------------------------------------------------------------- composite reliability
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "key,kwargs",
    [("compRelSEM", {}), ("compRelSEM_implied", {"implied": True}), ("compRelSEM_tau_eq", {"tau_eq": True})],
)
def test_composite_reliability_matches_semtools_compRelSEM(cases, case, key, kwargs):
    c = cases[case]
    cov = None if kwargs.get("implied") else c.sampstat
    got = V.composite_reliability(c.params, cov, **kwargs)
    assert list(got.columns) == ["factor", "n_items", "cr"]
    _assert_series(got.set_index("factor")["cr"], _vec(c.values[key]), "validity.cr", err_msg=f"{case}: {key}")


def test_composite_reliability_observed_and_implied_differ_with_residual_covariance(cases):
    # x2 ~~ x3 enters the implied denominator of 'visual' only: the two variants must differ there
    c = cases["hs_xload"]
    obs = V.composite_reliability(c.params, c.sampstat).set_index("factor")["cr"]
    imp = V.composite_reliability(c.params, implied=True).set_index("factor")["cr"]
    assert abs(obs["visual"] - imp["visual"]) > 1e-3
    assert V.composite_reliability(c.params, c.sampstat).set_index("factor").loc["visual", "n_items"] == 4


def test_composite_reliability_requires_sample_cov_and_its_items(cases):
    c = cases["hs"]
    with pytest.raises(ValueError, match="sample_cov is required"):
        V.composite_reliability(c.params)
    with pytest.raises(ValueError, match="x9"):
        V.composite_reliability(c.params, c.sampstat.drop(index="x9", columns="x9"))


def test_single_indicator_factor_dropped_unless_asked(cases):
    c = cases["hs_single"]
    assert "f0" not in set(V.composite_reliability(c.params, c.sampstat)["factor"])
    kept = V.composite_reliability(c.params, c.sampstat, drop_single=False).set_index("factor")
    # one indicator, loading 1, zero residual variance: ML gives phi = s11, so omega = phi / s11 = 1
    assert kept.loc["f0", "n_items"] == 1
    assert_close(kept.loc["f0", "cr"], 1.0, "validity.single_indicator_cr")  # up to lavaan's convergence


# ----------------------------------------------------------------------------------------------- AVE
@pytest.mark.parametrize("case", ["hs", "hs_xload", "hs_higher", "bfi", "bfi_raw"])
@pytest.mark.parametrize("key,implied", [("AVE", False), ("AVE_implied", True)])
def test_ave_matches_semtools_AVE(cases, case, key, implied):
    c = cases[case]
    got = V.average_variance_extracted(c.params, None if implied else c.sampstat, implied=implied)
    _assert_series(got.set_index("factor")["ave"], _vec(c.values[key]), "validity.ave", err_msg=f"{case}: {key}")


def test_ave_undefined_for_factors_with_cross_loaded_items(cases):
    c = cases["hs_xload"]
    ave = V.average_variance_extracted(c.params, c.sampstat).set_index("factor")["ave"]
    assert math.isnan(ave["visual"]) and math.isnan(ave["speed"])  # x9 loads on both
    assert not math.isnan(ave["textual"])


def test_ave_implied_is_fornell_larcker_ratio_and_standardized_variant(cases):
    c = cases["bfi"]
    p = c.params
    load = p[p["op"] == "=~"]
    ave = V.average_variance_extracted(p, implied=True).set_index("factor")["ave"]
    std = V.average_variance_extracted(p, standardized=True).set_index("factor")["ave"]
    for fn, rows in load.groupby("lhs", sort=False):
        phi = p.loc[(p["op"] == "~~") & (p["lhs"] == fn) & (p["rhs"] == fn), "est"].item()
        theta = p.set_index(["lhs", "op", "rhs"])["est"]
        common = float((rows["est"] ** 2).sum() * phi)
        error = float(sum(theta[(i, "~~", i)] for i in rows["rhs"]))
        assert ave[fn] == pytest.approx(common / (common + error), abs=1e-10)  # Fornell & Larcker (1981)
        assert std[fn] == pytest.approx(float(np.mean(rows["std_all"] ** 2)), abs=1e-10)
    assert (ave - std).abs().max() > 0.01  # the two definitions really differ on bfi


def test_ave_matches_by_name_where_semtools_misaligns(cases):
    """semTools::AVE indexes indicator names by position after dropping a single-indicator factor; with
    that factor first it reports textual = 0.751 and speed = NA. We match the by-name computation."""
    c = cases["hs_single"]
    got = V.average_variance_extracted(c.params, c.sampstat).set_index("factor")["ave"]
    want = _vec(c.values["AVE_by_name"]).drop("f0")
    _assert_series(got, want, "validity.ave")
    semtools = _vec(c.values["AVE"])
    assert abs(semtools["textual"] - got["textual"]) > 0.02 and math.isnan(semtools["speed"])


# ---------------------------------------------------------------------------------- Fornell-Larcker
@pytest.mark.parametrize("case", ["hs", "hs_higher", "bfi"])
def test_fornell_larcker_table_from_R_values(cases, case):
    c = cases[case]
    res = V.fornell_larcker(c.params, c.sampstat)
    ave = _vec(c.values["AVE"])
    cor = _mat(c.values["cor_lv"])
    m = res.matrix
    assert list(m.index) == list(ave.index)
    for a in m.index:
        assert_close(m.loc[a, a], math.sqrt(ave[a]), "validity.ave", err_msg=f"{case}: sqrt AVE {a}")
        for b in m.columns:
            if a != b:
                assert_close(m.loc[a, b], cor.loc[a, b], "validity.model_matrices", err_msg=f"{case}: {a}~~{b}")
    t = res.table
    assert len(t) == len(ave) * (len(ave) - 1) // 2
    for row in t.itertuples():
        r = cor.loc[row.factor_a, row.factor_b]
        assert row.pair == f"{row.factor_a}~~{row.factor_b}"
        assert_close(row.r, r, "validity.model_matrices", err_msg=f"{case}: {row.pair}")
        assert bool(row.discriminant) == bool(ave[row.factor_a] > r**2 and ave[row.factor_b] > r**2)


def test_fornell_larcker_bfi_flags_agreeableness_extraversion(cases):
    # r(agree, extra) = .683, r^2 = .466 > AVE(agree) = .350: the only failing bfi pair
    t = V.fornell_larcker(cases["bfi"].params, cases["bfi"].sampstat).table.set_index("pair")
    assert not t.loc["agree~~extra", "discriminant"]
    assert t["discriminant"].drop("agree~~extra").all()


def test_fornell_larcker_undefined_when_ave_undefined(cases):
    c = cases["hs_xload"]
    t = V.fornell_larcker(c.params, c.sampstat).table.set_index("pair")
    assert t["discriminant"].isna().sum() == 3  # every pair involves visual or speed
    assert str(t["discriminant"].dtype) == "boolean"


# ---------------------------------------------------------------------------------------------- HTMT
@pytest.mark.parametrize("case", HTMT_CASES)
@pytest.mark.parametrize(
    "key,kwargs",
    [
        ("htmt", {}),
        ("htmt_arith", {"htmt2": False}),
        ("htmt_signed", {"htmt2": False, "absolute": False}),
    ],
)
def test_htmt_matches_semtools_htmt(cases, datasets, case, key, kwargs):
    c = cases[case]
    factors = V.factor_items(c.params)
    res = V.htmt(datasets[case], factors, **kwargs)
    want = _mat(c.values[key])
    got = res.matrix.loc[want.index, want.columns].to_numpy()
    assert_close(got, want.to_numpy(), "validity.htmt", err_msg=f"{case}: {key}")
    assert res.n == cases[case].values["nobs"]
    # long form: upper triangle in factor order, keyed "a~~b"
    names = list(factors)
    pairs = [f"{a}~~{b}" for i, a in enumerate(names) for b in names[i + 1 :]]
    assert list(res.table["pair"]) == pairs
    for row in res.table.itertuples():
        assert_close(row.htmt, want.loc[row.factor_a, row.factor_b], "validity.htmt", err_msg=f"{case}: {row.pair}")


def test_htmt_signed_variant_differs_on_unreversed_items(cases):
    # raw bfi: negative within-factor correlations; semTools gives NaN / -1 where the mean r is negative
    want = _mat(cases["bfi_raw"].values["htmt_signed"])
    assert np.isnan(want.loc["agree", "consc"]) and want.loc["consc", "consc"] == -1


@pytest.mark.parametrize("case", ["hs", "bfi"])
def test_htmt_from_covariance_matches_semtools_sample_cov(cases, case):
    c = cases[case]
    got = V.htmt_from_correlation(c.sampstat, V.factor_items(c.params))
    want = _mat(c.values["htmt_cov"])
    assert_close(got.loc[want.index, want.columns].to_numpy(), want.to_numpy(), "validity.htmt", err_msg=case)


def test_htmt_closed_form_on_hand_made_matrix():
    # two factors of two items: within r = .64 and .36, between .48 and .24 (x2)
    names = ["a1", "a2", "b1", "b2"]
    r = np.array([[1, 0.64, 0.48, 0.24], [0.64, 1, 0.24, 0.48], [0.48, 0.24, 1, 0.36], [0.24, 0.48, 0.36, 1]])
    corr = pd.DataFrame(r, index=names, columns=names)
    f = {"A": ["a1", "a2"], "B": ["b1", "b2"]}
    arith = V.htmt_from_correlation(corr, f, htmt2=False).loc["A", "B"]
    geo = V.htmt_from_correlation(corr, f).loc["A", "B"]
    assert arith == pytest.approx(0.36 / math.sqrt(0.64 * 0.36), abs=1e-12)  # 0.75
    assert geo == pytest.approx(math.sqrt(0.48 * 0.24) / math.sqrt(0.64 * 0.36), abs=1e-12)
    assert V.htmt_from_correlation(corr * 4.0, f).loc["A", "B"] == pytest.approx(geo, abs=1e-12)  # covariance


def test_htmt_rejects_items_on_two_factors(cases, datasets):
    factors = V.factor_items(cases["hs_xload"].params)
    with pytest.raises(ValueError, match="x9"):
        V.htmt(datasets["hs"], factors)


def test_htmt_bootstrap_is_seeded_and_brackets_estimate(cases, datasets):
    factors = V.factor_items(cases["hs"].params)
    a = V.htmt(datasets["hs"], factors, B=100, seed=11)
    b = V.htmt(datasets["hs"], factors, B=100, seed=np.random.default_rng(11))
    c = V.htmt(datasets["hs"], factors, B=100, seed=12)
    pd.testing.assert_frame_equal(a.table, b.table)
    np.testing.assert_array_equal(a.boot, b.boot)
    assert not np.allclose(a.table["ci_lower"], c.table["ci_lower"])
    assert a.boot.shape == (100, 3) and a.B == 100 and a.n_boot_valid == 100
    t = a.table
    assert (t["ci_lower"] <= t["htmt"]).all() and (t["htmt"] <= t["ci_upper"]).all()
    assert (t["ci_lower"] < t["ci_upper"]).all()
    # point estimate unchanged by bootstrapping; CIs are type-7 percentiles of the replicates
    pd.testing.assert_series_equal(t["htmt"], V.htmt(datasets["hs"], factors).table["htmt"])
    np.testing.assert_allclose(t["ci_upper"], np.quantile(a.boot, 0.975, axis=0), atol=1e-15)
    np.testing.assert_allclose(t["ci_lower"], np.quantile(a.boot, 0.025, axis=0), atol=1e-15)
    assert (t["ci_below_085"] == (t["ci_upper"] < V.HTMT_STRICT)).all()
    assert (t["ci_below_090"] == (t["ci_upper"] < V.HTMT_LIBERAL)).all()
    # a wider level gives a wider interval from the same replicates
    w = V.htmt(datasets["hs"], factors, B=100, seed=11, level=0.99).table
    assert (w["ci_lower"] <= t["ci_lower"]).all() and (w["ci_upper"] >= t["ci_upper"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{}, {"htmt2": False}, {"htmt2": False, "absolute": False}])
def test_htmt_bootstrap_replicates_equal_resampling_rows(cases, datasets, kwargs):
    """The batched bootstrap (row counts times per-row cross-products) draws the same resamples as resampling
    the complete rows and gives the same HTMT replicates, to rounding."""
    factors = V.factor_items(cases["bfi"].params)
    data = datasets["bfi"]
    a = V.htmt(data, factors, B=30, seed=4, **kwargs)
    items = [i for v in factors.values() for i in v]
    x = data[items].dropna().to_numpy(dtype=float)
    rng = np.random.default_rng(4)
    for b in range(30):
        xb = x[rng.integers(0, len(x), size=len(x))]
        m = V.htmt_from_correlation(
            pd.DataFrame(np.corrcoef(xb, rowvar=False), index=items, columns=items), factors, **kwargs
        )
        want = [m.loc[r.factor_a, r.factor_b] for r in a.table.itertuples()]
        np.testing.assert_allclose(a.boot[b], want, rtol=0, atol=1e-12)


def test_htmt_verdicts_and_no_ci_without_bootstrap(datasets):
    # splitting neuroticism makes a pair of near-identical "constructs"
    res = V.htmt(datasets["bfi"], {"n12": ["N1", "N2"], "n345": ["N3", "N4", "N5"], "o": ["O1", "O3"]})
    t = res.table.set_index("pair")
    for row in t.itertuples():
        assert row.below_085 == (row.htmt < 0.85) and row.below_090 == (row.htmt < 0.90)
        want = "discriminant" if row.htmt < 0.85 else ("questionable" if row.htmt < 0.90 else "not discriminant")
        assert row.verdict == want
    assert t["ci_lower"].isna().all() and t["ci_below_090"].isna().all() and res.boot is None
    assert t.loc["n12~~n345", "htmt"] > t.loc["n12~~o", "htmt"]


# ------------------------------------------------------------------------------- factor correlations
@pytest.mark.parametrize("case", ["hs", "bfi"])
def test_factor_correlations_delta_ci_match_standardizedSolution(cases, case):
    c = cases[case]
    got = V.factor_correlations(c.params)
    ss = c.stdsol
    latent = set(ss.loc[ss["op"] == "=~", "lhs"])
    ss = ss[(ss["op"] == "~~") & (ss["lhs"] != ss["rhs"]) & ss["lhs"].isin(latent) & ss["rhs"].isin(latent)]
    assert len(got) == len(ss)
    m = got.merge(ss, left_on=["factor_a", "factor_b"], right_on=["lhs", "rhs"])
    assert len(m) == len(got) and (m["ci_method"] == "delta").all()
    for ours, theirs in (("r", "est.std"), ("se_x", "se_y"), ("ci_lower", "ci.lower"), ("ci_upper", "ci.upper")):
        assert_close(m[ours], m[theirs], "validity.factor_correlations", err_msg=f"{case}: {ours}")


@pytest.mark.parametrize("case", ["hs", "bfi"])
def test_factor_correlations_fisher_fallback_matches_psych_r_con(cases, case):
    c = cases[case]
    params = c.params.drop(columns="std_all_se")
    with_n = V.factor_correlations(params, n=c.values["nobs"]).set_index("pair")
    ref = c.values["fisher_ci"]
    assert set(with_n.index) == set(ref)
    assert (with_n["ci_method"] == "fisher_z").all() and with_n["se"].isna().all()
    for pair, (lo, hi) in ref.items():
        assert_close(with_n.loc[pair, ["ci_lower", "ci_upper"]].to_numpy(float), [lo, hi], "validity.fisher_ci")
    without_n = V.factor_correlations(params)
    assert (without_n["ci_method"] == "none").all() and without_n["ci_lower"].isna().all()


# ---------------------------------------------------------------------------------------- groups
def test_higher_order_factor_not_reported_and_no_latent_covariance_rows(cases):
    c = cases["hs_higher"]
    assert list(V.composite_reliability(c.params, c.sampstat)["factor"]) == ["visual", "textual", "speed"]
    assert "g" not in V.factor_items(c.params)
    assert V.factor_correlations(c.params).empty  # first-order factors correlate only through g


def test_multi_group_table_needs_group(cases):
    c = cases["hs"]
    p2 = c.params.copy()
    p2["group"] = 2
    p2.loc[p2["op"] == "=~", "est"] *= 1.1
    both = pd.concat([c.params, p2], ignore_index=True)
    with pytest.raises(ValueError, match="pass group="):
        V.composite_reliability(both, c.sampstat)
    g1 = V.composite_reliability(both, c.sampstat, group=1)
    pd.testing.assert_frame_equal(g1, V.composite_reliability(c.params, c.sampstat))
    g2 = V.composite_reliability(both, c.sampstat, group=2)
    np.testing.assert_allclose(g2["cr"], g1["cr"] * 1.21, rtol=1e-12)


# ---------------------------------------------------------------------------------------- summary
def test_validity_summary_for_summary_json(cases, datasets):
    c = cases["bfi"]
    s = V.validity_summary(c.params, c.sampstat, datasets["bfi"])
    assert list(s) == ["agree", "consc", "extra", "neuro", "open", "htmt"]
    cr, ave, ht = _vec(c.values["compRelSEM"]), _vec(c.values["AVE"]), _mat(c.values["htmt"])
    for fn in cr.index:
        assert set(s[fn]) == {"cr", "ave"}
        assert_close(s[fn]["cr"], cr[fn], "validity.cr", err_msg=fn)
        assert_close(s[fn]["ave"], ave[fn], "validity.ave", err_msg=fn)
    assert len(s["htmt"]) == 10
    for key, value in s["htmt"].items():
        a, b = key.split("~~")
        assert_close(value, ht.loc[a, b], "validity.htmt", err_msg=key)
    json.dumps(s, allow_nan=False)


def test_validity_summary_undefined_values_are_null(cases, datasets):
    c = cases["hs_xload"]
    factors = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
    s = V.validity_summary(c.params, c.sampstat, datasets["hs"], factors)
    assert s["visual"]["ave"] is None and s["textual"]["ave"] is not None
    hs_htmt = _mat(cases["hs"].values["htmt"])
    assert_close(s["htmt"]["visual~~textual"], hs_htmt.loc["visual", "textual"], "validity.htmt")
    json.dumps(s, allow_nan=False)
    with pytest.raises(ValueError, match="x9"):  # default factors from the table overlap
        V.validity_summary(c.params, c.sampstat, datasets["hs"])
    single = cases["hs_single"]
    s1 = V.validity_summary(single.params, single.sampstat, datasets["hs"])
    assert list(s1) == ["f0", "textual", "speed", "htmt"]
    assert s1["f0"] == {"cr": None, "ave": None}
    assert s1["htmt"]["f0~~textual"] is None  # semTools: NaN for a single-item factor
    want = _mat(single.values["htmt"]).loc["textual", "speed"]
    assert_close(s1["htmt"]["textual~~speed"], want, "validity.htmt")


def test_htmt_bootstrap_keeps_exact_zero_correlations_of_integer_answers():
    """In a resample of integer answers an item correlation can be exactly 0, and HTMT2's geometric mean is then
    0: the bootstrap uses numpy.corrcoef on the resampled rows, so such replicates are exactly what resampling
    the rows gives (a batched cross-product version gave ~1e-17 and moved the demo's lower limits by up to .27)."""
    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.integers(1, 4, size=(12, 4)), columns=["a1", "a2", "b1", "b2"]).astype(float)
    factors = {"a": ["a1", "a2"], "b": ["b1", "b2"]}
    res = V.htmt(data, factors, B=400, seed=2)
    x = data.to_numpy()
    draw = np.random.default_rng(2)
    want = []
    for _b in range(400):
        xb = x[draw.integers(0, len(x), size=len(x))]
        with np.errstate(divide="ignore", invalid="ignore"):  # a constant column in a resample: NaN correlations
            r = np.corrcoef(xb, rowvar=False)
        m = V.htmt_from_correlation(pd.DataFrame(r, index=data.columns, columns=data.columns), factors)
        want.append(m.loc["a", "b"])
    want = np.array(want)
    zero = want == 0
    assert zero.any()  # the case the exact arithmetic is kept for
    assert (res.boot[zero, 0] == 0).all()
    # elsewhere the two paths (htmt, htmt_from_correlation) agree to rounding amplified by the geometric mean's logs
    np.testing.assert_allclose(res.boot[~zero, 0], want[~zero], rtol=1e-6, atol=0)


def test_htmt_bootstrap_replicates_are_the_point_estimates_of_the_resamples_across_batches():
    """The percentile bootstrap stacks its resamples' correlation matrices in batches (here 200 items: batches
    of 50 resamples, so 60 resamples cross a batch boundary); each replicate is the HTMT that the point estimate
    gives on that resample's rows, to the last bits (numpy's vectorised log and exp round by array position)."""
    rng = np.random.default_rng(8)
    n, k, per = 120, 10, 20
    f = rng.normal(size=(n, k))
    x = np.repeat(f, per, axis=1) + rng.normal(size=(n, k * per))
    items = [f"i{j}" for j in range(k * per)]
    data = pd.DataFrame(np.round(x * 2), columns=items)
    factors = {f"f{j}": items[j * per : (j + 1) * per] for j in range(k)}
    a = V.htmt(data, factors, B=60, seed=3)
    draws = np.random.default_rng(3)
    for b in range(60):
        rows = data.iloc[draws.integers(0, n, size=n)].reset_index(drop=True)
        want = V.htmt(rows, factors).table["htmt"].to_numpy()
        np.testing.assert_allclose(a.boot[b], want, rtol=0, atol=1e-15, err_msg=str(b))
