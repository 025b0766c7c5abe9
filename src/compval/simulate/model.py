"""The population model of the demo data: latent correlations, item thresholds, the moments the ordinal factor
model implies, and the model built from a codebook and the population parameters (see :mod:`compval.simulate`)."""

from __future__ import annotations

import copy
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
    "tkl_minor_loadings",
    "model_error",
    "population_arrays",
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


def _response_covariance(
    loadings: np.ndarray, item_competency: np.ndarray, phi: np.ndarray, residual: np.ndarray | None
) -> np.ndarray:
    """Off-diagonal latent-response covariances ``(Lambda Phi Lambda')_ij + residual_ij`` (the diagonal is 1).

    ``loadings`` is either a (p,) vector of primary loadings (item ``i`` loads on factor ``item_competency[i]``
    only) or a (p, K) pattern matrix ``Lambda`` (cross-loadings included).
    """
    lam = np.asarray(loadings, float)
    if lam.ndim == 1:
        pattern = np.zeros((lam.size, phi.shape[0]))
        pattern[np.arange(lam.size), np.asarray(item_competency, int)] = lam
    else:
        pattern = lam
    r = pattern @ phi @ pattern.T
    if residual is not None:
        r = r + np.asarray(residual, float)
    np.fill_diagonal(r, 1.0)
    return r


def implied_item_covariance(
    loadings: np.ndarray,
    thresholds: np.ndarray,
    item_competency: np.ndarray,
    phi: np.ndarray,
    residual: np.ndarray | None = None,
) -> np.ndarray:
    """Population covariance matrix of the category codes of ordinal items under the ordinal factor model.

    With ``x_i = sum_a 1(y*_i > tau_ia)`` (the code in the trait direction, up to a constant) and standardized
    latent responses ``y*`` whose correlations are ``R*_ij = (Lambda Phi Lambda')_ij + Psi_ij`` (``Lambda`` the
    pattern of loadings on the K factors, ``Psi`` the latent-response covariance the factors do not carry):

    * ``Var(x_i) = sum_a sum_b P(y*_i > max(tau_ia, tau_ib)) - P(y*_i > tau_ia) P(y*_i > tau_ib)``;
    * ``Cov(x_i, x_j) = sum_a sum_b [Phi2(-tau_ia, -tau_jb; R*_ij) - Phi(-tau_ia) Phi(-tau_jb)]``
      (Olsson 1979, the polychoric model run forwards).

    This is the covariance matrix a continuous (ML) CFA of the items estimates, so fitting the model to it gives
    the estimator's large-sample (pseudo-true) values.

    Parameters
    ----------
    loadings : (p,) or (p, K) array
        Standardized loadings on the latent response scale: each item's primary loading (on factor
        ``item_competency[i]``), or the full (p, K) pattern with cross-loadings.
    thresholds : (p, m) array
        Thresholds of each item's latent response (trait direction).
    item_competency : (p,) int array
        Index of each item's factor into ``phi`` (used with a (p,) ``loadings``).
    phi : (K, K) array
        Latent correlation matrix.
    residual : (p, p) array, optional
        ``Psi``: latent-response covariance beyond the K factors (off-diagonal elements are used): a method
        factor, correlated unique parts, minor factors (the demo's population, :func:`model_error`, passes
        ``residual_covariance``). Omitted, the K-factor model holds exactly (``compval.power``'s populations).

    Returns
    -------
    (p, p) ndarray

    In R: ``cov(x)`` of a very large sample from ``simsem``/``lavaan::simulateData`` with ``ordered`` items
    approaches this matrix.
    """
    tau = np.asarray(thresholds, float)
    rstar = _response_covariance(loadings, item_competency, phi, residual)
    p = tau.shape[0]
    upper = ndtr(-tau)  # P(y* > tau)
    cov_x = np.empty((p, p))
    for i in range(p):
        ti = tau[i]
        # variance: P(y > max(ta, tb)) - P(y > ta) P(y > tb)
        mx = np.maximum.outer(ti, ti)
        cov_x[i, i] = (ndtr(-mx) - np.outer(upper[i], upper[i])).sum()
        for j in range(i + 1, p):
            hh, kk2 = np.meshgrid(-ti, -tau[j], indexing="ij")
            c = (bivariate_normal_cdf(hh, kk2, rstar[i, j]) - np.outer(upper[i], upper[j])).sum()
            cov_x[i, j] = cov_x[j, i] = c
    return cov_x


