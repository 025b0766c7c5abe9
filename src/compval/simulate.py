"""Demo data from a stated truth: a simulated survey export, an HR/CRM criterion file and the population model.

The simulator is driven by a codebook (any codebook: the number of competencies, their items, the scale and
which items are reverse-keyed all come from it) and by a dictionary of population parameters
(``config/simulation.yaml``). The data-generating model is the ordinal common-factor model used by
categorical CFA (Muthen 1984; lavaan's ``ordered=`` estimation):

* one standard-normal latent trait ``eta`` per competency; traits in the same module of the codebook
  correlate ``within_module_correlation``, traits in different modules ``between_module_correlation``;
* each item has a standardized latent response ``y* = lambda * eta + sqrt(1 - lambda^2) * e`` that is cut at
  the item's thresholds into the categories of the scale; a reverse-keyed item is answered
  ``(min + max) - category``, so a respondent high on the trait answers it low;
* each criterion has a standardized linear predictor
  ``z = sum_k beta_k * eta_k + gamma * tenure + residual`` that is mapped to its observed scale (log-normal,
  Poisson with log-linear rate, normal, or ordinal).

On top of that the survey export gets the defects real exports have: item non-response that is not at
random (more skipping by respondents low on the item's trait and on reverse-keyed items), careless
responders (straight-lining / long strings and uniformly random answers, with short completion times),
out-of-range codes, and duplicate submissions.

:func:`simulate` is pure (no I/O; randomness only from ``numpy.random.default_rng(params["seed"])``);
:func:`main` is the command-line entry point that writes the files::

    python -m compval.simulate --codebook config/codebook.yaml --params config/simulation.yaml --out data/raw
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

from .codebook import Codebook, load_codebook
from .sem.bivariate import bivariate_normal_cdf

__all__ = [
    "SimulationResult",
    "simulate",
    "latent_correlation",
    "item_thresholds",
    "implied_score_correlations",
    "implied_item_covariance",
    "write_outputs",
    "main",
]

# Independent random streams, one per stage, so that changing one stage's settings (e.g. a defect rate)
# leaves the draws of the other stages unchanged.
_STREAMS = (
    "population",
    "latent",
    "responses",
    "careless",
    "missing",
    "out_of_range",
    "duplicates",
    "identity",
    "criteria",
    "coverage",
)

_SURNAMES = [
    ("Wang", 7.1),
    ("Li", 7.0),
    ("Zhang", 6.7),
    ("Liu", 5.4),
    ("Chen", 4.5),
    ("Yang", 3.1),
    ("Huang", 2.2),
    ("Zhao", 2.0),
    ("Wu", 2.0),
    ("Zhou", 1.9),
    ("Xu", 1.5),
    ("Sun", 1.4),
    ("Ma", 1.3),
    ("Zhu", 1.3),
    ("Hu", 1.2),
    ("Guo", 1.1),
    ("He", 1.0),
    ("Gao", 1.0),
    ("Lin", 1.0),
    ("Luo", 0.9),
    ("Zheng", 0.9),
    ("Liang", 0.9),
    ("Xie", 0.7),
    ("Song", 0.7),
    ("Tang", 0.7),
    ("Han", 0.6),
    ("Feng", 0.6),
    ("Deng", 0.6),
    ("Cao", 0.6),
    ("Peng", 0.5),
    ("Zeng", 0.5),
    ("Xiao", 0.5),
    ("Tian", 0.5),
    ("Dong", 0.5),
    ("Pan", 0.4),
    ("Yuan", 0.4),
    ("Cai", 0.4),
    ("Jiang", 0.4),
    ("Yu", 0.4),
    ("Du", 0.3),
]
_GIVEN_SYLLABLES = [
    "wei",
    "fang",
    "na",
    "min",
    "jing",
    "li",
    "qiang",
    "lei",
    "jun",
    "yang",
    "yong",
    "yan",
    "jie",
    "tao",
    "ming",
    "chao",
    "xiu",
    "xia",
    "ping",
    "gang",
    "hui",
    "hua",
    "dan",
    "bo",
    "lin",
    "ting",
    "hao",
    "yu",
    "xin",
    "jia",
    "chen",
    "rui",
    "kai",
    "peng",
    "fei",
    "qing",
    "zhi",
    "hong",
    "mei",
    "wen",
    "bin",
    "hai",
    "lan",
    "yi",
    "ning",
    "xue",
    "shan",
    "long",
    "feng",
    "yun",
]
_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "182",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
]
_EMAIL_DOMAIN = "demobank.com.cn"


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` returns.

    Attributes
    ----------
    survey : DataFrame
        The survey export: id column, non-item columns, then one integer column per item (pandas ``Int64``,
        missing answers as ``<NA>``), rows in order of submission.
    sales : DataFrame
        The HR/CRM criterion file keyed by ``employee_id``.
    truth : DataFrame
        One row per employee: true latent score per competency, careless flags, duplicate flag and
        whether the employee is in the survey / sales file.
    population : dict
        The population model (JSON-serialisable): parameters, item loadings and thresholds, latent
        correlations, criterion effects and the correlations they imply, defect rates, seed.
    """

    survey: pd.DataFrame
    sales: pd.DataFrame
    truth: pd.DataFrame
    population: dict


