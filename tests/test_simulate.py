"""Tests of the shipped codebook and of the demo-data simulator (compval.simulate).

The simulator's truth is checked against the population model it states: the analytic implied correlations
(ordinal factor model, Olsson 1979) are checked against a large defect-free sample, and the committed-size
demo sample (n = 600) must recover them within their sampling interval after the cleaning a user would do.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import multivariate_normal, norm, skew

from compval.codebook import Codebook, load_codebook
from compval.sem.bivariate import bivariate_normal_cdf
from compval.simulate import (
    implied_item_covariance,
    latent_correlation,
    main,
    population_arrays,
    simulate,
    tkl_minor_loadings,
    write_outputs,
)

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "config" / "codebook.yaml"
PARAMS = ROOT / "config" / "simulation.yaml"
RAW = ROOT / "data" / "raw"


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return load_codebook(CODEBOOK)


@pytest.fixture(scope="module")
def params() -> dict:
    return yaml.safe_load(PARAMS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo(cb, params):
    return simulate(cb, params)


@pytest.fixture(scope="module")
def large(cb, params):
    """A large defect-free sample from the same population model (same seed, so same loadings)."""
    p = copy.deepcopy(params)
    p.update(n_respondents=20000, n_no_survey=0, n_no_sales=0, id_digits=6)
    p["defects"] = {"missing_rate": 0, "careless_rate": 0, "out_of_range_rate": 0, "n_duplicates": 0}
    return simulate(cb, p)


def _clean_scores(cb: Codebook, res) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a user would do: drop careless responders and second submissions, recode out-of-range codes
    to missing, reverse-score, average each competency's items. Returns (scores, truth) aligned by id."""
    idc = cb.id_column
    truth = res.truth.set_index(idc)
    s = res.survey.drop_duplicates(idc, keep="first")  # rows are in submission order
    s = s[truth.loc[s[idc], "careless"].to_numpy() == 0]
    x = s[cb.item_ids].astype(float)
    x = x.where((x >= cb.scale_min) & (x <= cb.scale_max))
    x = cb.reverse_score(x)
    scores = pd.DataFrame({c: x[its].mean(axis=1) for c, its in cb.groups("competency").items()})
    scores.index = s[idc].to_numpy()
    return scores, truth.loc[scores.index]


# ------------------------------------------------------------------------------------------------ codebook
def test_shipped_codebook_structure(cb):
    assert cb.modules == ["managing_self", "managing_others", "managing_tasks"]
    assert cb.competencies == ["achievement", "learning", "team", "communication", "customer", "planning"]
    assert set(cb.competency_module().values()) == set(cb.modules)
    assert (
        list(cb.competency_module().values())
        == ["managing_self"] * 2 + ["managing_others"] * 2 + ["managing_tasks"] * 2
    )
    dims = cb.groups("dimension")
    assert len(dims) == 23
    assert all(len(v) >= 2 for v in dims.values()), {k: len(v) for k, v in dims.items() if len(v) < 2}
    per_comp = pd.Series(cb.dimension_competency()).value_counts().to_dict()
    assert per_comp == {"achievement": 4, "learning": 4, "team": 4, "communication": 4, "customer": 3, "planning": 4}
    rev = set(cb.reverse_items)
    for comp, items in cb.groups("competency").items():
        assert rev & set(items), f"{comp} has no reverse-keyed item"
    assert (cb.scale_min, cb.scale_max) == (1, 5) and len(cb.scale_labels) == 5
    assert cb.id_column == "respondent_id"
    assert cb.pii_columns() == ["name", "email", "phone"]
    assert cb.columns_with_role("group") == ["region", "role_level"]
    assert cb.columns_with_role("covariate") == ["tenure_years"]
    assert cb.columns_with_role("duration") == ["completion_time_sec"]
    assert cb.columns_with_role("ignore") == ["submitted_at"]
    assert "27" in cb.data["notes"] and "23" in cb.data["notes"]
    # every planning item is drawn from the seed's behaviour descriptions and cites it
    items = {
        it["id"]: it
        for m in cb.data["modules"]
        for c in m["competencies"]
        for d in c["dimensions"]
        for it in d["items"]
    }
    planning = cb.groups("competency")["planning"]
    assert all("source" in items[i] for i in planning)
    assert all(items[i]["source"].startswith("Insufficient") for i in planning if items[i]["reverse"])


