"""Item descriptives: distribution of each item's responses.

Moments follow ``psych::describe`` (default ``type = 3``): skew ``b1 = m3 / s^3`` and kurtosis
``b2 = m4 / s^4 - 3``, where ``m_r`` are central moments with denominator n and ``s`` is the n-1 standard
deviation (Joanes & Gill 1998, type 3). Floor and ceiling shares are the shares of valid answers at the scale's
minimum and maximum; a share above 15% is the conventional flag (Terwee et al. 2007).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["item_descriptives", "moments", "response_distribution", "skew_kurtosis"]


def skew_kurtosis(x: np.ndarray) -> tuple[float, float]:
    """Skew and excess kurtosis of ``x`` (NaN removed) as ``psych::describe(type = 3)``."""
    x = np.asarray(x, dtype=float)
    _, _, skew, kurtosis = moments(x[~np.isnan(x)])
    return skew, kurtosis


def moments(v: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, SD (n - 1), skew and excess kurtosis of the answers ``v`` (no missing values), as ``psych::describe``
    (``type = 3``: ``b1 = m3 / s^3``, ``b2 = m4 / s^4 - 3``, central moments ``m_r`` with denominator n).

    One pass for the deviations d from the mean and their squares, reused for every moment: the mean and SD are
    numpy's ``v.mean()`` and ``v.std(ddof=1)`` bit for bit (the same sums), and ``m3``, ``m4`` are the means of
    ``d^2 d`` and ``d^2 d^2`` (products, where ``d**3`` and ``d**4`` would call ``pow`` on every answer, about
    9 x slower; the two differ by rounding, about 1e-16 relative). Fewer than two answers, or no spread: NaN for
    what is not defined.

    In R: ``psych::describe(v)[, c("mean", "sd", "skew", "kurtosis")]``.
    """
    v = np.asarray(v, dtype=float)
    n = v.size
    if n == 0:
        return float("nan"), float("nan"), float("nan"), float("nan")
    mean = v.mean()
    if n < 2:
        return float(mean), float("nan"), float("nan"), float("nan")
    d = v - mean
    d2 = d * d
    s = float(np.sqrt(d2.sum() / (n - 1)))
    if s == 0:
        return float(mean), s, float("nan"), float("nan")
    np.multiply(d2, d, out=d)
    m3 = d.mean()
    np.multiply(d2, d2, out=d)
    return float(mean), s, float(m3 / s**3), float(d.mean() / s**4 - 3.0)


def item_descriptives(
    items: pd.DataFrame, scale_min: int, scale_max: int, *, floor_ceiling_flag: float = 0.15
) -> pd.DataFrame:
    """One row per item: n, n_missing, share_missing, mean, sd, median, min, max, skew, kurtosis, floor, ceiling.

    Matches ``psych::describe(items)`` for n, mean, sd, median, min, max, skew and kurtosis.
    """
    rows = []
    for c in items.columns:
        x = items[c].to_numpy(dtype=float)
        v = x[~np.isnan(x)]
        mean, sd, sk, ku = moments(v)
        n = v.size
        rows.append(
            {
                "item": c,
                "n": n,
                "n_missing": int(x.size - n),
                "share_missing": (x.size - n) / x.size if x.size else np.nan,
                "mean": mean,
                "sd": sd,
                "median": float(np.median(v)) if n else np.nan,
                "min": v.min() if n else np.nan,
                "max": v.max() if n else np.nan,
                "skew": sk,
                "kurtosis": ku,
                "floor": float(np.mean(v == scale_min)) if n else np.nan,
                "ceiling": float(np.mean(v == scale_max)) if n else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    out["floor_ceiling_flag"] = (out["floor"] > floor_ceiling_flag) | (out["ceiling"] > floor_ceiling_flag)
    return out


def response_distribution(
    items: pd.DataFrame, scale_min: float, scale_max: float, scale_type: str = "likert", n_bins: int = 10
) -> pd.DataFrame:
    """Long table: item, category, count, share (of valid answers) for every scale point.

    On a continuous scale the categories are ``n_bins`` equal-width intervals of [min, max] (one per whole
    number when the range is a whole number of at most ``n_bins`` units, e.g. 0-10), each labelled by its lower
    edge; the last interval includes max (``numpy.histogram``'s convention).
    """
    rows = []
    for c in items.columns:
        v = items[c].dropna()
        n = v.size
        if scale_type == "continuous":
            width = scale_max - scale_min
            bins = int(width) if float(width).is_integer() and width <= n_bins else n_bins
            counts_arr, edges = np.histogram(v.to_numpy(float), bins=bins, range=(scale_min, scale_max))
            pairs = [(float(e), int(k)) for e, k in zip(edges[:-1], counts_arr)]
        else:
            counts = v.value_counts()
            pairs = [(k, int(counts.get(float(k), 0))) for k in range(int(scale_min), int(scale_max) + 1)]
        for k, cnt in pairs:
            rows.append({"item": c, "category": k, "count": cnt, "share": cnt / n if n else np.nan})
    return pd.DataFrame(rows)
