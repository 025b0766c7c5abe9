"""Tests for compval.criterion against R (tests/reference/criterion/make_reference.R -> reference.json).

R functions reproduced: cor.test (Pearson, Spearman), p.adjust("BH"), lm + anova, sandwich::vcovHC("HC3") +
lmtest::coeftest / waldtest, car::vif, an all-subsets dominance analysis written in R, t.test(var.equal =
FALSE), pROC::auc / ci.auc(method = "delong").
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compval import criterion as C
from tolerances import assert_close

HERE = Path(__file__).parent
REF_DIR = HERE / "reference" / "criterion"
DATA_DIR = HERE / "reference" / "data"

# Named tolerances (tests/tolerances.py): "criterion_cor" (r, rho, CIs, t), "criterion_p" (every p-value, log
# scale), "spearman_s", "criterion_regression" (R2, coefficients, SEs, F, VIF; relative), "dominance_weights",
# "known_groups"; the latent regression against lavaan: "criterion_latent_lavaan" and "criterion_latent_lavaan_p".
P_COLS = {"p", "p_fdr", "rho_p", "rho_p_fdr", "p_hc3", "p_delta", "p_delta_hc3", "p_full", "pvalue"}


@pytest.fixture(scope="module")
def ref():
    return json.loads((REF_DIR / "reference.json").read_text())


@pytest.fixture(scope="module")
def satact():
    sa = pd.read_csv(DATA_DIR / "sat_act.csv", index_col="id")
    scores = sa[["ACT", "SATV", "SATQ"]]
    criteria = sa[["education"]]
    controls = pd.DataFrame({"age": sa["age"], "gender": pd.Categorical(sa["gender"])}, index=sa.index)
    return scores, criteria, controls


@pytest.fixture(scope="module")
def satact_result(satact):
    scores, criteria, controls = satact
    return C.run_criterion(
        scores,
        criteria,
        controls,
        reliabilities={"ACT": 0.90, "SATV": 0.85, "SATQ": 0.88},
        criterion_reliabilities={"education": 0.80},
        n_boot=30,
        seed=7,
    )


@pytest.fixture(scope="module")
def bfi():
    d = pd.read_csv(DATA_DIR / "bfi.csv", index_col="id")
    keys = {
        "A": ["-A1", "A2", "A3", "A4", "A5"],
        "C": ["C1", "C2", "C3", "-C4", "-C5"],
        "E": ["-E1", "-E2", "E3", "E4", "E5"],
        "N": ["N1", "N2", "N3", "N4", "N5"],
        "O": ["O1", "-O2", "O3", "O4", "-O5"],
    }
    scores = {}
    for k, items in keys.items():
        m = pd.DataFrame({i.lstrip("-"): (7 - d[i[1:]]) if i.startswith("-") else d[i] for i in items})
        scores[k] = m.mean(axis=1, skipna=True)
    scores = pd.DataFrame(scores)
    criteria = d[["education", "age"]].astype(float)
    controls = pd.DataFrame({"gender": pd.Categorical(d["gender"])}, index=d.index)
    return scores, criteria, controls, d


@pytest.fixture(scope="module")
def bfi_result(bfi):
    scores, criteria, controls, _ = bfi
    return C.run_criterion(scores, criteria, controls, log_criteria=("age",), log_method="log1p", n_boot=10, seed=3)


def _merge(py: pd.DataFrame, rows: list[dict], keys=("criterion", "competency")) -> pd.DataFrame:
    r = pd.DataFrame(rows)
    m = py.merge(r, on=list(keys), suffixes=("", "_R"), how="inner")
    assert len(m) == len(r) == len(py), "Python and R tables do not cover the same rows"
    return m


def _assert_cols(m: pd.DataFrame, cols, name: str):
    """Python column c against R's c_R by the named tolerance; p-value columns on the log scale."""
    for c in cols:
        assert_close(m[c], m[c + "_R"], "criterion_p" if c in P_COLS else name, c)


COR_COLS = ["r", "ci_lower", "ci_upper", "t", "p", "p_fdr", "rho", "rho_ci_lower", "rho_ci_upper", "rho_p", "rho_p_fdr"]


# ---------------------------------------------------------------------------- correlations
def test_correlations_satact_match_cor_test(satact_result, ref):
    m = _merge(satact_result.correlations, ref["satact"]["correlations"])
    assert (m["n"] == m["n_R"]).all()
    assert m.set_index("competency").loc["SATQ", "n"] == 687  # pairwise complete (13 SATQ missing)
    _assert_cols(m, COR_COLS, "criterion_cor")
    assert_close(m["rho_S"], m["rho_S_R"], "spearman_s")


