"""Item analysis as ``psych::alpha``'s ``item.stats`` and ``alpha.drop`` (with ``psych::describe``'s skew and
kurtosis, floor and ceiling shares and flags), per scale and stacked over scales."""

from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..descriptives import moments
from ..efa import smc
from .alpha import alpha_of_array, alpha_statistics
from .matrices import cov2cor, no_variance, pairwise_cor, pairwise_cov, prepare_items

__all__ = ["ITEM_ANALYSIS_COLUMNS", "item_analysis", "item_analysis_table"]

ITEM_ANALYSIS_COLUMNS = [
    "level", "key", "item", "n", "mean", "sd", "skew", "kurtosis", "floor", "ceiling",
    "raw_r", "std_r", "r_cor", "r_drop", "alpha_if_deleted", "alpha_std_if_deleted",
    "lambda6_if_deleted", "average_r_if_deleted", "median_r_if_deleted", "alpha_se_if_deleted",
    "flag_alpha", "flag_r_drop", "flag", "note",
]  # fmt: skip


def item_analysis(
    items: pd.DataFrame,
    missing: str = "pairwise",
    *,
    scale_min: float | None = None,
    scale_max: float | None = None,
    r_drop_min: float = 0.30,
    alpha_gain: float = 0.0,
) -> pd.DataFrame:
    """Item statistics and alpha-if-item-deleted, as ``psych::alpha``'s ``item.stats`` and ``alpha.drop``.

    Parameters
    ----------
    items : DataFrame
        Items of one scale (already reverse-scored), at least two columns.
    missing : {"pairwise", "listwise"}
        As in :func:`cronbach_alpha`.
    scale_min, scale_max : float, optional
        Lowest / highest response option; the floor / ceiling shares are the shares of the non-missing
        answers equal to them (NaN when not given).
    r_drop_min : float
        Items whose corrected item-total correlation ``r_drop`` is below this are flagged (default .30).
    alpha_gain : float
        Items whose alpha-if-deleted exceeds the scale's alpha by more than this are flagged (default 0).

    Returns
    -------
    DataFrame
        One row per item: item, n, mean, sd, skew, kurtosis (``psych::describe``, type 3), floor,
        ceiling, raw_r, std_r, r_cor, r_drop (``item.stats``), alpha_if_deleted, alpha_std_if_deleted,
        lambda6_if_deleted, average_r_if_deleted, median_r_if_deleted, alpha_se_if_deleted
        (``alpha.drop``), flag_alpha (deleting raises alpha), flag_r_drop (r_drop < r_drop_min),
        flag (either, or an item without variance), note. Items without variance are left out of the
        scale statistics as psych does, keep their descriptive columns and are flagged with a note.

    Notes
    -----
    ``r_drop`` = correlation of the item with the sum of the other items, from the covariance matrix;
    ``r_cor`` = item-total correlation corrected for overlap and reliability (smc on the diagonal);
    ``raw_r`` = correlation with the mean of the answered items. For a two-item scale the "if deleted"
    columns follow psych's special case (raw = C12 / C22, std = r12, ...).
    """
    x_all = prepare_items(items, missing, copy=False)  # read only: a float frame's own block
    bad = no_variance(x_all.to_numpy())
    x = x_all.loc[:, ~bad] if bad.any() else x_all  # prepare_items' own copy: no second one
    k = x.shape[1]
    if k < 2:
        raise ValueError("item analysis needs at least two items with variance")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = _item_analysis_core(x, scale_min, scale_max)
    if bad.any():
        extra = _descriptives(x_all.loc[:, bad], scale_min, scale_max)
        out = pd.concat([out, extra], ignore_index=True).set_index("item").loc[list(x_all.columns)].reset_index()
    total_alpha = alpha_of_array(x.to_numpy(), "pairwise", full=False)
    out["flag_alpha"] = out["alpha_if_deleted"] > total_alpha + alpha_gain
    out["flag_r_drop"] = out["r_drop"] < r_drop_min
    out["flag"] = out["flag_alpha"] | out["flag_r_drop"] | out["item"].isin(x_all.columns[bad])
    out["note"] = np.where(out["item"].isin(x_all.columns[bad]), "no variance: left out of the scale statistics", "")
    return out


