"""compval.cfa against lavaan 0.6.14 (reference values from tests/reference/cfa/make_reference.R)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from compval import cfa
from compval.sem import samplestats
from compval.sem.partable import ModelSyntaxError, build_partable, parse_syntax
from sem_compare import compare_fit_measures, compare_params, read_params
from tolerances import assert_close

REF = Path(__file__).parent / "reference" / "cfa"
DATA = Path(__file__).parent / "reference" / "data"
HS3 = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
BFI3 = {
    "agree": [f"A{i}" for i in range(1, 6)],
    "consc": [f"C{i}" for i in range(1, 6)],
    "extra": [f"E{i}" for i in range(1, 6)],
}


@lru_cache(maxsize=None)
def hs() -> pd.DataFrame:
    return pd.read_csv(DATA / "HolzingerSwineford1939.csv")


@lru_cache(maxsize=None)
def bfi() -> pd.DataFrame:
    d = pd.read_csv(DATA / "bfi.csv")
    rev = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]  # psych's reverse-keyed items
    d[rev] = 7 - d[rev]
    return d


def hs_parcels() -> pd.DataFrame:
    return cfa.make_parcels(hs(), {"p_vis": HS3["visual"], "p_tex": HS3["textual"], "p_spe": HS3["speed"]})


CASES = {
    "hs3_ml": (hs, lambda: cfa.hypothesized(HS3), {}),
    "hs3_stdlv": (hs, lambda: cfa.hypothesized(HS3), {"std_lv": True}),
    "hs1_ml": (hs, lambda: cfa.one_factor(HS3, factor_name="g"), {}),
    "hs3_orth": (hs, lambda: cfa.orthogonal(HS3), {}),
    "hs_2nd": (hs, lambda: cfa.second_order(HS3, general_name="g"), {}),
    "hs_2nd_modules": (hs, lambda: cfa.second_order(HS3, {"visual": "m1", "textual": "m1", "speed": "m2"}), {}),
    "bfi_2nd_2x2": (
        bfi,
        lambda: cfa.second_order(
            {f: [f"{f}{i}" for i in range(1, 6)] for f in "AECO"}, {"A": "m1", "E": "m1", "C": "m2", "O": "m2"}
        ),
        {},
    ),
    "hs3_rescov": (hs, lambda: cfa.from_syntax(cfa.hypothesized(HS3).syntax + "x7 ~~ x8"), {}),
    "hs_parcels": (hs_parcels, lambda: cfa.parcels({"g": ["p_vis", "p_tex", "p_spe"]}), {}),
    "hs3_heywood": (lambda: hs().iloc[:100], lambda: cfa.hypothesized(HS3), {}),
    "hs3_mlr": (hs, lambda: cfa.hypothesized(HS3), {"estimator": "MLR"}),
    "hs1_mlr": (hs, lambda: cfa.one_factor(HS3, factor_name="g"), {"estimator": "MLR"}),
    "bfi3_mlr": (bfi, lambda: cfa.hypothesized(BFI3), {"estimator": "MLR"}),
    "bfi3_fiml": (bfi, lambda: cfa.hypothesized(BFI3), {"missing": "ml"}),
    "bfi2_fiml_mlr": (
        bfi,
        lambda: cfa.hypothesized({k: BFI3[k] for k in ("agree", "consc")}),
        {"missing": "ml", "estimator": "MLR"},
    ),
    **{
        f"mg_{s}": (hs, lambda: cfa.hypothesized(HS3), {"group": "school", "group_equal": ge})
        for s, ge in cfa.INVARIANCE_STEPS.items()
    },
    **{
        f"mg_{s}_mlr": (hs, lambda: cfa.hypothesized(HS3), {"group": "school", "group_equal": ge, "estimator": "MLR"})
        for s, ge in cfa.INVARIANCE_STEPS.items()
    },
}


@lru_cache(maxsize=None)
def fitted(name: str) -> cfa.CFAResult:
    data, spec, kw = CASES[name]
    return cfa.fit_cfa(data(), spec(), **kw)


def ref_params(name: str) -> pd.DataFrame:
    return read_params(REF / f"{name}_params.csv")


def ref_fit(name: str) -> dict:
    return json.loads((REF / f"{name}_fit.json").read_text())


PARAM_TOLS = {
    "est": "cfa.est",
    "se": "cfa.se",
    "z": "cfa.z",
    "pvalue": "cfa.pvalue",
    "ci_lower": "cfa.ci",
    "ci_upper": "cfa.ci",
    "std_lv": "cfa.std_lv",
    "std_all": "cfa.std_all",
}
FIT_TOLS = {"stat": "cfa.fit.stat", "index": "cfa.fit.index", "pvalue": "cfa.fit.pvalue", "zero": "cfa.fit.zero"}
#: fit measures lavaan's fitMeasures() stores that compval does not compute (GFI family, Hoelter's critical N,
#: Mplus' SRMR) or leaves NaN (ECVI of multi-group fits)
NOT_REPORTED = {
    "gfi",
    "agfi",
    "pgfi",
    "cn_05",
    "cn_01",
    "srmr_mplus",
    "srmr_mplus_nomean",
    "ecvi (NaN here)",
}


# ------------------------------------------------------------------------------------------- estimates
@pytest.mark.parametrize("name", list(CASES))
def test_parameters_match_lavaan(name):
    res = fitted(name)
    assert list(res.params.columns) == cfa.PARAM_COLUMNS
    ref = ref_params(name)
    mine = res.params.assign(rhs=res.params["rhs"].fillna(""))
    extra = mine.merge(ref, on=["lhs", "op", "rhs", "group"], how="left", indicator=True)
    assert (extra["_merge"] == "both").all(), extra.loc[extra["_merge"] != "both", ["lhs", "op", "rhs"]]
    compare_params(mine, ref, PARAM_TOLS, name)


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_match_lavaan(name):
    res = fitted(name)
    ref = ref_fit(name)
    assert res.converged is True and ref["converged"] is True
    not_reported = compare_fit_measures(res.fit, ref, FIT_TOLS, name)
    assert set(not_reported) <= NOT_REPORTED, set(not_reported) - NOT_REPORTED
    # essential P1 fields always present
    for k in [
        "chisq",
        "df",
        "pvalue",
        "baseline.chisq",
        "baseline.df",
        "cfi",
        "tli",
        "rmsea",
        "rmsea.ci.lower",
        "rmsea.ci.upper",
        "rmsea.pvalue",
        "srmr",
        "logl",
        "unrestricted.logl",
        "aic",
        "bic",
        "npar",
        "ntotal",
    ]:
        assert k in res.fit


def group_file(name: str, what: str, g: int) -> Path:
    """lavInspect output of group g: ``<name>_<what>.csv`` for group 1, ``<name>_g<g>_<what>.csv`` after."""
    first, later = {
        "r2": (f"{name}_r2.csv", f"{name}_g{g}_r2.csv"),
        "implied": (f"{name}_implied.csv", f"{name}_g{g}_implied.csv"),
        "corlv": (f"{name}_corlv.csv", f"{name}_g{g}_corlv.csv"),
    }[what]
    return REF / (first if g == 1 else later)


@pytest.mark.parametrize("name", list(CASES))
def test_r2_implied_covariance_and_latent_correlations_of_every_group(name):
    res = fitted(name)
    groups = range(1, max(len(res.group_labels), 1) + 1)
    for g in groups:
        err = f"{name}, group {g}"
        r2 = pd.read_csv(group_file(name, "r2", g)).set_index("name")["r2"]
        mine = res.r2.xs(g, level="group") if isinstance(res.r2.index, pd.MultiIndex) else res.r2
        assert sorted(mine.index) == sorted(r2.index), err
        mine = mine.loc[r2.index]
        # lavaan reports NA for the R-squared of an indicator with a negative residual variance (Heywood case);
        # compval reports 1 - theta / sigma, above 1
        heywood = r2.isna() & (mine > 1)
        assert (heywood.sum() == 0) or name == "hs3_heywood", err
        assert_close(mine[~heywood].to_numpy(), r2[~heywood].to_numpy(), "cfa.r2", err_msg=err)
        imp = pd.read_csv(group_file(name, "implied", g), index_col=0)
        cov = res.implied_cov if isinstance(res.implied_cov, pd.DataFrame) else res.implied_cov[res.group_labels[g - 1]]
        assert sorted(cov.index) == sorted(imp.index), err
        assert_close(cov.loc[imp.index, imp.columns].to_numpy(), imp.to_numpy(), "cfa.implied", err_msg=err)
        cl = pd.read_csv(group_file(name, "corlv", g), index_col=0)
        # lavaan 0.6.14 returns the 1 x 1 latent covariance, not the correlation, for a single latent variable
        lv = cfa.latent_covariance(res, group=g, correlation=cl.shape != (1, 1))
        assert sorted(lv.index) == sorted(cl.index), err
        assert_close(lv.loc[cl.index, cl.columns].to_numpy(), cl.to_numpy(), "cfa.corlv", err_msg=err)
    assert not group_file(name, "r2", len(groups) + 1).exists()


def test_marker_and_unit_variance_identification_are_equivalent():
    a, b = fitted("hs3_ml"), fitted("hs3_stdlv")
    assert a.fit["chisq"] == pytest.approx(b.fit["chisq"], abs=1e-6)
    sa = a.params.set_index(["lhs", "op", "rhs"])["std_all"]
    sb = b.params.set_index(["lhs", "op", "rhs"])["std_all"]
    np.testing.assert_allclose(sa.loc[sb.index], sb, atol=1e-5)
    var = b.params[(b.params["op"] == "~~") & b.params["lhs"].isin(list(HS3))]
    assert (var.loc[var["lhs"] == var["rhs"], "est"] == 1).all()


# ------------------------------------------------------------------------------------------- robustness
def test_heywood_case_is_reported_not_raised():
    res = fitted("hs3_heywood")
    assert res.converged
    assert "heywood" in res.status and "x1 ~~ x1" in res.status
    assert ref_fit("hs3_heywood")["post.check"] is False  # lavaan also flags the solution as inadmissible
    assert res.warnings


def test_non_convergence_is_reported_like_lavaan():
    res = cfa.fit_cfa(hs().iloc[:30], cfa.hypothesized(HS3))
    assert ref_fit("hs3_noconv")["converged"] is False
    assert res.converged is False
    assert res.status.startswith("not converged")
    assert res.fit == {}
    assert list(res.params.columns) == cfa.PARAM_COLUMNS
    # the same parameter rows and matrix names as lavaan's unconverged fit (the values of two optimisers that
    # stopped without converging are not compared)
    ref = ref_params("hs3_noconv")
    key = ["lhs", "op", "rhs", "group"]
    mine = res.params.assign(rhs=res.params["rhs"].fillna(""))
    assert sorted(map(tuple, mine[key].to_numpy())) == sorted(map(tuple, ref[key].to_numpy()))
    assert sorted(pd.read_csv(REF / "hs3_noconv_r2.csv")["name"]) == sorted(res.ov_names)
    assert sorted(pd.read_csv(REF / "hs3_noconv_implied.csv", index_col=0).index) == sorted(res.ov_names)
    assert sorted(pd.read_csv(REF / "hs3_noconv_corlv.csv", index_col=0).index) == sorted(res.lv_names)


def test_non_identified_models_are_statuses():
    spec = cfa.hypothesized({"f": ["x1", "x2"]})
    assert spec.identified is False
    res = cfa.fit_cfa(hs(), spec)
    assert "not identified" in res.status
    so = cfa.second_order({"a": ["x1", "x2", "x3"], "b": ["x4", "x5", "x6"]}, {"a": "m1", "b": "m2"})
    assert so.identified is False and "single first-order factor" in " ".join(so.notes)
    res2 = cfa.fit_cfa(hs(), so)
    assert "not identified" in res2.status


SE_NONE_CASES = {
    "ml": (hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9", {}),
    "ml_fiml": (hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", {"missing": "ml"}),
    "mlr_fiml": (hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", {"missing": "ml", "estimator": "MLR"}),
    "ml_two_groups": (hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", {"group": "school"}),
    "wlsmv": (bfi, "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5", {"estimator": "WLSMV"}),
    "wlsmv_two_groups": (
        bfi,
        "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5",
        {"estimator": "WLSMV", "group": "gender", "group_equal": ["loadings"]},
    ),
}


@pytest.mark.parametrize("case", list(SE_NONE_CASES))
def test_se_none_leaves_out_the_standard_errors_and_nothing_else(case):
    """fit_cfa(se="none") (lavaan's se = "none"): the same estimates, test and fit measures, bit for bit, as the
    fit with standard errors; se, z, p and the confidence limits NaN for the free parameters; no vcov."""
    data, syntax, kw = SE_NONE_CASES[case]
    with_se = cfa.fit_cfa(data(), syntax, **kw)
    without = cfa.fit_cfa(data(), syntax, se="none", **kw)
    assert with_se.status == without.status == "ok"
    assert with_se.fit.keys() == without.fit.keys() and len(without.fit) > 20
    for k, v in with_se.fit.items():
        assert v == without.fit[k] or (np.isnan(v) and np.isnan(without.fit[k])), k
    key = ["lhs", "op", "rhs", "group"]
    assert without.params[key].equals(with_se.params[key])
    np.testing.assert_array_equal(without.params["est"], with_se.params["est"])
    np.testing.assert_array_equal(without.params["std_all"], with_se.params["std_all"])
    free = with_se.params["se"] > 0
    assert free.sum() > 10
    for col in ("se", "z", "pvalue", "ci_lower", "ci_upper"):
        assert without.params.loc[free, col].isna().all(), col
    assert without.vcov is None and with_se.vcov is not None


def test_se_none_still_reports_a_model_that_is_not_identified():
    """Two orthogonal factors of two indicators each: df = 2, but a loading and its factor's variance trade off.
    Without standard errors the expected information shows it (:func:`compval.sem.vcov.check_identified`), as
    the observed one does with them."""
    spec = cfa.from_syntax("f1 =~ x1 + x2\nf2 =~ x3 + x4\nf1 ~~ 0*f2\n")
    assert spec.identified  # the syntax rules do not see it
    for se in ("standard", "none"):
        res = cfa.fit_cfa(hs(), spec, se=se)
        assert res.status == "not identified (singular information matrix)", se
    with pytest.raises(ValueError, match="se must be 'standard' or 'none'"):
        cfa.fit_cfa(hs(), spec, se="robust")


@pytest.mark.parametrize(
    "X2, df, N",
    [
        (1788.88, 1160, 563),
        (85.6, 80, 301),
        (12.0, 3, 200),
        (9333.8, 1175, 563),
        (2.5e5, 1160, 10**6),
        (5e4, 20, 10**6),
    ],
)
def test_rmsea_interval_inverts_the_noncentral_chi_square_as_a_root_search(X2, df, N):
    """rmsea_ci takes each limit's non-centrality from scipy.special.chndtrinc: the root that lavaan's uniroot
    (and, before, scipy.optimize.brentq at xtol 1e-12) searches for, to within 1e-14 relative."""
    from scipy import special
    from scipy.optimize import brentq

    from compval.sem.fitindices import rmsea_ci

    lo, hi = rmsea_ci(X2, df, N)
    # a limit is 0 where pchisq(X2, df, 0) is below its probability (lavaan's rule): the lower one for X2 = 85.6
    assert (lo == 0) == (special.chdtr(df, X2) < 0.95) and hi > 0
    for limit, prob in ((lo, 0.95), (hi, 0.05)):
        if limit > 0:
            lam = brentq(lambda v: special.chndtr(X2, df, v) - prob, 0, max(N, 4 * X2), xtol=1e-12)
            assert limit == pytest.approx(np.sqrt(lam / (N * df)), rel=1e-14)
    assert lo <= np.sqrt(max(X2 / N / df - 1 / N, 0)) < hi


def test_latent_covariance_not_positive_definite_detected():
    # factor correlation fixed beyond 1 via user syntax: psi not positive definite
    syn = (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~~ 1*visual\ntextual ~~ 1*textual\n"
        "visual ~~ 1.2*textual\nvisual =~ NA*x1\ntextual =~ NA*x4\n"
    )
    res = cfa.fit_cfa(hs(), syn)
    assert "latent covariance matrix not positive definite" in res.status


# ------------------------------------------------------------------------------------------- builders
def test_builders_produce_lavaan_syntax():
    assert cfa.hypothesized(HS3).syntax == ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n")
    assert cfa.one_factor(HS3, factor_name="g").syntax == "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9\n"
    mods = cfa.modules(HS3, {"visual": "A", "textual": "A", "speed": "B"})
    assert mods.factors == {"A": ["x1", "x2", "x3", "x4", "x5", "x6"], "B": ["x7", "x8", "x9"]}
    assert "visual ~~ 0*textual" in cfa.orthogonal(HS3).syntax
    so = cfa.second_order(HS3, general_name="g")
    assert so.syntax.endswith("g =~ visual + textual + speed\n") and so.higher == {"g": list(HS3)}
    so2 = cfa.second_order(HS3, {"visual": "m1", "textual": "m1", "speed": "m2"})
    assert "m1 =~ NA*visual + eq_m1*visual + eq_m1*textual\nm1 ~~ 1*m1" in so2.syntax and so2.identified
    assert "visual =~ NA*x1 + x2 + x3\nvisual ~~ 1*visual" in so2.syntax and "speed =~ x7 + x8 + x9" in so2.syntax
    parsed = cfa.from_syntax(so2.syntax)
    assert parsed.higher == {"m1": ["visual", "textual"]}
    spec = cfa.from_syntax(so.syntax)
    assert spec.factors == HS3 and spec.higher == {"g": list(HS3)}


def test_builders_and_fits_are_driven_by_the_dict():
    four = {"a": ["x1", "x2"], "b": ["x3", "x4", "x5"], "c": ["x6", "x7"], "d": ["x8", "x9"]}
    res = cfa.fit_cfa(hs(), cfa.hypothesized(four))
    assert set(res.params.loc[res.params["op"] == "=~", "lhs"]) == set(four)
    assert res.fit["df"] == 45 - res.fit["npar"]


def test_parser_modifiers_and_partable():
    stmts = parse_syntax("f =~ NA*a + 0.5*b + lab*c + start(0.3)*d # comment\n a ~~ b; f ~ 1")
    assert [(s["rhs"], s["free"], s["fixed"], s["label"], s["start"]) for s in stmts[:4]] == [
        ("a", True, None, "", None),
        ("b", False, 0.5, "", None),
        ("c", False, None, "lab", None),
        ("d", False, None, "", 0.3),
    ]
    assert stmts[-1]["op"] == "~1"
    pt, st = build_partable(
        "f =~ a + b + c\ng =~ d + e + h", ngroups=2, meanstructure=True, group_equal=("loadings", "intercepts")
    )
    load = pt[(pt["op"] == "=~") & (pt["rhs"] == "b")]
    assert load["free"].nunique() == 1 and (load["free"] > 0).all()
    means = pt[(pt["op"] == "~1") & (pt["lhs"] == "f")]
    assert list(means["free"] > 0) == [False, True]  # latent means free in group 2 under scalar invariance
    with pytest.raises(ModelSyntaxError):
        parse_syntax("f = a + b")


# ------------------------------------------------------------------------------------------- comparison
def _lrt(file):
    return pd.read_csv(REF / file)


def test_chisq_difference_ml_matches_lavtestlrt():
    tab = cfa.compare_models({"three": fitted("hs3_ml"), "one": fitted("hs1_ml")})
    ref = _lrt("lrt_hs1_hs3_ml.csv")
    assert list(tab["model"]) == ["three", "one"]
    assert_close(tab["chisq"], ref["Chisq"], "cfa.lrt.stat")
    assert_close(tab["aic"], ref["AIC"], "cfa.lrt.stat")
    assert_close(tab["bic"], ref["BIC"], "cfa.lrt.stat")
    assert_close(tab["chisq_diff"].iloc[1], ref["Chisq.diff"].iloc[1], "cfa.lrt.stat")
    assert_close(tab["pvalue"].iloc[1], ref["Pr"].iloc[1], "cfa.lrt.pvalue")
    assert tab["df"].tolist() == ref["Df"].tolist()
    assert tab["df_diff"].iloc[1] == ref["Df.diff"].iloc[1] == 3
    assert tab["aic_rank"].tolist() == [1, 2]
    assert tab["delta_cfi"].iloc[1] == pytest.approx(fitted("hs1_ml").fit["cfi"] - fitted("hs3_ml").fit["cfi"])


def test_satorra_bentler_2001_difference_matches_lavtestlrt():
    tab = cfa.compare_models([fitted("hs3_mlr"), fitted("hs1_mlr")])
    ref = _lrt("lrt_hs1_hs3_mlr.csv")
    # the scaled difference amplifies the ~5e-7 numerical noise of both programs' scaling factors
    # (numerical Hessians at estimates converged to ~1e-6) by df0*c0 - df1*c1 -> compare relatively
    assert_close(tab["chisq_diff"].iloc[1], ref["Chisq.diff"].iloc[1], "cfa.lrt.scaled_diff")
    assert_close(tab["pvalue"].iloc[1], ref["Pr"].iloc[1], "cfa.lrt.pvalue")
    assert_close(tab["chisq"], ref["Chisq"], "cfa.lrt.stat")
    assert_close(tab["aic"], ref["AIC"], "cfa.lrt.stat")
    assert_close(tab["bic"], ref["BIC"], "cfa.lrt.stat")
    assert tab["df"].tolist() == ref["Df"].tolist() and tab["df_diff"].iloc[1] == ref["Df.diff"].iloc[1]


def test_fit_verdict_hu_bentler():
    from compval.present.rules import fit_verdict

    v = fit_verdict(fitted("hs3_ml").fit)
    assert list(v["index"]) == ["cfi", "tli", "rmsea", "srmr"]
    assert list(v["ok"]) == [False, False, False, True]  # CFI .931, TLI .896, RMSEA .092, SRMR .065
    v2 = fit_verdict(fitted("hs3_mlr").fit, {"cfi": 0.90, "rmsea": (">=", 0.0)}, robust=True)
    assert list(v2["index"]) == ["cfi.robust", "rmsea.robust"] and v2["ok"].all()


def test_measurement_invariance_matches_lavaan():
    tab, fits, first_fail = cfa.measurement_invariance(hs(), cfa.hypothesized(HS3), "school")
    ref = _lrt("lrt_mg.csv")
    assert_close(tab["chisq"], ref["Chisq"], "cfa.lrt.stat")
    assert_close(tab["chisq_diff"].iloc[1:], ref["Chisq.diff"].iloc[1:], "cfa.lrt.stat")
    assert_close(tab["pvalue"].iloc[1:], ref["Pr"].iloc[1:], "cfa.lrt.pvalue")
    assert tab["df"].tolist() == ref["Df"].tolist()
    cfis = [ref_fit(f"mg_{s}")["cfi"] for s in cfa.INVARIANCE_STEPS]
    assert_close(tab["delta_cfi"].iloc[1:], np.diff(cfis), "cfa.fit.index")
    assert first_fail == "scalar"  # delta CFI = -.038 < -.010 (Chen 2007)
    assert tab["holds"].tolist() == [True, True, False, True]


# ------------------------------------------------------------------------------------------- MI / scores
MI_TOLS = {"mi": "cfa.mi", "epc": "cfa.epc", "sepc.lv": "cfa.epc", "sepc.all": "cfa.epc"}


@pytest.mark.parametrize("name", ["hs3_ml", "hs3_orth"])
def test_modification_indices_match_lavaan(name):
    mi = cfa.modification_indices(fitted(name))
    ref = pd.read_csv(REF / f"{name}_modindices.csv")
    merged = ref.merge(mi, on=["lhs", "op", "rhs"], suffixes=("_r", ""), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    for c, tol in MI_TOLS.items():
        assert_close(merged[c], merged[c + "_r"], tol, err_msg=f"{name}: {c}")
    top = cfa.modification_indices(fitted("hs3_ml"), top=2)
    assert list(zip(top["lhs"], top["op"], top["rhs"])) == [("visual", "=~", "x9"), ("x7", "~~", "x8")]


def test_factor_scores_match_lavpredict():
    fs = cfa.factor_scores(fitted("hs3_ml"), hs())
    ref = pd.read_csv(REF / "hs3_ml_fscores.csv")
    assert list(fs.columns) == list(ref.columns)
    assert_close(fs.to_numpy(), ref.to_numpy(), "cfa.fscores")


def test_measurement_invariance_mlr_uses_scaled_differences():
    tab, fits, first_fail = cfa.measurement_invariance(hs(), cfa.hypothesized(HS3), "school", estimator="MLR")
    ref = _lrt("lrt_mg_mlr.csv")
    assert_close(tab["chisq"], ref["Chisq"], "cfa.lrt.stat")
    assert_close(tab["chisq_diff"].iloc[1:], ref["Chisq.diff"].iloc[1:], "cfa.lrt.scaled_diff")
    assert_close(tab["pvalue"].iloc[1:], ref["Pr"].iloc[1:], "cfa.lrt.pvalue")
    assert tab["df"].tolist() == ref["Df"].tolist()
    robust_cfi = [ref_fit(f"mg_{s}_mlr")["cfi.robust"] for s in cfa.INVARIANCE_STEPS]
    assert_close(tab["cfi"], robust_cfi, "cfa.fit.index")
    assert first_fail == "scalar"


def test_analytic_observed_information_equals_numerical_hessian():
    # the chain-rule Hessian used for MLR/FIML standard errors equals lavaan's numerical Hessian of the gradient
    from compval.sem.engine import observed_information, observed_information_analytic

    for name in ("hs_2nd_modules", "bfi3_fiml", "mg_metric"):
        res = fitted(name)
        num = observed_information(res._model, res._x, res._groups)
        ana = observed_information_analytic(res._model, res._x, res._groups)
        np.testing.assert_allclose(ana, num, atol=1e-7)


def test_parameter_table_format():
    res = fitted("mg_scalar")
    t = res.params
    assert list(t.columns) == cfa.PARAM_COLUMNS
    assert t["free"].dtype == bool and set(t["group"]) == {1, 2}
    assert set(t["op"]) == {"=~", "~~", "~1"}
    fixed = t[~t["free"]]
    assert (fixed["se"] == 0).all() and fixed["z"].isna().all()
    assert res.group_labels == ["Pasteur", "Grant-White"]
    assert set(res.implied_cov) == {"Pasteur", "Grant-White"}


def test_unestimable_inputs_give_a_status():
    res = cfa.fit_cfa(hs().iloc[:1], cfa.hypothesized(HS3))
    assert res.converged is False and "not estimable" in res.status
    res = cfa.fit_cfa(hs(), cfa.hypothesized({"f": ["x1", "x2"]}))
    assert "df = -1 < 0" in res.status and res.fit == {}


@pytest.mark.parametrize("name", ["hs3_ml", "hs_2nd", "hs_2nd_modules", "bfi3_fiml"])
def test_latent_correlations_match_lavinspect(name):
    ref = pd.read_csv(REF / f"{name}_corlv.csv", index_col=0)
    mine = cfa.latent_covariance(fitted(name))
    assert_close(mine.loc[ref.index, ref.columns].to_numpy(), ref.to_numpy(), "cfa.corlv", err_msg=name)
    # the factor correlations are the std_all of the factor covariances in the parameter table
    t = fitted(name).params
    cov = t[(t["op"] == "~~") & (t["lhs"] != t["rhs"]) & t["lhs"].isin(ref.index) & t["free"]]
    for r in cov.itertuples():
        if r.lhs in ref.index and r.rhs in ref.columns and "g" not in (r.lhs, r.rhs):
            assert_close(r.std_all, ref.loc[r.lhs, r.rhs], "cfa.corlv", err_msg=f"{name}: {r.lhs} ~~ {r.rhs}")


# ------------------------------------------------------------------------------------------- FIML internals
def _saturated_information_by_pattern(gd, mean, cov):
    """Reference: the saturated FIML Hessian accumulated pattern by pattern over coordinate pairs."""
    p = len(mean)
    iu = np.triu_indices(p)
    nc = len(iu[0])
    cov_id = np.full((p, p), -1)
    cov_id[iu] = np.arange(nc)
    H = np.zeros((nc + p, nc + p))
    for b in gd.blocks:
        o = b.obs
        P = np.linalg.inv(cov[np.ix_(o, o)])
        d = b.mean - mean[o]
        R = P @ (b.cov + np.outer(d, d)) @ P - 0.5 * P
        K, L = np.triu_indices(len(o))
        gid = cov_id[o[K], o[L]]
        T = (
            P[np.ix_(K, L)] * R[np.ix_(L, K)]
            + P[np.ix_(K, K)] * R[np.ix_(L, L)]
            + P[np.ix_(L, L)] * R[np.ix_(K, K)]
            + P[np.ix_(L, K)] * R[np.ix_(K, L)]
        )
        T = T / np.outer(np.where(K == L, 2.0, 1.0), np.where(K == L, 2.0, 1.0))
        Pd = P @ d
        hms = (P[:, K] * Pd[L][None, :] + P[:, L] * Pd[K][None, :]) / np.where(K == L, 2.0, 1.0)[None, :]
        H[np.ix_(gid, gid)] += b.n * T
        H[np.ix_(nc + o, nc + o)] += b.n * P
        H[np.ix_(nc + o, gid)] += b.n * hms
        H[np.ix_(gid, nc + o)] += b.n * hms.T
    return H / gd.n


@pytest.mark.parametrize("blocks", [None, (64, 16, 5)])
def test_saturated_fiml_information_equals_pattern_by_pattern_formula(blocks, monkeypatch):
    from compval.sem import h1
    from compval.sem.engine import saturated_observed_information

    if blocks:  # the row pass's sparse selections and vech products a few rows at a time
        monkeypatch.setattr(h1, "_SPARSE_ROWS", blocks[0])
        monkeypatch.setattr(h1, "_VECH_ROWS", blocks[1])
        monkeypatch.setattr(h1, "_VECH_COLUMNS", blocks[2])
    res = fitted("bfi2_fiml_mlr")
    gd = res._groups[0]
    assert len(gd.blocks) > 10  # many missing-data patterns
    heavy = samplestats.patterns(gd).heavy
    assert heavy.any() and not heavy.all()  # the row pass treats some patterns by their moments, some row by row
    sigma, mu = res._model.implied(res._x, 0, gd.mean)
    for mean, cov in ((gd.mean, gd.cov), (mu, sigma)):
        ref = _saturated_information_by_pattern(gd, mean, cov)
        # by patterns (what few patterns get) and by a pass over the rows (what many patterns get)
        for method in ("patterns", "rows"):
            fast = saturated_observed_information(gd, mean, cov, method=method)
            np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-12, err_msg=method)
            assert np.allclose(fast, fast.T, rtol=0, atol=0)


def test_saturated_fiml_information_by_column_blocks_is_the_same_bits(monkeypatch):
    """The row pass's vech products taken a few columns at a time (h1._VECH_COLUMNS, which bounds their
    temporaries) sum each column over the rows in the same order: the same matrix bit for bit."""
    from compval.sem import h1
    from compval.sem.engine import saturated_observed_information

    res = fitted("bfi2_fiml_mlr")
    gd = res._groups[0]
    whole = saturated_observed_information(gd, gd.mean, gd.cov, method="rows")
    monkeypatch.setattr(h1, "_VECH_COLUMNS", 7)
    np.testing.assert_array_equal(saturated_observed_information(gd, gd.mean, gd.cov, method="rows"), whole)


@pytest.mark.parametrize("version", ["V3", "V6"])
def test_fiml_corrected_traces_equal_lavaan_matrix_formula(version):
    # lavaan's lav_fit_fiml_corrected builds U = Wm - Wm D (D'Wm D)^-1 D'Wm and takes
    # tr(U Wm^-1 Wc Wm^-1 U Gamma) (V3) / tr(Wc Wm^-1 U Wm^-1) (V6); cfa uses a factorised form
    from compval.sem.baseline import baseline
    from compval.sem.engine import delta_in, h1_information_missing
    from compval.sem.fiml_corrected import fiml_corrected

    res = fitted("bfi2_fiml_mlr")
    m, x, groups = res._model, res._x, res._groups
    ntot = sum(gd.n for gd in groups)
    base = baseline(m, groups, res.estimator)
    got = fiml_corrected(m, x, groups, ntot, base, version)
    coords, Wm, Jm, Wc = h1_information_missing(m.ov, groups[0])
    Wmi = np.linalg.inv(Wm)
    Gamma = Wmi @ Jm @ Wmi

    def k_direct(model, xx):
        D = delta_in(coords, *model.derivatives(xx, 0))
        U = Wm - Wm @ D @ np.linalg.solve(D.T @ Wm @ D, D.T) @ Wm
        if version == "V3":
            return np.trace(U @ Wmi @ Wc @ Wmi @ U @ Gamma)
        return np.trace(Wc @ Wmi @ U @ Wmi)

    assert got["c3"] == pytest.approx(k_direct(m, x) / got["df3"], rel=1e-10)
    assert got["c3.null"] == pytest.approx(k_direct(base["model"], base["x"]) / base["df"], rel=1e-10)


def test_robust_fiml_false_skips_only_the_fiml_corrected_indices():
    full = fitted("bfi3_fiml")
    res = cfa.fit_cfa(bfi(), cfa.hypothesized(BFI3), missing="ml", robust_fiml=False)
    assert "cfi.robust" in full.fit and "rmsea.robust" in full.fit
    robust_keys = {k for k in full.fit if k.endswith(".robust")}
    assert robust_keys and not robust_keys & set(res.fit)
    assert set(full.fit) - robust_keys == set(res.fit)
    for k in res.fit:
        assert res.fit[k] == pytest.approx(full.fit[k], rel=1e-12, abs=1e-12, nan_ok=True), k
    np.testing.assert_allclose(res.params["se"], full.params["se"], rtol=1e-12, atol=0)


def test_compare_models_tolerates_models_without_fit_measures():
    failed = cfa.fit_cfa(hs().iloc[:1], cfa.hypothesized(HS3))
    assert failed.fit == {}
    tab = cfa.compare_models({"three": fitted("hs3_ml"), "failed": failed, "one": fitted("hs1_ml")})
    assert list(tab["model"]) == ["three", "one", "failed"]  # models without fit measures go last
    assert tab.loc[2, ["df", "chisq", "chisq_diff", "cfi"]].isna().all()
    assert tab["aic_rank"].isna().tolist() == [False, False, True]
    ref = _lrt("lrt_hs1_hs3_ml.csv")
    assert_close(tab["chisq_diff"].iloc[1], ref["Chisq.diff"].iloc[1], "cfa.lrt.stat")


def test_measurement_invariance_reports_failing_steps_without_raising():
    d = hs().copy()
    d.loc[d.index[:5], "school"] = "tiny"  # 5 cases, 9 indicators: singular sample covariance matrix
    tab, fits, first_fail = cfa.measurement_invariance(d, cfa.hypothesized(HS3), "school")
    assert list(tab["step"]) == list(cfa.INVARIANCE_STEPS)
    assert tab["status"].str.contains("not estimable").all()
    assert tab[["df", "chisq", "cfi", "rmsea", "srmr"]].isna().all().all()
    assert tab["holds"].isna().all() and first_fail is None


def test_measurement_invariance_passes_missing_to_every_fit():
    d = hs().copy()
    cols = [c for v in HS3.values() for c in v]
    rng = np.random.default_rng(3)
    vals = d[cols].to_numpy()
    vals[rng.random(vals.shape) < 0.04] = np.nan
    d[cols] = vals
    tab, fits, _ = cfa.measurement_invariance(
        d, cfa.hypothesized(HS3), "school", missing="ml", steps=("configural", "metric")
    )
    assert all(f._options["missing"] == "ml" for f in fits.values())
    direct = cfa.fit_cfa(d, cfa.hypothesized(HS3), group="school", missing="ml", group_equal=("loadings",))
    assert tab["chisq"].iloc[1] == pytest.approx(direct.fit["chisq"], rel=1e-10)
    listwise = cfa.fit_cfa(d, cfa.hypothesized(HS3), group="school", group_equal=("loadings",))
    assert direct.fit["ntotal"] == len(d) > listwise.fit["ntotal"]
    assert tab["holds"].tolist() == [
        True,
        bool(-tab["delta_cfi"].iloc[1] <= 0.01 and tab["delta_rmsea"].iloc[1] <= 0.015),
    ]


def test_fiml_factor_scores_use_each_respondents_observed_items():
    """lavPredict() on a FIML fit scores respondents with missing answers from the items they answered
    (bfi, three factors; make_fiml_scores.R). Listwise fits still give NaN for such rows."""
    fit = fitted("bfi3_fiml")
    ref = pd.read_csv(REF / "bfi3_fiml_fscores.csv")
    data = CASES["bfi3_fiml"][0]()
    rows = data.iloc[ref["row"].to_numpy() - 1]
    fs = cfa.factor_scores(fit, rows)
    assert (ref["n_missing"] > 0).sum() >= 20
    assert_close(fs[["agree", "consc", "extra"]].to_numpy(), ref[["agree", "consc", "extra"]].to_numpy(), "cfa.fscores")
    lw = cfa.fit_cfa(data, CASES["bfi3_fiml"][1]())
    lw_scores = cfa.factor_scores(lw, rows)
    assert lw_scores[(ref["n_missing"] > 0).to_numpy()].isna().all().all()


def test_factor_scores_of_an_indicators_only_table_equal_those_of_a_wider_one():
    """A float table whose columns are exactly the model's indicators is scored in place (no copy of it); the
    scores are those of a table with other columns too (where the indicators are selected), to the bit, and the
    table is left as it was."""
    fit = fitted("bfi3_fiml")
    data = CASES["bfi3_fiml"][0]()
    ov = fit._model.ov
    wide = data.astype({c: float for c in ov})
    wide["other"] = 1.0
    only = wide[ov].copy()
    before = only.copy()
    pd.testing.assert_frame_equal(cfa.factor_scores(fit, only), cfa.factor_scores(fit, wide), check_exact=True)
    pd.testing.assert_frame_equal(only, before)


def test_two_member_second_order_fit_does_not_depend_on_the_marker():
    """Second-order model with two modules of two first-order factors each (bfi A, E | C, O): chi-square and
    standardized second-order loadings are the same whichever item comes first (the equality constraint is in
    the standardized metric), and they match lavaan (tests/reference/cfa/make_second_order.R)."""
    items = {f: [f"{f}{i}" for i in range(1, 6)] for f in "AECO"}
    mods = {"A": "m1", "E": "m1", "C": "m2", "O": "m2"}
    a = cfa.fit_cfa(bfi(), cfa.second_order(items, mods))
    items2 = {f: v[1:] + v[:1] for f, v in items.items()}
    b = cfa.fit_cfa(bfi(), cfa.second_order(items2, mods))
    assert a.status == "ok" and b.status == "ok"
    assert a.fit["chisq"] == pytest.approx(b.fit["chisq"], rel=1e-7)
    key = ["lhs", "op", "rhs"]
    sa = a.params[a.params["lhs"].isin(["m1", "m2"]) & (a.params["op"] == "=~")].set_index(key)["std_all"]
    sb = b.params[b.params["lhs"].isin(["m1", "m2"]) & (b.params["op"] == "=~")].set_index(key)["std_all"]
    np.testing.assert_allclose(sa.sort_index(), sb.sort_index(), atol=1e-6)


#: Models for the derivative checks: marker and std.lv identification, labels shared within a group and across
#: matrix types, latent regressions, second order, mean structure and two groups.
MODEL_CASES = [
    ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n", {}),
    ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n", {"std_lv": True}),
    ("f1 =~ x1 + a*x2 + a*x3\nf2 =~ x4 + x5 + x6\nx1 ~~ x4\nx2 ~~ v*x2\nx3 ~~ v*x3\n", {"meanstructure": True}),
    ("f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\nf3 =~ x7 + x8 + x9\ng =~ f1 + f2 + f3\n", {"meanstructure": True}),
    ("f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\nf2 ~ f1\nf1 ~~ c*f1\nx1 ~~ c*x1\n", {}),
    ("f1 =~ x1 + b*x2 + x3\nf2 =~ x4 + x5 + x6\nf1 ~~ b*f2\n", {}),
    (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n",
        {"ngroups": 2, "meanstructure": True, "group_equal": ("loadings", "intercepts")},
    ),
]


@pytest.mark.parametrize("syntax, kw", MODEL_CASES)
def test_moment_derivatives_equal_central_differences(syntax, kw):
    """dSigma/dx and dmu/dx of the engine (assigned where each parameter reaches its own positions, accumulated
    under equality constraints; without (I - B)^-1 when there is no latent regression) equal central differences
    of the implied moments, for marker and std.lv identification, labels shared within a group and across matrix
    types, latent regressions, second order, mean structure and two groups."""
    from compval.sem.model import Model

    pt, st = build_partable(syntax, **kw)
    m = Model(pt, st)
    x = np.random.default_rng(1).uniform(0.3, 0.9, m.nfree)
    h = 1e-6
    for g in range(st.ngroups):
        sigma, mu, dS, dm = m.moments(x, g, np.zeros(m.p))
        s0, m0 = m.implied(x, g, np.zeros(m.p))
        assert np.array_equal(sigma, s0) and np.array_equal(mu, m0)
        dS2, dm2 = m.derivatives(x, g)
        assert np.array_equal(dS, dS2) and np.array_equal(dm, dm2)
        for a in range(m.nfree):
            up, dn = x.copy(), x.copy()
            up[a] += h
            dn[a] -= h
            (su, mu_u), (sd, mu_d) = m.implied(up, g, np.zeros(m.p)), m.implied(dn, g, np.zeros(m.p))
            np.testing.assert_allclose(dS[a], (su - sd) / (2 * h), rtol=0, atol=1e-8)
            np.testing.assert_allclose(dm[a], (mu_u - mu_d) / (2 * h), rtol=0, atol=1e-8)


@pytest.mark.parametrize("syntax, kw", MODEL_CASES)
def test_information_and_gradient_from_rank_two_terms_equal_the_dense_products(syntax, kw):
    """The scoring matrix tr(S dSigma_a S dSigma_b) + 2 dmu_a' S dmu_b from the rank-2 terms of the
    derivatives (Model.information) and the gradient by contraction (Model.contract) equal the products of the
    dense q x p x p derivative array, for every identification, equality constraint and group of the cases
    above (the engine's gradient_info uses the former)."""
    from compval.sem.model import Model

    pt, st = build_partable(syntax, **kw)
    m = Model(pt, st)
    rng = np.random.default_rng(2)
    x = rng.uniform(0.3, 0.9, m.nfree)
    for g in range(st.ngroups):
        sigma, mu, dS, dm = m.moments(x, g, np.zeros(m.p))
        si = np.linalg.inv(sigma)
        Z = si[None, :, :] @ dS @ si[None, :, :]
        dense = Z.reshape(m.nfree, -1) @ dS.reshape(m.nfree, -1).T
        if m.meanstructure:
            dense += 2.0 * dm @ si @ dm.T
        act, H = m.information(x, g, si)
        full = np.zeros_like(dense)
        full[np.ix_(act, act)] = H
        np.testing.assert_allclose(full, dense, rtol=1e-12, atol=1e-12 * np.abs(dense).max())
        outside = np.setdiff1d(np.arange(m.nfree), act)
        assert not np.abs(dense[outside]).any()
        G = rng.normal(size=(m.p, m.p))
        G = G + G.T
        gm = rng.normal(size=m.p)
        want = dS.reshape(m.nfree, -1) @ G.ravel() + (dm @ gm if m.meanstructure else 0.0)
        got = m.contract(x, g, G, gm if m.meanstructure else None)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_normal_functions_equal_scipy_stats():
    # compval.sem.normal stands in for scipy.stats.norm (slow to import): bit-identical values
    from scipy import stats

    from compval.sem import normal

    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 5, 20000), [0.0, np.inf, -np.inf, np.nan, 40.0, -40.0, 1e-300]])
    q = np.concatenate([rng.random(20000), [0.0, 1.0, 0.975, 0.5, np.nan]])
    np.testing.assert_array_equal(normal.cdf(x), stats.norm.cdf(x))
    np.testing.assert_array_equal(normal.sf(x), stats.norm.sf(x))
    np.testing.assert_array_equal(normal.pdf(x), stats.norm.pdf(x))
    np.testing.assert_array_equal(normal.ppf(q), stats.norm.ppf(q))
    assert normal.ppf(0.975) == stats.norm.ppf(0.975)
    z = pd.Series(x[:10])
    np.testing.assert_array_equal(np.asarray(normal.sf(np.abs(z))), stats.norm.sf(np.abs(z)))