# ---------------------------------------------------------------------------------------------- helpers
def latent_correlation(competency_module: dict[str, str], within: float, between: float) -> np.ndarray:
    """Latent correlation matrix implied by a module structure.

    Parameters
    ----------
    competency_module : dict
        Competency key -> module key, in the order of the matrix.
    within, between : float
        Correlation of two competencies in the same module / in different modules.

    Returns
    -------
    ndarray
        Positive-definite correlation matrix (raises ``ValueError`` if the values do not give one).
    """
    mods = list(competency_module.values())
    k = len(mods)
    phi = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            phi[i, j] = 1.0 if i == j else (within if mods[i] == mods[j] else between)
    if k > 1 and np.linalg.eigvalsh(phi).min() <= 1e-8:
        raise ValueError(
            f"latent correlations within={within}, between={between} do not give a positive-definite matrix"
        )
    return phi


def item_thresholds(n_categories: int, items_params: dict) -> np.ndarray:
    """Base thresholds on the latent response scale for a scale with ``n_categories`` points.

    ``items_params["thresholds"]`` is used when it has ``n_categories - 1`` values; otherwise thresholds are
    equally spaced ``spacing`` apart around ``threshold_rule.center``.
    """
    given = items_params.get("thresholds")
    if given is not None and len(given) == n_categories - 1:
        tau = np.asarray(given, dtype=float)
    else:
        rule = items_params.get("threshold_rule", {"center": -0.65, "spacing": 0.75})
        m = n_categories - 1
        tau = float(rule["center"]) + float(rule["spacing"]) * (np.arange(m) - (m - 1) / 2.0)
    if np.any(np.diff(tau) <= 0):
        raise ValueError(f"thresholds must be strictly increasing, got {tau.tolist()}")
    return tau


def implied_item_covariance(
    loadings: np.ndarray, thresholds: np.ndarray, item_competency: np.ndarray, phi: np.ndarray
) -> np.ndarray:
    """Population covariance matrix of the category codes of ordinal items under the ordinal factor model.

    With ``x_i = sum_a 1(y*_i > tau_ia)`` (the code in the trait direction, up to a constant) and
    ``y*_i = lambda_i eta_c(i) + e_i`` standardized:

    * ``Var(x_i) = sum_a sum_b P(y*_i > max(tau_ia, tau_ib)) - P(y*_i > tau_ia) P(y*_i > tau_ib)``;
    * ``Cov(x_i, x_j) = sum_a sum_b [Phi2(-tau_ia, -tau_jb; lambda_i lambda_j phi_{c(i)c(j)}) -
      Phi(-tau_ia) Phi(-tau_jb)]`` (Olsson 1979, the polychoric model run forwards).

    This is the covariance matrix a continuous (ML) CFA of the items estimates, so fitting the model to it gives
    the estimator's large-sample (pseudo-true) values.

    Parameters
    ----------
    loadings : (p,) array
        Standardized loadings on the latent response scale.
    thresholds : (p, m) array
        Thresholds of each item's latent response (trait direction).
    item_competency : (p,) int array
        Index of each item's factor into ``phi``.
    phi : (K, K) array
        Latent correlation matrix.

    Returns
    -------
    (p, p) ndarray

    In R: ``cov(x)`` of a very large sample from ``simsem``/``lavaan::simulateData`` with ``ordered`` items
    approaches this matrix.
    """
    lam = np.asarray(loadings, float)
    tau = np.asarray(thresholds, float)
    comp = np.asarray(item_competency, int)
    p = lam.size
    upper = ndtr(-tau)  # P(y* > tau)
    cov_x = np.empty((p, p))
    for i in range(p):
        ti = tau[i]
        # variance: P(y > max(ta, tb)) - P(y > ta) P(y > tb)
        mx = np.maximum.outer(ti, ti)
        cov_x[i, i] = (ndtr(-mx) - np.outer(upper[i], upper[i])).sum()
        for j in range(i + 1, p):
            rho = lam[i] * lam[j] * phi[comp[i], comp[j]]
            hh, kk2 = np.meshgrid(-ti, -tau[j], indexing="ij")
            c = (bivariate_normal_cdf(hh, kk2, rho) - np.outer(upper[i], upper[j])).sum()
            cov_x[i, j] = cov_x[j, i] = c
    return cov_x