def test_correlations_bfi_family_fdr_log_and_missing(bfi_result, ref):
    cors = bfi_result.correlations
    m = _merge(cors, ref["bfi"]["correlations"])
    assert (m["n"] == m["n_R"]).all()
    _assert_cols(m, COR_COLS, "criterion_cor")
    # the BH family is all 10 criterion x competency pairs (not per criterion)
    np.testing.assert_allclose(cors["p_fdr"], C.bh_adjust(cors["p"]), atol=0)
    per_crit = cors.groupby("criterion")["p"].transform(lambda p: C.bh_adjust(p))
    assert not np.allclose(per_crit, cors["p_fdr"])
    # note column and missing counts
    assert set(cors.loc[cors.criterion == "age", "transform"]) == {"log1p"}
    assert set(cors.loc[cors.criterion == "education", "transform"]) == {"none"}
    assert set(cors.loc[cors.criterion == "education", "n_missing"]) == {ref["bfi"]["n_missing"]["education"]}
    assert ref["bfi"]["n_missing"]["education"] == 223


def test_spearman_pvalue_exact_paths_without_ties(ref):
    nt = pd.read_csv(REF_DIR / "noties.csv", index_col="id")
    # n = 30: AS 89 Edgeworth series; n = 8: exact enumeration over 8! permutations
    for key, data in (("correlations", nt), ("correlations_n8", nt.iloc[:8])):
        py = C.correlate(data[["x1", "x2"]], data[["y"]])
        m = _merge(py, ref["noties"][key])
        _assert_cols(m, COR_COLS, "criterion_cor")
    # the exact and t-approximation p-values really differ at n = 8, so the exact path is exercised
    rho = ref["noties"]["correlations_n8"][1]["rho"]
    assert abs(C.spearman_pvalue(rho, 8, ties=True)[1] - C.spearman_pvalue(rho, 8, ties=False)[1]) > 1e-3


def test_bh_adjust_matches_p_adjust_and_keeps_nan():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.2, NA), "BH") = 0.04 0.0533333 0.0533333 0.20 NA (NA not counted)
    out = C.bh_adjust([0.01, 0.04, 0.03, 0.2, np.nan])
    np.testing.assert_allclose(out[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.2], atol=1e-15)
    assert np.isnan(out[4])


def test_attenuation_correction(satact_result, ref):
    m = _merge(satact_result.correlations, ref["satact"]["attenuation"])
    _assert_cols(m, ["r_corrected", "ci_lower_corrected", "ci_upper_corrected"], "criterion_cor")
    act = satact_result.correlations.set_index("competency").loc["ACT"]
    assert act["r_corrected"] == pytest.approx(act["r"] / math.sqrt(0.9 * 0.8), abs=1e-15)


def test_attenuation_default_ryy_is_one_and_missing_rxx_is_nan(satact):
    scores, criteria, _ = satact
    cors = C.correct_attenuation(C.correlate(scores, criteria), {"ACT": 0.81})
    act = cors.set_index("competency").loc["ACT"]
    assert act["ryy"] == 1.0 and act["r_corrected"] == pytest.approx(act["r"] / 0.9, abs=1e-15)
    assert cors.set_index("competency")["r_corrected"][["SATV", "SATQ"]].isna().all()
    with pytest.raises(ValueError):
        C.correct_attenuation(cors, {"ACT": 1.2})


# ---------------------------------------------------------------------------- regression
SUMMARY_KEYS = [
    "n",
    "r2_controls",
    "adj_r2_controls",
    "r2_full",
    "adj_r2_full",
    "delta_r2",
    "f_change",
    "df1",
    "df2",
    "p_delta",
    "f_change_hc3",
    "p_delta_hc3",
    "f_full",
    "f_full_df1",
    "f_full_df2",
    "p_full",
]
COEF_COLS = [
    "b",
    "se",
    "t",
    "p",
    "se_hc3",
    "t_hc3",
    "p_hc3",
    "beta",
    "beta_se",
    "beta_ci_lower",
    "beta_ci_upper",
    "beta_se_hc3",
    "beta_ci_lower_hc3",
    "beta_ci_upper_hc3",
]


def _r_term(term: str) -> str:
    # "gender[T.2]" -> R's "gender2"
    if "[T." in term:
        col, lv = term.split("[T.")
        return col + lv.rstrip("]")
    return term