def same_fit(a: dict, b: dict) -> bool:
    """Equal fit measures, NaN equal to NaN (a pickled NaN is another object, so ``a == b`` fails on it)."""
    return list(a) == list(b) and pd.Series(a, dtype=object).equals(pd.Series(b, dtype=object))


def test_models_fitted_in_worker_processes_equal_the_fits_made_one_after_another():
    """cfa.fit_models shares the fits with forked workers: every number is the one a fit alone gives; the fits
    not named in keep_data come back without their data (made in a worker or here), and a fit kept here still
    gives modification indices."""
    jobs = {name: (CASES[name][0](), CASES[name][1](), CASES[name][2]) for name in ("hs3_ml", "hs1_ml", "hs3_orth")}
    jobs["bfi_fiml"] = (bfi(), cfa.hypothesized(BFI3), {"missing": "ml", "estimator": "MLR"})
    jobs["hs_2nd"] = (hs(), cfa.second_order(HS3, general_name="g"), {"estimator": "MLR"})
    one = cfa.fit_models(jobs, workers=1, keep_data=["hs3_ml"])
    two = cfa.fit_models(jobs, workers=2, keep_data=["hs3_ml"])
    assert list(two) == list(jobs)
    for name in jobs:
        pd.testing.assert_frame_equal(two[name].params, one[name].params, check_exact=True)
        assert same_fit(two[name].fit, one[name].fit), name
        assert two[name].status == one[name].status
    assert two["hs3_ml"]._groups is not None
    pd.testing.assert_frame_equal(cfa.modification_indices(two["hs3_ml"]), cfa.modification_indices(one["hs3_ml"]))
    assert [name for name in jobs if two[name]._groups is None] == [n for n in jobs if n != "hs3_ml"]
    assert [name for name in jobs if one[name]._groups is None] == [n for n in jobs if n != "hs3_ml"]
    with pytest.raises(ValueError, match="came back without it .*not named in fit_models' keep_data"):
        cfa.modification_indices(two["hs1_ml"])
    with pytest.raises(ValueError, match="came back without it"):
        cfa.factor_scores(cfa.without_rows(one["hs3_ml"]), hs())
    # comparisons need the fit measures only
    pd.testing.assert_frame_equal(
        cfa.compare_models({"hs1_ml": two["hs1_ml"], "hs3_ml": two["hs3_ml"]}),
        cfa.compare_models({"hs1_ml": one["hs1_ml"], "hs3_ml": one["hs3_ml"]}),
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_a_jobs_data_given_as_a_function_is_built_by_the_process_that_fits_it(workers, tmp_path):
    """fit_models calls a job's data function once, in the process that fits that model, and the fit is the one
    of the frame it returns; the frame is not kept (the fit comes back without its rows)."""
    dims = {f"p{k}": v for k, v in BFI3.items()}
    parcels_model = cfa.from_syntax("f =~ " + " + ".join(dims))
    calls = tmp_path / "calls"  # a file: a worker's calls are seen here too

    def parcels():
        with calls.open("a") as f:
            f.write("call\n")
        return cfa.make_parcels(bfi(), dims)

    jobs = {
        "hypothesized": (bfi(), cfa.hypothesized(BFI3), {"missing": "ml"}),
        "parcels": (parcels, parcels_model, {"missing": "ml"}),
    }
    fits = cfa.fit_models(jobs, workers=workers, keep_data=["hypothesized"])
    alone = cfa.fit_cfa(cfa.make_parcels(bfi(), dims), parcels_model, missing="ml")
    pd.testing.assert_frame_equal(fits["parcels"].params, alone.params, check_exact=True)
    assert same_fit(fits["parcels"].fit, alone.fit)
    assert fits["parcels"]._groups is None and fits["hypothesized"]._groups is not None
    assert calls.read_text() == "call\n"  # once, by whichever process fitted the parcels


def test_sample_statistics_prepared_ahead_are_the_ones_the_fit_uses():
    """cfa.prepare_sample_statistics (what fit_models and the invariance steps run before forking their workers)
    keeps the statistics a FIML fit then uses; nothing for WLSMV, and a missing indicator is left to the fit."""
    data, model = bfi(), cfa.hypothesized(BFI3)
    samplestats.clear_cache()
    cfa.prepare_sample_statistics(data, model, missing="ml", estimator="MLR")
    rows = data[[i for items in BFI3.values() for i in items]].dropna(how="all").to_numpy(dtype=float)
    kept = samplestats.group_data(rows)  # the prepared object (the cache holds one data set)
    assert samplestats.clear_cache() == 1
    cfa.prepare_sample_statistics(data, model, missing="ml", estimator="MLR")
    kept = samplestats.group_data(rows)
    assert cfa.fit_cfa(data, model, missing="ml", estimator="MLR")._groups[0] is kept
    assert samplestats.clear_cache() == 1
    cfa.prepare_sample_statistics(data, model, estimator="WLSMV")
    first = next(iter(BFI3.values()))[0]
    cfa.prepare_sample_statistics(data.drop(columns=first), model, missing="ml")
    assert samplestats.clear_cache() == 0
    with pytest.raises(KeyError, match="not in data"):
        cfa.fit_cfa(data.drop(columns=first), model, missing="ml")


def test_a_fit_to_kept_statistics_does_not_make_the_rows_again(monkeypatch):
    """A FIML fit whose columns, grouping and missing-data rule give statistics that are still kept finds them
    by a digest of those columns (sem.data.source_key) without making its copy of the rows (400 MB at 10^6):
    the same objects, so the same numbers; other values, another grouping or another rule make the rows."""
    from compval.sem import data as semdata

    data, model = bfi(), cfa.hypothesized(BFI3)
    samplestats.clear_cache()
    first = cfa.fit_cfa(data, model, missing="ml")
    made = []
    real = semdata.prepare_groups
    monkeypatch.setattr(semdata, "prepare_groups", lambda *a, **k: made.append(1) or real(*a, **k))
    again = cfa.fit_cfa(data.copy(), model, missing="ml", estimator="MLR")  # another frame, the same values
    assert made == [] and again._groups[0] is first._groups[0]
    pd.testing.assert_frame_equal(again.params, cfa.fit_cfa(data, model, missing="ml", estimator="MLR").params)
    grouped = cfa.fit_cfa(data, model, missing="ml", group="gender")
    assert made == [1]
    regrouped = cfa.fit_cfa(data, model, missing="ml", group="gender")
    assert made == [1] and [g is h for g, h in zip(regrouped._groups, grouped._groups)] == [True, True]
    assert regrouped.fit == grouped.fit
    other = data.copy()
    other.loc[other.index[0], "A2"] = 1 + (other.loc[other.index[0], "A2"] % 6)  # one answer changed
    cfa.fit_cfa(other, model, missing="ml")
    swapped = data.copy()
    swapped["gender"] = 3 - swapped["gender"]  # the same rows, the groups' labels swapped
    cfa.fit_cfa(swapped, model, missing="ml", group="gender")
    cfa.fit_cfa(data, model, missing="listwise")
    assert made == [1, 1, 1, 1]
    assert semdata.source_key(data.assign(A1=data["A1"].astype(str)), ["A1", "A2"], None, "ml") is None
    samplestats.clear_cache()


def test_a_fit_to_new_data_lets_the_kept_statistics_go_before_making_its_rows(monkeypatch):
    """Above the cache's bound, a fit to other data than the last (the next criterion of the latent regressions)
    lets go of the kept statistics before it makes its own rows, not after: one data set's rows in memory at a
    time. A fit to the kept data still finds them."""
    from compval.sem import data as semdata

    data, model = bfi(), cfa.hypothesized(BFI3)
    monkeypatch.setattr(samplestats, "CACHE_BYTES", 1)
    samplestats.clear_cache()
    cfa.fit_cfa(data, model, missing="ml")
    kept_when_made = []
    real = semdata.prepare_groups
    monkeypatch.setattr(
        semdata, "prepare_groups", lambda *a, **k: kept_when_made.append(samplestats.kept_data_sets()) or real(*a, **k)
    )
    cfa.fit_cfa(data, model, missing="ml")  # the same data: found, no rows made
    other = data.assign(A1=data["A1"].fillna(3.0))
    cfa.fit_cfa(other, model, missing="ml")
    assert kept_when_made == [0]
    samplestats.clear_cache()


def test_fit_models_computes_each_data_sets_statistics_once_beyond_the_cache_bound(monkeypatch):
    """fit_models keeps the sample statistics of every data set its fits use until all are done: a rival on the
    items after the model on their parcels does not compute the items' statistics again, however small the
    cache's bound (a million rows exceed it); the fits are those of separate calls."""
    data = bfi()
    parcels = cfa.make_parcels(data, {f"p{k}": v for k, v in BFI3.items()})
    jobs = {
        "hypothesized": (data, cfa.hypothesized(BFI3), {"missing": "ml"}),
        "parcels": (parcels, cfa.from_syntax("f =~ " + " + ".join(f"p{k}" for k in BFI3)), {"missing": "ml"}),
        "one_factor": (data, cfa.from_syntax("g =~ " + " + ".join(i for v in BFI3.values() for i in v)),
                       {"missing": "ml"}),
    }  # fmt: skip
    monkeypatch.setattr(samplestats, "CACHE_BYTES", 1)
    from compval.sem import data as semdata

    computed = []  # a data set whose statistics are not kept is summarised by group_data_sets
    real = semdata.group_data_sets
    monkeypatch.setattr(semdata, "group_data_sets", lambda *a, **k: computed.append(1) or real(*a, **k))
    samplestats.clear_cache()
    fits = cfa.fit_models(jobs)
    assert len(computed) == 2  # the items' statistics once, the parcels' once
    samplestats.clear_cache()
    # the separate calls with BLAS on one thread, as fit_models (compval.parallel.forked_map) and every pipeline
    # step (compval.pipeline.step) run it: a two-threaded BLAS can change a product's last bit, which the RMSEA
    # interval's exact inversion of the non-central chi-square (fitindices.rmsea_ci) carries through
    with threadpool_limits(limits=1, user_api="blas"):
        for name, (d, model, options) in jobs.items():
            assert fits[name].fit == cfa.fit_cfa(d, model, **options).fit
    samplestats.clear_cache()


def test_invariance_steps_fitted_in_worker_processes_give_the_same_table():
    """measurement_invariance(workers=2) fits the steps in two processes: the same table, statuses included."""
    tiny = hs().copy()
    tiny.loc[tiny.index[:5], "school"] = "tiny"  # every step not estimable: the statuses travel back too
    for data, kw in ((hs(), {"estimator": "MLR"}), (tiny, {})):
        one = cfa.measurement_invariance(data, cfa.hypothesized(HS3), "school", **kw)
        two = cfa.measurement_invariance(data, cfa.hypothesized(HS3), "school", workers=2, **kw)
        pd.testing.assert_frame_equal(two[0], one[0], check_exact=True)
        assert two[2] == one[2]
        for s, f in two[1].items():
            assert same_fit(f.fit, one[1][s].fit) and f.status == one[1][s].status


def test_sample_statistics_are_freed_without_waiting_for_the_garbage_collector():
    """A fit's sample statistics (at a million rows, a copy of the rows) go with their last user: no reference
    cycle keeps them (the independence model kept with them once held them strongly)."""
    import gc
    import weakref

    data = bfi()
    samplestats.clear_cache()
    gc.collect()
    gc.disable()
    try:
        refs = []
        for est in ("ML", "MLR"):
            fit = cfa.fit_cfa(data, cfa.hypothesized(BFI3), missing="ml", estimator=est)
            refs.append(weakref.ref(fit._groups[0]))
        del fit
        assert refs[0]() is refs[1]() is not None  # shared by the two fits through the cache
        samplestats.clear_cache()
        assert refs[0]() is None, "the sample statistics outlived their last user"
    finally:
        gc.enable()


def test_a_slowly_converging_second_order_fit_is_not_taken_for_a_diverging_one():
    """fit_ml's ridge rule (the largest estimate grows by over 5% in RIDGE_WINDOW steps while F falls by less than
    1e-6) stops estimates heading for infinity, not a legitimate fit that converges slowly. A second-order factor
    over three first-order factors is just-identified at the second order and equivalent to the correlated-factors
    model, and the scoring steps crawl along that flat direction: about 450 steps here (the rule checked at steps
    300 and 400), to the correlated-factors model's chi-square (equivalent models: equal fit). With a 25-step
    window the rule would stop this fit."""
    import compval.sem.engine as engine
    from own_instrument import export

    survey, _ = export(n=300, prefixes=["S", "T", "U"], items_per_factor=3, scale=(0, 10), continuous=True, reverse=())
    items = survey.iloc[:, 1:]
    first = "S =~ S1 + S2 + S3\nT =~ T1 + T2 + T3\nU =~ U1 + U2 + U3"
    steps = []
    fit_ml = engine.fit_ml

    def counted(*args, **kwargs):
        res = fit_ml(*args, **kwargs)
        steps.append(res.iterations)
        return res

    for missing in ("listwise", "ml"):
        correlated = cfa.fit_cfa(items, first, missing=missing)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("compval.sem.mlfit.fit_ml", counted)
            second = cfa.fit_cfa(items, first + "\nG =~ S + T + U", missing=missing)
        assert second.converged, second.status
        assert steps[-1] > 3 * engine.RIDGE_WINDOW  # the rule was checked, and let it go on
        assert abs(second.fit["chisq"] - correlated.fit["chisq"]) < 1e-6
        assert second.fit["df"] == correlated.fit["df"]


def test_a_fiml_fit_starts_from_two_stage_ml_and_reaches_the_optimum_fisher_scoring_reaches(monkeypatch):
    """With missing data, fit_ml starts from two-stage ML with that fit's Hessian as the step metric
    (engine.fit_fiml_two_stage). On bfi's 15 items under FIML with one factor (a model that fits badly, where Fisher
    scoring from the usual start values crawls: 22 steps, each a pass over the rows with missing values) it takes a
    few steps to a smaller gradient, and to the estimates and chi-square of Fisher scoring from the usual start (the
    path fit_ml takes when the two-stage start is turned off, as where it cannot be had)."""
    import compval.sem.engine as engine

    steps = []
    fit_ml = engine.fit_ml

    def counted(*args, **kwargs):
        res = fit_ml(*args, **kwargs)
        steps.append(res)
        return res

    monkeypatch.setattr("compval.sem.mlfit.fit_ml", counted)
    spec = cfa.one_factor(BFI3, factor_name="g")
    two_stage = cfa.fit_cfa(bfi(), spec, missing="ml", se="none")
    first = steps[-1]
    monkeypatch.setattr(engine, "fit_fiml_two_stage", lambda *args, **kwargs: None)
    scoring = cfa.fit_cfa(bfi(), spec, missing="ml", se="none")
    usual = steps[-1]
    assert two_stage.converged and scoring.converged
    assert first.iterations <= 10 < usual.iterations
    assert first.message == "gradient below tolerance"
    assert np.abs(two_stage.params["est"] - scoring.params["est"]).max() < 1e-6
    assert abs(two_stage.fit["chisq"] - scoring.fit["chisq"]) < 1e-8 * scoring.fit["chisq"]
    assert two_stage.fit["chisq"] <= scoring.fit["chisq"] * (1 + 1e-12)


def test_the_two_stage_start_gives_way_where_the_two_stage_fit_does_not_converge():
    """fit_fiml_two_stage reaches the FIML optimum (gradient below 1e-9) from two-stage ML, the model fitted to the EM
    moments as complete data; where two-stage ML does not converge it returns None, so that fit_ml takes Fisher
    scoring from the usual start values."""
    import compval.sem.engine as engine
    from compval.sem.data import ml_groups
    from compval.sem.partable import build_partable, observed_names
    from compval.sem.samplestats import moment_group

    spec = cfa.one_factor(BFI3, factor_name="g")
    _, groups = ml_groups(bfi(), observed_names(spec.syntax), None, "ml", [], [], rows=False)
    pt, st = build_partable(spec.syntax, ngroups=1, meanstructure=True)
    model = engine.Model(pt, st)
    stage = [moment_group(gd) for gd in groups]
    assert stage[0].complete and np.array_equal(stage[0].cov, groups[0].cov)
    res = engine.fit_fiml_two_stage(model, groups)
    assert res is not None and res.converged
    grad = engine.gradient_info(model, res.x, groups, info=False)[0]
    assert np.abs(grad).max() < 1e-9
    stalled = engine.OptResult(res.x, res.f, False, 1000, "maximum number of iterations reached")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "fit_ml", lambda *args, **kwargs: stalled)
        assert engine.fit_fiml_two_stage(model, groups) is None