# ------------------------------------------------------------------------------------------------ helpers
def test_bivariate_normal_cdf():
    # closed form at the origin: 1/4 + arcsin(rho) / (2 pi) (Sheppard 1898)
    for rho in (-0.8, -0.3, 0.2, 0.5, 0.9):
        assert bivariate_normal_cdf(0.0, 0.0, rho) == pytest.approx(0.25 + math.asin(rho) / (2 * math.pi), abs=1e-12)
    h = np.array([-1.5, -0.3, 0.4, 1.2, np.inf, -np.inf])
    k = np.array([0.7, -1.1, 0.9, 2.0, 0.5, 0.3])
    got = bivariate_normal_cdf(h, k, 0.45)
    ref = [
        multivariate_normal(cov=[[1, 0.45], [0.45, 1]]).cdf([a, b]) if np.isfinite(a) else np.nan for a, b in zip(h, k)
    ]
    np.testing.assert_allclose(got[:4], ref[:4], atol=1e-5)  # scipy's Genz integration tolerance
    assert got[4] == pytest.approx(norm.cdf(0.5), abs=1e-14) and got[5] == 0.0


# R 4.2.2, pbivnorm 0.6.0:  options(digits = 17); h <- c(-1.5, -0.3, 0.4, 1.2, -2.5, 0.0)
#   k <- c(0.7, -1.1, 0.9, 2.0, -2.2, 1.3); for (r in c(0.45, -0.7, 0.9)) print(pbivnorm::pbivnorm(h, k, r))
_PBIVNORM = {
    0.45: [
        0.064022905390654139,
        0.091920926995565727,
        0.58306518450119627,
        0.87222606342195175,
        0.00094128428956206597,
        0.48149331765660414,
    ],
    -0.7: [
        0.013014481479651334,
        0.0042050940492483271,
        0.47746709911461893,
        0.8621813996139075,
        3.3538400572366567e-11,
        0.40818332693388287,
    ],
    0.9: [
        0.066807187468488863,
        0.13359591860017878,
        0.64576698670446353,
        0.88422454398521044,
        0.0046236992703712482,
        0.49992263790191743,
    ],
}


@pytest.mark.parametrize("rho", sorted(_PBIVNORM))
def test_bivariate_normal_cdf_matches_r_pbivnorm(rho):
    h = np.array([-1.5, -0.3, 0.4, 1.2, -2.5, 0.0])
    k = np.array([0.7, -1.1, 0.9, 2.0, -2.2, 1.3])
    np.testing.assert_allclose(bivariate_normal_cdf(h, k, rho), _PBIVNORM[rho], rtol=0, atol=1e-12)


def test_latent_correlation_follows_modules():
    phi = latent_correlation({"a": "m1", "b": "m1", "c": "m2"}, 0.6, 0.3)
    np.testing.assert_array_equal(phi, [[1, 0.6, 0.3], [0.6, 1, 0.3], [0.3, 0.3, 1]])
    with pytest.raises(ValueError, match="positive-definite"):
        latent_correlation({"a": "m1", "b": "m2", "c": "m3"}, 0.5, -0.6)


# ------------------------------------------------------------------------------------------------ determinism
def test_deterministic_bytes(cb, params, tmp_path):
    a = write_outputs(simulate(cb, params), tmp_path / "a")
    b = write_outputs(simulate(cb, params), tmp_path / "b")
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    other = copy.deepcopy(params)
    other["seed"] = params["seed"] + 1
    c = write_outputs(simulate(cb, other), tmp_path / "c")
    assert c[0].read_bytes() != a[0].read_bytes()


def test_cli_reproduces_committed_demo_data(tmp_path):
    """data/raw/ is exactly what the CLI writes from the shipped config."""
    out = tmp_path / "raw"
    assert main(["--codebook", str(CODEBOOK), "--params", str(PARAMS), "--out", str(out)]) == 0
    for name in ("survey.csv", "sales.csv", "truth.csv", "population_model.json"):
        assert (out / name).read_bytes() == (RAW / name).read_bytes(), f"data/raw/{name} is stale"