def implied_score_correlations(
    loadings: np.ndarray,
    thresholds: np.ndarray,
    item_competency: np.ndarray,
    phi: np.ndarray,
    criterion_cov: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Population correlations of unit-weighted scale scores under the ordinal factor model.

    For each competency c the score ``S_c`` is the sum (equivalently the mean) of its items after
    reverse-scoring, with complete data and no careless responding. With ``x_i = sum_a 1(y*_i > tau_ia)``
    and ``y*_i = lambda_i eta_c(i) + e_i``:

    * ``Cov(x_i, eta_k) = lambda_i phi_{c(i) k} sum_a pdf(tau_ia)`` (Stein's lemma);
    * ``Cov(x_i, x_j) = sum_a sum_b [Phi2(-tau_ia, -tau_jb; lambda_i lambda_j phi_{c(i)c(j)}) -
      Phi(-tau_ia) Phi(-tau_jb)]`` (Olsson 1979, the polychoric model run forwards).

    Parameters
    ----------
    loadings : (p,) array
        Standardized loadings on the latent response scale (positive; reverse-keying is undone by scoring).
    thresholds : (p, m) array
        Thresholds of each item's positive-direction latent response.
    item_competency : (p,) int array
        Index of each item's competency into ``phi``.
    phi : (K, K) array
        Latent correlation matrix.
    criterion_cov : (K, Q) array, optional
        Covariances of the latent traits with Q standardized criterion predictors (``phi @ beta``).

    Returns
    -------
    dict
        ``score_latent`` (K, K): corr(S_c, eta_k); ``score_score`` (K, K): corr(S_c, S_d);
        ``score_criterion`` (K, Q) if ``criterion_cov`` is given: corr(S_c, z_q).
    """
    lam = np.asarray(loadings, float)
    tau = np.asarray(thresholds, float)
    comp = np.asarray(item_competency, int)
    p = lam.size
    kk = phi.shape[0]
    dens = np.exp(-0.5 * tau**2) / math.sqrt(2.0 * math.pi)
    cov_x = implied_item_covariance(lam, tau, comp, phi)
    # item x latent covariance
    cov_xe = (lam * dens.sum(axis=1))[:, None] * phi[comp, :]
    w = np.zeros((kk, p))
    w[comp, np.arange(p)] = 1.0
    cov_s = w @ cov_x @ w.T
    sd_s = np.sqrt(np.diag(cov_s))
    out = {
        "score_latent": (w @ cov_xe) / sd_s[:, None],
        "score_score": cov_s / np.outer(sd_s, sd_s),
    }
    if criterion_cov is not None:
        out["score_criterion"] = (w @ cov_xe @ np.linalg.solve(phi, criterion_cov)) / sd_s[:, None]
    return out


def _categorise(ystar: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Number of thresholds exceeded, per cell (ystar (n, p), tau (p, m))."""
    return (ystar[:, :, None] > tau[None, :, :]).sum(axis=2)


def _require(params: dict, *path):
    node = params
    for i, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            raise ValueError(f"simulation parameters: missing '{'.'.join(path[: i + 1])}'")
        node = node[key]
    return node


def _r(x, nd=6):
    """Round floats (recursively) for a stable, readable JSON form."""
    if isinstance(x, dict):
        return {k: _r(v, nd) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_r(v, nd) for v in x]
    if isinstance(x, np.ndarray):
        return _r(x.tolist(), nd)
    if isinstance(x, (float, np.floating)):
        v = round(float(x), nd)
        return 0.0 if v == 0 else v
    if isinstance(x, np.integer):
        return int(x)
    return x


# ---------------------------------------------------------------------------------------------- population
def _build_population(codebook: Codebook, params: dict, rng: np.random.Generator) -> dict:
    comp_mod = codebook.competency_module()
    comps = list(comp_mod)
    lat = _require(params, "latent")
    phi = latent_correlation(
        comp_mod, float(lat["within_module_correlation"]), float(lat["between_module_correlation"])
    )
    ip = _require(params, "items")
    items = codebook.items
    p = len(items)
    lo, hi = (float(v) for v in ip["loading_range"])
    lam = np.round(rng.uniform(lo, hi, size=p), 2)
    rev = items["reverse"].to_numpy(bool)
    lam = np.where(rev, lam + float(ip.get("reverse_loading_shift", 0.0)), lam)
    lam = np.clip(np.round(lam, 2), 0.05, 0.95)
    n_cat = codebook.scale_max - codebook.scale_min + 1
    tau0 = item_thresholds(n_cat, ip)
    shift = np.round(rng.normal(0.0, float(ip.get("threshold_item_sd", 0.0)), size=p), 2)
    tau = np.round(tau0[None, :] + shift[:, None], 4)
    comp_index = items["competency"].map({c: i for i, c in enumerate(comps)}).to_numpy(int)

    # criteria
    crit_params = _require(params, "criteria")
    crit_names = list(crit_params)
    unknown = sorted({k for c in crit_params.values() for k in c.get("effects", {})} - set(comps))
    if unknown:
        raise ValueError(
            f"simulation parameters: criterion effects name competencies not in the codebook: {unknown} "
            f"(codebook competencies: {comps})"
        )
    beta = np.array([[float(crit_params[q].get("effects", {}).get(c, 0.0)) for q in crit_names] for c in comps])
    gamma = np.array([float(crit_params[q].get("tenure_effect", 0.0)) for q in crit_names])
    explained = np.einsum("kq,kl,lq->q", beta, phi, beta) + gamma**2
    if np.any(explained >= 1.0):
        bad = [q for q, e in zip(crit_names, explained) if e >= 1]
        raise ValueError(f"criterion effects explain >= 100% of the variance of {bad}")
    resid_var = 1.0 - explained
    r_e = float(params.get("criteria_residual_correlation", 0.0))
    q = len(crit_names)
    cov_e = r_e * np.sqrt(np.outer(resid_var, resid_var))
    np.fill_diagonal(cov_e, resid_var)
    if q > 1 and np.linalg.eigvalsh(cov_e).min() <= 0:
        raise ValueError("criteria_residual_correlation gives a non-positive-definite residual covariance")
    crit_latent = phi @ beta  # corr(eta_k, z_q), since var(z_q) = 1 and tenure is independent of eta
    crit_corr = beta.T @ phi @ beta + np.outer(gamma, gamma) + cov_e
    implied = implied_score_correlations(lam, tau, comp_index, phi, crit_latent)

    d = params.get("defects", {})
    item_rows = []
    for i, row in enumerate(items.itertuples(index=False)):
        item_rows.append(
            {
                "item": row.item,
                "competency": row.competency,
                "dimension": row.dimension,
                "module": row.module,
                "reverse": bool(row.reverse),
                "loading": float(lam[i]),
                "thresholds": tau[i].tolist(),
                "marginal_probabilities": np.diff(np.concatenate([[0.0], ndtr(tau[i]), [1.0]])).tolist(),
            }
        )
    crit_out = {}
    for j, name in enumerate(crit_names):
        cp = dict(crit_params[name])
        scale = {
            "lognormal": "log(value) = log(median) + sdlog * z",
            "poisson": (
                "value ~ Poisson(median * exp(sdlog * z)); linear scale: log rate (observed counts carry "
                "Poisson noise, so their correlations are slightly attenuated)"
            ),
            "normal": "value = mean + sd * z",
            "ordinal": (
                "value = min + number of thresholds below z; linear scale: the latent response z "
                "(observed grades are attenuated as ordinal variables are)"
            ),
        }.get(cp.get("type"), "?")
        crit_out[name] = {
            "type": cp.get("type"),
            "linear_scale": scale,
            "settings": {k: v for k, v in cp.items() if k not in ("effects", "tenure_effect", "type")},
            "betas": {c: float(beta[i, j]) for i, c in enumerate(comps)},
            "tenure_effect": float(gamma[j]),
            "r_squared": float(explained[j]),
            "residual_variance": float(resid_var[j]),
            "implied_latent_correlation": {c: float(crit_latent[i, j]) for i, c in enumerate(comps)},
            "implied_tenure_correlation": float(gamma[j]),
            "implied_score_correlation": {c: float(implied["score_criterion"][i, j]) for i, c in enumerate(comps)},
        }
    return {
        "description": (
            "Population model of the demo data (compval.simulate). Latent traits eta ~ N(0, latent_correlation); "
            "item latent response y* = loading * eta + sqrt(1 - loading^2) * e; answer = min + number of "
            "thresholds below y* (reverse-keyed items: (min + max) - that). Criterion linear predictor "
            "z = sum beta_k eta_k + tenure_effect * t + residual (var(z) = 1, t = standardized log tenure, "
            "independent of eta); residuals correlate criteria_residual_correlation. "
            "implied_score_correlation: population correlation of the unit-weighted mean of a competency's "
            "items (reverse-scored, complete data, no careless responding) with the latent trait / criterion z."
        ),
        "seed": int(params["seed"]),
        "codebook_sha256": codebook.sha256(),
        "scale": {"min": codebook.scale_min, "max": codebook.scale_max},
        "competencies": comps,
        "competency_module": comp_mod,
        "latent_correlation": {
            "within_module": float(lat["within_module_correlation"]),
            "between_module": float(lat["between_module_correlation"]),
            "matrix": {c: {c2: float(phi[i, j]) for j, c2 in enumerate(comps)} for i, c in enumerate(comps)},
        },
        "item_settings": {
            "loading_range": [lo, hi],
            "reverse_loading_shift": float(ip.get("reverse_loading_shift", 0.0)),
            "base_thresholds": tau0.tolist(),
            "threshold_item_sd": float(ip.get("threshold_item_sd", 0.0)),
        },
        "items": item_rows,
        "implied_score_correlation": {
            "with_own_latent": {c: float(implied["score_latent"][i, i]) for i, c in enumerate(comps)},
            "with_latent": {
                c: {c2: float(implied["score_latent"][i, j]) for j, c2 in enumerate(comps)} for i, c in enumerate(comps)
            },
            "between_scores": {
                c: {c2: float(implied["score_score"][i, j]) for j, c2 in enumerate(comps)} for i, c in enumerate(comps)
            },
        },
        "criteria": crit_out,
        "criteria_residual_correlation": r_e,
        "criteria_implied_correlation": {
            a: {b: float(crit_corr[i, j]) for j, b in enumerate(crit_names)} for i, a in enumerate(crit_names)
        },
        "defects": dict(d),
        "defects_description": (
            "Missing answers: P(skip) = logistic(a - missing_trait_slope * eta_item's competency + "
            "log(missing_reverse_odds_ratio) * reverse), a set so that the expected share is missing_rate (not "
            "at random). Careless responders (careless_rate of respondents, chosen at random): straightline_share "
            "give one constant answer (drawn from the average item's marginal distribution) with occasional "
            "random deviations (long strings), the rest answer uniformly at random; both answer fast. "
            "Out-of-range codes replace a random out_of_range_rate of the given answers. Duplicates: "
            "n_duplicates attentive respondents submit again 2-72 h later with each answer moved by +-1 with "
            "probability duplicate_change_prob."
        ),
        "sample": {k: params.get(k) for k in ("n_respondents", "n_no_survey", "n_no_sales", "id_prefix", "id_digits")},
        "timing": dict(params.get("timing", {})),
        "covariates": dict(params.get("covariates", {})),
        "covariates_description": (
            "tenure_years = tenure_median_years * exp(tenure_sdlog * t), t ~ N(0, 1) independent of the latent "
            "traits; role_level from log tenure plus noise at role_level_tenure_cuts; region drawn independently "
            "with the given probabilities. Only tenure affects the criteria (tenure_effect)."
        ),
        # internal arrays (removed before returning)
        "_phi": phi,
        "_lam": lam,
        "_tau": tau,
        "_comp_index": comp_index,
        "_beta": beta,
        "_gamma": gamma,
        "_cov_e": cov_e,
        "_crit_names": crit_names,
    }


# ---------------------------------------------------------------------------------------------- identities
def _names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], list[str]]:
    sur, wts = zip(*_SURNAMES)
    wts = np.asarray(wts) / np.sum(wts)
    s_idx = rng.choice(len(sur), size=n, p=wts)
    two = rng.random(n) < 0.7
    g1 = rng.integers(0, len(_GIVEN_SYLLABLES), size=n)
    g2 = rng.integers(0, len(_GIVEN_SYLLABLES), size=n)
    pre = rng.integers(0, len(_MOBILE_PREFIXES), size=n)
    nums = rng.choice(10**8, size=n, replace=False)
    names, emails, phones = [], [], []
    seen: dict[str, int] = {}
    for i in range(n):
        given = _GIVEN_SYLLABLES[g1[i]] + (_GIVEN_SYLLABLES[g2[i]] if two[i] else "")
        surname = sur[s_idx[i]]
        names.append(f"{surname} {given.capitalize()}")
        local = f"{given}.{surname.lower()}"
        k = seen.get(local, 0)
        seen[local] = k + 1
        emails.append(f"{local}{k if k else ''}@{_EMAIL_DOMAIN}")
        phones.append(f"{_MOBILE_PREFIXES[pre[i]]}{nums[i]:08d}")
    return names, emails, phones


