"""Item data for the reliability statistics: the missing-data policy, items without variance and the
pairwise-complete covariance and correlation matrices of R's ``cov``/``cor(x, use = "pairwise")``."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import pandas as pd

from ..efa.correlation import pairwise_sums

__all__ = [
    "MISSING_POLICIES",
    "check_missing",
    "prepare_items",
    "no_variance",
    "listwise_rows",
    "cov2cor",
    "stacked_cov",
    "stacked_cor",
    "pairwise_cov",
    "pairwise_cor",
]

MISSING_POLICIES = ("pairwise", "listwise")


def check_missing(missing: str) -> None:
    """Raise ``ValueError`` unless ``missing`` is one of :data:`MISSING_POLICIES`."""
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")


def prepare_items(items: pd.DataFrame, missing: str, copy: bool = True) -> pd.DataFrame:
    """Float copy of ``items``; listwise deletion when asked. ``copy=False``: float64 columns are not copied
    (for a caller that only reads them)."""
    check_missing(missing)
    if not isinstance(items, pd.DataFrame):
        items = pd.DataFrame(items)
    if all(pd.api.types.is_numeric_dtype(t) for t in items.dtypes):
        x = items.astype(float, copy=copy)
    else:
        x = items.apply(pd.to_numeric, errors="coerce").astype(float)
    if missing == "listwise":
        x = x.dropna(how="any")
    return x


def no_variance(arr: np.ndarray) -> np.ndarray:
    """Items with fewer than two answers or a zero standard deviation (psych drops these in alpha).

    The smallest and largest answers by ``fmin``/``fmax``, which skip NaN, without copies of the rows."""
    cnt = np.count_nonzero(~np.isnan(arr), axis=0)
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduce(arr, axis=0)
        hi = np.fmax.reduce(arr, axis=0)
    return (cnt < 2) | (lo == hi)


def listwise_rows(arr: np.ndarray, missing: str) -> np.ndarray:
    """The rows of ``arr`` without a missing value when ``missing`` is "listwise", else ``arr`` itself."""
    return arr[~np.isnan(arr).any(axis=1)] if missing == "listwise" else arr


def cov2cor(c: np.ndarray) -> np.ndarray:
    """R's ``cov2cor``: the correlation matrix of a covariance matrix (unit diagonal)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        d = 1.0 / np.sqrt(np.diag(c))
        out = c * d[:, None] * d[None, :]
    np.fill_diagonal(out, 1.0)
    return out


#: The pairwise moments of the most recent item arrays, by a digest of their values (at most 32, each p x p x 4:
#: the pipeline's reliability job asks for a scale's moments again in its item analysis, after every level's scales).
_RECENT: OrderedDict[tuple, tuple[np.ndarray, ...]] = OrderedDict()
_RECENT_SIZE = 32


def _pairwise_moments(arr: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pairwise-complete sums on column-centred data: n_ij, sum_i|j, sum_j|i, cross, sumsq_i|j (read-only).

    Alpha, omega total, omega hierarchical and the bootstrap's starting values of one set of items need the same
    sums, each a pass over the rows (at a million rows the larger part of their time besides the bootstrap): the
    sums of the last few arrays are kept, keyed by a digest of the values, so the same values give the same
    numbers, computed once."""
    arr = np.asarray(arr, dtype=float)
    # the digest of the values as laid out in memory (a data frame's array is column-major): no copy of the rows
    order = "C" if arr.flags.c_contiguous or not arr.flags.f_contiguous else "F"
    layout = arr.T if order == "F" else np.ascontiguousarray(arr)
    key = (arr.shape, order, hashlib.blake2b(layout.data, digest_size=20).digest())
    hit = _RECENT.get(key)
    if hit is None:
        hit = _RECENT[key] = _compute_pairwise_moments(arr)
        while len(_RECENT) > _RECENT_SIZE:
            _RECENT.popitem(last=False)
    _RECENT.move_to_end(key)
    return hit


def _compute_pairwise_moments(arr: np.ndarray) -> tuple[np.ndarray, ...]:
    # the EFA's pairwise sums (exact for rating-scale answers), in this module's order: n, s, cross, q
    n, s, q, cross = pairwise_sums(arr)
    for a in (n, s, cross, q):
        a.flags.writeable = False
    return n, s, cross, q


def stacked_cov(n, s_i, cross) -> np.ndarray:
    """Pairwise covariances from stacked pairwise sums (resamples x p x p; see ``resampling.pairwise_moments``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (cross - s_i * s_i.transpose(0, 2, 1) / n) / (n - 1.0)
    c[n < 2] = np.nan
    return c


def stacked_cor(n, s_i, cross, q_i) -> np.ndarray:
    """Pairwise correlations from stacked pairwise sums (resamples x p x p), unit diagonal where defined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        sxy = cross - s_i * s_i.transpose(0, 2, 1) / n
        sxx = q_i - s_i**2 / n
        r = sxy / np.sqrt(sxx * sxx.transpose(0, 2, 1))
    r[n < 2] = np.nan
    d = np.arange(r.shape[1])
    r[:, d, d] = np.where(np.isnan(r[:, d, d]), np.nan, 1.0)
    return r


def pairwise_cov(arr: np.ndarray) -> np.ndarray:
    """``cov(x, use = "pairwise")``: each pair over its complete rows, with the pair's own means."""
    n, s_i, cross, _ = _pairwise_moments(arr)
    return stacked_cov(n[None], s_i[None], cross[None])[0]


def pairwise_cor(arr: np.ndarray) -> np.ndarray:
    """``cor(x, use = "pairwise")``: Pearson r of each pair over its complete rows."""
    return stacked_cor(*(m[None] for m in _pairwise_moments(arr)))[0]
