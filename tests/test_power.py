"""compval.power: population values, simulation, simsem definitions against R, power and coverage on a small grid,
and the `power` target giving identical tables on 1 and 2 cores."""

from __future__ import annotations

import math
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from compval import power
from compval.codebook import Codebook
from compval.simulate import implied_item_covariance

from conftest import REF

HERE = REF / "power"
sys.path.insert(0, str(HERE))
from make_estimates import DESIGN, RUN, design_codebook  # noqa: E402


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return design_codebook()


def settings(**over) -> dict:
    d = {**DESIGN, **over}
    d["population"] = {**DESIGN["population"], **over.get("population", {})}
    return d


def test_population_values_continuous_ml_equal_generating_values(cb):
    """ML on continuous answers converges to the generating values: lambda and phi (unit variance); under the
    marker metric lambda_i / lambda_marker and lambda_m lambda_m' phi."""
    pop = power.population_from_config(cb, settings())
    spec = power.power_models(cb, [])["hypothesized"]
    std = power.population_values(pop, spec, estimator="ML", std_lv=True).set_index("parameter")["true"]
    assert np.allclose(std.filter(like="=~"), 0.6, atol=1e-6)
    assert std["f1~~f2"] == pytest.approx(0.7, abs=1e-6)
    marker = power.population_values(pop, spec, estimator="ML", std_lv=False).set_index("parameter")["true"]
    assert np.allclose(marker.filter(like="=~"), 1.0, atol=1e-6)
    assert marker["f1~~f2"] == pytest.approx(0.7 * 0.36, abs=1e-6)
    wl = power.population_values(pop, spec, estimator="WLSMV", std_lv=False).set_index("parameter")["true"]
    assert np.allclose(wl.sort_index(), marker.sort_index(), atol=1e-6)


def test_ordinal_population_covariance_matches_a_large_sample(cb):
    """The exact covariance of the category codes (Olsson's polychoric model run forwards) agrees with the
    covariance of one large simulated sample within Monte Carlo error."""
    pop = power.population_from_config(
        cb, settings(response="ordinal", population={"thresholds": [-1.5, -0.5, 0.4, 1.3]})
    )
    sigma = implied_item_covariance(pop.loadings, pop.thresholds, pop.item_factor, pop.phi)
    x = cb.reverse_score(power.draw_responses(pop, 100_000, np.random.default_rng(5))).to_numpy()
    s = np.cov(x, rowvar=False)
    # SE of a covariance ~ sqrt((s_ii s_jj + s_ij^2) / n)
    se = np.sqrt((np.outer(np.diag(s), np.diag(s)) + s**2) / len(x))
    assert np.all(np.abs(s - sigma) < 4 * se)
    # ML on the codes targets attenuated standardized loadings: below the latent-response .6
    spec = power.power_models(cb, [])["hypothesized"]
    ml = power.population_values(pop, spec, estimator="ML", std_lv=True).set_index("parameter")["true"]
    std_loadings = ml.filter(like="=~").to_numpy() / np.sqrt(np.diag(sigma))
    assert np.all((std_loadings > 0.45) & (std_loadings < 0.6))
    assert ml["f1~~f2"] == pytest.approx(0.7, abs=0.01)


def test_population_from_the_fitted_model(cb):
    """population: fitted takes the hypothesised model's standardized loadings and factor correlations and
    thresholds from the observed category proportions (qnorm of the cumulative shares)."""
    from compval import cfa

    st = settings(response="ordinal")
    pop = power.population_from_config(cb, st)
    x = cb.reverse_score(power.draw_responses(pop, 4000, np.random.default_rng(3)))
    fit = cfa.fit_cfa(x, power.power_models(cb, [])["hypothesized"], std_lv=True)
    got = power.population_from_fit(cb, fit.params.assign(model="hypothesized"), x, st)
    assert np.allclose(got.thresholds, pop.thresholds, atol=0.1)
    assert np.all((got.loadings > 0.45) & (got.loadings < 0.62))  # Pearson-metric loadings: attenuated
    assert got.phi[0, 1] == pytest.approx(0.7, abs=0.06)
    for it in cb.item_ids:
        cum = x[it].value_counts(normalize=True).sort_index().cumsum().to_numpy()[:-1]
        assert np.allclose(got.thresholds[cb.item_ids.index(it)], stats.norm.ppf(cum), atol=1e-12)


