"""Nonparametric bootstrap without copying rows: resamples as row counts, moments as one matrix product.

A percentile bootstrap (Efron & Tibshirani 1993) of a statistic that depends on the data only through sums
over rows -- means, covariances, correlations, cross-product matrices -- does not need the resampled rows:
with the row counts ``w_b`` of resample b (how often each row was drawn),

    sum over the resampled rows of f(x_i) = sum_i w_bi f(x_i),

so the sums of a whole batch of resamples are one matrix product ``W F`` of the counts (resamples x rows)
with the per-row terms ``F`` (rows x terms). The resamples are exactly those of the row-by-row loop: resample
b is ``rng.integers(0, n, size=n)``, drawn in the same order and turned into counts with ``numpy.bincount``,
so a statistic computed this way equals (to rounding) the statistic of ``x[rng.integers(0, n, size=n)]``.

* :func:`resample_counts` -- the count matrices, in batches that bound memory;
* :func:`pairwise_moments` -- pairwise-complete sums of every resample of a batch (``cor(use = "pairwise")``);
* :func:`crossproducts` -- centred cross-product matrices of every resample of complete data;
* :func:`correlations` -- their correlation matrices;
* :func:`blb_plan`, :func:`blb_counts`, :func:`blb_interval` -- the bag of little bootstraps for large samples
  (:func:`uniform_multinomial` draws its resample counts);
* :class:`SharedResamples` -- one seeded stream of resamples for every statistic and scale of a table, drawn once.

Bag of little bootstraps (BLB; Kleiner, Talwalkar, Sarkar & Jordan 2014, JRSS-B 76(4), 795-816). Above a
number of rows the full bootstrap costs ``O(B n)`` (B count vectors over all n rows, B weighted sums over them).
The BLB draws ``s`` subsets of ``b = ceil(n^gamma)`` distinct rows (without replacement) and, within subset j,
``r`` resamples of size n: multinomial(n; 1/b, ..., 1/b) counts over the subset's b rows. The same count
machinery then computes each resample's statistic from b rows instead of n (``sum_i w_i f(x_i)`` over the
subset), so a resample costs O(b) -- at n = 10^6 and gamma = 0.7, b = 15849, 63 times fewer rows. Per subset the
interval of the paper's xi is formed from the distribution of the resample statistic around the subset's own
estimate (the subset plays the population), and the subsets' bound offsets are averaged and added to the
full-sample estimate (:func:`blb_interval`). Defaults (:data:`BLB_GAMMA`, :data:`BLB_RESAMPLES`): gamma = 0.7,
the value the paper's experiments recommend (they compare 0.5-0.9; 0.7 and above reached the full bootstrap's
accuracy), and r = 100 resamples per subset (the paper's experiments use r = 100 and find a few dozen to 100
enough), with ``s = ceil(B / r)`` subsets so that ``s r`` equals the full bootstrap's B (1000 resamples -> 10
subsets, 200 -> 2): the statistic is evaluated as often as before (its cost per resample does not depend on n),
and the Monte Carlo error of bounds averaged over s subsets of r resamples is about that of one bound from s r
resamples.

Callers run these with BLAS limited to one thread (``threadpoolctl``), which keeps the sums independent of the
number of cores.

In R: ``boot::boot(data, statistic, R = B, stype = "f")`` passes the same frequency weights to a statistic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .i18n import N_

__all__ = [
    "BATCH_ELEMENTS",
    "BLB_GAMMA",
    "BLB_RESAMPLES",
    "PERCENTILE_BOOTSTRAP",
    "BLB_METHOD",
    "BLBPlan",
    "parse_method",
    "resample_counts",
    "pairwise_moments",
    "crossproducts",
    "correlations",
    "blb_plan",
    "use_blb",
    "blb_counts",
    "uniform_multinomial",
    "blb_interval",
    "SharedResamples",
    "SHARED_CACHE_BYTES",
]

# Resamples and per-row terms are processed in blocks of at most this many numbers (32 MB of float64).
BATCH_ELEMENTS = 1 << 22


def resample_counts(rng: np.random.Generator, n: int, B: int) -> Iterator[np.ndarray]:
    """Row counts of ``B`` bootstrap resamples of ``n`` rows, yielded in batches (resamples x rows, float).

    Parameters
    ----------
    rng : numpy.random.Generator
        Advanced exactly as by ``B`` calls ``rng.integers(0, n, size=n)``.
    n, B : int
        Rows and resamples.

    Yields
    ------
    ndarray
        ``w[b, i]`` = number of times row i is drawn in resample b; each row of ``w`` sums to ``n``. Batches
        hold at most :data:`BATCH_ELEMENTS` counts (at least one resample).
    """
    batch = max(1, min(B, BATCH_ELEMENTS // max(n, 1)))
    for b0 in range(0, B, batch):
        w = np.empty((min(batch, B - b0), n))
        for b in range(w.shape[0]):
            w[b] = np.bincount(rng.integers(0, n, size=n), minlength=n)
        yield w


def pairwise_moments(arr: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise-complete sums of every resample of a batch (each resamples x p x p).

    With ``m`` = answered (0/1) and ``y`` = answer centred at the full-sample column mean (0 when missing):
    ``n[i, j] = sum w m_i m_j``, ``s[i, j] = sum w y_i m_j``, ``cross[i, j] = sum w y_i y_j`` and
    ``q[i, j] = sum w y_i^2 m_j``. Then the pairwise covariance is ``(cross - s s' / n) / (n - 1)`` and the
    pairwise correlation ``(cross - s s' / n) / sqrt((q - s^2 / n)(q - s^2 / n)')`` (``s'`` = transpose of
    the last two axes), as ``cov(x, use = "pairwise")`` and ``cor(x, use = "pairwise")`` of the resampled
    rows (the centre cancels). A row that is all NaN carries no weight (listwise deletion: blank out the
    incomplete rows first).

    Parameters
    ----------
    arr : ndarray
        rows x p, NaN = missing.
    w : ndarray
        Row counts, resamples x rows (:func:`resample_counts`).
    """
    m = ~np.isnan(arr)
    centre = np.where(m, arr, 0.0).sum(axis=0) / np.maximum(m.sum(axis=0), 1.0)
    y = np.where(m, arr - centre, 0.0)
    mf = m.astype(float)
    n_rows, p = arr.shape
    out = np.zeros((w.shape[0], 4 * p * p))
    step = _step(4 * p * p)
    terms = np.empty((min(step, n_rows), 4, p, p))  # each row's four p x p products, written in place
    for r0 in range(0, n_rows, step):
        mm, yy = mf[r0 : r0 + step], y[r0 : r0 + step]
        t = terms[: len(mm)]
        for k, (a, b) in enumerate(((mm, mm), (yy, mm), (yy, yy), (yy**2, mm))):
            np.multiply(a[:, :, None], b[:, None, :], out=t[:, k])
        out += w[:, r0 : r0 + step] @ t.reshape(len(mm), 4 * p * p)
    n, s, cross, q = out.reshape(w.shape[0], 4, p, p).transpose(1, 0, 2, 3)
    return n, s, cross, q