def _check_regression(result, rref: dict, crit: str):
    s = result.regression.set_index("criterion").loc[crit]
    for k in SUMMARY_KEYS:
        assert_close(s[k], rref["summary"][k], "criterion_p" if k in P_COLS else "criterion_regression", k)
    co = result.coefficients[result.coefficients.criterion == crit].copy()
    co["term"] = co["term"].map(_r_term)
    rc = pd.DataFrame(rref["coefficients"])
    assert co["term"].tolist() == rc["term"].tolist()
    for c in COEF_COLS:
        assert_close(co[c], rc[c], "criterion_p" if c in P_COLS else "criterion_regression", c)
    if rref["vif"] is not None:
        v = result.vif[result.vif.criterion == crit]
        rv = pd.DataFrame(rref["vif"])
        assert v["term"].tolist() == rv["term"].tolist()
        assert v["df"].tolist() == rv["df"].astype(int).tolist()
        for c in ("gvif", "gvif_adj"):
            assert_close(v[c], rv[c], "criterion_regression", c)


def test_regression_satact_numeric_and_factor_controls(satact_result, ref):
    _check_regression(satact_result, ref["satact"]["regression"]["education"], "education")
    s = satact_result.regression.iloc[0]
    assert s["delta_r2"] == pytest.approx(s["r2_full"] - s["r2_controls"], abs=1e-15)
    # HC3 SEs are not the classical ones
    co = satact_result.coefficients
    assert np.max(np.abs(co["se_hc3"] - co["se"])) > 1e-3


def test_regression_bfi_listwise_per_criterion(bfi_result, ref):
    for crit in ("education", "age"):
        _check_regression(bfi_result, ref["bfi"]["regression"][crit], crit)
    miss = bfi_result.missing.set_index("criterion")
    assert miss.loc["education", "n_missing"] == 223
    assert miss.loc["education", "n_regression"] == ref["bfi"]["regression"]["education"]["summary"]["n"]
    assert miss.loc["education", "n_excluded_regression"] == (
        miss.loc["education", "n_valid"] - miss.loc["education", "n_regression"]
    )


def _bfi_factor_controls(bfi):
    """bfi's scores, gender and education as factor controls, and log1p(age) as the criterion."""
    scores, criteria, _, d = bfi
    controls = pd.DataFrame(
        {"gender": pd.Categorical(d["gender"]), "education": pd.Categorical(d["education"].astype("Int64"))},
        index=d.index,
    )
    return scores, controls, np.log1p(criteria["age"]).rename("age")


def test_regression_factor_control_gvif(bfi, ref):
    scores, controls, y = _bfi_factor_controls(bfi)
    res = C.hierarchical_regression(y, scores, controls)
    out = C.CriterionResult(
        correlations=pd.DataFrame(),
        regression=pd.DataFrame([{"criterion": "age", **res["summary"]}]),
        coefficients=res["coefficients"].assign(criterion="age"),
        vif=res["vif"].assign(criterion="age"),
        dominance=pd.DataFrame(),
        known_groups=pd.DataFrame(),
        missing=pd.DataFrame(),
    )
    _check_regression(out, ref["bfi_gvif"]["regression"]["age"], "age")
    v = res["vif"].set_index("term")
    assert v.loc["education", "df"] == 4  # one GVIF for the 4 dummies of the 5-level factor


def test_regression_gives_the_same_numbers_by_position_as_by_id_labels(bfi):
    # the criterion job aligns scores, criteria and controls on the ids and then matches them by position (an
    # integer index); the tables must not depend on the labels, bit for bit
    scores, controls, y = _bfi_factor_controls(bfi)
    labelled = C.hierarchical_regression(y, scores, controls)
    ids = pd.Index([f"p{i:05d}" for i in range(len(scores))])
    named = C.hierarchical_regression(y.set_axis(ids), scores.set_axis(ids), controls.set_axis(ids))
    positions = pd.RangeIndex(len(scores))
    pos = C.hierarchical_regression(y.set_axis(positions), scores.set_axis(positions), controls.set_axis(positions))
    for other in (named, pos):
        pd.testing.assert_frame_equal(other["coefficients"], labelled["coefficients"], check_exact=True)
        pd.testing.assert_frame_equal(other["vif"], labelled["vif"], check_exact=True)
        assert other["summary"] == labelled["summary"]
    # the returned design: the controls' dummies then the scores, unstandardized, on the regression's rows
    X = pos["design"]
    assert list(X.columns) == [c for c in X.columns if "[T." in c] + list(scores.columns)
    assert X.index.equals(pos["sample"]) and len(X) == labelled["summary"]["n"]
    np.testing.assert_array_equal(X[list(scores.columns)].to_numpy(), scores.iloc[pos["sample"]].to_numpy(float))
    assert set(np.unique(X[[c for c in X.columns if c.startswith("gender")]].to_numpy())) <= {0.0, 1.0}