# ------------------------------------------------------------------------------------------------ shapes, defects
def test_survey_shape_and_defects(cb, params, demo):
    s, truth = demo.survey, demo.truth.set_index("respondent_id")
    n, d = params["n_respondents"], params["defects"]
    declared = [c["name"] for c in cb.columns]
    assert list(s.columns) == [cb.id_column] + declared + cb.item_ids
    assert len(s) == n + d["n_duplicates"] and s[cb.id_column].nunique() == n
    assert s[cb.id_column].str.fullmatch(r"AM\d{5}").all()
    assert s["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d*@[a-z.]+").all()
    assert s["phone"].str.fullmatch(r"1\d{10}").all()
    assert s["submitted_at"].is_monotonic_increasing

    x = s[cb.item_ids].to_numpy(dtype=float, na_value=np.nan)
    valid = (x >= cb.scale_min) & (x <= cb.scale_max)
    assert np.all(np.isnan(x) | (x == np.round(x)))
    # missing answers ~3%, more on reverse-keyed items and among respondents low on the trait (MNAR)
    miss = np.isnan(x)
    assert 0.02 < miss.mean() < 0.04
    rev = cb.items["reverse"].to_numpy()
    assert miss[:, rev].mean() > 1.4 * miss[:, ~rev].mean()
    eta_mean = truth.loc[s[cb.id_column], cb.competencies].mean(axis=1).to_numpy()
    low = eta_mean < np.median(eta_mean)
    assert miss[low].mean() > 1.3 * miss[~low].mean()
    # a few out-of-range codes, only the declared ones
    oor = x[~np.isnan(x) & ~valid]
    assert 10 <= oor.size <= 60 and set(np.unique(oor)) <= {0.0, 6.0, 9.0}

    # careless responders: ~4%, half straight-lining, half random, much faster
    resp = truth[truth["in_survey"] == 1]
    assert resp["careless"].sum() == round(d["careless_rate"] * n)
    assert (resp["careless_type"] == "straightline").sum() == (resp["careless_type"] == "random").sum()
    ct = truth.loc[s[cb.id_column], "careless_type"].to_numpy()
    t = s["completion_time_sec"].to_numpy()
    assert np.median(t[ct != "none"]) < 0.5 * np.median(t[ct == "none"])
    within_sd = np.nanstd(np.where(valid, x, np.nan), axis=1)
    assert np.median(within_sd[ct == "straightline"]) < 0.5 * np.median(within_sd[ct == "none"])
    # uniformly random answers do not follow the high-end skew of attentive self-ratings
    pos = ~rev
    assert np.nanmean(np.where(valid, x, np.nan)[ct == "none"][:, pos]) > 3.6
    assert abs(np.nanmean(np.where(valid, x, np.nan)[ct == "random"]) - 3.0) < 0.25

    # duplicate submissions: same id twice, later timestamp, some answers changed
    dup_ids = truth.index[truth["is_duplicate_submission"] == 1]
    assert len(dup_ids) == d["n_duplicates"]
    assert sorted(s.loc[s[cb.id_column].duplicated(), cb.id_column]) == sorted(dup_ids)
    for i in dup_ids:
        rows = s[s[cb.id_column] == i]
        assert rows["submitted_at"].iloc[1] > rows["submitted_at"].iloc[0]
        a, b = rows[cb.item_ids].to_numpy(dtype=float, na_value=-1)
        assert 0 < (a != b).sum() < 0.4 * len(a)