def _step(terms: int) -> int:
    """Rows per block so that a block of per-row terms holds at most BATCH_ELEMENTS numbers."""
    return max(1, BATCH_ELEMENTS // max(terms, 1))


def crossproducts(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Centred cross-product matrices ``sum w (x - mean_b)(x - mean_b)'`` of every resample (resamples x p x p).

    ``x`` must be complete (no NaN). Computed as ``W (x x') - n_b mean_b mean_b'`` on ``x`` centred at its
    full-sample mean (the centre cancels; centring first keeps the subtraction accurate).
    """
    xc = x - x.mean(axis=0)
    n_rows, p = xc.shape
    tot = w.sum(axis=1)
    sums = w @ xc
    cross = np.zeros((w.shape[0], p * p))
    step = _step(p * p)
    for r0 in range(0, n_rows, step):
        xx = xc[r0 : r0 + step]
        cross += w[:, r0 : r0 + step] @ (xx[:, :, None] * xx[:, None, :]).reshape(len(xx), p * p)
    return cross.reshape(-1, p, p) - sums[:, :, None] * sums[:, None, :] / tot[:, None, None]


def correlations(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Correlation matrices of every resample of complete data (resamples x p x p), from :func:`crossproducts`.

    ``r_ij = C_ij / sqrt(C_ii C_jj)`` with C the centred cross-products, the correlations of the resampled rows
    (``numpy.corrcoef``) to rounding. A column without variance in a resample (``C_ii`` not above 1e-12 times
    its cross-product at the same weights with the full-sample spread) gives NaN in its row and column, as
    ``corrcoef``; the diagonal is 1.
    """
    c = crossproducts(x, w)
    d = np.diagonal(c, axis1=1, axis2=2).copy()
    floor = 1e-12 * w.sum(axis=1)[:, None] * np.maximum(x.var(axis=0), np.finfo(float).tiny)[None, :]
    d[d <= floor] = np.nan
    sd = np.sqrt(d)
    r = c / (sd[:, :, None] * sd[:, None, :])
    k = np.arange(x.shape[1])
    r[:, k, k] = np.where(np.isnan(d), np.nan, 1.0)
    return r


# ------------------------------------------------------------------------------ bag of little bootstraps
#: Subset size exponent: b = ceil(n ** BLB_GAMMA) rows per subset (Kleiner et al. 2014 recommend 0.7).
BLB_GAMMA = 0.7
#: Resamples per subset (Kleiner et al. 2014: r of about 100 suffices); the subsets are ceil(B / r).
BLB_RESAMPLES = 100
#: Name of the full bootstrap's interval in the tables' method columns (English; translated when presented).
PERCENTILE_BOOTSTRAP = N_("percentile bootstrap")
#: Name of a bag of little bootstraps' interval in the tables' method columns (:attr:`BLBPlan.method`).
BLB_METHOD = N_("bag of little bootstraps (b = {b}, s = {s}, r = {r})")
_BLB_PATTERN = re.compile(re.sub(r"\\\{[bsr]\\\}", r"(\\d+)", re.escape(BLB_METHOD)))


@dataclass(frozen=True)
class BLBPlan:
    """Sizes of a bag of little bootstraps: ``s`` subsets of ``b`` rows of ``n``, ``r`` resamples each."""

    n: int
    b: int
    s: int
    r: int

    @property
    def method(self) -> str:
        """The interval's name in the tables: "bag of little bootstraps (b = 15849, s = 10, r = 100)"."""
        return BLB_METHOD.format(b=self.b, s=self.s, r=self.r)


def parse_method(method) -> dict[str, int] | None:
    """``{"b": ..., "s": ..., "r": ...}`` of a method column's "bag of little bootstraps (...)", else None."""
    m = _BLB_PATTERN.fullmatch(str(method))
    return None if m is None else dict(zip("bsr", map(int, m.groups())))


def use_blb(n: int, max_n: int | None) -> bool:
    """True when ``n`` rows exceed ``max_n`` (the pipeline's ``bootstrap_max_n``; None = never)."""
    return max_n is not None and n > max_n


def blb_plan(n: int, B: int, *, gamma: float = BLB_GAMMA, r: int = BLB_RESAMPLES) -> BLBPlan:
    """The BLB sizes replacing a full bootstrap of ``B`` resamples of ``n`` rows.

    ``b = min(n, ceil(n^gamma))``, ``r = min(r, B)`` and ``s = ceil(B / r)``, so that ``s r`` is B (rounded up to
    a multiple of r): as many statistic evaluations as the full bootstrap.
    """
    if n < 2 or B < 1:
        raise ValueError("the bag of little bootstraps needs n >= 2 rows and B >= 1 resamples")
    # n ** gamma rounded to 12 digits first, so that an exact power (n = 10^10, gamma = .7 -> 10^7) is not
    # rounded up by floating point
    b = min(n, math.ceil(round(n**gamma, 12)))
    r = max(1, min(int(r), int(B)))
    return BLBPlan(n=int(n), b=int(b), s=math.ceil(B / r), r=r)


def uniform_multinomial(rng: np.random.Generator, n: int, b: int, size: int) -> np.ndarray:
    """``size`` draws of Multinomial(n, (1/b, ..., 1/b)): how often each of b rows is drawn in n draws with
    replacement, at about a third of the cost of ``rng.multinomial`` (which makes b - 1 binomial draws each).

    Poissonisation with an exact correction: the counts start as b independent Poisson(n / b) draws with total
    S, which given S are Multinomial(S, 1/b). If S < n, the n - S missing draws are added, each to a row drawn
    uniformly (a Multinomial(n - S, 1/b), independent, so the sum is Multinomial(n, 1/b)); if S > n, S - n of
    the S draws are removed, chosen uniformly without replacement (n of S independent draws, themselves
    Multinomial(n, 1/b)). The result has exactly the multinomial distribution; the tests compare it with the
    probability function. Correction work is about sqrt(n) draws per row.

    In R: ``rmultinom(size, n, rep(1 / b, b))`` (one column per draw).

    Returns
    -------
    ndarray of int64, ``size x b``; every row sums to n.
    """
    counts = rng.poisson(n / b, size=(size, b))
    totals = counts.sum(axis=1)
    for k in range(size):
        d = int(n - totals[k])
        if d > 0:
            counts[k] += np.bincount(rng.integers(0, b, d), minlength=b)
        elif d < 0:
            drop = rng.choice(int(totals[k]), size=-d, replace=False)  # the dropped draws' positions
            counts[k] -= np.bincount(np.searchsorted(np.cumsum(counts[k]), drop, side="right"), minlength=b)
    return counts


def blb_counts(rng: np.random.Generator, plan: BLBPlan) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The subsets and resample counts of a bag of little bootstraps, one subset at a time.

    Subset j is ``rng.choice(n, size=b, replace=False)`` (sorted); its r resamples are
    :func:`uniform_multinomial` ``(rng, n, b, r)``: resamples of size n drawn with replacement from the subset's b
    rows, as counts. Subsets and counts are drawn in this order, subset after subset, from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator
    plan : BLBPlan
        From :func:`blb_plan`.

    Yields
    ------
    rows : ndarray of int
        The subset's b distinct row indices (ascending).
    w : ndarray
        ``r x b`` float counts: ``w[k, i]`` = how often subset row i is drawn in resample k; each row sums to n.
        (Memory: r b numbers, 12.7 MB at n = 10^6 with the defaults.)
    """
    for _ in range(plan.s):
        rows = np.sort(rng.choice(plan.n, size=plan.b, replace=False))
        yield rows, uniform_multinomial(rng, plan.n, plan.b, plan.r).astype(float)


def blb_interval(
    estimate: float, subset_estimates: np.ndarray, replicates: np.ndarray, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of a bag of little bootstraps from the subsets' replicates.

    Per subset j with estimate ``t_j`` (the statistic on its b rows) and finite replicates ``t_jk``: the bound
    offsets ``d_j = Q_t(level bounds) - t_j``, where ``Q_t`` are the quantiles of the ``t_jk``; the interval is
    ``estimate + mean_j d_j`` (Kleiner et al. 2014, Algorithm 1: the subsets' xi averaged, xi the quantiles of
    the estimate's error, the subset standing in for the population). For the full bootstrap the same
    construction is the percentile interval itself (the estimate cancels); averaging the subsets' raw bounds
    instead would put the centre at the mean of s subset estimates, whose error (of order
    ``SE sqrt(n / (b s))``) is larger than the interval's half-width at large n.

    The quantiles are Hyndman & Fan's type 6 (numpy ``method="weibull"``; ``quantile(type = 6)`` in R): with
    r = 100 replicates, type 7 (numpy's default, used for the full bootstrap's B = 1000) puts the 2.5% bound at
    an expected probability of (1 + 99 * .025) / 101 = .034, which narrows the interval, while type 6 is
    unbiased in probability (the k-th of r order statistics has expected probability k / (r + 1)).

    Parameters
    ----------
    estimate : float
        The statistic on all n rows.
    subset_estimates : ndarray
        ``s``; a subset whose estimate is not finite is left out.
    replicates : ndarray
        ``s x r``; NaN = failed resample (ignored).
    level : float

    Returns
    -------
    (lower, upper) : NaN when no subset has a finite estimate and finite replicates.

    In R there is no BLB in boot; by hand: ``est + rowMeans(sapply(js, function(j) quantile(t[j, ], c(.025,
    .975), type = 6, na.rm = TRUE) - t0[j]))``.
    """
    q = (1.0 - level) / 2.0
    offsets = []
    for t_j, reps in zip(np.asarray(subset_estimates, dtype=float), np.asarray(replicates, dtype=float)):
        ok = reps[np.isfinite(reps)]
        if np.isfinite(t_j) and ok.size:
            offsets.append(np.quantile(ok, [q, 1.0 - q], method="weibull") - t_j)
    if not offsets or not np.isfinite(estimate):
        return float("nan"), float("nan")
    lo, hi = float(estimate) + np.mean(offsets, axis=0)
    return float(lo), float(hi)


# ------------------------------------------------------------------------------ one stream for a whole table
#: Largest full-bootstrap count matrix (bytes) :class:`SharedResamples` keeps; larger ones are drawn again.
SHARED_CACHE_BYTES = 64 << 20


class SharedResamples:
    """The same bootstrap resamples of the respondents for every statistic and every scale of a table.

    Resample b of n rows is the b-th of the stream of ``numpy.random.default_rng(seed)``: the full bootstrap's
    resamples are those :func:`resample_counts` draws from a new generator with that seed, and a bag of little
    bootstraps' subsets and resamples those :func:`blb_counts` draws from one. A statistic with fewer resamples
    takes the first ones (200 of 1000: the first 200; a plan of s = 2 subsets: the first two of s = 10), so every
    statistic of the table, on every scale, is computed on the same resampled respondents -- as ``boot::boot``
    with one statistic returning the whole row of coefficients, and what lets an unchanged scale of a revised
    codebook keep its interval bit for bit.

    The draws are kept and handed out again instead of being drawn anew: the count matrices of the full
    bootstrap up to :data:`SHARED_CACHE_BYTES` (larger ones are drawn again from the seed: the same numbers),
    the bag of little bootstraps' subsets always (int32 counts, r b numbers per subset: 6.3 MB at 10^6).

    Parameters
    ----------
    seed : int
        Seed of the stream (the pipeline's ``seed``).

    In R: ``boot::boot(x, function(d, i) c(alpha(d[i, ]), omega(d[i, ])), R = B)`` -- one set of resamples,
    every statistic on each.
    """

    def __init__(self, seed: int, cache_bytes: int = SHARED_CACHE_BYTES) -> None:
        self.seed = int(seed)
        self.cache_bytes = int(cache_bytes)
        self._full: dict[int, tuple[np.random.Generator, np.ndarray]] = {}
        self._blb: dict[tuple[int, int, int], tuple[np.random.Generator, list]] = {}

    def generator(self) -> np.random.Generator:
        """A new generator at the start of the stream (``default_rng(seed)``)."""
        return np.random.default_rng(self.seed)

    def counts(self, n: int, B: int) -> Iterator[np.ndarray]:
        """The first ``B`` resamples of ``n`` rows as row counts, in batches: the numbers
        ``resample_counts(default_rng(seed), n, B)`` yields (batch sizes may differ)."""
        if B * n * 8 > self.cache_bytes:
            yield from resample_counts(self.generator(), n, B)
            return
        rng, drawn = self._full.get(n, (None, np.empty((0, n))))
        if rng is None:
            rng = self.generator()
        if drawn.shape[0] < B:
            drawn = np.vstack([drawn, *resample_counts(rng, n, B - drawn.shape[0])])
            self._full[n] = (rng, drawn)
        batch = max(1, min(B, BATCH_ELEMENTS // max(n, 1)))
        for b0 in range(0, B, batch):
            yield drawn[b0 : min(B, b0 + batch)]

    def blb(self, plan: BLBPlan) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The first ``plan.s`` subsets of a bag of little bootstraps (rows, float counts): the pairs
        ``blb_counts(default_rng(seed), plan)`` yields."""
        key = (plan.n, plan.b, plan.r)
        rng, drawn = self._blb.get(key, (None, []))
        if rng is None:
            rng = self.generator()
            self._blb[key] = (rng, drawn)
        more = BLBPlan(n=plan.n, b=plan.b, s=plan.s - len(drawn), r=plan.r)
        if more.s > 0:
            drawn.extend((rows, w.astype(np.int32)) for rows, w in blb_counts(rng, more))
        for rows, w in drawn[: plan.s]:
            yield rows, w.astype(float)
