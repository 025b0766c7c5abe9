"""Prediction from a fitted model (lavaan's ``lavPredict`` / ``lavInspect``): the latent covariance matrix and
factor scores (regression method; empirical Bayes modal for ordinal models)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import normal
from .result import groups_of
from .samplestats import unique_patterns

if TYPE_CHECKING:
    from .result import CFAResult

__all__ = ["latent_covariance", "factor_scores"]


def latent_covariance(fit: CFAResult, group: int = 1, correlation: bool = True) -> pd.DataFrame:
    """Model-implied covariance (or correlation) matrix of the latent variables, ``Var(eta) = A Psi A'``.

    Matches ``lavInspect(fit, "cor.lv")`` (``correlation=True``) / ``"cov.lv"``; ``group`` is 1-based.
    """
    m, x = fit._model, fit._x
    if x is None:
        raise ValueError("the model was not estimated")
    M = m.matrices(x, group - 1)
    A = np.linalg.inv(np.eye(m.m) - M["B"])
    veta = A @ M["P"] @ A.T
    if correlation:
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.diag(veta))
            veta = veta / np.outer(sd, sd)
    return pd.DataFrame(veta, index=m.lv, columns=m.lv)


def factor_scores(fit: CFAResult, data: pd.DataFrame, method: str = "regression") -> pd.DataFrame:
    """Factor scores by the regression method (Thurstone 1935), as ``lavPredict(fit, method = "regression")``.

    ``eta_hat = E(eta) + Var(eta) Lambda' Sigma^-1 (y - mu)`` with the model-implied moments (sample means when
    the model has no mean structure). For a FIML fit (``missing="ml"``) a respondent with missing answers is
    scored from the items they answered, ``Var(eta) Lambda_o' Sigma_oo^-1 (y_o - mu_o)`` (lavaan does the same
    for FIML fits); otherwise rows with missing indicators get NaN. Single-group models only.

    For an ordinal (WLSMV) fit the scores are empirical Bayes modal (EBM) estimates, lavaan's default for
    categorical indicators (``lavPredict(fit)``; Skrondal & Rabe-Hesketh 2004): per respondent the mode of the
    posterior ``phi(eta; 0, Psi) * prod_j P(y_j | eta)`` with ``P(y_j = c | eta) = Phi((tau_c - lambda_j' eta) /
    sqrt(theta_jj)) - Phi((tau_c-1 - lambda_j' eta) / sqrt(theta_jj))``; missing items are left out of the
    product, so respondents with missing answers get scores too (NaN only when every item is missing).
    """
    if fit.estimator == "WLSMV":
        return _factor_scores_ebm(fit, data)
    if method != "regression":
        raise NotImplementedError("only method='regression' is implemented")
    m, x = fit._model, fit._x
    if m.ngroups != 1:
        raise NotImplementedError("factor scores are implemented for single-group models")
    gd = groups_of(fit, "factor scores")[0]
    M = m.matrices(x, 0)
    A = np.linalg.inv(np.eye(m.m) - M["B"])
    sigma, mu = m.implied(x, 0, gd.mean)
    eeta = A @ M["al"] if m.meanstructure else np.zeros(m.m)
    # the indicators; a float table whose columns are exactly them is read in place (a selection copies it: 400 MB
    # at a million respondents), in the same layout, so the same numbers
    y = (data if list(data.columns) == list(m.ov) else data[m.ov]).to_numpy(dtype=float)
    LV = M["L"] @ A @ M["P"] @ A.T  # Cov(y, eta)' = Lambda Var(eta)
    fs = np.full((len(y), m.m), np.nan)
    obs = ~np.isnan(y)
    fiml = fit._options.get("missing") == "ml"
    pats, inv = unique_patterns(obs)
    # each pattern's rows (in data order) as a slice of one sort: a million rows have ~10^5 patterns
    order = np.argsort(inv, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inv, minlength=len(pats)))])
    for k, pat in enumerate(pats):
        if not pat.any() or (not pat.all() and not fiml):
            continue
        rows = order[bounds[k] : bounds[k + 1]]
        o = np.flatnonzero(pat)
        W = np.linalg.solve(sigma[np.ix_(o, o)], LV[o]).T  # Var(eta) Lambda_o' Sigma_oo^-1
        # one copy of the pattern's observed values, centred in place (the complete rows of a million respondents
        # are 200 MB; chained selections made three such temporaries); the same array, so the same products
        yo = y[rows] if len(o) == y.shape[1] else y[np.ix_(rows, o)]
        yo -= mu[o][None, :]
        fs[rows] = eeta[None, :] + yo @ W.T
    return pd.DataFrame(fs, index=data.index, columns=m.lv)


def _factor_scores_ebm(fit: CFAResult, data: pd.DataFrame, maxit: int = 100, tol: float = 1e-10) -> pd.DataFrame:
    """EBM factor scores of an ordinal fit (see :func:`factor_scores`): Newton's method on the (convex) negative
    log posterior of every respondent at once, with step halving; exact gradient and Hessian."""
    m, x = fit._model, fit._x
    samp = fit._options["ordinal"]["sample"]
    M = m.matrices(x, 0)
    L = M["L"]
    A = np.linalg.inv(np.eye(m.m) - M["B"])
    veta = A @ M["P"] @ A.T
    vinv = np.linalg.inv(veta)
    LA = L @ A
    theta_sd = np.sqrt(np.diag(M["T"]))
    ov = m.ov
    y = data[ov].to_numpy(dtype=float)
    n, p = y.shape
    up = np.full((n, p), np.inf)
    lo = np.full((n, p), -np.inf)
    obs = ~np.isnan(y)
    start = np.concatenate([[0], np.cumsum([len(lv) - 1 for lv in samp.levels])])
    for j in range(p):
        cats = np.asarray(samp.levels[j])
        th = np.concatenate([[-np.inf], samp.th[start[j] : start[j + 1]], [np.inf]])
        c = np.searchsorted(cats, y[obs[:, j], j])
        if np.any(c >= len(cats)) or np.any(cats[np.clip(c, 0, len(cats) - 1)] != y[obs[:, j], j]):
            raise ValueError(f"item {ov[j]!r} has values not seen when the model was fitted")
        up[obs[:, j], j] = th[c + 1]
        lo[obs[:, j], j] = th[c]

    def parts(eta):
        u = eta @ LA.T  # n x p
        zu = np.where(obs, (up - u) / theta_sd, np.inf)
        zl = np.where(obs, (lo - u) / theta_sd, -np.inf)
        P = np.clip(normal.cdf(zu) - normal.cdf(zl), 1e-300, None)
        fu, fl = normal.pdf(zu), normal.pdf(zl)
        zfu = np.where(np.isfinite(zu), np.nan_to_num(zu) * fu, 0.0)
        zfl = np.where(np.isfinite(zl), np.nan_to_num(zl) * fl, 0.0)
        d1 = np.where(obs, -(fu - fl) / (theta_sd * P), 0.0)  # d log P / d u
        d2 = np.where(obs, -(zfu - zfl) / (theta_sd**2 * P) - d1**2, 0.0)
        f = 0.5 * np.einsum("ij,jk,ik->i", eta, vinv, eta) - np.where(obs, np.log(P), 0.0).sum(axis=1)
        g = eta @ vinv - d1 @ LA
        H = vinv[None] - np.einsum("ij,jk,jl->ikl", d2, LA, LA)
        return f, g, H

    eta = np.zeros((n, m.m))
    f, g, H = parts(eta)
    active = obs.any(axis=1)
    for _ in range(maxit):
        step = np.linalg.solve(H[active], g[active][..., None])[..., 0]
        t = np.ones(active.sum())
        cur = eta[active]
        for _ in range(30):
            cand = eta.copy()
            cand[active] = cur - t[:, None] * step
            fn, gn, Hn = parts(cand)
            worse = fn[active] > f[active] + 1e-12 * np.maximum(1.0, np.abs(f[active]))
            if not worse.any():
                break
            t = np.where(worse, t / 2, t)
        eta, f, g, H = cand, fn, gn, Hn
        if np.max(np.abs(t[:, None] * step)) < tol:
            break
    eta[~active] = np.nan
    return pd.DataFrame(eta, index=data.index, columns=m.lv)