def test_missing_answers_at_the_stated_rate(cb):
    for mech in ("mcar", "mar"):
        pop = power.population_from_config(
            cb, settings(missing={"mechanism": mech, "rate": 0.1, "covariate_correlation": 0.5, "slope": 1.5})
        )
        x = power.draw_responses(pop, 20_000, np.random.default_rng(1))
        share = x.isna().to_numpy().mean()
        assert share == pytest.approx(0.1, abs=4 * math.sqrt(0.1 * 0.9 / 20_000 / 4))
    # MAR on a covariate that correlates with the traits: skippers differ in their observed answers
    miss = x.isna().sum(axis=1) > 0
    assert x.loc[miss, "Q2_b2"].mean() - x.loc[~miss, "Q2_b2"].mean() > 0.1


@pytest.mark.slow
def test_results_do_not_depend_on_chunking(cb):
    """Replication r at size n is seeded from (seed, n, r): the same numbers in one chunk or in two."""
    pop = power.population_from_config(cb, settings())
    models = power.power_models(cb, ["one_factor"])
    whole = power.run_chunk(pop, cb, models, RUN, n=50, replications=range(4), seed=7)
    parts = [
        power.run_chunk(pop, cb, models, RUN, n=50, replications=power.chunk_replications(4, 3, c), seed=7)
        for c in (0, 1)
    ]
    for k in (0, 1):
        pd.testing.assert_frame_equal(whole[k], pd.concat([p[k] for p in parts], ignore_index=True))


def test_simsem_definitions_match_r():
    """summarise() on stored replications equals simsem's summaryParam definitions computed in R."""
    est = pd.read_csv(HERE / "estimates.csv")
    outcomes = pd.read_csv(HERE / "outcomes.csv")
    truth = pd.read_csv(HERE / "truth.csv")
    ref = pd.read_csv(HERE / "summary_reference.csv")
    got = power.summarise(outcomes, est, truth, cutoffs=RUN["cutoffs"])["parameters"]
    m = got.merge(ref, on=["n", "parameter"], suffixes=("", "_r"))
    assert len(m) == len(ref) == 18
    for col in (
        "true",
        "mean_est",
        "bias",
        "relative_bias",
        "standardized_bias",
        "sd_est",
        "mean_se",
        "relative_se_bias",
        "coverage",
        "valid",
    ):
        assert np.allclose(m[col], m[f"{col}_r"], rtol=1e-8, atol=1e-10), col
    assert np.allclose(m["se_ratio"], m["mean_se_r"] / m["sd_est_r"], rtol=1e-8)


def test_stored_lavaan_loop_is_one_run_of_simsem_style():
    """lavaan_loop.csv, lavaan_params.csv and lavaan_timing.json come from one run of simsem_style.R: the timing
    record counts the replications of every N of the loop, and the parameter table covers the same Ns."""
    import json

    lav = pd.read_csv(HERE / "lavaan_loop.csv")
    timing = json.loads((HERE / "lavaan_timing.json").read_text())
    assert timing["replications"] == lav["replications"].sum() and timing["seconds"] > 0
    assert set(pd.read_csv(HERE / "lavaan_params.csv")["n"]) == set(lav["n"])