def test_regression_without_controls_is_overall_test(ref):
    nt = pd.read_csv(REF_DIR / "noties.csv", index_col="id")
    res = C.run_criterion(nt[["x1", "x2"]], nt[["y"]], n_boot=0)
    _check_regression(res, ref["noties"]["regression"]["y"], "y")
    s = res.regression.iloc[0]
    assert s["r2_controls"] == 0 and s["f_change"] == pytest.approx(s["f_full"], rel=1e-12)


# ---------------------------------------------------------------------------- dominance
def test_dominance_weights_match_all_subsets_in_R(satact_result, bfi_result, ref):
    cases = [
        (satact_result, ref["satact"]["regression"], "education"),
        (bfi_result, ref["bfi"]["regression"], "education"),
        (bfi_result, ref["bfi"]["regression"], "age"),
    ]
    for res, rr, crit in cases:
        dom = res.dominance[res.dominance.criterion == crit].set_index("competency")
        want = rr[crit]["dominance"]["weights"]
        for k, w in want.items():
            assert_close(dom.loc[k, "weight"], w, "dominance_weights", f"{crit} {k}")
        # general dominance weights sum to the R2 of the competency-only model
        assert_close(dom["weight"].sum(), rr[crit]["dominance"]["r2_full"], "dominance_weights", "sum")
        assert dom["standardized"].sum() == pytest.approx(1.0, abs=1e-12)
        assert not dom["controls_partialled"].any()


def test_dominance_with_controls_partialled(satact, ref):
    scores, criteria, controls = satact
    res = C.run_criterion(scores, criteria, controls, n_boot=0, dominance_controls=True)
    dom = res.dominance.set_index("competency")
    rr = ref["satact"]["regression"]["education"]["dominance_with_controls"]
    for k, w in rr["weights"].items():
        assert_close(dom.loc[k, "weight"], w, "dominance_weights", k)
    assert_close(dom["r2_total"].iloc[0], rr["r2_full"] - rr["r2_controls"], "dominance_weights", "r2_total")
    assert_close(dom["r2_base"].iloc[0], rr["r2_controls"], "dominance_weights", "r2_base")
    assert dom["controls_partialled"].all()


def test_general_dominance_from_R_all_subsets(ref):
    d = ref["satact"]["regression"]["education"]["dominance"]
    w = C.general_dominance(np.array(d["all_subsets_r2"]), 3)
    assert_close(w, [d["weights"][k] for k in ("ACT", "SATV", "SATQ")], "dominance_weights")


def test_dominance_bootstrap_is_seeded(satact):
    scores, criteria, _ = satact
    ok = scores.notna().all(axis=1)
    y, X = criteria.loc[ok, "education"], scores[ok]
    a = C.dominance_analysis(y, X, n_boot=40, seed=11)
    b = C.dominance_analysis(y, X, n_boot=40, seed=11)
    c = C.dominance_analysis(y, X, n_boot=40, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["weight_ci_lower"], c["weight_ci_lower"])
    assert (a["weight_ci_lower"] <= a["weight_ci_upper"]).all()
    # the dominant predictor's interval contains its estimate and excludes zero (ACT: w = .028, n = 687)
    act = a.set_index("competency").loc["ACT"]
    assert act["weight_ci_lower"] < act["weight"] < act["weight_ci_upper"] and act["weight_ci_lower"] > 0
    assert (a["weight_ci_lower"] >= 0).all()  # R2 increments are non-negative