# ---------------------------------------------------------------------------------------------- main entry
def simulate(codebook: Codebook, params: dict) -> SimulationResult:
    """Simulate a survey export, a criterion file and the truth from a stated population model.

    Parameters
    ----------
    codebook : Codebook
        The instrument: competencies (latent traits), their items, reverse keying, the response scale,
        the id column and the module structure (which drives the latent correlations).
    params : dict
        Population parameters as in ``config/simulation.yaml``: ``seed``, ``n_respondents``,
        ``n_no_survey``, ``n_no_sales``, ``latent``, ``items``, ``defects``, ``timing``, ``covariates``,
        ``criteria`` (effects keyed by competency key) and ``criteria_residual_correlation``.

    Returns
    -------
    SimulationResult
        ``survey``, ``sales``, ``truth`` DataFrames and the ``population`` dict. The same ``params``
        (in particular the same seed) always give identical results.

    Notes
    -----
    The generating model is the ordinal (threshold) common-factor model of categorical CFA (Muthen 1984),
    which is what lavaan fits with ``ordered=`` and what psych's ``polychoric`` assumes (Olsson 1979).
    It is the model ``lavaan::simulateData`` draws from when given standardized loadings, factor
    correlations and thresholds (``|`` operators); fitting ``lavaan::cfa(..., ordered = TRUE)`` to a large
    defect-free sample recovers the stated loadings, latent correlations and thresholds (checked once with
    lavaan 0.6-14 on n = 4000: loadings within 0.04, mean difference 0.0003).
    All randomness comes from ``numpy.random.default_rng(params["seed"])`` and its spawned children.
    """
    seed = int(_require(params, "seed"))
    root = np.random.default_rng(seed)
    rng = dict(zip(_STREAMS, root.spawn(len(_STREAMS))))

    pop = _build_population(codebook, params, rng["population"])
    phi, lam, tau = pop.pop("_phi"), pop.pop("_lam"), pop.pop("_tau")
    comp_index, beta, gamma = pop.pop("_comp_index"), pop.pop("_beta"), pop.pop("_gamma")
    cov_e, crit_names = pop.pop("_cov_e"), pop.pop("_crit_names")
    comps = pop["competencies"]
    items = codebook.items
    item_ids = items["item"].tolist()
    rev = items["reverse"].to_numpy(bool)
    smin, smax = codebook.scale_min, codebook.scale_max
    p = len(item_ids)

    n = int(_require(params, "n_respondents"))
    n_no_survey = int(params.get("n_no_survey", 0))
    n_no_sales = int(params.get("n_no_sales", 0))
    if n_no_sales > n:
        raise ValueError("n_no_sales exceeds n_respondents")
    n_emp = n + n_no_survey

    # -------------------------------------------------------------- latent traits and covariates (all employees)
    r = rng["latent"]
    chol = np.linalg.cholesky(phi)
    eta = r.standard_normal((n_emp, len(comps))) @ chol.T
    cov = params.get("covariates", {})
    t_med = float(cov.get("tenure_median_years", 4.0))
    t_sd = float(cov.get("tenure_sdlog", 0.7))
    t_std = r.standard_normal(n_emp)
    tenure = np.clip(np.round(t_med * np.exp(t_sd * t_std), 1), 0.1, 40.0)
    regions = cov.get("regions", {"Head office": 1.0})
    reg_names = list(regions)
    reg_p = np.asarray([float(v) for v in regions.values()])
    region = np.asarray(reg_names, dtype=object)[r.choice(len(reg_names), size=n_emp, p=reg_p / reg_p.sum())]
    levels = cov.get("role_levels", ["Staff"])
    cuts = np.log(np.asarray(cov.get("role_level_tenure_cuts", []), dtype=float))
    lvl_score = np.log(tenure) + r.normal(0.0, 0.4, size=n_emp)
    lvl_idx = np.minimum((lvl_score[:, None] > cuts[None, :]).sum(axis=1), len(levels) - 1)
    role_level = np.asarray(levels, dtype=object)[lvl_idx]

    # -------------------------------------------------------------- item responses (respondents = first n)
    r = rng["responses"]
    eta_r = eta[:n]
    ystar = eta_r[:, comp_index] * lam[None, :] + r.standard_normal((n, p)) * np.sqrt(1.0 - lam**2)[None, :]
    cat = _categorise(ystar, tau)  # 0 .. n_cat-1 in the trait direction
    x = np.where(rev[None, :], smax - cat, smin + cat).astype(float)

    # -------------------------------------------------------------- careless responders
    d = params.get("defects", {})
    r = rng["careless"]
    n_careless = int(round(float(d.get("careless_rate", 0.0)) * n))
    careless_idx = np.sort(r.choice(n, size=n_careless, replace=False)) if n_careless else np.array([], int)
    n_sl = int(round(float(d.get("straightline_share", 0.5)) * n_careless))
    perm = r.permutation(careless_idx)
    sl_idx, rnd_idx = np.sort(perm[:n_sl]), np.sort(perm[n_sl:])
    careless_type = np.full(n, "none", dtype=object)
    careless_type[sl_idx] = "straightline"
    careless_type[rnd_idx] = "random"
    n_cat = smax - smin + 1
    # a straight-liner's constant answer follows the average item's marginal distribution
    marg = np.mean([it["marginal_probabilities"] for it in pop["items"]], axis=0)
    brk = float(d.get("straightline_break_prob", 0.0))
    for i in sl_idx:
        v = smin + r.choice(n_cat, p=marg / marg.sum())
        row = np.full(p, float(v))
        dev = r.random(p) < brk
        row[dev] = r.integers(smin, smax + 1, size=int(dev.sum()))
        x[i] = row
    for i in rnd_idx:
        x[i] = r.integers(smin, smax + 1, size=p)

    # -------------------------------------------------------------- missing answers (MNAR)
    r = rng["missing"]
    miss_rate = float(d.get("missing_rate", 0.0))
    if miss_rate > 0:
        slope = float(d.get("missing_trait_slope", 0.0))
        lor = math.log(float(d.get("missing_reverse_odds_ratio", 1.0)))
        lin = -slope * eta_r[:, comp_index] + lor * rev[None, :]
        lo_a, hi_a = -30.0, 30.0
        for _ in range(100):  # intercept so that the expected missing share equals missing_rate
            a = 0.5 * (lo_a + hi_a)
            if np.mean(1.0 / (1.0 + np.exp(-(a + lin)))) > miss_rate:
                hi_a = a
            else:
                lo_a = a
        p_miss = 1.0 / (1.0 + np.exp(-(a + lin)))
        miss = r.random((n, p)) < p_miss
        x[miss] = np.nan
    else:
        a = None

    # -------------------------------------------------------------- out-of-range codes
    r = rng["out_of_range"]
    oor_rate = float(d.get("out_of_range_rate", 0.0))
    codes = [int(c) for c in d.get("out_of_range_codes", []) if not smin <= int(c) <= smax]
    if not codes:
        codes = [smin - 1, smax + 1]
    n_oor = 0
    if oor_rate > 0:
        obs_cells = np.flatnonzero(~np.isnan(x).ravel())
        n_oor = int(round(oor_rate * n * p))
        cells = np.sort(r.choice(obs_cells, size=min(n_oor, obs_cells.size), replace=False))
        flat = x.ravel()
        flat[cells] = np.asarray(codes, float)[r.integers(0, len(codes), size=cells.size)]
        x = flat.reshape(n, p)

    # -------------------------------------------------------------- identities, timing
    r = rng["identity"]
    digits = int(params.get("id_digits", 5))
    prefix = str(params.get("id_prefix", "ID"))
    id_space = min(max(3 * n_emp, 10), 10**digits - 1)
    if n_emp > id_space:
        raise ValueError(f"id_digits={digits} is too small for {n_emp} employees")
    nums = r.choice(np.arange(1, id_space + 1), size=n_emp, replace=False)
    ids = np.asarray([f"{prefix}{k:0{digits}d}" for k in nums], dtype=object)
    names, emails, phones = _names(r, n)
    tim = params.get("timing", {})
    med = float(tim.get("seconds_per_item_median", 6.0))
    sdl = float(tim.get("seconds_per_item_sdlog", 0.35))
    lo_c, hi_c = (float(v) for v in tim.get("careless_seconds_per_item", [1.0, 2.5]))
    per_item = med * np.exp(sdl * r.standard_normal(n))
    per_item_c = r.uniform(lo_c, hi_c, size=n)
    per_item = np.where(careless_type != "none", per_item_c, per_item)
    ctime = np.round(per_item * p + r.uniform(10, 40, size=n)).astype(int)
    start = pd.Timestamp(str(tim.get("survey_start", "2024-03-04")))
    days = int(tim.get("survey_days", 14))
    day = r.integers(0, days, size=n)
    tod = np.clip(r.normal(14.5 * 3600, 3.0 * 3600, size=n), 8 * 3600, 22.5 * 3600)
    sub_sec = day * 86400 + np.round(tod).astype(np.int64)

    # -------------------------------------------------------------- duplicate submissions
    r = rng["duplicates"]
    n_dup = int(d.get("n_duplicates", 0))
    attentive = np.flatnonzero(careless_type == "none")
    dup_idx = np.sort(r.choice(attentive, size=min(n_dup, attentive.size), replace=False)) if n_dup else []
    chg = float(d.get("duplicate_change_prob", 0.15))
    dup_rows, dup_x = [], []
    for i in dup_idx:
        row = x[i].copy()
        ok = ~np.isnan(row) & (row >= smin) & (row <= smax)
        move = ok & (r.random(p) < chg)
        step = r.choice([-1.0, 1.0], size=p)
        row[move] = np.clip(row[move] + step[move], smin, smax)
        dup_x.append(row)
        later = sub_sec[i] + int(r.integers(2 * 3600, 72 * 3600))
        dup_rows.append((i, later, int(round(ctime[i] * r.uniform(0.6, 1.1)))))

    # -------------------------------------------------------------- assemble the survey export
    def _frame(idx, xs, secs, times):
        f = pd.DataFrame(
            {
                codebook.id_column: ids[idx],
                "name": np.asarray(names, dtype=object)[idx],
                "email": np.asarray(emails, dtype=object)[idx],
                "phone": np.asarray(phones, dtype=object)[idx],
                "region": region[idx],
                "role_level": role_level[idx],
                "tenure_years": tenure[idx],
                "completion_time_sec": times,
                "submitted_at": [(start + pd.Timedelta(seconds=int(s))).strftime("%Y-%m-%d %H:%M:%S") for s in secs],
                "_sec": secs,
            }
        )
        itm = pd.DataFrame(xs, columns=item_ids).astype("Int64")
        return pd.concat([f.reset_index(drop=True), itm], axis=1)

    main_idx = np.arange(n)
    survey = _frame(main_idx, x, sub_sec, ctime)
    if dup_rows:
        di = np.asarray([t[0] for t in dup_rows])
        dup = _frame(di, np.vstack(dup_x), np.asarray([t[1] for t in dup_rows]), np.asarray([t[2] for t in dup_rows]))
        survey = pd.concat([survey, dup], ignore_index=True)
    survey = survey.sort_values(["_sec", codebook.id_column], kind="mergesort").drop(columns="_sec")
    survey = survey.reset_index(drop=True)
    # keep only the columns the codebook declares (in its order) plus the items
    declared = [c["name"] for c in codebook.columns]
    keep = [codebook.id_column] + [c for c in survey.columns[1:] if c in declared or c in item_ids]
    survey = survey[keep]

    # -------------------------------------------------------------- criteria (all employees)
    r = rng["criteria"]
    nq = len(crit_names)
    e = r.multivariate_normal(np.zeros(nq), cov_e, size=n_emp, method="cholesky") if nq else np.zeros((n_emp, 0))
    z = eta @ beta + np.outer(t_std, gamma) + e
    crit_params = params["criteria"]
    sales = pd.DataFrame({"employee_id": ids})
    for j, name in enumerate(crit_names):
        cp = crit_params[name]
        typ = cp.get("type")
        zj = z[:, j]
        if typ == "lognormal":
            v = float(cp["median"]) * np.exp(float(cp["sdlog"]) * zj)
            nd = int(cp.get("decimals", 0))
            sales[name] = np.round(v).astype(int) if nd == 0 else np.round(v, nd)
        elif typ == "poisson":
            rate = float(cp["median"]) * np.exp(float(cp["sdlog"]) * zj)
            sales[name] = r.poisson(rate).astype(int)
        elif typ == "normal":
            v = float(cp["mean"]) + float(cp["sd"]) * zj
            if "min" in cp:
                v = np.maximum(v, float(cp["min"]))
            if "max" in cp:
                v = np.minimum(v, float(cp["max"]))
            sales[name] = np.round(v, int(cp.get("decimals", 1)))
        elif typ == "ordinal":
            th = np.asarray(cp["thresholds"], float)
            sales[name] = (int(cp.get("min", 1)) + (zj[:, None] > th[None, :]).sum(axis=1)).astype(int)
        else:
            raise ValueError(f"criterion {name!r}: unknown type {typ!r} (lognormal, poisson, normal, ordinal)")

    # -------------------------------------------------------------- coverage of the two files
    r = rng["coverage"]
    no_sales = np.sort(r.choice(n, size=n_no_sales, replace=False)) if n_no_sales else np.array([], int)
    in_sales = np.ones(n_emp, bool)
    in_sales[no_sales] = False
    sales = sales.loc[in_sales].sort_values("employee_id", kind="mergesort").reset_index(drop=True)

    # -------------------------------------------------------------- truth
    in_survey = np.zeros(n_emp, bool)
    in_survey[:n] = True
    ctype = np.concatenate([careless_type, np.full(n_no_survey, "none", dtype=object)])
    is_dup = np.zeros(n_emp, int)
    is_dup[list(dup_idx)] = 1
    truth = pd.DataFrame({codebook.id_column: ids})
    for k, c in enumerate(comps):
        truth[c] = eta[:, k]
    truth["tenure_z"] = t_std
    for j, name in enumerate(crit_names):
        truth[f"z_{name}"] = z[:, j]
    truth["careless"] = (ctype != "none").astype(int)
    truth["careless_type"] = ctype
    truth["is_duplicate_submission"] = is_dup
    truth["in_survey"] = in_survey.astype(int)
    truth["in_sales"] = in_sales.astype(int)
    truth = truth.sort_values(codebook.id_column, kind="mergesort").reset_index(drop=True)

    # -------------------------------------------------------------- realised defect counts
    items_only = survey[item_ids]
    vals = items_only.to_numpy(dtype=float, na_value=np.nan)
    pop["realised"] = {
        "survey_rows": int(len(survey)),
        "respondents": n,
        "careless": int(n_careless),
        "straightline": int(len(sl_idx)),
        "random": int(len(rnd_idx)),
        "missing_share": float(np.isnan(vals).mean()),
        "out_of_range_cells": int(((vals < smin) | (vals > smax)).sum()),
        "duplicate_ids": sorted(str(ids[i]) for i in dup_idx),
        "no_sales_ids": sorted(str(ids[i]) for i in no_sales),
        "no_survey_ids": sorted(str(v) for v in ids[n:]),
        "missing_intercept": a,
    }
    pop["files"] = {
        "survey.csv": "survey export: one row per submission, items as integer codes (blank = skipped)",
        "sales.csv": "HR/CRM criterion file keyed by employee_id (= respondent_id)",
        "truth.csv": (
            "one row per employee: latent trait per competency, tenure_z, criterion linear predictors z_*, "
            "careless flags, is_duplicate_submission (submitted twice: the later row is the duplicate), "
            "in_survey, in_sales"
        ),
    }
    return SimulationResult(survey=survey, sales=sales, truth=truth, population=_r(pop))


