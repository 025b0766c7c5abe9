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
* :func:`crossproducts` -- centred cross-product matrices of every resample of complete data.

Callers run these with BLAS limited to one thread (``threadpoolctl``), which keeps the sums independent of the
number of cores.

In R: ``boot::boot(data, statistic, R = B, stype = "f")`` passes the same frequency weights to a statistic.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

__all__ = ["BATCH_ELEMENTS", "resample_counts", "pairwise_moments", "crossproducts"]

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
    for r0 in range(0, n_rows, step):
        mm, yy = mf[r0 : r0 + step], y[r0 : r0 + step]
        per_row = np.concatenate(
            [
                (a[:, :, None] * b[:, None, :]).reshape(len(a), p * p)
                for a, b in ((mm, mm), (yy, mm), (yy, yy), (yy**2, mm))
            ],
            axis=1,
        )
        out += w[:, r0 : r0 + step] @ per_row
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