@pytest.mark.parametrize("with_rare_dummy", [False, True])
def test_dominance_bootstrap_equals_resampling_rows(satact, with_rare_dummy):
    """The batched bootstrap (row counts times per-row cross-products, all subset models of all resamples
    solved together) draws the same resamples as resampling rows and gives the same intervals, to rounding --
    also when a control dummy that only 3 respondents have is constant in a resample (singular subsets,
    solved by least squares as before)."""
    scores, criteria, _ = satact
    ok = scores.notna().all(axis=1)
    y, X = criteria.loc[ok, "education"], scores[ok]
    always = None
    if with_rare_dummy:
        always = pd.DataFrame({"rare": np.r_[np.ones(3), np.zeros(len(X) - 3)]}, index=X.index)
    B = 60
    a = C.dominance_analysis(y, X, always, n_boot=B, seed=9)
    rng = np.random.default_rng(9)
    reps = []
    for _ in range(B):
        idx = rng.integers(0, len(X), len(X))
        ab = None if always is None else always.iloc[idx]
        reps.append(C.dominance_analysis(y.iloc[idx], X.iloc[idx], ab, n_boot=0)["weight"].to_numpy())
    lo, hi = np.quantile(np.array(reps), [0.025, 0.975], axis=0)
    np.testing.assert_allclose(a["weight_ci_lower"], lo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a["weight_ci_upper"], hi, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------- known groups
KG_COLS = [
    "threshold",
    "mean_top",
    "mean_rest",
    "sd_top",
    "sd_rest",
    "t",
    "df",
    "p",
    "d",
    "g",
    "g_se",
    "g_ci_lower",
    "g_ci_upper",
    "auc",
    "auc_ci_lower",
    "auc_ci_upper",
]


@pytest.mark.parametrize("which", ["satact", "bfi"])
def test_known_groups_match_t_test_and_proc(which, satact_result, bfi_result, ref):
    res = satact_result if which == "satact" else bfi_result
    m = _merge(res.known_groups, ref[which]["known_groups"])
    assert (m["n_top"] == m["n_top_R"]).all() and (m["n_rest"] == m["n_rest_R"]).all()
    _assert_cols(m, KG_COLS, "known_groups")
    # AUC is the Mann-Whitney U / (n1 n0)
    np.testing.assert_allclose(m["auc"], m["auc_mw"], atol=1e-12)


def test_known_groups_ties_at_threshold_go_to_top():
    s = pd.DataFrame({"k": [1.0, 2, 3, 4, 5, 6, 7, 8]})
    y = pd.DataFrame({"c": [0.0, 0, 0, 1, 1, 2, 2, 2]})
    kg = C.known_groups(s, y, top_quantile=0.25)
    # quantile(y, .75, type 7) = 2 -> the three 2s form the top group (37.5%)
    assert kg.loc[0, "threshold"] == 2 and kg.loc[0, "n_top"] == 3 and kg.loc[0, "auc"] == 1.0


# ---------------------------------------------------------------------------- driver, summary, missing
def test_summary_dict_shape_and_json(satact_result, ref):
    s = satact_result.summary_dict()
    json.dumps(s)  # serialisable
    assert set(s) == {"education", "regression", "dominance", "missing"}
    assert set(s["education"]) == {"ACT", "SATV", "SATQ"}
    assert set(s["education"]["ACT"]) == {"r", "ci_lower", "ci_upper", "p", "p_fdr", "rho"}
    assert_close(s["education"]["ACT"]["r"], ref["satact"]["correlations"][0]["r"], "criterion_cor")
    assert set(s["regression"]["education"]) == {"r2_controls", "r2_full", "delta_r2", "p_delta"}
    rr = ref["satact"]["regression"]["education"]
    assert_close(s["regression"]["education"]["p_delta"], rr["summary"]["p_delta"], "criterion_p")
    assert_close(s["dominance"]["education"]["ACT"], rr["dominance"]["weights"]["ACT"], "dominance_weights")
    assert s["missing"]["education"] == {"n_missing": 0, "n_valid": 700}


def test_respondents_without_criterion_are_counted():
    rng = np.random.default_rng(0)
    idx = pd.Index([f"r{i}" for i in range(40)], name="id")
    scores = pd.DataFrame(rng.normal(size=(40, 2)), index=idx, columns=["a", "b"])
    crit = pd.DataFrame({"perf": rng.normal(size=40)}, index=idx)
    crit.iloc[:5, 0] = np.nan
    crit = crit.drop(index=["r5", "r6"])  # absent from the criteria file
    crit.loc["stranger"] = 1.0  # a criterion row without scores
    res = C.run_criterion(scores, crit, n_boot=0)
    miss = res.missing.iloc[0]
    assert (miss["n_total"], miss["n_missing"], miss["n_absent"], miss["n_valid"]) == (40, 7, 2, 33)
    assert miss["n_criteria_without_scores"] == 1
    assert res.correlations["n"].tolist() == [33, 33] and res.regression.loc[0, "n"] == 33
    assert res.summary_dict()["missing"]["perf"] == {"n_missing": 7, "n_valid": 33}


def test_input_validation():
    s = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 1, 4, 3, 5]})
    with pytest.raises(ValueError, match="reserved"):
        C.run_criterion(s, pd.DataFrame({"regression": [1.0, 2, 3, 4, 5]}), n_boot=0)
    with pytest.raises(ValueError, match="domain"):
        C.run_criterion(s, pd.DataFrame({"y": [0.0, 2, 3, 4, 5]}), log_criteria=("y",), log_method="log", n_boot=0)
    with pytest.raises(ValueError, match="not among"):
        C.transform_criteria(pd.DataFrame({"y": [1.0]}), ("z",))