# ---------------------------------------------------------------------------------------------- I/O
def write_outputs(result: SimulationResult, out_dir: str | Path) -> list[Path]:
    """Write ``survey.csv``, ``sales.csv``, ``truth.csv`` and ``population_model.json`` to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "survey.csv", out / "sales.csv", out / "truth.csv", out / "population_model.json"]
    result.survey.to_csv(paths[0], index=False, lineterminator="\n")
    result.sales.to_csv(paths[1], index=False, lineterminator="\n")
    result.truth.to_csv(paths[2], index=False, lineterminator="\n", float_format="%.6f")
    paths[3].write_text(json.dumps(result.population, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m compval.simulate --codebook C --params P --out DIR [--seed S] [--n N]``."""
    import yaml

    ap = argparse.ArgumentParser(prog="python -m compval.simulate", description=__doc__.splitlines()[0])
    ap.add_argument("--codebook", required=True, help="codebook YAML")
    ap.add_argument("--params", required=True, help="population parameters YAML (config/simulation.yaml)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=None, help="override the seed in --params")
    ap.add_argument("--n", type=int, default=None, help="override n_respondents in --params")
    args = ap.parse_args(argv)
    cb = load_codebook(args.codebook)
    params = yaml.safe_load(Path(args.params).read_text(encoding="utf-8"))
    if args.seed is not None:
        params["seed"] = args.seed
    if args.n is not None:
        params["n_respondents"] = args.n
    res = simulate(cb, params)
    for path in write_outputs(res, args.out):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
