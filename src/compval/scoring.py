"""Scale scores from item responses.

Scores are unit-weighted means of the (reverse-scored) items of each group (competency, dimension or module),
the convention of ``psych::scoreItems(..., totals = FALSE)``. With missing answers, a respondent's mean is taken
over the items answered, provided at least ``min_share`` of the group's items are present; otherwise the score is
missing (``psych::scoreItems`` with ``impute = "none"`` uses whatever items are present).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["mean_scores", "score_descriptives"]


def mean_scores(items: pd.DataFrame, groups: dict[str, list[str]], *, min_share: float = 0.5) -> pd.DataFrame:
    """Mean score per group.

    Parameters
    ----------
    items : DataFrame
        Reverse-scored item responses, one row per respondent.
    groups : dict
        Group key -> item ids.
    min_share : float
        Minimum share of a group's items that must be answered for a score (else missing).

    Returns
    -------
    DataFrame indexed like ``items`` with one column per group key, in the order of ``groups``.
    """
    out = {}
    for key, cols in groups.items():
        block = items[cols]
        answered = block.notna().sum(axis=1)
        score = block.mean(axis=1, skipna=True)
        out[key] = score.where(answered >= max(1, min_share * len(cols)))
    return pd.DataFrame(out, index=items.index)


def score_descriptives(scores: pd.DataFrame, level: str) -> pd.DataFrame:
    """n, mean, SD (n-1), min, max per score column, as a tidy table with a ``level`` column."""
    rows = []
    for key in scores.columns:
        s = scores[key].dropna()
        rows.append(
            {
                "level": level,
                "key": key,
                "n": int(s.size),
                "mean": s.mean(),
                "sd": s.std(ddof=1),
                "min": s.min(),
                "max": s.max(),
            }
        )
    return pd.DataFrame(rows)