def test_log_methods():
    y = pd.DataFrame({"y": [0.0, 1.0, 9.0], "z": [1.0, 2.0, 3.0]})
    out, tf = C.transform_criteria(y, ("y",))
    np.testing.assert_allclose(out["y"], np.log1p([0.0, 1.0, 9.0]))
    np.testing.assert_allclose(out["z"], y["z"])
    assert tf.set_index("criterion")["transform"].to_dict() == {"y": "log1p", "z": "none"}
    out, tf = C.transform_criteria(y, ("z",), method="log")
    np.testing.assert_allclose(out["z"], np.log([1.0, 2.0, 3.0]))


def test_control_design_treatment_coding_first_level_reference():
    c = pd.DataFrame({"dept": ["b", "a", "c", "a", None], "tenure": [1.0, 2, 3, 4, 5]})
    X, terms = C.control_design(c)
    assert terms == {"dept": ["dept[T.b]", "dept[T.c]"], "tenure": ["tenure"]}  # 'a' (sorted first) = reference
    assert X["dept[T.b]"].tolist()[:4] == [1.0, 0.0, 0.0, 0.0] and np.isnan(X["dept[T.b]"].iloc[4])
    cat = pd.DataFrame({"g": pd.Categorical(["x", "y", "x"], categories=["y", "x"])})
    X, terms = C.control_design(cat)
    assert terms == {"g": ["g[T.x]"]}  # Categorical: category order decides the reference


# ---------------------------------------------------------------------------- latent regression (SEM)
# Reference: tests/reference/criterion/make_latent_reference.R -> latent_reference.json (lavaan::sem 0.6.14 with
# the syntax latent_regression_syntax() builds). Observed agreement: ~1e-5 for FIML estimates (optimizer stopping
# rules; chi-square agrees to 2e-6), ~1e-7 under MLR/listwise; fit indices ~1e-8. Named tolerances
# "criterion_latent_lavaan" (estimates, SEs, z, CIs, R2, fit indices) and "criterion_latent_lavaan_p" (p-values).
BFI_REVERSED = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
HS_FACTORS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
LATENT_FIT = {
    "chisq": "chisq",
    "df": "df",
    "pvalue": "pvalue",
    "cfi": "cfi",
    "tli": "tli",
    "rmsea": "rmsea",
    "srmr": "srmr",
    "ntotal": "n",
    "chisq.scaled": "chisq_scaled",
    "cfi.robust": "cfi_robust",
    "rmsea.robust": "rmsea_robust",
}


@pytest.fixture(scope="module")
def latent_ref():
    return json.loads((REF_DIR / "latent_reference.json").read_text())


@pytest.fixture(scope="module")
def bfi_items():
    d = pd.read_csv(DATA_DIR / "bfi.csv", index_col="id")
    for c in BFI_REVERSED:
        d[c] = 7 - d[c]
    factors = {k: [f"{k}{i}" for i in range(1, 6)] for k in "ACENO"}
    return d, factors


@pytest.fixture(scope="module")
def latent_bfi(bfi_items):
    d, factors = bfi_items
    return C.latent_regression(d, factors, d["education"], controls=d[["gender"]].astype(float))


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(DATA_DIR / "HolzingerSwineford1939.csv", index_col="id")


@pytest.fixture(scope="module")
def latent_hs(hs):
    return C.latent_regression(
        hs, HS_FACTORS, hs[["ageyr", "grade"]], controls=hs[["school"]], estimator="MLR", missing="listwise"
    )


