"""The population model of the demo data: latent correlations, item thresholds, the moments the ordinal factor
model implies, and the model built from a codebook and the population parameters (see :mod:`compval.simulate`)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from ..codebook import Codebook
from ..sem.bivariate import bivariate_normal_cdf

__all__ = [
    "latent_correlation",
    "item_thresholds",
    "implied_item_covariance",
    "implied_score_correlations",
    "require",
    "build_population",
]


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


def require(params: dict, *path):
    """The value at ``path`` in the nested parameter dict, or a ValueError naming the missing key.

    Parameters
    ----------
    params : dict
        Population parameters (``config/simulation.yaml``).
    *path : str
        Keys, outermost first.
    """
    node = params
    for i, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            raise ValueError(f"simulation parameters: missing '{'.'.join(path[: i + 1])}'")
        node = node[key]
    return node


def build_population(codebook: Codebook, params: dict, rng: np.random.Generator) -> dict:
    """The population model of :func:`compval.simulate.simulate`: loadings and thresholds drawn from ``params``
    with ``rng``, the latent correlations, the criterion effects and the correlations they imply.

    Parameters
    ----------
    codebook : Codebook
    params : dict
        Population parameters (``config/simulation.yaml``).
    rng : numpy.random.Generator
        The simulation's ``population`` stream.

    Returns
    -------
    dict
        The JSON-ready population model plus the arrays the simulation draws from under keys starting with an
        underscore (``_phi``, ``_lam``, ``_tau``, ``_comp_index``, ``_beta``, ``_gamma``, ``_cov_e``,
        ``_crit_names``), which the caller removes.
    """
    comp_mod = codebook.competency_module()
    comps = list(comp_mod)
    lat = require(params, "latent")
    phi = latent_correlation(
        comp_mod, float(lat["within_module_correlation"]), float(lat["between_module_correlation"])
    )
    ip = require(params, "items")
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
    crit_params = require(params, "criteria")
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