def test_sales_file(cb, params, demo):
    sales, truth = demo.sales, demo.truth.set_index("respondent_id")
    n = params["n_respondents"]
    assert list(sales.columns) == ["employee_id"] + list(params["criteria"])
    assert sales["employee_id"].is_unique
    survey_ids = set(demo.survey[cb.id_column])
    assert len(set(sales["employee_id"]) - survey_ids) == params["n_no_survey"]
    assert len(survey_ids - set(sales["employee_id"])) == params["n_no_sales"]
    assert len(sales) == n - params["n_no_sales"] + params["n_no_survey"]
    assert sales.notna().all().all()
    v = sales["card_sales_volume"].to_numpy(float)
    assert skew(v) > 0.8 and abs(skew(np.log(v))) < 0.3  # log-normal: right-skewed, symmetric on log scale
    assert sales["new_accounts"].dtype.kind == "i" and sales["new_accounts"].min() >= 0
    assert sales["supervisor_rating"].between(1, 5).all() and sales["supervisor_rating"].nunique() == 5
    assert 80 < sales["target_attainment"].mean() < 120
    # the observed criteria follow the true linear predictors
    z = truth.loc[sales["employee_id"]]
    assert np.corrcoef(np.log(v), z["z_card_sales_volume"])[0, 1] > 0.999
    assert np.corrcoef(sales["target_attainment"], z["z_target_attainment"])[0, 1] > 0.999


# ------------------------------------------------------------------------------------------------ truth
def test_population_model_states_the_truth(cb, demo):
    pop = demo.population
    assert pop["seed"] == yaml.safe_load(PARAMS.read_text())["seed"]
    assert [it["item"] for it in pop["items"]] == cb.item_ids
    # primary loadings: drawn in loading_range, reverse-keyed items shifted; a cross-loaded item keeps the
    # communality of its drawn loading l (its primary loading solves lambda^2 + 2 lambda c phi + c^2 = l^2)
    ip = yaml.safe_load(PARAMS.read_text())["items"]
    lo, hi = ip["loading_range"]
    shift = ip["reverse_loading_shift"]
    lam = np.array([it["loading"] for it in pop["items"]])
    rev = np.array([it["reverse"] for it in pop["items"]])
    cross = np.array([bool(it["cross_loadings"]) for it in pop["items"]])
    assert np.all(lam[~cross] >= np.where(rev, lo + shift, lo)[~cross] - 1e-9)
    assert np.all(lam[~cross] <= np.where(rev, hi + shift, hi)[~cross] + 1e-9)
    assert cross.sum() == 3 and np.all(lam[cross] < np.where(rev, hi + shift, hi)[cross])
    phi = pd.DataFrame(pop["latent_correlation"]["matrix"]).loc[cb.competencies, cb.competencies].to_numpy()
    np.testing.assert_array_equal(phi, latent_correlation(cb.competency_module(), 0.55, 0.35))
    for name, crit in pop["criteria"].items():
        beta = np.array([crit["betas"][c] for c in cb.competencies])
        implied = np.array([crit["implied_latent_correlation"][c] for c in cb.competencies])
        np.testing.assert_allclose(implied, phi @ beta, atol=1e-6)
        assert crit["r_squared"] == pytest.approx(beta @ phi @ beta + crit["tenure_effect"] ** 2, abs=1e-6)
    # some competencies matter much more than others, and the strongest differs between criteria
    strongest = {q: max(c["betas"], key=c["betas"].get) for q, c in pop["criteria"].items()}
    assert len(set(strongest.values())) == len(strongest)
    # marginal distributions skewed to the high end (self-ratings)
    marg = np.mean([it["marginal_probabilities"] for it in pop["items"]], axis=0)
    assert marg[-2:].sum() > 0.6 and marg[:2].sum() < 0.12