def _assert_latent(table: pd.DataFrame, ref: dict, term_map: dict | None = None):
    for cr, r in ref.items():
        sub = table[table["criterion"] == cr].set_index("term")
        reg = pd.DataFrame(r["regression"]).set_index("rhs")
        terms = [(term_map or {}).get(t, t) for t in sub.index]
        assert terms == list(reg.index), f"{cr}: predictors differ from lavaan's"
        for py, rr in [
            ("b", "est"),
            ("se", "se"),
            ("z", "z"),
            ("p", "pvalue"),
            ("ci_lower", "ci_lower"),
            ("ci_upper", "ci_upper"),
            ("std_all", "std_all"),
        ]:
            name = "criterion_latent_lavaan_p" if py == "p" else "criterion_latent_lavaan"
            assert_close(sub[py], reg[rr], name, f"{cr} {py}")
        assert_close(sub["r2"].iloc[0], r["r2"], "criterion_latent_lavaan", f"{cr} r2")
        for key, val in r["fit"].items():
            col = LATENT_FIT[key]
            if key in ("df", "ntotal"):
                assert sub[col].iloc[0] == val, f"{cr} {key}: {sub[col].iloc[0]} vs lavaan {val}"
            else:
                name = "criterion_latent_lavaan_p" if key in P_COLS else "criterion_latent_lavaan"
                assert_close(sub[col].iloc[0], val, name, f"{cr} {key}")
        assert bool(sub["converged"].iloc[0]) is r["converged"] is True
        assert (sub["status"] == "ok").all()


def test_latent_regression_fiml_bfi_matches_lavaan_sem(latent_bfi, latent_ref):
    """bfi: 5 latent factors (+ gender) -> education, ML with FIML; the 223 respondents without education
    still inform the measurement model (n = 2800, 2577 with the criterion)."""
    _assert_latent(latent_bfi, latent_ref["bfi_fiml"], {"gender": "gender_lv"})
    assert set(latent_bfi["n"]) == {2800} and set(latent_bfi["n_criterion"]) == {2800 - 223}
    assert latent_bfi["term_type"].tolist() == ["competency"] * 5 + ["control"]
    # openness predicts education, beyond the other four factors (as in lavaan: z = 5.26)
    o = latent_bfi.set_index("term").loc["O"]
    assert o["p"] < 1e-6 and o["ci_lower"] > 0


def test_latent_regression_mlr_listwise_dummy_control_matches_lavaan(latent_hs, latent_ref):
    """Holzinger-Swineford: MLR (Huber-White SEs, Yuan-Bentler scaled test), listwise; school treatment-coded
    (Grant-White reference) and entered as a single-indicator latent variable."""
    _assert_latent(latent_hs, latent_ref["hs_mlr"], {"school[T.Pasteur]": "school_T.Pasteur__lv"})
    n = latent_hs.groupby("criterion")["n"].first().to_dict()
    assert n == {"ageyr": 301, "grade": 300}  # grade has one missing value -> listwise per criterion
    assert set(latent_hs["estimator"]) == {"MLR"} and set(latent_hs["missing"]) == {"listwise"}


def test_latent_regression_syntax_is_the_r_reference_syntax(latent_ref):
    bfi_f = {k: [f"{k}{i}" for i in range(1, 6)] for k in "ACENO"}
    assert C.latent_regression_syntax(bfi_f, "education", ["gender"]) == latent_ref["bfi_fiml"]["education"]["syntax"]
    for cr in ("ageyr", "grade"):
        assert C.latent_regression_syntax(HS_FACTORS, cr, ["school_T.Pasteur_"]) == latent_ref["hs_mlr"][cr]["syntax"]


def test_latent_regression_names_are_mapped_not_assumed(hs, latent_hs):
    """Competency keys, item and criterion names that are not lavaan names are handled internally and reported
    under their own names; the estimates are those of the plain-named model."""
    ren = {"x1": "item 1", "x2": "item-2"}
    items = hs.rename(columns=ren)
    factors = {
        "Visual ability": ["item 1", "item-2", "x3"],
        "textual": HS_FACTORS["textual"],
        "speed (timed)": HS_FACTORS["speed"],
    }
    y = hs[["ageyr"]].rename(columns={"ageyr": "age (years)"})
    out = C.latent_regression(items, factors, y, controls=hs[["school"]], estimator="MLR", missing="listwise")
    assert out["term"].tolist() == ["Visual ability", "textual", "speed (timed)", "school[T.Pasteur]"]
    assert set(out["criterion"]) == {"age (years)"}
    ref = latent_hs[latent_hs["criterion"] == "ageyr"]
    np.testing.assert_allclose(out["b"], ref["b"], rtol=1e-8)
    np.testing.assert_allclose(out["std_all"], ref["std_all"], rtol=1e-8)
    with pytest.raises(KeyError, match="not in the data"):
        C.latent_regression(hs, {"f": ["x1", "nope", "x3"]}, hs["ageyr"])