@pytest.mark.slow
def test_power_rises_with_n_coverage_and_recovery_as_lavaan(cb):
    """A small grid: power to reject the one-factor rival rises with N; coverage of the correctly specified model
    is within Monte Carlo error of .95; mean estimates recover the population values; power and coverage agree
    with a simsem-style lavaan loop on the same design (lavaan_loop.csv) within the two Monte Carlo errors, and so
    do each parameter's mean estimate, spread and coverage (lavaan_params.csv)."""
    pop = power.population_from_config(cb, settings())
    models = power.power_models(cb, ["one_factor"])
    truth = power.population_values(pop, models["hypothesized"], estimator="ML", std_lv=True)
    R = 100
    runs = [power.run_chunk(pop, cb, models, RUN, n=n, replications=range(R), seed=11) for n in (60, 120)]
    tabs = power.summarise(
        pd.concat([r[0] for r in runs]), pd.concat([r[1] for r in runs]), truth, cutoffs=RUN["cutoffs"]
    )
    pw = tabs["power"].set_index("n")
    assert pw.loc[120, "power"] - pw.loc[60, "power"] > 2 * math.hypot(pw.loc[120, "mc_se"], pw.loc[60, "mc_se"])
    par = tabs["parameters"]
    big = par[par["n"] == 120]
    mc = math.sqrt(0.95 * 0.05 / R)
    assert abs(big["coverage"].mean() - 0.95) < 3 * mc
    assert (np.abs(big["bias"]) < 3 * big["sd_est"] / math.sqrt(R)).all()
    lav = pd.read_csv(HERE / "lavaan_loop.csv").set_index("n")
    for n in (60, 120):
        assert abs(pw.loc[n, "power"] - lav.loc[n, "power"]) < 3 * math.hypot(pw.loc[n, "mc_se"], lav.loc[n, "mc_se"])
        cov_py = par.loc[par["n"] == n, "coverage"].mean()
        assert abs(cov_py - lav.loc[n, "mean_coverage"]) < 3 * math.hypot(
            mc, math.sqrt(0.95 * 0.05 / lav.loc[n, "replications"])
        )
    lav_par = pd.read_csv(HERE / "lavaan_params.csv").set_index(["n", "parameter"])
    ours = par.set_index(["n", "parameter"]).loc[lav_par.index]
    R_lav = lav.loc[lav_par.index.get_level_values("n"), "replications"].to_numpy()
    # Monte Carlo errors of two independent simulations: the mean estimate (sd / sqrt(R)), the spread (sd of an
    # sd ~ sd / sqrt(2 (R - 1))) and the coverage (binomial)
    se_mean = np.hypot(ours["sd_est"] / math.sqrt(R), lav_par["sd_est"] / np.sqrt(R_lav))
    se_sd = np.hypot(ours["sd_est"] / math.sqrt(2 * (R - 1)), lav_par["sd_est"] / np.sqrt(2 * (R_lav - 1)))
    se_cov = np.hypot(mc, np.sqrt(0.95 * 0.05 / R_lav))
    assert (np.abs(ours["mean_est"] - lav_par["mean_est"]) < 3 * se_mean).all()
    assert (np.abs(ours["sd_est"] - lav_par["sd_est"]) < 3 * se_sd).all()
    assert (np.abs(ours["coverage"] - lav_par["coverage"]) < 3 * se_cov).all()
    assert (tabs["convergence"]["not_converged"] == 0).all()


@pytest.mark.slow
@pytest.mark.e2e
def test_power_target_identical_on_one_and_two_cores(tmp_path):
    """`snakemake power` writes the tables, the figure and the report section, byte-identical on 1 and 2 cores."""
    from pipeline_fixtures import run_snakemake, write_project

    dirs = []
    for cores in ("1", "2"):
        d = tmp_path / f"cores{cores}"
        cfg = write_project(d)
        c = yaml.safe_load(cfg.read_text())
        c["missing"] = "listwise"
        c["power"] = {
            "n": [40, 80],
            "replications": 5,
            "chunk_size": 2,
            "rivals": ["one_factor"],
            "population": {"loadings": 0.6, "factor_correlations": {"within_module": 0.7, "between_module": 0.5}},
        }
        cfg.write_text(yaml.safe_dump(c, sort_keys=False))
        r = run_snakemake(d, "power", "--cores", cores)
        assert r.returncode == 0, r.stderr[-3000:]
        dirs.append(d / "results" / "power")
    for name in ("power", "cutoffs", "parameters", "convergence", "smallest_n", "replications", "population_values"):
        a, b = (p / f"{name}.csv" for p in dirs)
        assert a.read_bytes() == b.read_bytes(), name
    html = (dirs[0] / "report_section.html").read_text()
    assert '<section id="power">' in html and "smallest N" in html
    assert (dirs[0] / "power.png").stat().st_size > 10_000
    assert len(list((dirs[0] / "chunks").glob("*_outcomes.csv"))) == 2 * 3
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_ordinal_replication_with_defects_under_wlsmv(cb):
    """One WLSMV replication of ordinal answers with MAR missing answers and careless responders: screened as the
    pipeline does, the rival tested by the DIFFTEST, estimates named as the population values."""
    st = settings(
        response="ordinal",
        missing={"mechanism": "mar", "rate": 0.05, "covariate_correlation": 0.3, "slope": 1.0},
        careless_share=0.05,
    )
    pop = power.population_from_config(cb, st)
    models = power.power_models(cb, ["one_factor"])
    run = {
        **RUN,
        "estimator": "WLSMV",
        "missing": "pairwise",
        "cleaning": {"missing": "pairwise", "careless": "exclude"},
    }
    out, est = power.run_replication(pop, cb, models, run, n=200, replication=0, seed=3)
    hyp, riv = out
    assert hyp["converged"] and hyp["n_analysed"] < 200  # careless responders screened out
    assert np.isfinite(riv["pvalue"]) and riv["df_diff"] == 1
    truth = power.population_values(pop, models["hypothesized"], estimator="WLSMV", std_lv=True)
    assert {e["parameter"] for e in est} == set(truth["parameter"])
    assert truth.set_index("parameter")["true"]["f1~~f2"] == pytest.approx(0.7)