def _descriptives(x: pd.DataFrame, scale_min, scale_max) -> pd.DataFrame:
    """item, n, mean, sd, skew, kurtosis (psych::describe, type 3), floor and ceiling shares."""
    cnt = x.notna().sum()
    arr = x.to_numpy(dtype=float)
    mom = np.array([moments(col[~np.isnan(col)]) for col in arr.T]).reshape(-1, 4)  # mean, sd, skew, kurtosis
    with np.errstate(all="ignore"):
        floor = ((x == scale_min).sum() / cnt).to_numpy(float) if scale_min is not None else np.nan
        ceiling = ((x == scale_max).sum() / cnt).to_numpy(float) if scale_max is not None else np.nan
    return pd.DataFrame(
        {
            "item": list(x.columns),
            "n": cnt.to_numpy().astype(int),
            "mean": mom[:, 0],
            "sd": mom[:, 1],
            "skew": mom[:, 2],
            "kurtosis": mom[:, 3],
            "floor": floor,
            "ceiling": ceiling,
        }
    )


def _item_analysis_core(x: pd.DataFrame, scale_min, scale_max) -> pd.DataFrame:
    """item.stats and alpha.drop of psych::alpha for items that all have variance."""
    k = x.shape[1]
    c = pairwise_cov(x.to_numpy(dtype=float))
    r = cov2cor(c)
    n_rows = x.shape[0]
    rows = []
    if k > 2:
        for i in range(k):
            keep = [j for j in range(k) if j != i]
            a = alpha_statistics(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)])
            se = np.sqrt(a["q"] / n_rows) if n_rows > k else np.nan
            rows.append([a["raw"], a["std"], a["g6"], a["av_r"], a["med_r"], se])
    else:  # psych's special case for two items
        s1 = smc(r, nan_policy="propagate")[0]
        r12 = r[0, 1]
        rows.append([c[0, 1] / c[1, 1], r12, s1, r12, r12, np.nan])
        rows.append([c[0, 1] / c[0, 0], r12, s1, r12, r12, np.nan])
    drop = np.array(rows, dtype=float)

    item_r = r.sum(axis=0) / np.sqrt(r.sum())
    rc = r.copy()
    np.fill_diagonal(rc, smc(r, nan_policy="propagate"))
    item_rc = rc.sum(axis=0) / np.sqrt(rc.sum())
    r_drop = np.empty(k)
    for i in range(k):
        keep = [j for j in range(k) if j != i]
        v_drop = c[np.ix_(keep, keep)].sum()
        c_drop = c[:, i].sum() - c[i, i]
        r_drop[i] = c_drop / np.sqrt(c[i, i] * v_drop)
    total = x.mean(axis=1, skipna=True).to_numpy()
    raw_r = pairwise_cor(np.column_stack([total, x.to_numpy()]))[0, 1:]

    out = _descriptives(x, scale_min, scale_max)
    out["raw_r"] = raw_r
    out["std_r"] = item_r
    out["r_cor"] = item_rc
    out["r_drop"] = r_drop
    out["alpha_if_deleted"] = drop[:, 0]
    out["alpha_std_if_deleted"] = drop[:, 1]
    out["lambda6_if_deleted"] = drop[:, 2]
    out["average_r_if_deleted"] = drop[:, 3]
    out["median_r_if_deleted"] = drop[:, 4]
    out["alpha_se_if_deleted"] = drop[:, 5]
    return out


def item_analysis_table(
    items: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    scale_min: float | None = None,
    scale_max: float | None = None,
    *,
    missing: str = "pairwise",
    level: str = "competency",
    r_drop_min: float = 0.30,
    alpha_gain: float = 0.0,
) -> pd.DataFrame:
    """:func:`item_analysis` for every group, stacked: one row per group and item, columns
    :data:`ITEM_ANALYSIS_COLUMNS` (flags as pandas nullable booleans).

    Groups with fewer than two items with variance get descriptive statistics only (item-total
    columns and flags missing) and a note."""
    frames = []
    for key, cols in groups.items():
        cols = list(cols)
        try:
            t = item_analysis(
                items[cols],
                missing,
                scale_min=scale_min,
                scale_max=scale_max,
                r_drop_min=r_drop_min,
                alpha_gain=alpha_gain,
            )
        except ValueError:
            t = _descriptives(prepare_items(items[cols], missing), scale_min, scale_max)
            t["note"] = "fewer than 2 items with variance: no item-total statistics"
        t.insert(0, "key", key)
        t.insert(0, "level", level)
        frames.append(t.reindex(columns=ITEM_ANALYSIS_COLUMNS))
    frames = [f for f in frames if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ITEM_ANALYSIS_COLUMNS)
    for c in ("flag_alpha", "flag_r_drop", "flag"):
        out[c] = out[c].astype("boolean")
    out["n"] = out["n"].astype("Int64")
    return out