def implied_score_correlations(
    loadings: np.ndarray,
    thresholds: np.ndarray,
    item_competency: np.ndarray,
    phi: np.ndarray,
    criterion_cov: np.ndarray | None = None,
    residual: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Population correlations of unit-weighted scale scores under the ordinal factor model.

    For each competency c the score ``S_c`` is the sum (equivalently the mean) of its items (``item_competency``)
    after reverse-scoring, with complete data and no careless responding. With ``x_i = sum_a 1(y*_i > tau_ia)``,
    ``y* = Lambda eta + u`` standardized, ``Lambda`` the (p, K) pattern and ``u`` independent of the traits
    (a method factor, unique parts, minor factors: covariance ``Psi``):

    * ``Cov(x_i, eta_k) = (Lambda Phi)_ik sum_a pdf(tau_ia)`` (Stein's lemma: ``Cov(y*_i, eta_k) = (Lambda
      Phi)_ik``, the primary loading times ``phi_{c(i) k}`` plus the cross-loadings' share);
    * ``Cov(x_i, x_j) = sum_a sum_b [Phi2(-tau_ia, -tau_jb; R*_ij) - Phi(-tau_ia) Phi(-tau_jb)]`` with
      ``R*_ij = (Lambda Phi Lambda')_ij + Psi_ij`` (Olsson 1979, :func:`implied_item_covariance`).

    Parameters
    ----------
    loadings : (p,) or (p, K) array
        Standardized loadings on the latent response scale (positive; reverse-keying is undone by scoring):
        primary loadings, or the full pattern with cross-loadings.
    thresholds : (p, m) array
        Thresholds of each item's positive-direction latent response.
    item_competency : (p,) int array
        Index of each item's competency into ``phi`` (the score it counts towards).
    phi : (K, K) array
        Latent correlation matrix.
    criterion_cov : (K, Q) array, optional
        Covariances of the latent traits with Q standardized criterion predictors (``phi @ beta``); the criteria
        depend on the traits only, not on ``Psi``.
    residual : (p, p) array, optional
        ``Psi`` (see :func:`implied_item_covariance`).

    Returns
    -------
    dict
        ``score_latent`` (K, K): corr(S_c, eta_k); ``score_score`` (K, K): corr(S_c, S_d);
        ``score_criterion`` (K, Q) if ``criterion_cov`` is given: corr(S_c, z_q).
    """
    lam = np.asarray(loadings, float)
    tau = np.asarray(thresholds, float)
    comp = np.asarray(item_competency, int)
    p = tau.shape[0]
    kk = phi.shape[0]
    if lam.ndim == 1:
        pattern = np.zeros((p, kk))
        pattern[np.arange(p), comp] = lam
    else:
        pattern = lam
    dens = np.exp(-0.5 * tau**2) / math.sqrt(2.0 * math.pi)
    cov_x = implied_item_covariance(pattern, tau, comp, phi, residual)
    # item x latent covariance
    cov_xe = dens.sum(axis=1)[:, None] * (pattern @ phi)
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


def tkl_minor_loadings(
    unique_variance: np.ndarray, n_factors: int, share: float, epsilon: float, rng: np.random.Generator
) -> np.ndarray:
    """Loadings of many minor common factors (Tucker, Koopman & Linn 1969): small, unsystematic model error.

    The algorithm of R's ``fungible::simFA`` (``ModelError``) and ``noisemaker`` (method ``"TKL"``):

    1. draw ``W*_ij ~ N(0, (1 - epsilon)^(2 (j - 1)))``, ``i = 1..p`` items, ``j = 1..M`` minor factors: each
       successive minor factor is weaker by the factor ``1 - epsilon``;
    2. scale each row to unit length, ``W**_i = W*_i / ||W*_i||``;
    3. give item ``i`` the share ``v`` of its unique variance ``u_i^2``: ``W_i = sqrt(v u_i^2) W**_i``.

    The population correlation matrix is then ``Lambda Phi Lambda' + W W' + diag(u^2 (1 - v))`` (plus whatever
    else the unique parts share): ``W W'`` adds covariances no K-factor model carries, so a correct major-factor
    model misfits a little (population RMSEA > 0), as real models do (MacCallum & Tucker 1991).

    Parameters
    ----------
    unique_variance : (p,) array
        ``u_i^2``: each item's variance not explained by the major (and method) factors.
    n_factors : int
        ``M``, the number of minor factors (e.g. 50-150).
    share : float
        ``v``, the share of the unique variance carried by the minor factors (e.g. .05-.10).
    epsilon : float
        ``epsilon`` in [0, 1), how fast the minor factors' variances fall off (.2 in simFA's default).
    rng : numpy.random.Generator

    Returns
    -------
    (p, M) ndarray ``W``; ``(W W')_ii = v u_i^2``.

    References
    ----------
    Tucker, L. R., Koopman, R. F., & Linn, R. L. (1969). Evaluation of factor analytic research procedures by
    means of simulated correlation matrices. Psychometrika 34, 421-459. Briggs, N. E., & MacCallum, R. C. (2003).
    Recovery of weak common factors by maximum likelihood and ordinary least squares estimation. Multivariate
    Behavioral Research 38, 25-56.
    """
    u2 = np.asarray(unique_variance, float)
    if not 0.0 <= share < 1.0:
        raise ValueError(f"minor factors: share of the unique variance must be in [0, 1), got {share}")
    if not 0.0 <= epsilon < 1.0:
        raise ValueError(f"minor factors: epsilon must be in [0, 1), got {epsilon}")
    m = int(n_factors)
    if m <= 0 or share == 0.0:
        return np.zeros((u2.size, max(m, 0)))
    sd = (1.0 - epsilon) ** np.arange(m)
    w = rng.standard_normal((u2.size, m)) * sd[None, :]
    w /= np.sqrt((w**2).sum(axis=1))[:, None]
    return w * np.sqrt(share * u2)[:, None]


def model_error(
    codebook: Codebook, settings: dict | None, loadings: np.ndarray, phi: np.ndarray, rng: np.random.Generator
) -> dict:
    """What real self-ratings have beyond the major factors, from ``model_error`` of ``config/simulation.yaml``.

    The standardized latent response of item ``i`` is

    ``y*_i = lambda_i eta_c(i) + sum_k c_ik eta_k + m_i M + sum_j W_ij xi_j + s_i``,

    with the competencies ``eta`` (correlations ``Phi``), cross-loadings ``c_ik`` on other competencies (a
    cross-loaded item keeps the communality of its drawn loading ``l_i``: its primary loading becomes the positive
    root of ``lambda^2 + 2 lambda (c_i' Phi)_c(i) + c_i' Phi c_i = l_i^2``), a wording
    (method) factor ``M ~ N(0, 1)`` orthogonal to the traits with loading ``m_i`` on the reverse-keyed items
    (negatively worded self-ratings share variance of their own: Marsh 1996; DiStefano & Motl 2006), minor
    factors ``xi`` (:func:`tkl_minor_loadings`) and specific parts ``s``. With the unique variance
    ``u_i^2 = 1 - (Lambda Phi Lambda')_ii - m_i^2``, the minor factors carry ``v u_i^2`` and ``s_i`` the rest,
    ``Var(s_i) = (1 - v) u_i^2``; named pairs' unique parts correlate ``r_ij``:
    ``Cov(s_i, s_j) = r_ij u_i u_j`` (e.g. items sharing a stem). The latent-response correlation matrix is

    ``R* = Lambda Phi Lambda' + m m' + W W' + S``, ``diag(R*) = 1``,

    and ``residual_covariance = R* - Lambda Phi Lambda' = m m' + W W' + S`` is what the competencies (cross-loadings
    included) do not carry (``Psi`` of :func:`implied_item_covariance`, to be used with the pattern ``Lambda``).

    Parameters
    ----------
    codebook : Codebook
    settings : dict or None
        ``method_factor`` ({``items``: ``reverse`` or a list of item ids, ``loading``}), ``cross_loadings``
        ({item: {competency: loading}}), ``residual_correlations`` ([[item, item, r], ...]), ``minor_factors``
        ({``n``, ``unique_variance_share``, ``epsilon``}); each optional. None: no model error.
    loadings : (p,) array
        Primary loadings (codebook item order).
    phi : (K, K) array
    rng : numpy.random.Generator
        Draws the minor factors' loadings (the population stream, after the loadings and thresholds).

    Returns
    -------
    dict with ``pattern`` (p, K; the primary loadings on its diagonal positions, reduced for cross-loaded
    items), ``method`` (p,), ``unique_variance`` (p,), ``specific_covariance`` (p, p),
    ``minor`` (p, M), ``residual_covariance`` (p, p) and ``pairs`` [(i, j, r)] (item indices).
    """
    st = dict(settings or {})
    items = codebook.items
    ids = items["item"].tolist()
    pos = {it: i for i, it in enumerate(ids)}
    comps = list(codebook.competency_module())
    cpos = {c: k for k, c in enumerate(comps)}
    comp_index = items["competency"].map(cpos).to_numpy(int)
    p, kk = len(ids), len(comps)
    lam = np.asarray(loadings, float)

    def _item(it: str, what: str) -> int:
        if it not in pos:
            raise ValueError(f"simulation parameters: model_error.{what} names {it!r}, not an item of the codebook")
        return pos[it]

    pattern = np.zeros((p, kk))
    pattern[np.arange(p), comp_index] = lam
    for it, targets in (st.get("cross_loadings") or {}).items():
        i = _item(it, "cross_loadings")
        for c, v in targets.items():
            if c not in cpos:
                raise ValueError(
                    f"simulation parameters: model_error.cross_loadings.{it} names {c!r}, not a competency"
                )
            if cpos[c] == comp_index[i]:
                raise ValueError(f"simulation parameters: model_error.cross_loadings.{it}: {c} is its own competency")
            pattern[i, cpos[c]] = float(v)
        # the item keeps its communality h^2 = lambda^2: the primary loading l solves
        # l^2 + 2 l (c' Phi)_own + c' Phi c = h^2 (c: its cross-loadings)
        cross = pattern[i].copy()
        cross[comp_index[i]] = 0.0
        b = float(cross @ phi[:, comp_index[i]])
        rest = lam[i] ** 2 - float(cross @ phi @ cross)
        if rest + b * b <= 0 or -b + np.sqrt(rest + b * b) <= 0:
            raise ValueError(
                f"simulation parameters: model_error.cross_loadings.{it} exceed its communality {lam[i] ** 2:.2f}"
            )
        pattern[i, comp_index[i]] = round(-b + float(np.sqrt(rest + b * b)), 4)
    method = np.zeros(p)
    mf = st.get("method_factor") or {}
    if mf:
        which = mf.get("items", "reverse")
        idx = (
            np.flatnonzero(items["reverse"].to_numpy(bool))
            if which == "reverse"
            else [_item(i, "method_factor") for i in which]
        )
        method[idx] = float(mf["loading"])
    common = np.einsum("ik,kl,il->i", pattern, phi, pattern) + method**2
    u2 = 1.0 - common
    if np.any(u2 < 0.05):
        bad = [ids[i] for i in np.flatnonzero(u2 < 0.05)]
        raise ValueError(f"simulation parameters: model_error leaves less than 5% unique variance for {bad}")
    mn = st.get("minor_factors") or {}
    share = float(mn.get("unique_variance_share", 0.0))
    minor = tkl_minor_loadings(u2, int(mn.get("n", 0)), share, float(mn.get("epsilon", 0.2)), rng)
    u = np.sqrt(u2)
    specific = np.diag((1.0 - share) * u2)
    pairs = []
    for a, b, r in st.get("residual_correlations") or []:
        i, j = _item(a, "residual_correlations"), _item(b, "residual_correlations")
        if i == j:
            raise ValueError(f"simulation parameters: model_error.residual_correlations pairs {a} with itself")
        specific[i, j] = specific[j, i] = float(r) * u[i] * u[j]
        pairs.append((i, j, float(r)))
    if np.linalg.eigvalsh(specific).min() <= 0:
        raise ValueError(
            "simulation parameters: model_error.residual_correlations give a non-positive-definite covariance of "
            "the unique parts (each r must stay below 1 - minor_factors.unique_variance_share)"
        )
    residual = np.outer(method, method) + minor @ minor.T + specific
    return {
        "pattern": pattern,
        "method": method,
        "unique_variance": u2,
        "specific_covariance": specific,
        "minor": minor,
        "residual_covariance": residual,
        "pairs": pairs,
    }


def population_arrays(population: dict) -> dict[str, np.ndarray]:
    """The arrays of a saved population model (``population_model.json``, :func:`build_population`).

    Parameters
    ----------
    population : dict
        The population model as written (items in codebook order).

    Returns
    -------
    dict
        ``loadings`` (p,): primary loadings (the major factors' truth); ``pattern`` (p, K): with the cross-loadings;
        ``thresholds`` (p, m); ``item_competency`` (p,) int; ``phi`` (K, K); ``method`` (p,); ``minor`` (p, M);
        ``residual`` (p, p): ``m m' + W W' + S``, the latent-response covariance the competencies do not carry
        (:func:`model_error`), so that ``implied_item_covariance(pattern, thresholds, item_competency, phi,
        residual)`` is the population covariance of the answers and ``implied_item_covariance(loadings,
        thresholds, item_competency, phi)`` that of the major factors alone.
    """
    comps = list(population["competencies"])
    cpos = {c: k for k, c in enumerate(comps)}
    items = population["items"]
    p, kk = len(items), len(comps)
    phi = np.array([[population["latent_correlation"]["matrix"][a][b] for b in comps] for a in comps], float)
    comp = np.array([cpos[it["competency"]] for it in items], int)
    lam = np.array([it["loading"] for it in items], float)
    pattern = np.zeros((p, kk))
    pattern[np.arange(p), comp] = lam
    for i, it in enumerate(items):
        for c, v in it.get("cross_loadings", {}).items():
            pattern[i, cpos[c]] = v
    method = np.array([it.get("method_loading", 0.0) for it in items], float)
    n_minor = int(population.get("model_error", {}).get("minor_factors", 0))
    minor = np.array([it.get("minor_factor_loadings", []) for it in items], float).reshape(p, n_minor)
    u2 = np.array([it.get("unique_variance", 1.0 - lam[i] ** 2) for i, it in enumerate(items)], float)
    specific = np.diag(u2 - (minor**2).sum(axis=1))
    ids = {it["item"]: i for i, it in enumerate(items)}
    for pair in population.get("model_error", {}).get("residual_correlations", []):
        i, j = (ids[x] for x in pair["items"])
        specific[i, j] = specific[j, i] = pair["covariance"]
    return {
        "loadings": lam,
        "pattern": pattern,
        "thresholds": np.array([it["thresholds"] for it in items], float),
        "item_competency": comp,
        "phi": phi,
        "method": method,
        "minor": minor,
        "residual": np.outer(method, method) + minor @ minor.T + specific,
    }


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
        ``_crit_names``, ``_pattern``, ``_method``, ``_minor``, ``_specific``: :func:`model_error`), which the caller
        removes.
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
    err = model_error(codebook, params.get("model_error"), lam, phi, rng)

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
    implied = implied_score_correlations(err["pattern"], tau, comp_index, phi, crit_latent, err["residual_covariance"])

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
                "loading": float(err["pattern"][i, comp_index[i]]),
                "cross_loadings": {
                    c: float(err["pattern"][i, k])
                    for k, c in enumerate(comps)
                    if k != comp_index[i] and err["pattern"][i, k]
                },
                "method_loading": float(err["method"][i]),
                "unique_variance": float(err["unique_variance"][i]),
                "minor_factor_variance": float((err["minor"][i] ** 2).sum()),
                "minor_factor_loadings": err["minor"][i].tolist(),
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
            "item latent response y* = loading * eta_own + sum cross_loadings * eta_other + method_loading * M + "
            "sum minor_factor_loadings * xi + s (standardized: var(y*) = 1), M ~ N(0, 1) the wording factor of "
            "the reverse-keyed items (truth.csv: method_reverse), xi ~ N(0, I) the Tucker-Koopman-Linn minor "
            "factors, s the specific part (variance unique_variance - minor_factor_variance; model_error."
            "residual_correlations: named pairs' unique parts correlate r, cov = r * sqrt(unique_variance_i * "
            "unique_variance_j)); eta, M, xi, s independent. The major factors (the truth the pipeline should "
            "recover) are the competencies with the primary loadings 'loading'. answer = min + number of "
            "thresholds below y* (reverse-keyed items: (min + max) - that). Criterion linear predictor "
            "z = sum beta_k eta_k + tenure_effect * t + residual (var(z) = 1, t = standardized log tenure, "
            "independent of eta); residuals correlate criteria_residual_correlation. "
            "implied_score_correlation: population correlation of the unit-weighted mean of a competency's "
            "items (reverse-scored, complete data, no careless responding) with the latent trait / criterion z, "
            "under the whole population model (model error included)."
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
        "model_error": {
            "settings": copy.deepcopy(params.get("model_error") or {}),
            "residual_correlations": [
                {
                    "items": [items["item"].iloc[i], items["item"].iloc[j]],
                    "r": r,
                    "covariance": float(err["specific_covariance"][i, j]),
                }
                for i, j, r in err["pairs"]
            ],
            "minor_factors": int(err["minor"].shape[1]),
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
        "_lam": err["pattern"][np.arange(p), comp_index],
        "_tau": tau,
        "_comp_index": comp_index,
        "_pattern": err["pattern"],
        "_method": err["method"],
        "_minor": err["minor"],
        "_specific": err["specific_covariance"],
        "_beta": beta,
        "_gamma": gamma,
        "_cov_e": cov_e,
        "_crit_names": crit_names,
    }