def test_model_error_is_stated(cb, params, demo):
    """The population states its model error: the reverse-keyed items' method loadings, the named cross-loadings
    and residual pairs, minor factors carrying their share of each unique variance; var(y*) = 1 for every item."""
    pop = demo.population
    me = params["model_error"]
    arr = population_arrays(pop)
    rev = cb.items["reverse"].to_numpy(bool)
    np.testing.assert_array_equal(arr["method"], np.where(rev, me["method_factor"]["loading"], 0.0))
    for it, targets in me["cross_loadings"].items():
        row = next(r for r in pop["items"] if r["item"] == it)
        assert row["cross_loadings"] == targets
        # the communality of the drawn loading is kept: (pattern Phi pattern')_ii = l^2 (l drawn in range)
        i = cb.item_ids.index(it)
        h2 = arr["pattern"][i] @ arr["phi"] @ arr["pattern"][i]
        assert lo_hi_contains(math.sqrt(h2), params["items"]["loading_range"], rev[i], params)
    assert [r["items"] for r in pop["model_error"]["residual_correlations"]] == [
        [a, b] for a, b, _ in me["residual_correlations"]
    ]
    assert pop["model_error"]["minor_factors"] == me["minor_factors"]["n"] == arr["minor"].shape[1]
    u2 = np.array([r["unique_variance"] for r in pop["items"]])
    minor_var = (arr["minor"] ** 2).sum(axis=1)
    np.testing.assert_allclose(minor_var, me["minor_factors"]["unique_variance_share"] * u2, rtol=1e-4)
    # the latent responses are standardized and their correlation matrix is positive definite
    rstar = arr["pattern"] @ arr["phi"] @ arr["pattern"].T + arr["residual"]
    np.testing.assert_allclose(np.diag(rstar), 1.0, atol=1e-5)
    assert np.linalg.eigvalsh(rstar).min() > 0
    # same-stem pairs: their unique parts correlate r
    for pair, (_, _, r) in zip(pop["model_error"]["residual_correlations"], me["residual_correlations"]):
        i, j = (cb.item_ids.index(x) for x in pair["items"])
        assert pair["covariance"] == pytest.approx(r * math.sqrt(u2[i] * u2[j]), abs=1e-5)
    # the method factor is in the truth, orthogonal to the traits (sampling: |r| < 4 / sqrt(n))
    truth = demo.truth
    assert "method_reverse" in truth
    for c in cb.competencies:
        assert abs(np.corrcoef(truth["method_reverse"], truth[c])[0, 1]) < 4 / math.sqrt(len(truth))


def lo_hi_contains(value: float, loading_range, reverse: bool, params: dict) -> bool:
    """Whether ``value`` is a loading the draw can give (rounded to 2 decimals), reverse-keyed shift applied."""
    shift = params["items"]["reverse_loading_shift"] if reverse else 0.0
    lo, hi = loading_range
    return lo + shift - 0.005 <= value <= hi + shift + 0.005


def test_tkl_minor_loadings():
    """Tucker-Koopman-Linn minor factors: each row carries share * unique variance; successive factors are weaker
    by (1 - epsilon) (the column variances of W* before the row scaling fall off geometrically)."""
    u2 = np.linspace(0.2, 0.6, 400)
    w = tkl_minor_loadings(u2, 50, 0.1, 0.2, np.random.default_rng(3))
    assert w.shape == (400, 50)
    np.testing.assert_allclose((w**2).sum(axis=1), 0.1 * u2, rtol=1e-12)
    col = np.sqrt((w**2).mean(axis=0))
    ratio = col[1:6] / col[:5]
    np.testing.assert_allclose(ratio, 0.8, atol=0.1)  # 400 rows: sampling SD of a ratio ~ .05
    assert np.array_equal(w, tkl_minor_loadings(u2, 50, 0.1, 0.2, np.random.default_rng(3)))
    assert not tkl_minor_loadings(u2, 50, 0.0, 0.2, np.random.default_rng(3)).any()
    with pytest.raises(ValueError, match="share"):
        tkl_minor_loadings(u2, 50, 1.2, 0.2, np.random.default_rng(3))


def test_implied_item_covariance_with_model_error_matches_large_sample(cb, large):
    """The answers' population covariance (the full model: cross-loadings, method factor, residual pairs, minor
    factors) equals that of a large defect-free sample: every correlation within 4.5 SE (1225 pairs; the SE of a
    correlation, (1 - r^2) / sqrt(n), holds for these discrete answers to a few percent)."""
    arr = population_arrays(large.population)
    cov = implied_item_covariance(
        arr["pattern"], arr["thresholds"], arr["item_competency"], arr["phi"], arr["residual"]
    )
    x = cb.reverse_score(large.survey[cb.item_ids].astype(float)).to_numpy()
    n = len(x)
    r_obs = np.corrcoef(x, rowvar=False)
    sd = np.sqrt(np.diag(cov))
    r_imp = cov / np.outer(sd, sd)
    iu = np.triu_indices(len(sd), 1)
    z = (r_obs[iu] - r_imp[iu]) / ((1 - r_imp[iu] ** 2) / math.sqrt(n))
    assert np.abs(z).max() < 4.5, np.abs(z).max()
    # without the model error the same sample is visibly off: the method factor's and the pairs' covariance
    major = implied_item_covariance(arr["loadings"], arr["thresholds"], arr["item_competency"], arr["phi"])
    r_major = major / np.outer(np.sqrt(np.diag(major)), np.sqrt(np.diag(major)))
    z_major = (r_obs[iu] - r_major[iu]) / ((1 - r_major[iu] ** 2) / math.sqrt(n))
    assert np.abs(z_major).max() > 10


