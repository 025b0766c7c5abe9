"""Sample-size planning by Monte Carlo simulation: power, cut-off attainment, bias and coverage by N.

The R package ``simsem`` (Pornprasertmanit et al.) runs this loop for lavaan models: draw data from a population
model, fit the analysis model, repeat, summarise. This module does the same for a questionnaire's codebook, with
the pipeline's own cleaning and CFA code, so that the numbers describe the analysis the pipeline will actually run:

1. **Population** (:class:`Population`): one standard-normal latent trait per competency with correlations
   ``Phi``; each item's latent response ``y* = lambda eta + sqrt(1 - lambda^2) e`` is cut at its thresholds into
   the codebook's categories (or kept continuous), reverse-keyed items are answered ``min + max - x``. Values come
   from config (:func:`population_from_config`) or from the fitted hypothesised model of the current data
   (:func:`population_from_fit`). Optional defects: MCAR missing answers at a rate, MAR missing answers driven by
   an observed covariate that correlates with the traits, and a share of careless (uniformly random) responders.
2. **Replication** (:func:`run_replication`): draw N respondents (:func:`draw_responses`), screen them as the
   pipeline's ``screen`` rule does (:func:`compval.clean.screen_respondents`: careless responding, missing-data
   policy), reverse-score, fit the hypothesised model and the nested rivals with :func:`compval.cfa.fit_cfa`
   (the configured estimator, identification and missing-data option) and record, for each rival, the chi-square
   difference test against the hypothesised model (:func:`compval.cfa.compare_models`: ML difference,
   Satorra-Bentler 2001 under MLR, DIFFTEST under WLSMV), whether the hypothesised model meets each cut-off
   (:func:`compval.present.rules.judge_cutoffs`, the versions the pipeline judges) and its loading and factor
   (co)variance estimates with standard errors and 95% Wald CIs.
3. **Summary** (:func:`summarise`), with simsem's definitions (``summaryParam``, ``getPower``), over the
   replications whose model converged:

   * power = share of replications with ``p < alpha`` for the rival;
   * cut-off attainment = share of replications in which the hypothesised model meets the cut-off (an improper
     solution never does, as in the pipeline);
   * bias = mean(est) - theta; relative bias = bias / theta; standardized bias = bias / SD(est);
     simsem (``summaryParam``) keeps improper but converged solutions, and so do the parameter summaries here;
   * coverage = share of replications whose 95% Wald CI (``ci_lower < theta < ci_upper``, lavaan's
     ``parameterEstimates()`` interval) contains theta;
   * SE ratio = mean(SE) / SD(est); relative SE bias = SE ratio - 1 (simsem's "Rel SE Bias");
   * Monte Carlo standard error of a share ``q`` over ``R`` replications: ``sqrt(q (1 - q) / R)``.

   ``theta`` is the estimator's population (pseudo-true) value (:func:`population_values`): the latent-response
   loadings and correlations under WLSMV; under ML/MLR the values of the model fitted to the exact population
   covariance matrix of the observed codes (:func:`compval.simulate.implied_item_covariance`), i.e. what the
   estimator converges to as N grows (with ordinal items these are attenuated relative to the latent-response
   values; with continuous items they equal them).

Reproducibility: replication ``r`` at sample size ``n`` draws from ``numpy.random.default_rng(SeedSequence([seed,
n, r]))``, so every number is the same whichever job, chunk size, core count or cluster node computes it.

References: Muthen & Muthen (2002), How to use a Monte Carlo study to decide on sample size and determine power,
Structural Equation Modeling 9, 599-620. Pornprasertmanit, Miller, Schoemann & Jorgensen, simsem (R package).

In R (the same loop; ``tests/reference/power/simsem_style.R``)::

    pop <- "f1 =~ 0.7*x1 + ...; f1 ~~ 0.3*f2"
    res <- replicate(R, { d <- lavaan::simulateData(pop, sample.nobs = N)
                          f <- lavaan::cfa(model, d); lavaan::parameterEstimates(f) })
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit

from . import cfa
from .clean import CleaningOptions, screen_respondents
from .codebook import Codebook
from .comparison import NESTED_IN_HYPOTHESIZED, build_models, model_estimator
from .present.rules import cutoff_rules, judge_cutoffs
from .io import InputError
from .simulate import implied_item_covariance, latent_correlation

__all__ = [
    "Population",
    "population_from_config",
    "population_from_fit",
    "population_covariance",
    "population_values",
    "power_models",
    "draw_responses",
    "run_replication",
    "run_chunk",
    "chunk_replications",
    "summarise",
    "smallest_n",
    "plot_power",
]

_EXCLUSION_COLUMNS = ["pid", "stage", "reason", "value"]


# =============================================================================================== population
@dataclass(frozen=True)
class Population:
    """A population model for the codebook's items.

    Attributes
    ----------
    items : list of str
        Item ids (codebook order).
    factors : list of str
        Competency keys (codebook order).
    item_factor : (p,) int array
        Index of each item's competency into ``factors``.
    loadings : (p,) array
        Standardized loadings of the latent responses.
    phi : (K, K) array
        Latent correlation matrix.
    thresholds : (p, m) array or None
        Thresholds of each item's latent response in the trait direction (``m`` = categories - 1); None for
        continuous responses (the latent response itself).
    reverse : (p,) bool array
        Reverse-keyed items (answered ``min + max - x`` in the export).
    scale : (int, int)
        Lowest and highest answer code.
    missing : dict
        ``mechanism`` (none, mcar, mar), ``rate`` (expected share of missing answers), ``covariate_correlation``
        (MAR: correlation of the covariate with every trait) and ``slope`` (MAR: log-odds of skipping per SD of
        the covariate).
    careless_share : float
        Share of respondents who answer every item uniformly at random (independently of the traits).
    """

    items: list
    factors: list
    item_factor: np.ndarray
    loadings: np.ndarray
    phi: np.ndarray
    thresholds: np.ndarray | None
    reverse: np.ndarray
    scale: tuple
    missing: dict = field(default_factory=lambda: {"mechanism": "none", "rate": 0.0})
    careless_share: float = 0.0

    def to_dict(self) -> dict:
        """JSON-serialisable form (:meth:`from_dict` reads it back)."""
        return {
            "items": list(self.items),
            "factors": list(self.factors),
            "item_factor": [int(v) for v in self.item_factor],
            "loadings": self.loadings.tolist(),
            "phi": self.phi.tolist(),
            "thresholds": None if self.thresholds is None else self.thresholds.tolist(),
            "reverse": [bool(v) for v in self.reverse],
            "scale": list(self.scale),
            "missing": dict(self.missing),
            "careless_share": float(self.careless_share),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "Population":
        return cls(
            items=list(d["items"]),
            factors=list(d["factors"]),
            item_factor=np.asarray(d["item_factor"], int),
            loadings=np.asarray(d["loadings"], float),
            phi=np.asarray(d["phi"], float),
            thresholds=None if d["thresholds"] is None else np.asarray(d["thresholds"], float),
            reverse=np.asarray(d["reverse"], bool),
            scale=tuple(d["scale"]),
            missing=dict(d["missing"]),
            careless_share=float(d["careless_share"]),
        )


def _per_item(value, codebook: Codebook, what: str) -> np.ndarray:
    """A number, or a mapping item id / competency key -> number (items not named take ``default``)."""
    items = codebook.items
    if isinstance(value, (int, float)):
        return np.full(len(items), float(value))
    value = dict(value)
    default = value.pop("default", None)
    unknown = sorted(set(value) - set(items["item"]) - set(items["competency"]))
    if unknown:
        raise ValueError(f"power.population.{what}: {unknown} are neither items nor competencies of the codebook")
    out = []
    for it, comp in zip(items["item"], items["competency"]):
        v = value.get(it, value.get(comp, default))
        if v is None:
            raise ValueError(f"power.population.{what}: no value for item {it} (give it, its competency or default)")
        out.append(float(v))
    return np.asarray(out)


def _equal_probability_thresholds(n_categories: int) -> np.ndarray:
    """Thresholds that give every category the same probability: ``qnorm(k / m)``, k = 1..m-1."""
    return stats.norm.ppf(np.arange(1, n_categories) / n_categories)


def _population(codebook: Codebook, loadings, phi, thresholds, settings: Mapping) -> Population:
    items = codebook.items
    factors = list(codebook.competency_module())
    lam = np.asarray(loadings, float)
    if np.any((lam <= 0) | (lam >= 1)):
        raise ValueError("standardized loadings must lie strictly between 0 and 1")
    if np.linalg.eigvalsh(phi).min() <= 1e-8:
        raise ValueError("the factor correlation matrix is not positive definite")
    if thresholds is not None and np.any(np.diff(thresholds, axis=1) <= 0):
        raise ValueError("thresholds must be strictly increasing")
    missing = dict(settings.get("missing") or {"mechanism": "none", "rate": 0.0})
    careless = float(settings.get("careless_share", 0.0))
    return Population(
        items=list(items["item"]),
        factors=factors,
        item_factor=items["competency"].map({c: i for i, c in enumerate(factors)}).to_numpy(int),
        loadings=lam,
        phi=np.asarray(phi, float),
        thresholds=thresholds,
        reverse=items["reverse"].to_numpy(bool),
        scale=(codebook.scale_min, codebook.scale_max),
        missing=missing,
        careless_share=careless,
    )


def population_from_config(codebook: Codebook, settings: Mapping) -> Population:
    """The population model from the ``power`` section of the config.

    Parameters
    ----------
    codebook : Codebook
    settings : dict
        ``population``: ``loadings`` (a number, or item id / competency key -> number with an optional
        ``default``), ``factor_correlations`` (``within_module``, ``between_module``: correlation of two
        competencies in the same / different modules), ``thresholds`` (``m - 1`` increasing values on the
        latent-response scale for every item, or None: equal category probabilities ``qnorm(k/m)``);
        ``response`` (``ordinal`` or ``continuous``); ``missing``; ``careless_share``.

    Returns
    -------
    Population
    """
    pop = settings["population"]
    lam = _per_item(pop["loadings"], codebook, "loadings")
    fc = pop["factor_correlations"]
    phi = latent_correlation(codebook.competency_module(), float(fc["within_module"]), float(fc["between_module"]))
    tau = None
    if settings["response"] == "ordinal":
        m = codebook.scale_max - codebook.scale_min + 1
        given = pop.get("thresholds")
        if given is None:
            base = _equal_probability_thresholds(m)
        else:
            base = np.asarray(given, float)
            if base.size != m - 1:
                raise ValueError(
                    f"power.population.thresholds: {m - 1} values needed for the codebook's {m}-point "
                    f"scale, got {base.size}"
                )
        tau = np.tile(base, (len(lam), 1))
    return _population(codebook, lam, phi, tau, settings)


def population_from_fit(
    codebook: Codebook, parameters: pd.DataFrame, items: pd.DataFrame, settings: Mapping
) -> Population:
    """The population model "as fitted": the hypothesised model's standardized loadings and factor correlations
    (``std_all`` of the pipeline's ``results/cfa/parameters.csv``) and thresholds from each item's observed
    category proportions (``qnorm`` of the cumulative proportions, as lavaan's univariate thresholds).

    Under ML/MLR the standardized loadings of a continuous fit are attenuated relative to latent-response loadings,
    so the population is a little weaker than the data (power conservative); under WLSMV they are the latent-
    response values. Categories nobody chose get a proportion of ``0.5 / N`` so that the thresholds stay finite.

    Parameters
    ----------
    parameters : DataFrame
        Parameter table with columns ``model, lhs, op, rhs, std_all`` (rows of ``model == "hypothesized"`` used).
    items : DataFrame
        The analysed, reverse-scored items (``data/processed/items_scored.csv``).
    """
    p = parameters[parameters["model"] == "hypothesized"] if "model" in parameters else parameters
    load = p[p["op"] == "=~"].set_index("rhs")["std_all"]
    missing_items = [i for i in codebook.item_ids if i not in load.index]
    if missing_items:
        raise ValueError(f"the fitted model has no loading for items {missing_items}")
    lam = np.clip(load.reindex(codebook.item_ids).to_numpy(float), 0.05, 0.95)
    factors = list(codebook.competency_module())
    phi = np.eye(len(factors))
    pos = {f: k for k, f in enumerate(factors)}
    cov = p[(p["op"] == "~~") & p["lhs"].isin(factors) & p["rhs"].isin(factors) & (p["lhs"] != p["rhs"])]
    for a, b, v in zip(cov["lhs"], cov["rhs"], cov["std_all"]):
        phi[pos[a], pos[b]] = phi[pos[b], pos[a]] = float(v)
    tau = None
    if settings["response"] == "ordinal":
        lo, hi = codebook.scale_min, codebook.scale_max
        cats = np.arange(lo, hi + 1)
        rows = []
        for it in codebook.item_ids:
            x = items[it].dropna().to_numpy(float)
            counts = np.array([(x == c).sum() for c in cats], float)
            prop = np.maximum(counts, 0.5) / max(counts.sum(), 1.0)
            rows.append(stats.norm.ppf(np.cumsum(prop / prop.sum())[:-1]))
        tau = np.vstack(rows)
    return _population(codebook, lam, phi, tau, settings)


def population_covariance(pop: Population) -> np.ndarray:
    """Population covariance matrix of the answers (trait direction, complete data, no careless responders):
    ``Lambda Phi Lambda' + Theta`` for continuous responses, :func:`compval.simulate.implied_item_covariance`
    for ordinal codes. The power population is a simple-structure model that holds exactly: no cross-loadings,
    method factor, correlated residuals or minor factors (the demo simulator's ``model_error`` is not part of it),
    so the hypothesised model is correct in it and its rejection rate is the test's size."""
    if pop.thresholds is None:
        lam_full = np.zeros((len(pop.items), len(pop.factors)))
        lam_full[np.arange(len(pop.items)), pop.item_factor] = pop.loadings
        sigma = lam_full @ pop.phi @ lam_full.T
        np.fill_diagonal(sigma, 1.0)
        return sigma
    return implied_item_covariance(pop.loadings, pop.thresholds, pop.item_factor, pop.phi)


def _exact_moment_data(sigma: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """A data set whose sample covariance matrix (divisor N) is exactly ``sigma`` (N = 2p rows)."""
    p = sigma.shape[0]
    n = 2 * p
    z = np.random.default_rng(0).standard_normal((n, p))
    z -= z.mean(axis=0)
    q, _ = np.linalg.qr(z)
    y = math.sqrt(n) * q @ np.linalg.cholesky(sigma).T
    return pd.DataFrame(y, columns=list(names))


def _truth_rows(params: pd.DataFrame, lvs: set) -> pd.DataFrame:
    """Rows of a parameter table that are evaluated: free loadings and free covariances of two factors."""
    p = params[params["free"].astype(float) > 0]
    keep = (p["op"] == "=~") | ((p["op"] == "~~") & p["lhs"].isin(lvs) & p["rhs"].isin(lvs) & (p["lhs"] != p["rhs"]))
    return p[keep]


def population_values(pop: Population, spec: cfa.ModelSpec, *, estimator: str, std_lv: bool) -> pd.DataFrame:
    """The population (pseudo-true) value of each free loading and factor covariance of the hypothesised model.

    Under WLSMV (delta parameterisation) the values follow from the latent-response model: with unit-variance
    identification ``lambda_i`` and ``phi_ab``; with marker identification ``lambda_i / lambda_m(a)`` and
    ``lambda_m(a) lambda_m(b) phi_ab`` (``m(a)`` the marker item of factor ``a``). Under ML/MLR the model is fitted
    to a data set whose covariance matrix is exactly :func:`population_covariance`, so the values are the limits
    of the ML estimates (equal to the WLSMV values for continuous responses).

    Returns
    -------
    DataFrame with columns ``parameter`` (lavaan-style ``lhs op rhs``), ``lhs``, ``op``, ``rhs``, ``true``.

    In R: ``parameterEstimates(cfa(model, sample.cov = Sigma, sample.nobs = 1e6, std.lv = TRUE))$est`` with
    ``Sigma`` the population covariance matrix.
    """
    lvs = set(spec.factors)
    if estimator.upper() == "WLSMV" and pop.thresholds is not None:
        pos = {f: k for k, f in enumerate(pop.factors)}
        item_pos = {it: k for k, it in enumerate(pop.items)}
        marker = {f: spec.factors[f][0] for f in spec.factors}
        rows = []
        for f, inds in spec.factors.items():
            lm = pop.loadings[item_pos[marker[f]]]
            for it in inds[(0 if std_lv else 1) :]:
                v = pop.loadings[item_pos[it]]
                rows.append((f, "=~", it, v if std_lv else v / lm))
        fs = list(spec.factors)
        for i, a in enumerate(fs):
            for b in fs[i + 1 :]:
                r = pop.phi[pos[a], pos[b]]
                if not std_lv:
                    r *= pop.loadings[item_pos[marker[a]]] * pop.loadings[item_pos[marker[b]]]
                rows.append((a, "~~", b, r))
        out = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "true"])
    else:
        data = _exact_moment_data(population_covariance(pop), pop.items)
        fit = cfa.fit_cfa(data, spec, std_lv=std_lv, estimator="ML", missing="listwise")
        if not fit.converged:
            raise RuntimeError(f"the model could not be fitted to the population covariance matrix: {fit.status}")
        out = _truth_rows(fit.params, lvs)[["lhs", "op", "rhs", "est"]].rename(columns={"est": "true"})
    out.insert(0, "parameter", out["lhs"] + out["op"] + out["rhs"])
    return out.reset_index(drop=True)


# =============================================================================================== models
def power_models(codebook: Codebook, rivals: Sequence[str]) -> dict:
    """The hypothesised model and the requested rivals that are nested in it (a chi-square difference test
    applies); parcels and user models are not compared here."""
    nested = [r for r in rivals if r in NESTED_IN_HYPOTHESIZED]
    models = build_models(
        codebook.groups("competency"),
        codebook.competency_module(),
        codebook.groups("dimension"),
        codebook.dimension_competency(),
        rivals=nested,
    )
    return {name: spec for name, (spec, _) in models.items()}


# =============================================================================================== simulation
def _mar_intercept(rate: float, slope: float) -> float:
    """Intercept ``a`` with ``E[expit(a + slope z)] = rate`` for standard-normal ``z`` (Gauss-Hermite)."""
    x, w = np.polynomial.hermite_e.hermegauss(64)
    w = w / w.sum()
    return float(optimize.brentq(lambda a: float(w @ expit(a + slope * x)) - rate, -40.0, 40.0, xtol=1e-12))


def draw_responses(pop: Population, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """One simulated export: ``n`` respondents' answers as exported (reverse-keyed items not yet reverse-scored).

    Draw order (fixed, so that a seed gives the same data): traits, latent-response errors, careless responders
    and their answers, the MAR covariate (if any), the missing-answer mask. Index ``pid`` = ``s00001``, ...

    Returns
    -------
    DataFrame (n, p) of floats, NaN for a missing answer.
    """
    p, k = len(pop.items), len(pop.factors)
    lo, hi = pop.scale
    eta = rng.standard_normal((n, k)) @ np.linalg.cholesky(pop.phi).T
    lam = pop.loadings
    ystar = eta[:, pop.item_factor] * lam + rng.standard_normal((n, p)) * np.sqrt(1.0 - lam**2)
    if pop.thresholds is None:
        x = ystar
    else:
        x = lo + (ystar[:, :, None] > pop.thresholds[None, :, :]).sum(axis=2).astype(float)
    x = np.where(pop.reverse[None, :], lo + hi - x, x)
    n_careless = int(round(pop.careless_share * n))
    if n_careless:
        who = np.sort(rng.choice(n, size=n_careless, replace=False))
        x[who] = (
            rng.standard_normal((n_careless, p))
            if pop.thresholds is None
            else rng.integers(lo, hi + 1, size=(n_careless, p)).astype(float)
        )
    mech = pop.missing.get("mechanism", "none")
    rate = float(pop.missing.get("rate", 0.0))
    if mech != "none" and rate > 0:
        if mech == "mcar":
            prob = np.full((n, 1), rate)
        elif mech == "mar":
            r = float(pop.missing["covariate_correlation"])
            w = r * np.linalg.solve(pop.phi, np.ones(k))  # corr(z, eta_j) = r for every trait
            explained = float(w @ pop.phi @ w)
            if explained >= 1.0:
                raise ValueError(f"power.missing.covariate_correlation {r} is too large for these factor correlations")
            z = eta @ w + math.sqrt(1.0 - explained) * rng.standard_normal(n)
            slope = float(pop.missing["slope"])
            prob = expit(_mar_intercept(rate, slope) + slope * z)[:, None]
        else:
            raise ValueError(f"unknown missing-data mechanism {mech!r} (none, mcar, mar)")
        x[rng.random((n, p)) < prob] = np.nan
    index = pd.Index([f"s{i + 1:05d}" for i in range(n)], name="pid")
    return pd.DataFrame(x, index=index, columns=pop.items)


def _fit_row(f: cfa.CFAResult) -> dict:
    return {
        "converged": bool(f.converged),
        "proper": bool(f.converged and f.status == "ok" and f.fit),
        "status": f.status,
    }


def run_replication(
    pop: Population,
    codebook: Codebook,
    models: Mapping[str, cfa.ModelSpec],
    settings: Mapping,
    *,
    n: int,
    replication: int,
    seed: int,
) -> tuple[list[dict], list[dict]]:
    """One replication: draw, screen, fit, test.

    Parameters
    ----------
    settings : dict
        ``estimator``, ``identification``, ``missing`` (lavaan's option for the CFA), ``continuous_missing``,
        ``cutoffs``, ``alpha``, ``cleaning`` (:class:`compval.clean.CleaningOptions` fields).

    Returns
    -------
    (outcomes, estimates)
        ``outcomes``: one row per model (``n, replication, model, n_analysed, converged, proper, status``, the
        judged fit indices and ``ok_<index>``, ``meets_cutoffs``; rivals: ``chisq_diff, df_diff, pvalue,
        reject``); ``estimates``: one row per evaluated parameter of the hypothesised model (``est, se,
        ci_lower, ci_upper``).

    In R: one iteration of ``simsem::sim(model = ..., generate = ..., n = n)`` followed by
    ``lavTestLRT(fit_hypothesized, fit_rival)``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(n), int(replication)]))
    raw = draw_responses(pop, n, rng)
    base = {"n": int(n), "replication": int(replication)}
    try:
        screened = screen_respondents(
            raw,
            codebook,
            CleaningOptions(**settings["cleaning"]),
            prior_exclusions=pd.DataFrame(columns=_EXCLUSION_COLUMNS),
            n_raw=n,
            source="simulated sample",
        )
    except InputError as exc:  # e.g. an item with one answer only at a small N: the analysis cannot run
        return [
            {
                **base,
                "model": name,
                "n_analysed": 0,
                "converged": False,
                "proper": False,
                "status": f"not estimable (cleaning: {exc})",
            }
            for name in models
        ], []
    items = codebook.reverse_score(screened.items)
    est = settings["estimator"]
    std_lv = settings["identification"] == "unit_variance"
    rules = cutoff_rules(settings["cutoffs"])
    robust = est in ("MLR", "WLSMV")
    fits, outcomes = {}, []
    for name, spec in models.items():
        e = model_estimator(name, est)
        fits[name] = f = cfa.fit_cfa(
            items,
            spec,
            std_lv=std_lv,
            estimator=e,
            missing=settings["missing"] if e == est else settings["continuous_missing"],
            robust_fiml=e == "MLR",
        )
        row = {**base, "model": name, "n_analysed": int(len(items)), **_fit_row(f)}
        if name == "hypothesized":
            verdicts = judge_cutoffs(f.fit, rules, robust=robust, usable=row["proper"])
            for idx, v in zip(rules, verdicts):
                row[f"value_{idx}"] = v["value"]
                row[f"ok_{idx}"] = v["ok"]
            row["meets_cutoffs"] = bool(row["proper"] and all(v["ok"] for v in verdicts))
        outcomes.append(row)
    hyp = fits["hypothesized"]
    for row in outcomes[1:]:
        riv = fits[row["model"]]
        test = {"chisq_diff": np.nan, "df_diff": np.nan, "pvalue": np.nan, "reject": np.nan}
        if hyp.converged and riv.converged and hyp.fit and riv.fit:
            c = cfa.compare_models({"hypothesized": hyp, row["model"]: riv}).iloc[-1]
            test = {
                "chisq_diff": float(c["chisq_diff"]),
                "df_diff": float(c["df_diff"]),
                "pvalue": float(c["pvalue"]),
                "reject": bool(c["pvalue"] < settings["alpha"]) if np.isfinite(c["pvalue"]) else np.nan,
            }
        row.update(test)
    estimates = []
    if hyp.converged and hyp.fit:
        sel = _truth_rows(hyp.params, set(models["hypothesized"].factors))
        for r in sel.itertuples(index=False):
            estimates.append(
                {
                    **base,
                    "parameter": f"{r.lhs}{r.op}{r.rhs}",
                    "est": float(r.est),
                    "se": float(r.se),
                    "ci_lower": float(r.ci_lower),
                    "ci_upper": float(r.ci_upper),
                    "proper": outcomes[0]["proper"],
                }
            )
    return outcomes, estimates


def chunk_replications(replications: int, chunk_size: int, chunk: int) -> range:
    """Replication numbers (0-based) of one chunk: ``chunk * chunk_size`` up to ``replications``."""
    start = chunk * chunk_size
    return range(start, min(start + chunk_size, replications))


def run_chunk(
    pop: Population,
    codebook: Codebook,
    models: Mapping[str, cfa.ModelSpec],
    settings: Mapping,
    *,
    n: int,
    replications: Sequence[int],
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The replications of one chunk: ``(outcomes, estimates)`` as DataFrames (see :func:`run_replication`)."""
    outs, ests = [], []
    for r in replications:
        o, e = run_replication(pop, codebook, models, settings, n=n, replication=r, seed=seed)
        outs += o
        ests += e
    est_cols = ["n", "replication", "parameter", "est", "se", "ci_lower", "ci_upper", "proper"]
    return pd.DataFrame(outs), pd.DataFrame(ests, columns=est_cols)


# =============================================================================================== summary
def _share(x: pd.Series) -> tuple[float, float, int]:
    x = x.dropna().astype(float)
    k = len(x)
    if k == 0:
        return np.nan, np.nan, 0
    q = float(x.mean())
    return q, math.sqrt(q * (1.0 - q) / k), k


def summarise(
    outcomes: pd.DataFrame, estimates: pd.DataFrame, truth: pd.DataFrame, *, cutoffs: Mapping
) -> dict[str, pd.DataFrame]:
    """Tables by sample size (simsem definitions; see the module docstring).

    Returns
    -------
    dict of DataFrames
        ``power`` (n, rival: replications, valid, power, mc_se), ``cutoffs`` (n, index: converged, share,
        mc_se; index ``all`` = every cut-off), ``parameters`` (n, parameter: true, mean_est, bias,
        relative_bias, standardized_bias, sd_est, mean_se, se_ratio, relative_se_bias, coverage, coverage_mc_se,
        valid), ``convergence`` (n: replications, converged, not_converged, improper, mean_n_analysed).

    In R: ``simsem::summaryParam(sim, detail = TRUE)`` ("Estimate Average", "Average Bias", "Coverage", "Rel Bias",
    "Std Bias", "Rel SE Bias") and ``simsem::getPower``; ``tests/reference/power/simsem_style.R`` computes them.
    """
    hyp = outcomes[outcomes["model"] == "hypothesized"].sort_values(["n", "replication"])
    conv_rows, cut_rows = [], []
    for n, g in hyp.groupby("n", sort=True):
        conv = g["converged"].astype(bool)
        conv_rows.append(
            {
                "n": n,
                "replications": len(g),
                "converged": int(conv.sum()),
                "not_converged": float(1 - conv.mean()),
                "improper": float((conv & ~g["proper"].astype(bool)).sum() / max(conv.sum(), 1)),
                "mean_n_analysed": float(g["n_analysed"].mean()),
            }
        )
        gc = g[conv]
        for idx in [*cutoff_rules(cutoffs), "all"]:
            col = "meets_cutoffs" if idx == "all" else f"ok_{idx}"
            share, se, k = _share(gc[col]) if col in gc else (np.nan, np.nan, 0)
            cut_rows.append({"n": n, "index": idx, "converged": k, "share": share, "mc_se": se})
    pow_rows = []
    riv = outcomes[outcomes["model"] != "hypothesized"]
    for (n, model), g in riv.groupby(["n", "model"], sort=True):
        share, se, k = _share(g["reject"]) if "reject" in g else (np.nan, np.nan, 0)
        pow_rows.append({"n": n, "rival": model, "replications": len(g), "valid": k, "power": share, "mc_se": se})
    par_rows = []
    order = {p: i for i, p in enumerate(truth["parameter"])}
    est = estimates.merge(truth[["parameter", "true"]], on="parameter", how="inner")
    for (n, prm), g in est.groupby(["n", "parameter"], sort=True):
        t = float(g["true"].iloc[0])
        e, s = g["est"].to_numpy(float), g["se"].to_numpy(float)
        lo, hi = g["ci_lower"].to_numpy(float), g["ci_upper"].to_numpy(float)
        ok = np.isfinite(e) & np.isfinite(s)
        e, s, lo, hi = e[ok], s[ok], lo[ok], hi[ok]
        k = len(e)
        sd = float(np.std(e, ddof=1)) if k > 1 else np.nan
        bias = float(e.mean() - t) if k else np.nan
        cover = float(np.mean((lo < t) & (t < hi))) if k else np.nan  # simsem: strict inequalities
        ratio = float(s.mean() / sd) if k > 1 and sd > 0 else np.nan
        par_rows.append(
            {
                "n": n,
                "parameter": prm,
                "true": t,
                "mean_est": float(e.mean()) if k else np.nan,
                "bias": bias,
                "relative_bias": bias / t if t != 0 else np.nan,
                "standardized_bias": bias / sd if k > 1 and sd > 0 else np.nan,
                "sd_est": sd,
                "mean_se": float(s.mean()) if k else np.nan,
                "se_ratio": ratio,
                "relative_se_bias": ratio - 1.0,
                "coverage": cover,
                "coverage_mc_se": math.sqrt(cover * (1 - cover) / k) if k else np.nan,
                "valid": k,
                "_order": order.get(prm, len(order)),
            }
        )
    params = pd.DataFrame(par_rows)
    if len(params):
        params = params.sort_values(["n", "_order"], kind="mergesort").drop(columns="_order").reset_index(drop=True)
    return {
        "power": pd.DataFrame(pow_rows, columns=["n", "rival", "replications", "valid", "power", "mc_se"]),
        "cutoffs": pd.DataFrame(cut_rows, columns=["n", "index", "converged", "share", "mc_se"]),
        "parameters": params,
        "convergence": pd.DataFrame(conv_rows),
    }


def smallest_n(
    tables: Mapping[str, pd.DataFrame],
    *,
    power_target: float = 0.80,
    coverage_target: float = 0.90,
    cutoff_target: float = 0.80,
) -> pd.DataFrame:
    """The smallest N of the grid that reaches each target (NA when none does): power to reject each rival,
    the share of replications meeting all cut-offs, and the mean and the lowest coverage over the evaluated
    parameters (the lowest is noisy with few replications: each share has Monte Carlo SE sqrt(q(1 - q)/R)).
    Returns a DataFrame: criterion, target, smallest_n, value_at_smallest_n."""
    rows = []

    def first(df: pd.DataFrame, col: str, target: float, label: str):
        hit = df[df[col] >= target].sort_values("n")
        rows.append(
            {
                "criterion": label,
                "target": target,
                "smallest_n": hit["n"].iloc[0] if len(hit) else np.nan,
                "value_at_smallest_n": hit[col].iloc[0] if len(hit) else np.nan,
            }
        )

    for rival, g in tables["power"].groupby("rival", sort=False):
        first(g, "power", power_target, f"power to reject the {rival.replace('_', ' ')} model")
    cut = tables["cutoffs"]
    first(cut[cut["index"] == "all"], "share", cutoff_target, "the hypothesised model meets all cut-offs")
    par = tables["parameters"]
    if len(par):
        by_n = par.groupby("n", as_index=False)["coverage"]
        first(by_n.mean(), "coverage", coverage_target, "mean coverage of loadings and factor covariances")
        first(by_n.min(), "coverage", coverage_target, "lowest coverage of loadings and factor covariances")
    out = pd.DataFrame(rows, columns=["criterion", "target", "smallest_n", "value_at_smallest_n"])
    out["smallest_n"] = out["smallest_n"].astype("Int64")
    return out


def plot_power(tables: Mapping[str, pd.DataFrame], *, power_target: float = 0.80):
    """Two panels against N: power to reject each rival, and the share of replications in which the
    hypothesised model meets each cut-off (and all of them); +- 1.96 Monte Carlo SE bars. Returns a Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.2), sharey=True, constrained_layout=True)
    for ax, (df, key, col, title) in zip(
        axes,
        [
            (tables["power"], "rival", "power", "Power to reject the rival"),
            (tables["cutoffs"], "index", "share", "Hypothesised model meets the cut-off"),
        ],
    ):
        for k, (label, g) in enumerate(df.groupby(key, sort=False)):
            g = g.sort_values("n")
            ax.errorbar(
                g["n"],
                g[col],
                yerr=1.96 * g["mc_se"],
                marker="os^vD<>"[k % 7],
                capsize=2,
                lw=1.2,
                ms=4,
                label=str(label).replace("_", " "),
            )
        ax.axhline(power_target, color="0.5", ls="--", lw=0.8)
        ax.set_xlabel("Sample size N")
        ax.set_title(title, fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    axes[0].set_ylabel("Share of replications")
    return fig
