"""Dominance analysis: general dominance weights from all-subsets R2 (Budescu 1993; Azen & Budescu 2003) with
seeded percentile bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..resampling import (
    PERCENTILE_BOOTSTRAP,
    blb_counts,
    blb_interval,
    blb_plan,
    crossproducts,
    resample_counts,
    use_blb,
)

__all__ = ["MAX_DOMINANCE_PREDICTORS", "general_dominance", "dominance_analysis"]

MAX_DOMINANCE_PREDICTORS = 15


def _subset_plan(p: int, n_always: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each subset size k: the bit masks of the size-k subsets and their design column indices.

    Columns refer to the cross-product matrix of ``[y, X (p cols), always (n_always cols)]``; the
    ``always`` columns are appended to every subset. The empty model (no columns at all) is skipped.
    """
    always = np.arange(1 + p, 1 + p + n_always)
    masks = np.arange(2**p)
    size = np.array([bin(m).count("1") for m in masks])
    plan = []
    for k in range(p + 1):
        if k + n_always == 0:
            continue
        sub = masks[size == k]
        cols = np.array([[1 + i for i in range(p) if m >> i & 1] for m in sub], dtype=int).reshape(len(sub), k)
        cols = np.concatenate([cols, np.broadcast_to(always, (len(sub), n_always))], axis=1)
        plan.append((sub, cols))
    return plan