def test_latent_summary_and_unestimable_criterion(hs, latent_hs, latent_ref):
    summ = C.latent_summary(latent_hs)
    assert set(summ) == {"ageyr", "grade"}
    g = summ["grade"]
    assert list(g["betas"]) == list(HS_FACTORS)  # competencies only, controls left out
    ref_std = dict(
        zip(latent_ref["hs_mlr"]["grade"]["regression"]["rhs"], latent_ref["hs_mlr"]["grade"]["regression"]["std_all"])
    )
    for k, v in g["betas"].items():
        assert_close(v, ref_std[k], "criterion_latent_lavaan", k)
    assert_close(g["r2"], latent_ref["hs_mlr"]["grade"]["r2"], "criterion_latent_lavaan", "r2")
    assert set(g["fit"]) == {"chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"} and g["status"] == "ok"
    json.dumps(summ)  # JSON-ready
    # a criterion without values is reported, not raised, and gets missing estimates
    y = pd.DataFrame({"empty": np.nan, "constant": 1.0}, index=hs.index)
    out = C.latent_regression(hs, HS_FACTORS, y)
    assert out["b"].isna().all() and out["status"].str.startswith("not estimable").all()
    assert out.groupby("criterion")["n_criterion"].first().to_dict() == {"empty": 0, "constant": 301}
    assert C.latent_summary(out)["empty"]["r2"] is None


def test_latent_regression_on_an_items_only_float_table_leaves_it_as_it_was(bfi_items, latent_bfi):
    """A float table whose columns are exactly the items is used without a copy (400 MB per copy at a million
    respondents): the caller's frame keeps its values and columns, and the estimates are those of the general
    path (a frame with other columns, whose items are selected and copied)."""
    d, factors = bfi_items
    items = d[[i for f in factors.values() for i in f]].astype(float)
    before = items.copy()
    got = C.latent_regression(items, factors, d["education"], controls=d[["gender"]].astype(float))
    pd.testing.assert_frame_equal(items, before)
    pd.testing.assert_frame_equal(got, latent_bfi)


# ---------------------------------------------------------------------------- helpers written out for speed
def test_average_ranks_are_scipy_rankdata_bit_for_bit():
    """compval.criterion.prepare.average_ranks (written out to keep scipy.stats out of the criterion jobs) gives
    scipy.stats.rankdata(method="average")'s ranks exactly: ties, negative zero, one value, all tied."""
    from scipy import stats

    from compval.criterion.prepare import average_ranks

    rng = np.random.default_rng(7)
    cases = [
        rng.integers(1, 6, 200).astype(float),
        rng.normal(size=97),
        np.array([0.0, -0.0, 1.0, 0.0]),
        np.array([3.0]),
        np.full(5, 2.5),
    ]
    for x in cases:
        np.testing.assert_array_equal(average_ranks(x), stats.rankdata(x))


def test_welch_t_test_is_scipy_ttest_ind_unequal_variances():
    """compval.criterion.groups.welch_t_test against scipy.stats.ttest_ind(equal_var=False), the function it
    replaces (R's t.test values are checked by test_known_groups_match_t_test_and_proc)."""
    from scipy import stats

    rng = np.random.default_rng(11)
    for n1, n0 in ((5, 40), (30, 31), (200, 3)):
        x1, x0 = rng.normal(0.3, 1.5, n1), rng.normal(0, 1, n0)
        t, df, p = C.welch_t_test(x1, x0)
        ref = stats.ttest_ind(x1, x0, equal_var=False)
        assert t == pytest.approx(ref.statistic, rel=1e-14)
        assert df == pytest.approx(ref.df, rel=1e-14)
        assert p == pytest.approx(ref.pvalue, rel=1e-12)


@pytest.mark.parametrize("order", ["C", "F"])
def test_ols_leaves_the_design_alone_and_gives_numpys_qr_bits(order):
    """ols decomposes a column-major copy of X in place (scipy.linalg.qr, overwrite_a): the caller's X is
    unchanged, and Q, R -- hence b and the leverages -- are numpy.linalg.qr's bit for bit."""
    from compval.criterion.ols import ols

    rng = np.random.default_rng(5)
    X = np.hstack([np.ones((3000, 1)), rng.standard_normal((3000, 6))])
    X = np.array(X, order=order)
    y = X @ rng.standard_normal(7) + rng.standard_normal(3000)
    before = X.copy()
    fit = ols(y, X)
    np.testing.assert_array_equal(X, before)
    Q, R = np.linalg.qr(X)
    np.testing.assert_array_equal(fit.b, np.linalg.solve(R, Q.T @ y))
    np.testing.assert_array_equal(fit.resid, y - X @ fit.b)