def test_implied_correlations_match_large_sample(cb, large):
    """Analytic implied correlations (ordinal factor model) equal those of a large defect-free sample."""
    pop = large.population
    scores, truth = _clean_scores(cb, large)
    n = len(scores)
    for c in cb.competencies:
        r_obs = np.corrcoef(scores[c], truth[c])[0, 1]
        r_imp = pop["implied_score_correlation"]["with_own_latent"][c]
        se = (1 - r_imp**2) / math.sqrt(n)
        assert abs(r_obs - r_imp) < 4 * se, (c, r_obs, r_imp)
        for q, crit in pop["criteria"].items():
            # score-criterion (linear predictor) and latent-criterion correlations
            r2_obs = np.corrcoef(scores[c], truth[f"z_{q}"])[0, 1]
            r2_imp = crit["implied_score_correlation"][c]
            assert abs(r2_obs - r2_imp) < 4 * (1 - r2_imp**2) / math.sqrt(n), (c, q, r2_obs, r2_imp)
            r3_obs = np.corrcoef(truth[c], truth[f"z_{q}"])[0, 1]
            r3_imp = crit["implied_latent_correlation"][c]
            assert abs(r3_obs - r3_imp) < 4 * (1 - r3_imp**2) / math.sqrt(n), (c, q, r3_obs, r3_imp)
    # log card sales is exactly linear in its predictor, so it carries the implied latent correlation
    sales = large.sales.set_index("employee_id").loc[scores.index]
    r = np.corrcoef(np.log(sales["card_sales_volume"]), truth["customer"])[0, 1]
    r_imp = pop["criteria"]["card_sales_volume"]["implied_latent_correlation"]["customer"]
    assert abs(r - r_imp) < 4 * (1 - r_imp**2) / math.sqrt(n)


def test_demo_truth_is_recoverable(cb, demo):
    """After cleaning, the demo's score-latent correlations lie in the sampling interval of the implied value
    (Fisher z, two-sided 95% with a Bonferroni correction over the competencies)."""
    scores, truth = _clean_scores(cb, demo)
    n = len(scores)
    assert 560 <= n <= 580
    zcrit = norm.ppf(1 - 0.05 / (2 * len(cb.competencies)))
    for c in cb.competencies:
        r_obs = np.corrcoef(scores[c], truth[c])[0, 1]
        r_imp = demo.population["implied_score_correlation"]["with_own_latent"][c]
        assert abs(np.arctanh(r_obs) - np.arctanh(r_imp)) < zcrit / math.sqrt(n - 3), (c, r_obs, r_imp)
    # without cleaning, careless responders visibly weaken the relation
    raw = demo.survey.drop_duplicates(cb.id_column)
    x = cb.reverse_score(raw[cb.item_ids].astype(float))
    c = cb.competencies[0]
    r_raw = np.corrcoef(x[cb.groups()[c]].mean(axis=1), demo.truth.set_index(cb.id_column).loc[raw[cb.id_column], c])[
        0, 1
    ]
    assert r_raw < np.corrcoef(scores[c], truth[c])[0, 1]


# ------------------------------------------------------------------------------------------------ other codebooks
def _small_codebook() -> Codebook:
    comps = {"alpha": "m1", "beta": "m1", "gamma": "m2", "delta": "m2", "eps": "m2"}
    modules: dict[str, list] = {}
    for ci, (c, m) in enumerate(comps.items()):
        items = [{"id": f"{c.upper()}{j}", "text": f"{c} item {j}", "reverse": j == 3} for j in range(1, 5)]
        modules.setdefault(m, []).append(
            {"key": c, "name": c.title(), "dimensions": [{"name": f"{c} dim", "items": items}]}
        )
    return Codebook.from_dict(
        {
            "instrument": "five factors",
            "scale": {"min": 1, "max": 6},
            "id_column": "pid",
            "columns": [{"name": "completion_time_sec", "role": "duration"}],
            "modules": [{"name": m, "competencies": cs} for m, cs in modules.items()],
        }
    )