def _solve_subsets(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """OLS coefficients of a batch of equal-size subsets (``A`` subsets x k x k, ``b`` subsets x k); a singular
    batch is solved subset by subset by minimum-norm least squares (the R2 of the projection)."""
    try:
        coef = np.linalg.solve(A, b[..., None])[..., 0]
        if not np.all(np.isfinite(coef)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        coef = np.stack([np.linalg.lstsq(Ai, bi, rcond=None)[0] for Ai, bi in zip(A, b)])
    return coef


def _all_subsets_r2(C: np.ndarray, p: int, plan: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """R2 of y on every predictor subset (index = bit mask), from the centered cross-product matrix ``C``.

    ``R2(S) = s_yS' S_SS^-1 s_yS / s_yy`` (OLS with intercept). Subsets of equal size are solved in one
    batch; if a batch is singular (e.g. a constant dummy in a bootstrap resample) it is solved subset by
    subset by minimum-norm least squares, which still gives the R2 of the projection. ``C`` may be a stack
    of matrices (resamples x q x q; the result is then resamples x 2^p): all resamples are solved at once,
    and a resample is solved on its own (as above) only when the stacked solve fails.
    """
    single = C.ndim == 2
    Cs = C[None] if single else C
    syy = Cs[:, 0, 0]
    r2 = np.zeros((Cs.shape[0], 2**p))
    for sub, cols in plan:
        A = Cs[:, cols[:, :, None], cols[:, None, :]]
        b = Cs[:, cols, 0]
        try:
            coef = np.linalg.solve(A, b[..., None])[..., 0]
            if not np.all(np.isfinite(coef)):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            coef = np.stack([_solve_subsets(Ai, bi) for Ai, bi in zip(A, b)])
        r2[:, sub] = np.einsum("rij,rij->ri", b, coef) / syy[:, None]
    return r2[0] if single else r2


def _dominance_matrix(p: int) -> np.ndarray:
    """The p x 2^p matrix G with general dominance weights = G @ r2 (see :func:`general_dominance`)."""
    masks = np.arange(2**p)
    size = np.array([bin(s).count("1") for s in masks])
    G = np.zeros((p, 2**p))
    for i in range(p):
        bit = 1 << i
        without = masks[(masks & bit) == 0]
        weight = 1.0 / (p * np.array([math.comb(p - 1, int(k)) for k in size[without]]))
        G[i, without | bit] += weight
        G[i, without] -= weight
    return G


def general_dominance(r2: np.ndarray, p: int) -> np.ndarray:
    """General dominance weights from all-subsets R2 (Budescu 1993; Azen & Budescu 2003).

    ``C_i = (1/p) * sum_{k=0}^{p-1} mean_{|S| = k, i not in S} [R2(S + i) - R2(S)]``; the weights sum to
    ``R2(all) - R2(empty)``. ``r2[s]`` is the R2 of the subset with bit mask ``s`` (bit i = predictor i).
    """
    return _dominance_matrix(p) @ np.asarray(r2, dtype=float)


def dominance_analysis(
    y: pd.Series,
    X: pd.DataFrame,
    always: pd.DataFrame | None = None,
    *,
    n_boot: int = 1000,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    conf: float = 0.95,
    max_n: int | None = None,
) -> pd.DataFrame:
    """Dominance analysis of the predictors in ``X`` for criterion ``y`` (complete rows expected).

    General dominance weights (Budescu 1993; Azen & Budescu 2003) from the R2 of all ``2^p`` OLS subset
    models; they sum to the R2 of the full predictor set. If ``always`` (design columns, e.g. dummy-coded
    controls) is given, these columns enter every subset model (as ``domir``'s ``.all``): the weights then
    decompose ``R2(controls + all predictors) - R2(controls)``, i.e. the controls are partialled out.
    Percentile bootstrap intervals (rows resampled with replacement, ``n_boot`` times, quantiles as R's
    ``quantile`` type 7) use ``rng`` or ``numpy.random.default_rng(seed)``; resample b is
    ``rng.integers(0, n, n)``, computed from row counts (:mod:`compval.resampling`: one matrix product per
    batch of resamples, BLAS on one thread so that the result does not depend on the number of cores).

    Above ``max_n`` rows (the pipeline's ``bootstrap_max_n``; None = never) the intervals come from a bag of
    little bootstraps (Kleiner et al. 2014) with ``n_boot`` resamples in all: per subset of b rows
    (:func:`compval.resampling.blb_counts`) the cross-products of the subset itself and of its r resamples
    (counts summing to n over the b rows) are one matrix product on b rows, and the subsets' bounds are combined
    by :func:`compval.resampling.blb_interval`. The all-subsets models per resample cost the same as before.

    Returns
    -------
    DataFrame: competency, weight, weight_ci_lower, weight_ci_upper, standardized (weight / sum), rank
    (1 = largest), r2_total (sum of weights), r2_base (R2 of ``always``, 0 without), controls_partialled,
    n, n_boot, weight_ci_method ("percentile bootstrap", "bag of little bootstraps (b = ..., s = ..., r = ...)",
    or "" without intervals).
    """
    p = X.shape[1]
    if p == 0:
        raise ValueError("no predictors")
    if p > MAX_DOMINANCE_PREDICTORS:
        raise ValueError(f"dominance analysis of {p} predictors (2^{p} models) is not supported")
    A = np.zeros((len(X), 0)) if always is None else np.asarray(always, dtype=float)
    M = np.column_stack([np.asarray(y, dtype=float), np.asarray(X, dtype=float), A])
    if np.isnan(M).any():
        raise ValueError("dominance_analysis expects complete rows")
    n = M.shape[0]

    plan = _subset_plan(p, A.shape[1])
    G = _dominance_matrix(p)

    def weights(Mb):
        Mc = Mb - Mb.mean(axis=0)
        r2 = _all_subsets_r2(Mc.T @ Mc, p, plan)
        # r2[0] = R2 of the always-included columns alone (0 without them); weights decompose r2[-1] - r2[0]
        return G @ r2, r2[0], r2[-1]

    w, base, full = weights(M)
    gen = rng if rng is not None else np.random.default_rng(seed)
    lo = hi = np.full(p, np.nan)
    method = ""
    if n_boot and n_boot > 0 and use_blb(n, max_n):
        blb = blb_plan(n, n_boot)
        method = blb.method
        sub_est = np.empty((blb.s, p))
        reps = np.empty((blb.s, blb.r, p))
        ones = np.ones((1, blb.b))
        with threadpool_limits(limits=1, user_api="blas"):
            for j, (rows, wts) in enumerate(blb_counts(gen, blb)):
                v = _all_subsets_r2(crossproducts(M[rows], np.vstack([ones, wts])), p, plan) @ G.T
                sub_est[j], reps[j] = v[0], v[1:]
        lo, hi = np.array([blb_interval(w[i], sub_est[:, i], reps[:, :, i], conf) for i in range(p)]).T
    elif n_boot and n_boot > 0:
        method = PERCENTILE_BOOTSTRAP
        # resample b = rows gen.integers(0, n, n), as row counts: the centred cross-products of a batch of
        # resamples are one matrix product, and all their subset models are solved together
        boot = np.empty((n_boot, p))
        b0 = 0
        with threadpool_limits(limits=1, user_api="blas"):
            for wts in resample_counts(gen, n, n_boot):
                boot[b0 : b0 + len(wts)] = _all_subsets_r2(crossproducts(M, wts), p, plan) @ G.T
                b0 += len(wts)
        a = (1 - conf) / 2
        lo, hi = np.quantile(boot, [a, 1 - a], axis=0)
    total = float(np.sum(w))
    return pd.DataFrame(
        {
            "competency": list(X.columns),
            "weight": w,
            "weight_ci_lower": lo,
            "weight_ci_upper": hi,
            "standardized": w / total if total != 0 else np.nan,
            "rank": pd.Series(-w).rank(method="min").astype(int).to_numpy(),
            "r2_total": total,
            "r2_base": float(base),
            "r2_full_model": float(full),
            "controls_partialled": always is not None and A.shape[1] > 0,
            "n": n,
            "n_boot": int(n_boot or 0),
            "weight_ci_method": method,
        }
    )
