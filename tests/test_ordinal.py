"""Ordinal CFA (``estimator="WLSMV"``) against lavaan 0.6.14 ``cfa(..., ordered = TRUE, estimator = "WLSMV")``.

References: tests/reference/ordinal/make_reference.R (psych::bfi items, not reverse-scored, listwise and pairwise
missing data). Agreement is limited by lavaan's optimiser tolerances (polychoric correlations ~1e-8, estimates
~1e-6), so estimates, SEs and fit indices are compared to 1e-5 and chi-squares to a relative 1e-6.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compval import cfa
from compval.sem.ordinal import lower_pairs, ordinal_sample, polychoric_pair

REF = Path(__file__).parent / "reference" / "ordinal"
DATA = Path(__file__).parent / "reference" / "data"

AC = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
ONE = "G =~ A1 + A2 + A3 + A4 + A5 + C1 + C2 + C3 + C4 + C5"
BIG5 = "\n".join(f"{f} =~ " + " + ".join(f"{f}{i}" for i in range(1, 6)) for f in "ACENO")
CASES = {
    "bfi_ac_lw": dict(model=AC, missing="listwise"),
    "bfi_ac_pw": dict(model=AC, missing="pairwise"),
    "bfi_ac_stdlv": dict(model=AC, missing="listwise", std_lv=True),
    "bfi_ac_orth": dict(model=AC, missing="listwise", orthogonal=True),
    "bfi_ac_1f": dict(model=ONE, missing="listwise"),
    "bfi_ac_pw_1f": dict(model=ONE, missing="pairwise"),
    "bfi5_lw": dict(model=BIG5, missing="listwise"),
}
CHISQ_KEYS = ["chisq", "chisq.scaled", "baseline.chisq", "baseline.chisq.scaled"]
INDEX_KEYS = [
    "df",
    "npar",
    "fmin",
    "pvalue",
    "chisq.scaling.factor",
    "baseline.df",
    "baseline.chisq.scaling.factor",
    "cfi",
    "tli",
    "nnfi",
    "rfi",
    "nfi",
    "pnfi",
    "ifi",
    "rni",
    "cfi.scaled",
    "tli.scaled",
    "rfi.scaled",
    "nfi.scaled",
    "ifi.scaled",
    "rni.scaled",
    "cfi.robust",
    "tli.robust",
    "rni.robust",
    "rmsea",
    "rmsea.ci.lower",
    "rmsea.ci.upper",
    "rmsea.pvalue",
    "rmsea.notclose.pvalue",
    "rmsea.scaled",
    "rmsea.ci.lower.scaled",
    "rmsea.ci.upper.scaled",
    "rmsea.pvalue.scaled",
    "rmsea.notclose.pvalue.scaled",
    "rmsea.robust",
    "rmsea.ci.lower.robust",
    "rmsea.ci.upper.robust",
    "rmsea.notclose.pvalue.robust",
    "srmr",
    "srmr_bentler",
    "srmr_bentler_nomean",
    "rmr",
    "rmr_nomean",
    "crmr",
    "crmr_nomean",
]


@pytest.fixture(scope="module")
def bfi():
    return pd.read_csv(DATA / "bfi.csv")


@pytest.fixture(scope="module")
def fits(bfi):
    out = {}
    for name, c in CASES.items():
        kw = {k: v for k, v in c.items() if k != "model"}
        out[name] = cfa.fit_cfa(bfi, c["model"], estimator="WLSMV", **kw)
    return out


def _ref_fit(name):
    return json.loads((REF / f"{name}_fit.json").read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_sample_statistics_match_lavaan(bfi, name):
    """Thresholds and polychoric correlations (lavInspect "wls.obs") and Gamma (lavInspect "gamma")."""
    ref = json.loads((REF / f"{name}_sample.json").read_text())
    c = CASES[name]
    ov = cfa.from_syntax(c["model"]).factors
    items = [i for v in ov.values() for i in v]
    y = bfi[items]
    y = y.dropna() if c["missing"] == "listwise" else y[y.notna().any(axis=1)]
    s = ordinal_sample(y.to_numpy(float), items)
    assert s.n == ref["nobs"]
    assert s.names == ref["wls.names"]
    np.testing.assert_allclose(s.wls_obs, ref["wls.obs"], atol=1e-7)
    gfile = REF / f"{name}_gamma.csv"
    if gfile.exists():
        g = pd.read_csv(gfile, index_col=0)
        assert list(g.index) == s.names
        np.testing.assert_allclose(s.gamma, g.to_numpy(), atol=1e-6 * np.abs(g.to_numpy()).max())


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_and_standard_errors_match_lavaan(fits, name):
    f = fits[name]
    assert f.status == "ok" and f.converged
    ref = pd.read_csv(REF / f"{name}_params.csv")
    ref = ref[ref["op"].isin(["=~", "~~", "|"])]
    got = f.params
    m = ref.merge(got, on=["lhs", "op", "rhs"], suffixes=("_r", ""), how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"][["lhs", "op", "rhs", "_merge"]]
    np.testing.assert_allclose(m["est"], m["est_r"], atol=1e-5)
    np.testing.assert_allclose(m["se"], m["se_r"], atol=1e-5)
    np.testing.assert_allclose(m["std_all"], m["std.all"], atol=1e-5)
    np.testing.assert_allclose(m["std_lv"], m["std.lv"], atol=1e-5)
    assert (m["free"] == m["free_r"]).all()
    r2 = pd.read_csv(REF / f"{name}_r2.csv").set_index("name")["r2"]
    np.testing.assert_allclose(f.r2[r2.index], r2, atol=1e-5)
    imp = pd.read_csv(REF / f"{name}_implied.csv", index_col=0)
    np.testing.assert_allclose(f.implied_cov.loc[imp.index, imp.columns], imp, atol=1e-5)
    corlv = pd.read_csv(REF / f"{name}_corlv.csv", index_col=0)
    if corlv.shape == (1, 1):  # lavaan 0.6.14 returns the 1 x 1 latent covariance, not correlation, here
        assert cfa.latent_covariance(f, correlation=False).iloc[0, 0] == pytest.approx(corlv.iloc[0, 0], abs=1e-5)
        return
    np.testing.assert_allclose(cfa.latent_covariance(f).loc[corlv.index, corlv.columns], corlv, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_match_lavaan(fits, name):
    f, ref = fits[name], _ref_fit(name)
    for k in CHISQ_KEYS:
        assert f.fit[k] == pytest.approx(ref[k], rel=1e-6), k
    for k in INDEX_KEYS:
        assert f.fit[k] == pytest.approx(ref[k], abs=1e-5), k
    # no likelihood under DWLS
    assert ref.get("logl") is None and np.isnan(f.fit["logl"]) and np.isnan(f.fit["bic"])


@pytest.mark.parametrize("name", ["bfi_ac_lw", "bfi_ac_pw", "bfi5_lw"])
def test_scaled_shifted_test_parts_match_lavaan(fits, name):
    ref = json.loads((REF / f"{name}_sample.json").read_text())
    t = {e["test"]: e for e in ref["test"]}["scaled.shifted"]
    f = fits[name]
    assert f.fit["chisq.shift.parameter"] == pytest.approx(t["shift.parameter"], abs=1e-5)
    assert f.fit["trace.UGamma"] == pytest.approx(t["trace.UGamma"], rel=1e-6)
    assert f.fit["trace.UGamma2"] == pytest.approx(t["trace.UGamma2"], rel=1e-6)


def test_polychoric_pair_is_the_two_step_ml_estimate():
    """A 3 x 3 table: the estimate is a stationary point of the log-likelihood (score zero to 1e-9) and it
    matches the full-data estimate produced by ordinal_sample."""
    rng = np.random.default_rng(1)
    z = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=400)
    y = np.digitize(z, [-0.5, 0.6]) + 1.0
    s = ordinal_sample(y, ["a", "b"])
    freq = np.zeros((3, 3))
    np.add.at(freq, (y[:, 0].astype(int) - 1, y[:, 1].astype(int) - 1), 1)
    t1, t2 = s.th[:2], s.th[2:]
    rho = polychoric_pair(freq, t1, t2)
    assert rho == pytest.approx(s.cor[1, 0], abs=1e-12)
    assert 0.35 < rho < 0.65
    from compval.sem.ordinal import _dll

    assert abs(_dll(freq, t1, t2, rho)) < 1e-6


def test_lower_pairs_follow_lavaan_order():
    i, j = lower_pairs(4)
    assert list(zip(j, i)) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def test_unsupported_multigroup_ordinal_setup_is_reported_not_raised(bfi):
    """Unit-variance identification is not implemented for multi-group ordinal models: a status, no crash."""
    d = bfi.assign(g=np.where(bfi.index % 2, "a", "b"))
    f = cfa.fit_cfa(d, AC, estimator="WLSMV", group="g", std_lv=True)
    assert not f.converged and "not implemented for multi-group ordinal models" in f.status


def test_item_with_one_category_is_reported(bfi):
    d = bfi[["A1", "A2", "A3"]].dropna().copy()
    d["A3"] = 4.0
    f = cfa.fit_cfa(d, "F =~ A1 + A2 + A3", estimator="WLSMV")
    assert not f.converged and "fewer than two observed categories" in f.status


EQLOAD = "A =~ A1 + a*A2 + a*A3 + a*A4 + a*A5\nC =~ C1 + c*C2 + c*C3 + C4 + C5"


@pytest.mark.parametrize("rival", ["bfi_ac_1f", "bfi_ac_orth", "bfi_ac_eqload"])
def test_difftest_matches_lavtestlrt(bfi, fits, rival):
    """lavTestLRT(fit, rival) for WLSMV (satorra.2000; scaled-shifted and Satterthwaite variants)."""
    lrt = pd.read_csv(REF / "lrt.csv")
    f1 = fits["bfi_ac_lw"]
    f0 = fits[rival] if rival in fits else cfa.fit_cfa(bfi, EQLOAD, estimator="WLSMV")
    assert f0.status == "ok"
    rows = lrt[(lrt["model"] == rival)]
    ss = rows[rows["method"].str.startswith("default")].iloc[0]
    sat = rows[rows["method"].str.contains("FALSE")].iloc[0]
    got = cfa.difftest(f0, f1)  # argument order does not matter: sorted by df
    assert got["df_diff"] == ss["Df.diff"]
    assert got["chisq_diff"] == pytest.approx(ss["Chisq.diff"], rel=1e-6)
    assert got["scale"] == pytest.approx(ss["scale"], rel=1e-6)
    assert got["shift"] == pytest.approx(ss["shift"], abs=1e-6)
    got2 = cfa.difftest(f1, f0, scaled_shifted=False)
    assert got2["chisq_diff"] == pytest.approx(sat["Chisq.diff"], rel=1e-6)
    assert got2["df_diff"] == pytest.approx(sat["Df.diff"], rel=1e-6)
    assert got2["pvalue"] == pytest.approx(sat["Pr.Chisq"], rel=1e-4)
    table = cfa.compare_models({"two": f1, "rival": f0})
    assert table["chisq_diff"].iloc[1] == pytest.approx(ss["Chisq.diff"], rel=1e-6)
    assert table["pvalue"].iloc[1] == pytest.approx(ss["Pr.Chisq"], rel=1e-4)


@pytest.mark.parametrize("name", ["bfi_ac_lw", "bfi_ac_pw", "bfi5_lw"])
def test_composite_reliability_and_ave_match_semtools(fits, name):
    """semTools 0.5-6 compRelSEM (Green & Yang 2009 for ordinal items; ord.scale = FALSE) and AVE on the
    WLSMV fits (raw bfi items: mixed-sign loadings make some unit-weighted omegas small, as in semTools)."""
    from compval.validity import average_variance_extracted, composite_reliability

    ref = json.loads((REF / f"{name}_semtools.json").read_text())
    f = fits[name]
    cr = composite_reliability(f.params, f.sample_cov).set_index("factor")["cr"]
    for k, v in ref["compRelSEM"].items():
        assert cr[k] == pytest.approx(v, abs=1e-6), k
    cr2 = composite_reliability(f.params, f.sample_cov, ord_scale=False).set_index("factor")["cr"]
    for k, v in ref["compRelSEM_ord.scale_FALSE"].items():
        assert cr2[k] == pytest.approx(v, abs=1e-6), k
    ave = average_variance_extracted(f.params, f.sample_cov).set_index("factor")["ave"]
    for k, v in ref["AVE"].items():
        assert ave[k] == pytest.approx(v, abs=1e-6), k


@pytest.mark.parametrize("name", ["bfi_ac_lw", "bfi_ac_pw"])
def test_ebm_factor_scores_match_lavpredict(bfi, fits, name):
    """lavPredict() of an ordinal fit (EBM). lavaan's BFGS stops at reltol 1e-8 on the posterior, so its scores
    carry optimiser error of ~1e-4 (observed max 9e-5); ours are the exact modes (gradient zero)."""
    ref = pd.read_csv(REF / f"{name}_scores.csv")
    rows = bfi.iloc[ref["row"].to_numpy() - 1]
    got = cfa.factor_scores(fits[name], rows)
    np.testing.assert_allclose(got[["A", "C"]].to_numpy(), ref[["A", "C"]].to_numpy(), atol=5e-4)
    if name == "bfi_ac_pw":
        items = [f"{f}{i}" for f in "AC" for i in range(1, 6)]
        some_missing = rows[items].isna().any(axis=1)
        assert some_missing.any() and got.loc[some_missing].notna().all().all()


def test_comparison_under_wlsmv_uses_difftest_and_robust_cfi(fits):
    """No likelihood under DWLS: rivals are judged by the DIFFTEST and the robust CFI; the best model is the one
    with the highest robust CFI; cut-offs are judged on the robust indices."""
    from compval.comparison import comparison_tables

    tabs = comparison_tables(
        {"hypothesized": fits["bfi_ac_lw"], "one_factor": fits["bfi_ac_1f"], "orthogonal": fits["bfi_ac_orth"]},
        reference="hypothesized",
    )
    comp = tabs["comparison"].set_index("model")
    lrt = pd.read_csv(REF / "lrt.csv")
    ss = lrt[lrt["method"].str.startswith("default") & lrt["Chisq.diff"].notna()].set_index("model")
    assert comp.loc["one_factor", "chisq_diff"] == pytest.approx(ss.loc["bfi_ac_1f", "Chisq.diff"], rel=1e-6)
    assert comp.loc["orthogonal", "chisq_diff"] == pytest.approx(ss.loc["bfi_ac_orth", "Chisq.diff"], rel=1e-6)
    assert comp["reference_preferred"].all()
    s = tabs["summary"]["comparison"]
    assert s["selection_criterion"] == "cfi" and s["best_model"] == "hypothesized" and s["best_bic"] is None
    ref_fit = _ref_fit("bfi_ac_lw")
    assert tabs["summary"]["hypothesized"]["cutoff_values"]["cfi"] == pytest.approx(ref_fit["cfi.robust"], abs=1e-5)
    # robust CFI .905 < .95: preferred over its rivals, but the cut-offs are not met
    assert not s["reference_meets_cutoffs"] and s["verdict"] == "not supported"


@pytest.mark.parametrize("name", ["bfi_ac_lw", "bfi_ac_orth"])
def test_modification_indices_match_lavaan(fits, name):
    """modindices() of a WLSMV fit (DWLS score tests: cross-loadings, residual correlations, the fixed factor
    covariance of the orthogonal model). Agreement is limited by lavaan's estimates (~1e-6): MI to 1e-3 or a
    relative 2e-4 (the largest, 1550, differs by .0019), EPCs to 5e-5."""
    ref = pd.read_csv(REF / f"{name}_modindices.csv")
    got = cfa.modification_indices(fits[name])
    m = ref.merge(got, on=["lhs", "op", "rhs"], suffixes=("_r", ""), how="outer", indicator=True)
    assert (m["_merge"] == "both").all() and len(m) == len(ref)
    np.testing.assert_allclose(m["mi"], m["mi_r"], rtol=2e-4, atol=1e-3)
    for c in ("epc", "sepc.lv", "sepc.all"):
        np.testing.assert_allclose(m[c], m[c + "_r"], atol=5e-5, err_msg=c)


def test_heywood_case_is_reported_not_raised(bfi):
    """An implied residual variance below zero (a loading fixed too high) is reported in the status, with the
    fit measures still computed (delta parameterisation: residual variance = 1 - communality)."""
    f = cfa.fit_cfa(bfi, "A =~ NA*A2 + 1.2*A3 + A4 + A5\nA ~~ 1*A", estimator="WLSMV")
    assert f.converged and "heywood case" in f.status and "A3 ~~ A3" in f.status
    rv = f.params[(f.params["lhs"] == "A3") & (f.params["op"] == "~~")]["est"].iloc[0]
    assert rv < 0 and np.isfinite(f.fit["chisq.scaled"])


MG_CASES = {
    "mg_configural": (),
    "mg_loadings": ("loadings",),
    "mg_thresholds": ("thresholds",),
    "mg_scalar": ("thresholds", "loadings"),
}


@pytest.fixture(scope="module")
def bfi_mg(bfi):
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    d = bfi[items + ["gender"]].copy()
    d[["A1", "C4", "C5"]] = 7 - d[["A1", "C4", "C5"]]
    return d


@pytest.fixture(scope="module")
def mg_fits(bfi_mg):
    return {n: cfa.fit_cfa(bfi_mg, AC, estimator="WLSMV", group="gender", group_equal=ge) for n, ge in MG_CASES.items()}


@pytest.mark.parametrize("name", list(MG_CASES))
def test_multigroup_ordinal_matches_lavaan(mg_fits, name):
    """Multi-group WLSMV (bfi by gender): configural, equal loadings, equal thresholds (scale factors and latent
    means free in group 2), both -- estimates, SEs, standardized values of every row lavaan reports
    (loadings, (co)variances, implied residual variances, thresholds, scale factors, latent means) and the fit
    measures (robust ones where lavaan has them)."""
    f = mg_fits[name]
    assert f.status == "ok"
    ref = pd.read_csv(REF / f"{name}_params.csv", keep_default_na=False, na_values=[""])
    ref["rhs"] = ref["rhs"].fillna("")
    ref = ref[ref["op"].isin(["=~", "~~", "|", "~*~"]) | ((ref["op"] == "~1") & ref["lhs"].isin(["A", "C"]))]
    got = f.params.assign(rhs=f.params["rhs"].fillna(""))
    m = ref.merge(got, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""), how="inner")
    assert len(m) == len(ref)
    np.testing.assert_allclose(m["est"], m["est_r"], atol=1e-5)
    np.testing.assert_allclose(m["se"], m["se_r"], atol=1e-5)
    sub = m[m["op"] != "~*~"]
    np.testing.assert_allclose(sub["std_all"], sub["std.all"], atol=1e-5)
    assert (m["free"] == m["free_r"]).all()
    fm = _ref_fit(name)
    for k in ("chisq", "chisq.scaled", "baseline.chisq", "baseline.chisq.scaled"):
        assert f.fit[k] == pytest.approx(fm[k], rel=1e-6), k
    for k in (
        "df",
        "cfi",
        "tli",
        "cfi.scaled",
        "tli.scaled",
        "rmsea",
        "rmsea.scaled",
        "rmsea.ci.lower.scaled",
        "rmsea.ci.upper.scaled",
        "srmr",
        "cfi.robust",
        "tli.robust",
        "rmsea.robust",
        "rmsea.ci.upper.robust",
    ):
        if fm.get(k) is None:
            assert k not in f.fit or not np.isfinite(f.fit[k]), k
        else:
            assert f.fit[k] == pytest.approx(fm[k], abs=1e-5), k


def test_multigroup_difftest_and_invariance_sequence(bfi_mg, mg_fits):
    lrt = pd.read_csv(REF / "mg_lrt.csv")
    for _, r in lrt.iterrows():
        d = cfa.difftest(mg_fits[r["model1"]], mg_fits[r["model0"]])
        assert d["df_diff"] == r["df_diff"]
        assert d["chisq_diff"] == pytest.approx(r["chisq_diff"], rel=1e-5)
    tab, fits, first_fail = cfa.measurement_invariance(bfi_mg, cfa.from_syntax(AC), "gender", estimator="WLSMV")
    t = tab.set_index("step")
    ref_fm = {n: _ref_fit(n) for n in MG_CASES}
    assert t.loc["metric", "chisq"] == pytest.approx(ref_fm["mg_loadings"]["chisq"], rel=1e-6)
    assert t.loc["scalar", "chisq"] == pytest.approx(ref_fm["mg_scalar"]["chisq"], rel=1e-6)
    assert t.loc["scalar", "cfi"] == pytest.approx(ref_fm["mg_scalar"]["cfi.scaled"], abs=1e-5)
    row = lrt[(lrt["model1"] == "mg_loadings") & (lrt["model0"] == "mg_scalar")].iloc[0]
    assert t.loc["scalar", "chisq_diff"] == pytest.approx(row["chisq_diff"], rel=1e-5)
    assert "not applicable" in t.loc["strict", "status"] and pd.isna(t.loc["strict", "holds"])
    # delta CFI (scaled) metric: +.005, scalar: -.007 -> both hold by Chen's .010
    assert t.loc["metric", "holds"] and t.loc["scalar", "holds"] and first_fail is None


def test_empty_category_in_a_group_is_reported_and_invariance_falls_back(bfi_mg):
    """A category observed overall but empty in one group: lavaan stops; we report the item and group, and
    measurement_invariance(..., fallback=("MLR", "listwise")) fits the sequence by MLR with a note."""
    d = bfi_mg.dropna().copy()
    d = d[~((d["gender"] == 1) & (d["A2"] == 1))]
    f = cfa.fit_cfa(d, AC, estimator="WLSMV", group="gender")
    assert not f.converged and "category 1 of item 'A2' is empty in group 1" in f.status
    tab, _, _ = cfa.measurement_invariance(
        d, cfa.from_syntax(AC), "gender", estimator="WLSMV", fallback=("MLR", "listwise")
    )
    assert (tab["estimator"] == "MLR").all() and tab["note"].str.contains("is empty in group 1").all()
    assert tab.set_index("step").loc["strict", "status"] == "ok"