def test_simulator_works_on_another_codebook(params):
    cb5 = _small_codebook()
    p = copy.deepcopy(params)
    p.update(seed=7, n_respondents=400, id_prefix="P", id_digits=4)
    p["model_error"] = {  # in this codebook's own terms
        "method_factor": {"items": "reverse", "loading": 0.3},
        "cross_loadings": {"ALPHA1": {"beta": 0.2}},
        "residual_correlations": [["GAMMA1", "GAMMA2", 0.25]],
        "minor_factors": {"n": 30, "unique_variance_share": 0.1, "epsilon": 0.2},
    }
    p["criteria"] = {
        "output": {"type": "normal", "mean": 50, "sd": 10, "decimals": 1, "effects": {"gamma": 0.4, "alpha": 0.1}},
        "rating": {"type": "ordinal", "thresholds": [-1.0, 0.0, 1.0], "min": 1, "effects": {"eps": 0.3}},
    }
    res = simulate(cb5, p)
    s = res.survey
    assert list(s.columns) == ["pid", "completion_time_sec"] + cb5.item_ids
    assert len(s) == 400 + p["defects"]["n_duplicates"] and s["pid"].str.fullmatch(r"P\d{4}").all()
    x = s[cb5.item_ids].to_numpy(dtype=float, na_value=np.nan)
    vals = set(np.unique(x[~np.isnan(x)]))
    assert set(range(1, 7)) <= vals and vals - set(range(1, 7)) <= {0.0, 9.0}  # 6 is valid on this scale
    pop = res.population
    assert len(pop["items"][0]["thresholds"]) == 5  # six categories from the threshold rule
    assert pop["competencies"] == ["alpha", "beta", "gamma", "delta", "eps"]
    phi = pd.DataFrame(pop["latent_correlation"]["matrix"])
    assert phi.loc["alpha", "beta"] == 0.55 and phi.loc["alpha", "gamma"] == 0.35 and phi.loc["gamma", "eps"] == 0.55
    assert pop["criteria"]["rating"]["implied_latent_correlation"]["eps"] == pytest.approx(0.3)
    assert pop["criteria"]["output"]["implied_latent_correlation"]["delta"] == pytest.approx(0.4 * 0.55 + 0.1 * 0.35)
    scores, truth = _clean_scores(cb5, res)
    for c in cb5.competencies:
        r_imp = pop["implied_score_correlation"]["with_own_latent"][c]
        r_obs = np.corrcoef(scores[c], truth[c])[0, 1]
        assert abs(np.arctanh(r_obs) - np.arctanh(r_imp)) < 3.5 / math.sqrt(len(scores) - 3)
    # reverse-keyed items are generated reversed: they correlate negatively with their trait
    t_all = res.truth.set_index("pid").loc[s["pid"]]
    assert (
        np.corrcoef(np.nan_to_num(np.where((x[:, 2] >= 1) & (x[:, 2] <= 6), x[:, 2], 3.5), nan=3.5), t_all["alpha"])[
            0, 1
        ]
        < -0.3
    )
    json.dumps(pop)  # serialisable


def test_unknown_effect_key_is_an_error(params):
    p = copy.deepcopy(params)
    p.pop("model_error")  # names the shipped codebook's items (next test)
    with pytest.raises(ValueError, match="not in the codebook"):
        simulate(_small_codebook(), p)


def test_model_error_naming_unknown_items_is_an_error(params):
    with pytest.raises(ValueError, match="not an item of the codebook"):
        simulate(_small_codebook(), copy.deepcopy(params))
    p = copy.deepcopy(params)
    p["model_error"] = {"cross_loadings": {"ACH_VIS_1": {"achievement": 0.2}}}
    with pytest.raises(ValueError, match="its own competency"):
        simulate(load_codebook(CODEBOOK), p)
