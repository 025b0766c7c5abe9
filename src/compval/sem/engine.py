"""Maximum-likelihood estimation of LISREL-type measurement models (the engine behind :mod:`compval.cfa`).

Model (per group): y = nu + Lambda eta + eps, eta = alpha + B eta + zeta, so that
Sigma = Lambda A Psi A' Lambda' + Theta and mu = nu + Lambda A alpha with A = (I - B)^-1 (Joreskog 1973;
the representation used by lavaan, Rosseel 2012).

The discrepancy minimised is the normal-theory ML fit function (likelihood = "normal", covariances divided by N)

    F(theta) = sum_g N_g/N * sum_b n_b/N_g [log|Sigma_b| + tr(S_b Sigma_b^-1) + (ybar_b - mu_b)' Sigma_b^-1 (...)]
               - F_h1

where b runs over the missing-data patterns of group g (one pattern for complete data: then F_h1 = log|S| + p
and F is the usual F_ML; with missing data this is the FIML objective of Arbuckle 1996). chi-square = N * F.
Minimisation is by Fisher scoring with step halving using the analytic gradient and the expected information;
with missing data it starts from two-stage ML, with that fit's Hessian as the metric (:func:`fit_fiml_two_stage`).

The pieces live beside it: sample statistics and missing-data patterns in :mod:`.samplestats`, the model
(matrices, implied moments, derivatives, start values) in :mod:`.model`, the unrestricted (h1) model and the
analytic observed information in :mod:`.h1`; their public names are importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .h1 import delta_in, h1_information_missing, h1_inverse_missing, observed_information_analytic
from .h1 import saturated_model, saturated_observed_information, saturated_scores
from .model import Model
from .samplestats import Block, GroupData, block_f, group_data, loglik, moment_group, moment_wv, patterns, row_u
from .samplestats import saturated_fiml

__all__ = [
    "Block",
    "GroupData",
    "Model",
    "OptResult",
    "group_data",
    "fit_ml",
    "fit_fiml_two_stage",
    "TWO_STAGE_MAXIT",
    "saturated_fiml",
    "objective",
    "gradient_info",
    "expected_information",
    "observed_information",
    "observed_information_analytic",
    "casewise_scores",
    "first_order_information",
    "saturated_model",
    "saturated_observed_information",
    "saturated_scores",
    "h1_information_missing",
    "h1_inverse_missing",
    "delta_in",
    "loglik",
]


def objective(model: Model, x, groups: list[GroupData]) -> float:
    ntot = sum(g.n for g in groups)
    f = 0.0
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(x, g, gd.mean)
        fg = block_f(gd, mu, sigma)
        if not np.isfinite(fg):
            return np.inf
        f += gd.n / ntot * (fg - gd.h1_f)
    return f


def gradient_info(model: Model, x, groups: list[GroupData], info: bool = True):
    """Gradient of F and the Fisher-scoring matrix 2 x I (I: expected information per observation).

    With missing data the scoring matrix is the complete-data expected information at the implied moments
    (used only as a step metric; standard errors use :func:`observed_information`). The gradient is
    tr(W dSigma/dx_a) + v' dmu/dx_a (:meth:`Model.contract`) and the scoring matrix is formed from the rank-2
    terms of the derivatives (:meth:`Model.information`): neither forms the q x p x p derivative array.
    """
    ntot = sum(g.n for g in groups)
    q = model.nfree
    grad = np.zeros(q)
    H = np.zeros((q, q))
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(x, g, gd.mean)
        wg = gd.n / ntot
        si = np.linalg.inv(sigma) if info else None
        W, v = moment_wv(gd, mu, sigma, inverse=si)
        grad += wg * model.contract(x, g, W, v if model.meanstructure else None)
        if si is not None:
            act, Hg = model.information(x, g, si)
            if len(act) == q:
                H += wg * Hg
            else:  # multiple groups: only the parameters of group g have non-zero derivatives
                H[np.ix_(act, act)] += wg * Hg
    return grad, H


def expected_information(model: Model, x, groups: list[GroupData]) -> np.ndarray:
    """Expected (Fisher) information per observation, sum_g N_g/N Delta' W Delta (lavaan's "expected";
    complete data)."""
    return 0.5 * gradient_info(model, x, groups)[1]


def casewise_scores(model: Model, x, gd: GroupData, g: int) -> np.ndarray:
    """Casewise derivatives of the log-likelihood with respect to the free parameters (n x q, rows in pattern
    order): -tr(P dSigma_j)/2 + u' dSigma_j u / 2 + u' dmu_j with u = P (y_o - mu_o), P = Sigma_oo^-1."""
    sigma, mu, dS, dm = model.moments(x, g, gd.mean)
    pt = patterns(gd)
    q = dS.shape[0]
    P = pt.inverse(sigma)
    U = row_u(pt, P, mu)
    flat = dS.reshape(q, -1)
    tr = P.reshape(pt.nb, -1) @ flat.T  # (nb, q)
    pat = np.repeat(np.arange(pt.nb), pt.n.astype(int))
    out = np.empty((len(U), q))
    chunk_rows = max(1, int(4e6 // (pt.p * pt.p)))  # rows of u u' per product (bounded memory)
    for r0 in range(0, len(U), chunk_rows):
        r = slice(r0, min(len(U), r0 + chunk_rows))
        uu = (U[r, :, None] * U[r, None, :]).reshape(-1, pt.p * pt.p)
        out[r] = 0.5 * (uu @ flat.T) - 0.5 * tr[pat[r]]
    if model.meanstructure:
        out += U @ dm.T
    return out


def first_order_information(model: Model, x, gd: GroupData, g: int) -> np.ndarray:
    """First-order information per observation of group g, B0_g = S'S / N_g with S the casewise scores
    (:func:`casewise_scores`). Kept on the model for the last x, so that the sandwich and the robust test of one
    fit (both need it at the estimates) form the scores once."""
    key = np.asarray(x, dtype=float).tobytes()
    memo = model.__dict__.setdefault("_b0", {})
    if g not in memo or memo[g][0] != key:
        sc = casewise_scores(model, x, gd, g)
        memo[g] = (key, sc.T @ sc / gd.n)
    return memo[g][1]


def observed_information(
    model: Model, x, groups: list[GroupData], h: float = 1e-6, stencil: str = "richardson"
) -> np.ndarray:
    """Observed information per observation: Hessian of F/2 by differences of the analytic gradient.

    ``stencil="richardson"``: the stencil of ``lavaan:::lav_model_hessian`` (h = 1e-6; four gradients per
    parameter), for standard errors. ``"forward"``: (g(x + h e_j) - g(x)) / h, one gradient per parameter and
    accurate to about 1e-6 relative, which is all a step metric needs (:func:`fit_fiml_two_stage`).
    """
    if stencil not in ("richardson", "forward"):
        raise ValueError(f"stencil must be 'richardson' or 'forward', not {stencil!r}")
    q = model.nfree
    H = np.zeros((q, q))
    g0 = 0.5 * gradient_info(model, x, groups, info=False)[0] if stencil == "forward" else None
    for j in range(q):
        if g0 is not None:
            xx = x.copy()
            xx[j] += h
            H[:, j] = (0.5 * gradient_info(model, xx, groups, info=False)[0] - g0) / h
            continue
        gs = []
        for s in (-2, -1, 1, 2):
            xx = x.copy()
            xx[j] += s * h
            gs.append(0.5 * gradient_info(model, xx, groups, info=False)[0])
        H[:, j] = (gs[0] - 8 * gs[1] + 8 * gs[2] - gs[3]) / (12 * h)
    return (H + H.T) / 2


@dataclass
class OptResult:
    x: np.ndarray
    f: float
    converged: bool
    iterations: int
    message: str


#: Steps of :func:`fit_ml` between new scoring matrices (and after any step that had to be halved).
SCORING_REFRESH = 3
#: Steps of :func:`fit_ml` per check of the ridge rule (the first check compares step 3 x RIDGE_WINDOW with step
#: 2 x RIDGE_WINDOW).
RIDGE_WINDOW = 100


#: Steps of the FIML search from the two-stage start (:func:`fit_fiml_two_stage`) before it gives way to Fisher
#: scoring from the usual start values (from the two-stage start a fit takes 4 to 10 steps).
TWO_STAGE_MAXIT = 30


def _halving(model: Model, groups: list[GroupData], x: np.ndarray, f: float, step: np.ndarray):
    """Step halving from x - step: (t, x - t step, F there) for the first t = 1, 1/2, ... (above 1e-10) where F is
    finite and not above f (to 1e-14 relative), or (None, None, None) where there is none."""
    t = 1.0
    while t > 1e-10:
        xn = x - t * step
        fn = objective(model, xn, groups)
        if np.isfinite(fn) and fn <= f + 1e-14 * abs(f):
            return t, xn, fn
        t /= 2
    return None, None, None


def fit_fiml_two_stage(
    model: Model, groups: list[GroupData], maxit: int = TWO_STAGE_MAXIT, tol: float = 1e-10
) -> OptResult | None:
    """FIML estimates from the two-stage start, or None where that start cannot be had.

    1. Two-stage ML: the model fitted (:func:`fit_ml`) to the EM estimates of the saturated moments
       (:func:`.samplestats.moment_group`) as if they were complete-data moments. Its estimates are consistent and close
       to FIML's (Savalei & Bentler 2009), and it costs nothing in N.
    2. The metric: the Hessian of that fit's objective at its estimates, by forward differences of the analytic
       gradient (:func:`observed_information`; no pass over the data either). Unlike the expected information that
       Fisher scoring uses, it holds the misfit term, which is large for the poorly fitting rival models: there
       Fisher scoring converges slowly (the demo's one-factor and three-module models took 65 and 125 steps, each a
       pass over the rows with missing values).
    3. Quasi-Newton steps x - t H^-1 g(x) on the FIML objective, with step halving and the stopping rules of
       :func:`fit_ml` (largest gradient element below 1e-9, or steps and decrease of F vanishing). H starts as that
       Hessian and takes a BFGS update after each step (Nocedal & Wright 2006, eq. 6.19; skipped where the
       curvature s'y is not positive). The FIML gradient comes from the pass that gave the objective at the same
       point (kept by :meth:`.samplestats.Patterns.sweep`), so a step costs one pass over the rows.

    From this start the models of a tenth of a million demo-like respondents take 4 to 7 FIML steps, where Fisher
    scoring from the usual start values took 9 to 61 (the six: 13.4 -> 4.6 s). The optimum is the same: the
    estimates agree with those of Fisher scoring from the usual start to about 1e-7 (the precision of the stopping
    rules). Returns an unconverged result where ``maxit`` steps do not reach the stopping rules, and None where the
    two-stage fit does not converge or its Hessian is not positive definite (e.g. an estimate on the boundary or
    heading for infinity); :func:`fit_ml` then uses Fisher scoring from the usual start values, as for complete
    data.
    """
    stage = [moment_group(gd) for gd in groups]
    first = fit_ml(model, stage, tol=tol)
    if not first.converged:
        return None
    H = 2.0 * observed_information(model, first.x, stage, stencil="forward")
    try:
        np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        return None
    x = first.x.copy()
    f = objective(model, x, groups)
    if not np.isfinite(f):
        return None
    g = gradient_info(model, x, groups, info=False)[0]
    msg = "maximum number of iterations reached"
    for it in range(1, maxit + 1):
        if np.abs(g).max() < 1e-9:
            return OptResult(x, f, True, it, "gradient below tolerance")
        step = np.linalg.solve(H, g)
        t, xn, fn = _halving(model, groups, x, f, step)
        if t is None:
            msg = "line search failed"
            break
        gn = gradient_info(model, xn, groups, info=False)[0]
        s, y = xn - x, gn - g
        if s @ y > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):  # BFGS update (keeps H positive definite)
            Hs = H @ s
            H = H + np.outer(y, y) / (y @ s) - np.outer(Hs, Hs) / (s @ Hs)
        df = f - fn
        x, f, g = xn, fn, gn
        if df < tol * max(abs(f), 1.0) * 1e-3 and np.abs(t * step).max() < 1e-9:
            return OptResult(x, f, True, it, "relative change below tolerance")
    return OptResult(x, f, False, it, msg)


def fit_ml(
    model: Model, groups: list[GroupData], x0: np.ndarray | None = None, maxit: int = 1000, tol: float = 1e-10
) -> OptResult:
    """Minimise F by Fisher scoring with step halving.

    With missing data and no ``x0``, the search starts from two-stage ML with its Hessian as the metric
    (:func:`fit_fiml_two_stage`), and falls back to the Fisher scoring below from the usual start values where
    that does not converge.

    The scoring matrix (the expected information, :func:`gradient_info`) changes little from one step to the
    next and costs more than the gradient: it is formed anew every SCORING_REFRESH steps and after a step that
    had to be halved, and the steps in between use the last one. This takes a few more, cheaper steps to the same
    optimum (multi-group invariance fits of the demo: about 40% less time). With missing data, where every
    gradient is a pass over the N rows, this holds only while q^2 > N; beyond, each step forms its own. (The rule
    and its 40% were measured when the scoring matrix took q^2 p^2 operations per group; from the derivatives'
    rank-2 terms, :meth:`Model.information`, it takes about T p^2 + T^2 p, T the free entries, and the rule has
    not been re-measured since.)

    Converged when the largest absolute gradient element is below 1e-9 (or steps and decrease of F vanish);
    if scoring stalls, BFGS (scipy) continues and convergence is declared when the gradient is below 1e-6.
    Estimates beyond 1e6 in absolute value stop the search ("estimates diverge"), and so does a search that
    after 200 steps keeps enlarging the estimates (the largest by over 5% in RIDGE_WINDOW = 100 steps) while F
    decreases by less than 1e-6 (relative) in those steps: an estimate heading for infinity along a flat ridge
    (e.g. a second-order factor over two first-order factors that correlate about 1), which would otherwise take
    every remaining step and then BFGS's before failing the same way. A shorter window would stop legitimate fits
    that crawl along a flat direction before converging (a second-order factor over three first-order factors
    takes about 450 steps; in steps 200 to 225 its largest estimate grows by 15% while F falls by 5e-7: a
    25-step window stops it).

    Here compval departs from lavaan 0.6.14 on purpose. On such a ridge nlminb stops when F's relative change
    falls below its tolerance and lavaan calls the fit converged: the demo's variant ``subabilities`` (its
    second-order model, FIML) converges there after 539 iterations with second-order loadings of 11-53 and 10
    standard errors it cannot compute. That point is not a minimum: with those loadings fixed at lavaan's values
    compval's fit reproduces lavaan's chi-square (1787.847), and fixed further out the chi-square keeps falling.
    compval reports no solution, not fit measures of an arbitrary point on the ridge (tests/test_demo.py,
    tests/reference/demo/make_second_order_ridge.R).
    """
    if x0 is None and not all(gd.complete for gd in groups):
        res = fit_fiml_two_stage(model, groups, tol=tol)
        if res is not None and res.converged:
            return res
    x = model.start(groups) if x0 is None else np.asarray(x0, float).copy()
    f = objective(model, x, groups)
    if not np.isfinite(f):
        # make residual variances larger until Sigma is positive definite
        for _ in range(30):
            x = x * 0.9
            f = objective(model, x, groups)
            if np.isfinite(f):
                break
    if not np.isfinite(f):
        return OptResult(x, f, False, 0, "could not find positive definite starting values")
    it = 0
    converged = False
    msg = "maximum number of iterations reached"
    ridge = 1e-12 * np.eye(len(x))
    nq = max(len(x), 1)
    watch = (np.abs(x).max(), f)  # largest estimate and F every RIDGE_WINDOW steps
    H = None
    halved = False
    # with missing data each gradient is a pass over the rows (about N p^2): keep a scoring matrix only while
    # forming it (about q^2 p^2 when the rule was set; see the docstring) costs more than such a pass
    refresh = SCORING_REFRESH if all(gd.complete for gd in groups) or len(x) ** 2 > sum(gd.n for gd in groups) else 1
    for it in range(1, maxit + 1):
        if H is None or halved or (it - 1) % refresh == 0:
            g, H = gradient_info(model, x, groups)
        else:  # the scoring matrix of a recent step serves as the metric (only the gradient is new)
            g = gradient_info(model, x, groups, info=False)[0]
        if np.abs(g).max() < 1e-9:
            converged, msg = True, "gradient below tolerance"
            break
        try:
            step = np.linalg.solve(H + ridge * H.trace() / nq, g)
        except np.linalg.LinAlgError:
            step = np.linalg.pinv(H) @ g
        t, xn, fn = _halving(model, groups, x, f, step)
        if t is None:
            msg = "line search failed"
            break
        halved = t < 1.0
        df = f - fn
        x, f = xn, fn
        if np.abs(x).max() > 1e6:
            msg = "estimates diverge"
            break
        if it % RIDGE_WINDOW == 0:
            size = np.abs(x).max()
            if it > 2 * RIDGE_WINDOW and size > 1.05 * watch[0] and watch[1] - f < 1e-6 * max(abs(f), 1.0):
                msg = "estimates diverge (the objective is flat while estimates grow)"
                break
            watch = (size, f)
        if df < tol * max(abs(f), 1.0) * 1e-3 and np.abs(t * step).max() < 1e-9:
            converged, msg = True, "relative change below tolerance"
            break
    if not converged and not msg.startswith("estimates diverge"):
        from scipy.optimize import minimize

        res = minimize(
            lambda z: objective(model, z, groups),
            x,
            jac=lambda z: gradient_info(model, z, groups, info=False)[0],
            method="BFGS",
            options={"gtol": 1e-9, "maxiter": 5000},
        )
        if np.isfinite(res.fun) and res.fun <= f + 1e-12:
            x, f = res.x, float(res.fun)
        gmax = np.max(np.abs(gradient_info(model, x, groups, info=False)[0]))
        if gmax < 1e-6 and np.max(np.abs(x)) < 1e6:
            converged, msg = True, "converged (BFGS)"
    return OptResult(x, f, converged, it, msg)
