"""Seeded percentile bootstrap intervals of alpha, omega total and omega hierarchical."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from ..efa import (
    minres,
    oblimin,
    oblimin_batch,
    reflect_and_order,
    unrotated_loadings,
    unrotated_loadings_stack,
    varimax,
    varimax_batch,
)
from ..resampling import (
    PERCENTILE_BOOTSTRAP,
    BLBPlan,
    blb_counts,
    blb_interval,
    blb_plan,
    SharedResamples,
    pairwise_moments,
    resample_counts,
    use_blb,
)
from .alpha import alpha_of_array
from .matrices import check_missing, listwise_rows, no_variance, pairwise_cor, prepare_items, stacked_cor, stacked_cov
from .omegas import omega_from_correlations, omega_of_array, schmid_leiman, schmid_leiman_rotated

__all__ = ["BootstrapCI", "NAMED_STATISTICS", "bootstrap_ci", "bootstrap_cis"]

#: The statistics bootstrapped from batched weighted moments (no resampled rows).
NAMED_STATISTICS = ("alpha", "omega_total", "omega_hierarchical")


@dataclass(frozen=True)
class BootstrapCI:
    """Percentile bootstrap interval of a statistic.

    The limits are numpy's default quantiles of the valid resamples, R's ``quantile(type = 7)``, not
    ``boot.ci(type = "perc")``'s order statistic (tests/reference/bootstrap compares both).

    Attributes
    ----------
    estimate : float
        The statistic on the full data.
    lower, upper : float
        Percentile interval (R's default ``quantile`` type 7 of the replicates).
    B : int
        Number of resamples; ``n_failed`` of them gave no value (NaN / error) and are ignored.
    level : float
    values : ndarray
        The ``B`` replicates in resample order (NaN = failed); for the bag of little bootstraps the ``s r``
        replicates subset after subset.
    method : str
        "percentile bootstrap", or "bag of little bootstraps (b = ..., s = ..., r = ...)" above ``max_n`` rows
        (:class:`compval.resampling.BLBPlan`).
    """

    estimate: float
    lower: float
    upper: float
    B: int
    n_failed: int
    level: float
    values: np.ndarray | None = field(default=None, repr=False, compare=False)
    method: str = PERCENTILE_BOOTSTRAP


# Newton's method for the one-factor minres solution: stop when no loading moves by more than this.
_NEWTON_TOL = 1e-10
_NEWTON_MAXIT = 50
_BOOT_ERRORS = (ValueError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError)


@functools.lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """The process's thread pools (BLAS), inspected once: ``threadpool_limits`` would scan the loaded libraries
    again at every interval (several milliseconds each)."""
    return ThreadpoolController()


# _boot_no_variance counts an item's answers by value (one matrix product) when it has at most this many values
_FEW_VALUES = 64


def _boot_no_variance(arr: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`no_variance` of every resample (resamples x items): fewer than two answers or one value only.

    Items with few distinct answers (rating scales: at most ``_FEW_VALUES``) count each value's draws in every
    resample at once -- the counts times one indicator matrix (answer i has value v of item j) for all such
    items, exact small integers; a resample has no variance on the item when fewer than two of its answers
    are drawn or all drawn answers have one value. Other items compare the smallest and largest drawn answer.
    Both are exactly :func:`no_variance` of the resampled rows.
    """
    bad = np.zeros((w.shape[0], arr.shape[1]), dtype=bool)
    blocks, few = [], []
    for j in range(arr.shape[1]):
        mj = ~np.isnan(arr[:, j])
        values, which = np.unique(arr[mj, j], return_inverse=True)
        if len(values) <= _FEW_VALUES:
            ind = np.zeros((arr.shape[0], len(values)))
            ind[np.flatnonzero(mj), which] = 1.0
            blocks.append(ind)
            few.append(j)
        else:
            v, pj = arr[mj, j], w[:, mj] > 0
            lo = np.where(pj, v, np.inf).min(axis=1, initial=np.inf)
            hi = np.where(pj, v, -np.inf).max(axis=1, initial=-np.inf)
            bad[:, j] = (w[:, mj].sum(axis=1) < 2) | (lo == hi)
    if few:
        counts = w @ np.hstack(blocks)
        edges = np.cumsum([0] + [b.shape[1] for b in blocks])
        for j, a, b in zip(few, edges[:-1], edges[1:]):
            c = counts[:, a:b]
            bad[:, j] = (c.sum(axis=1) < 2) | ((c > 0).sum(axis=1) <= 1)
    return bad


def _one_factor_minres(r: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-factor minres loadings of a batch of correlation matrices by Newton's method (warm start).

    Minres with one factor minimises the off-diagonal residuals ``F(l) = sum_{i != j} (r_ij - l_i l_j)^2``
    (Harman & Jones 1966; at psych's optimum the uniquenesses are ``1 - l^2``). Newton's method on ``l`` with
    gradient ``-4 sum_{j != k} e_kj l_j`` and Hessian ``4 (sum_{j != k} l_j^2)`` on the diagonal and
    ``4 (l_k l_l - e_kl)`` off it (``e`` = residuals), started at ``start`` (the full-sample loadings),
    converges in a few steps for all resamples at once. Returns (loadings reflected to a positive sum,
    ok): ``ok`` is False where the steps did not settle below 1e-10, the Hessian is not positive definite (no
    minimum) or a uniqueness falls below psych's lower bound 0.005 (a Heywood case) -- those resamples are
    refitted by psych's path (:func:`omega_from_correlations`).
    """
    b, p, _ = r.shape
    d = np.arange(p)
    start = np.asarray(start, dtype=float)
    lam = np.broadcast_to(start, (b, p)).copy()
    ok = np.all(np.isfinite(r), axis=(1, 2))
    # resamples without a correlation matrix: a matrix whose solution is the start (no step; not used)
    r0 = np.outer(start, start)
    r0[d, d] = 1.0
    r = np.where(ok[:, None, None], r, r0)
    step_max = np.full(b, np.inf)
    h = np.zeros((b, p, p))
    for _ in range(_NEWTON_MAXIT):
        e = r - lam[:, :, None] * lam[:, None, :]
        e[:, d, d] = 0.0
        grad = -4.0 * np.einsum("bkj,bj->bk", e, lam)
        h = 4.0 * (lam[:, :, None] * lam[:, None, :] - e)
        h[:, d, d] = 4.0 * ((lam**2).sum(axis=1, keepdims=True) - lam**2)
        try:
            step = np.linalg.solve(h, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return lam, np.zeros(b, dtype=bool)
        lam = lam - step
        step_max = np.abs(step).max(axis=1)
        if not (step_max[ok] > _NEWTON_TOL).any():
            break
    with np.errstate(invalid="ignore"):
        pd_ = np.linalg.eigvalsh(h)[:, 0] > 0
    lam = lam * np.where(lam.sum(axis=1) < 0, -1.0, 1.0)[:, None]
    ok &= (step_max <= _NEWTON_TOL) & pd_ & np.all(1.0 - lam**2 >= 0.005, axis=1)
    return lam, ok


def _omega_total_one_factor(r: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``omega_total`` of :func:`omega_from_correlations` (nfactors = 1) from batched correlations and loadings."""
    key = np.where(lam < 0, -1.0, 1.0)
    vt = (r * key[:, :, None] * key[:, None, :]).sum(axis=(1, 2))
    uniq = (np.diagonal(r, axis1=1, axis2=2) - lam**2).sum(axis=1)
    return (vt - uniq) / vt


def _omega_replicates(r: np.ndarray, nfactors: int, key: str) -> np.ndarray:
    """``omega_from_correlations(r[b], nfactors)[key]`` of every matrix of a stack (NaN where it fails).

    The Schmid-Leiman path of every matrix with each step done for all matrices at once: the minres fits
    (:func:`compval.efa.unrotated_loadings_stack`, also the one-factor fits of the factor correlations for
    more than two factors), the varimax and oblimin rotations (:func:`compval.efa.varimax_batch`,
    :func:`compval.efa.oblimin_batch`) -- each the numbers of its one-matrix function, bit for bit. Should a
    stacked step fail (e.g. a singular rotation matrix), that step is done one matrix at a time instead, so
    that only the failing resamples give NaN, as one matrix at a time would. A matrix with missing
    correlations fails (as :func:`compval.efa.unrotated_loadings` does for it).
    """
    out = np.full(len(r), np.nan)
    finite = {b: r[b] for b in range(len(r)) if np.isfinite(r[b]).all()}
    unrotated = _each(
        finite, lambda st: unrotated_loadings_stack(st, nfactors), lambda m: unrotated_loadings(m, nfactors)
    )
    orth = _each(unrotated, varimax_batch, varimax) if nfactors > 1 else unrotated
    for b in list(orth):
        try:
            orth[b] = reflect_and_order(orth[b], None)[0]
        except _BOOT_ERRORS:
            del orth[b]
    oblique = _each(orth, oblimin_batch, oblimin) if nfactors > 1 else dict.fromkeys(orth)
    gload = {}
    if nfactors > 2:  # the general factor: one-factor minres of each Phi (schmid_leiman_rotated)
        phis = {b: o[1] for b, o in oblique.items() if np.isfinite(o[1]).all()}
        gload = _each(
            phis, lambda st: unrotated_loadings_stack(st, 1)[:, :, 0], lambda phi: minres(phi, 1)["loadings"][:, 0]
        )
    for b, o in orth.items():
        if b not in oblique or (nfactors > 2 and b not in gload):
            continue
        try:
            sl = schmid_leiman_rotated(r[b], o, oblique[b], gload.get(b))
            out[b] = omega_from_correlations(r[b], nfactors, sl=sl, lambda6=False)[key]
        except _BOOT_ERRORS:
            out[b] = np.nan
    return out


def _each(items: dict, stacked: Callable, single: Callable) -> dict:
    """``stacked`` applied to the stack of a dict's arrays (resample -> array), or ``single`` per array when the
    stacked call fails (an array whose call fails is left out). Rotations, minres fits: the stacked functions
    give the single ones' numbers."""
    if not items:
        return {}
    try:
        res = stacked(np.stack(list(items.values())))
    except _BOOT_ERRORS:
        out = {}
        for b, x in items.items():
            try:
                out[b] = single(x)
            except _BOOT_ERRORS:
                pass
        return out
    if isinstance(res, tuple):  # oblimin: (patterns, Phis, converged flags)
        return {b: (res[0][i], res[1][i], bool(res[2][i])) for i, b in enumerate(items)}
    return {b: res[i] for i, b in enumerate(items)}


def _prepare(arr: np.ndarray, stats, missing: str, nfactors: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows the count resamples weight (incomplete rows blanked out when listwise) and the full-sample
    one-factor loadings that start Newton's method for omega total (None without omega total)."""
    if missing == "listwise":
        arr = np.where(np.isnan(arr).any(axis=1)[:, None], np.nan, arr)
    p = arr.shape[1]
    if "alpha" in stats and p < 2:
        raise ValueError("alpha needs at least two items")
    if any(stat != "alpha" for stat in stats) and p < 3:
        raise ValueError("omega needs at least 3 items")
    start = None
    if "omega_total" in stats and nfactors == 1:
        start = schmid_leiman(pairwise_cor(listwise_rows(arr, missing)), 1)["g"]
    return arr, start


def _values_of_counts(arr: np.ndarray, w: np.ndarray, stats, nfactors: int, start) -> dict[str, np.ndarray]:
    """Each statistic of ``stats`` on every resample of a batch of row counts ``w`` (resamples x rows of
    ``arr``; NaN = failed), from one pass of batched weighted moments shared by the statistics (see
    :func:`_boot_values`)."""
    moments = pairwise_moments(arr, w)
    out: dict[str, np.ndarray] = {}
    r = valid = None
    for stat in stats:
        if stat == "alpha":
            c = stacked_cov(*moments[:3])
            k = c.shape[1]
            out[stat] = (1.0 - np.trace(c, axis1=1, axis2=2) / c.sum(axis=(1, 2))) * (k / (k - 1))
            continue
        if r is None:
            r = stacked_cor(*moments)
            valid = ~_boot_no_variance(arr, w).any(axis=1)
        vals = np.full(w.shape[0], np.nan)
        todo = valid.copy()
        if stat == "omega_total" and start is not None:
            lam, ok = _one_factor_minres(r, start)
            done = valid & ok
            vals[done] = _omega_total_one_factor(r[done], lam[done])
            todo &= ~ok
        key = "omega_total" if stat == "omega_total" else "omega_h"
        todo = np.flatnonzero(todo)
        vals[todo] = _omega_replicates(r[todo], nfactors, key)
        out[stat] = vals
    return out


def _boot_values(arr: np.ndarray, stats, batches, missing: str, nfactors: int) -> dict[str, np.ndarray]:
    """Bootstrap replicates of "alpha", "omega_total" and / or "omega_hierarchical" without copying rows.

    ``batches`` are the resamples' row counts (:func:`compval.resampling.resample_counts`, or the shared stream's
    :meth:`compval.resampling.SharedResamples.counts`); covariances and correlations come from batched weighted
    moments (:func:`compval.resampling.pairwise_moments`), computed once per batch for all ``stats``, so alpha is
    the same number as on the resampled rows (to rounding). Omega total with one factor solves all resamples of
    a batch at once (:func:`_one_factor_minres`, started at the full-sample solution) -- the same minimum psych's
    L-BFGS-B approaches, to its stopping tolerance -- and falls back to psych's path per resample where that
    fails; omega hierarchical runs psych's Schmid-Leiman path per resample, with the oblimin rotations of a
    batch done at once (:func:`_omega_replicates`; the same numbers). Listwise deletion gives rows with a
    missing answer no weight. Failed resamples are NaN.
    """
    arr, start = _prepare(arr, stats, missing, nfactors)
    vals = [_values_of_counts(arr, w, stats, nfactors, start) for w in batches]
    return {stat: np.concatenate([v[stat] for v in vals]) for stat in stats}


def _blb_values(arr: np.ndarray, stats, subsets, plan: BLBPlan, missing: str, nfactors: int) -> dict:
    """Bag of little bootstraps of named statistics: per statistic (subset estimates ``s``, replicates ``s x r``).

    ``subsets`` yields subset j's rows and resample counts (:func:`compval.resampling.blb_counts`, or the shared
    stream's :meth:`compval.resampling.SharedResamples.blb`); its estimate (all b rows once) and its r resamples
    (counts summing to n over the b rows) go through the same weighted moments as the full bootstrap
    (:func:`_values_of_counts`, the estimate as one more row of counts), on the subset's b rows only.
    """
    arr, start = _prepare(arr, stats, missing, nfactors)
    out = {stat: (np.full(plan.s, np.nan), np.full((plan.s, plan.r), np.nan)) for stat in stats}
    for j, (rows, w) in enumerate(subsets):
        v = _values_of_counts(arr[rows], np.vstack([np.ones((1, plan.b)), w]), stats, nfactors, start)
        for stat in stats:
            out[stat][0][j], out[stat][1][j] = v[stat][0], v[stat][1:]
    return out


def _stat_function(stat, missing: str, nfactors: int, columns) -> Callable[[np.ndarray], float]:
    """Statistic on a float array (resampled rows)."""
    if callable(stat):
        return lambda arr: float(stat(pd.DataFrame(arr, columns=columns)))
    if stat == "alpha":
        return lambda arr: alpha_of_array(arr, missing, full=False)
    if stat == "alpha_std":
        return lambda arr: alpha_of_array(arr, missing).alpha_std
    if stat == "omega_total":
        return lambda arr: float(omega_of_array(arr, nfactors, missing)["omega_total"])
    if stat == "omega_hierarchical":
        return lambda arr: float(omega_of_array(arr, nfactors, missing)["omega_h"])
    raise ValueError(f"unknown statistic {stat!r}")


def bootstrap_ci(
    items: pd.DataFrame,
    stat: str | Callable[[pd.DataFrame], float] = "alpha",
    B: int = 1000,
    seed: int | np.random.Generator | SharedResamples | None = 0,
    *,
    level: float = 0.95,
    missing: str = "pairwise",
    nfactors: int = 1,
    max_n: int | None = None,
    estimate: float | None = None,
) -> BootstrapCI:
    """Seeded nonparametric percentile bootstrap CI (Efron & Tibshirani 1993) for a reliability statistic.

    Rows (respondents) are resampled with replacement B times with ``numpy.random.default_rng(seed)``;
    the statistic is recomputed with the same missing-data policy. Comparable to the percentile
    intervals of ``psych::alpha(x, n.iter = B)$boot.ci`` (psych resamples the same way; random streams
    differ from R's, so only the distribution, not the digits, is comparable).

    Parameters
    ----------
    items : DataFrame
    stat : {"alpha", "alpha_std", "omega_total", "omega_hierarchical"} or callable
        A callable receives a resampled DataFrame and returns a float.
    B : int
        Number of bootstrap resamples.
    seed : int, Generator or SharedResamples
        Seed for :func:`numpy.random.default_rng` (or a Generator, whose stream is used from where it stands), or
        a :class:`compval.resampling.SharedResamples`: the first ``B`` resamples of its stream, the same ones
        for every statistic and scale that uses it (:func:`reliability_table` passes one).
    level : float
        Interval coverage.
    missing : {"pairwise", "listwise"}
    nfactors : int
        Group factors for the omega statistics (default 1, as the pipeline).
    max_n : int, optional
        Above this many rows the named statistics ("alpha", "omega_total", "omega_hierarchical") use the bag of
        little bootstraps (Kleiner et al. 2014; :func:`compval.resampling.blb_plan` with ``B`` resamples in all,
        :func:`compval.resampling.blb_interval`) instead of the full bootstrap; None (default) = never. A
        callable statistic always gets the full bootstrap (it needs the resampled rows).
    estimate : float, optional
        The statistic on ``items`` when the caller has it already (:func:`reliability_table` passes the alpha and
        omegas of its row: the same numbers, not fitted twice); None = computed here.

    Notes
    -----
    Resamples on which the statistic fails (e.g. an item without variance) are counted in
    ``n_failed`` and ignored. BLAS is limited to one thread while the loop runs (``threadpoolctl``;
    restored afterwards): the many tiny matrix problems are otherwise slowed down severely by
    thread contention.

    The named statistics do not copy rows: resample b is still ``rng.integers(0, n, size=n)``, but as row
    counts, and the covariance / correlation matrices of a batch of resamples are one matrix product of the
    counts with per-row cross-products (:func:`_boot_values`). Alpha and omega hierarchical are then the numbers
    of the resampled rows (to rounding); omega total with one factor is solved for all resamples at once by
    Newton's method on the minres loadings, started at the full-sample solution, which reaches the minimum
    that psych's L-BFGS-B approaches (replicates agree to its stopping tolerance, about 1e-6; psych's path is
    used for a resample where Newton's method does not settle).

    In R: ``psych::alpha(x, n.iter = 1000)$boot.ci`` (alpha) and ``psych::omega(x, nfactors, n.iter = 200)``
    (omega), with R's random numbers.
    """
    if stat in NAMED_STATISTICS:
        return bootstrap_cis(
            items,
            (stat,),
            B,
            seed,
            level=level,
            missing=missing,
            nfactors=nfactors,
            max_n=max_n,
            estimates=None if estimate is None else {stat: estimate},
        )[stat]
    check_missing(missing)
    x = prepare_items(items, "pairwise")
    if not callable(stat):  # "alpha_std", as cronbach_alpha: items without variance are left out
        x = x.loc[:, ~no_variance(listwise_rows(x.to_numpy(), missing))]
    fun = _stat_function(stat, missing, nfactors, x.columns)
    arr = x.to_numpy()
    rng = _generator(seed)
    n = arr.shape[0]
    vals = np.full(B, np.nan)
    with _blas().limit(limits=1, user_api="blas"), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = float(fun(arr)) if estimate is None else float(estimate)
        for b in range(B):
            idx = rng.integers(0, n, size=n)
            try:
                vals[b] = fun(arr[idx])
            except _BOOT_ERRORS:
                vals[b] = np.nan
    return _percentile_interval(est, vals, level)


def _generator(seed) -> np.random.Generator:
    if isinstance(seed, SharedResamples):
        return seed.generator()
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _percentile_interval(est: float, vals: np.ndarray, level: float) -> BootstrapCI:
    ok = vals[np.isfinite(vals)]
    q = (1.0 - level) / 2.0
    if ok.size:
        lo, hi = np.quantile(ok, [q, 1.0 - q])
    else:
        lo = hi = np.nan
    B = vals.size
    return BootstrapCI(
        estimate=est, lower=float(lo), upper=float(hi), B=int(B), n_failed=int(B - ok.size), level=level, values=vals
    )


def bootstrap_cis(
    items: pd.DataFrame,
    stats,
    B: int = 1000,
    seed: int | np.random.Generator | SharedResamples | None = 0,
    *,
    estimates: Mapping[str, float] | None = None,
    level: float = 0.95,
    missing: str = "pairwise",
    max_n: int | None = None,
    nfactors: int = 1,
) -> dict[str, BootstrapCI]:
    """:func:`bootstrap_ci` of several named statistics on the same resamples, with one pass of weighted moments
    per batch of resamples for all of them.

    Each statistic's interval is the one :func:`bootstrap_ci` gives for it alone on the same resamples (the
    replicates are computed from the same moments by the same code): with a :class:`SharedResamples` that is
    every call's own interval; with an int seed or a Generator the statistics share the resamples that
    ``bootstrap_ci`` would draw for the first of them.

    Parameters
    ----------
    items : DataFrame
    stats : sequence of {"alpha", "omega_total", "omega_hierarchical"}
    B, seed
        As :func:`bootstrap_ci`.
    estimates : dict, optional
        Statistic -> its value on ``items``, where the caller has it (the others are computed here).
    level, missing, max_n, nfactors
        As :func:`bootstrap_ci` (``nfactors`` applies to the omega statistics).

    Returns
    -------
    dict
        Statistic -> :class:`BootstrapCI`.

    In R: ``boot::boot(x, function(d, i) c(alpha(d[i, ]), omega(d[i, ])), R = B)`` and ``boot.ci`` per index.
    """
    stats = tuple(stats)
    unknown = [s for s in stats if s not in NAMED_STATISTICS]
    if unknown or not stats:
        raise ValueError(f"bootstrap_cis takes statistics among {NAMED_STATISTICS}, not {unknown or stats}")
    check_missing(missing)
    x = prepare_items(items, "pairwise")
    x = x.loc[:, ~no_variance(listwise_rows(x.to_numpy(), missing))]  # as cronbach_alpha: constant items left out
    arr = x.to_numpy()
    n = arr.shape[0]
    estimates = dict(estimates or {})
    # Many small matrix problems: multi-threaded BLAS only adds overhead (and contention), so it is
    # limited to one thread for the duration of the loop (restored afterwards); also keeps the batched
    # sums independent of the number of cores.
    with _blas().limit(limits=1, user_api="blas"), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = {
            s: float(estimates[s]) if s in estimates else float(_stat_function(s, missing, nfactors, x.columns)(arr))
            for s in stats
        }
        if B <= 0:
            return {s: _percentile_interval(est[s], np.full(0, np.nan), level) for s in stats}
        if use_blb(n, max_n):
            plan = blb_plan(n, B)
            shared = isinstance(seed, SharedResamples)
            subsets = seed.blb(plan) if shared else blb_counts(_generator(seed), plan)
            values = _blb_values(arr, stats, subsets, plan, missing, nfactors)
            out = {}
            for s in stats:
                subset_est, reps = values[s]
                lo, hi = blb_interval(est[s], subset_est, reps, level)
                vals = reps.ravel()
                out[s] = BootstrapCI(
                    estimate=est[s],
                    lower=lo,
                    upper=hi,
                    B=int(vals.size),
                    n_failed=int((~np.isfinite(vals)).sum()),
                    level=level,
                    values=vals,
                    method=plan.method,
                )
            return out
        batches = seed.counts(n, B) if isinstance(seed, SharedResamples) else resample_counts(_generator(seed), n, B)
        values = _boot_values(arr, stats, batches, missing, nfactors)
    return {s: _percentile_interval(est[s], values[s], level) for s in stats}
