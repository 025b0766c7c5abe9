"""Shared checks and data preparation for the criterion analyses: frame checks, the normal quantile of a
confidence level, log transforms of skewed criteria, the missing-criterion report and R's treatment coding of
the controls (``model.matrix``)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtri, stdtr  # stats.norm.ppf's and stats.t.cdf's own functions, without scipy.stats' import

__all__ = [
    "normal_quantile",
    "t_pvalues",
    "average_ranks",
    "check_frame",
    "transform_criteria",
    "missing_report",
    "control_design",
]


def normal_quantile(conf: float) -> float:
    """The two-sided normal quantile ``z_{(1 + conf)/2}`` of a confidence level (1.959964 for 0.95)."""
    return float(ndtri((1 + conf) / 2))


def t_pvalues(t, df):
    """Two-sided p-values of t statistics on ``df`` degrees of freedom, 2 P(T > |t|) (R's
    ``2 * pt(-abs(t), df)``): 0 for an infinite t, NaN for NaN."""
    return 2 * stdtr(df, -np.abs(t))


def average_ranks(x) -> np.ndarray:
    """Ranks 1..n of the values of ``x`` (no NaN), ties given the mean of their ranks: R's ``rank()`` and
    ``scipy.stats.rankdata(method="average")``.

    scipy's own algorithm (a stable sort, the runs of equal values, the mean of each run's first and last rank),
    written out so that the criterion jobs do not import scipy.stats (about 0.8 s each); the ranks are the same
    numbers (integers and halves, exact).
    """
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    first = np.r_[True, xs[1:] != xs[:-1]]  # the first value of each run of ties
    run = np.cumsum(first)  # run number (1-based) of each sorted value
    bounds = np.r_[np.flatnonzero(first), len(x)]  # where each run starts, then n
    ranks = np.empty(len(x))
    ranks[order] = 0.5 * (bounds[run] + bounds[run - 1] + 1)
    return ranks


def check_frame(df: pd.DataFrame, what: str) -> None:
    """Raise unless ``df`` is a DataFrame with unique index values and unique column names (``what`` names it)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame")
    if not df.index.is_unique:
        raise ValueError(f"{what} has duplicated index values; rows are aligned on the index")
    if not df.columns.is_unique:
        raise ValueError(f"{what} has duplicated column names")


def _is_categorical(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(s)
        or pd.api.types.is_string_dtype(s)
        or pd.api.types.is_bool_dtype(s)
    )


# ============================================================================ data preparation
def transform_criteria(
    criteria: pd.DataFrame, log_criteria: Sequence[str] = (), method: str = "log1p"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Log-transform the named (skewed) criteria.

    Parameters
    ----------
    criteria : DataFrame
        One numeric column per criterion.
    log_criteria : sequence of str
        Criteria to transform; the others are left unchanged.
    method : {"log1p", "log"}
        ``log1p`` = ``log(1 + y)`` (default: defined for counts and amounts with zeros; R ``log1p``) or the
        natural ``log`` (requires y > 0). Values outside the domain raise ``ValueError`` instead of becoming
        missing, so no respondent is dropped silently.

    Returns
    -------
    (criteria, transforms) : the transformed copy and a table ``criterion, transform`` ("none", "log",
    "log1p") that is merged into the result tables as the note column.
    """
    if method not in ("log1p", "log"):
        raise ValueError("method must be 'log1p' or 'log'")
    unknown = [c for c in log_criteria if c not in criteria.columns]
    if unknown:
        raise ValueError(f"log_criteria not among the criteria: {unknown}")
    out = criteria.copy()
    rows = []
    for c in criteria.columns:
        if c in log_criteria:
            y = pd.to_numeric(out[c], errors="raise").astype(float)
            bound = -1.0 if method == "log1p" else 0.0
            bad = y.notna() & (y <= bound)
            if bad.any():
                raise ValueError(
                    f"criterion {c!r}: {int(bad.sum())} value(s) <= {bound:g}, outside the domain of {method}"
                )
            out[c] = np.log1p(y) if method == "log1p" else np.log(y)
            rows.append({"criterion": c, "transform": method})
        else:
            rows.append({"criterion": c, "transform": "none"})
    return out, pd.DataFrame(rows)


def missing_report(scores: pd.DataFrame, criteria: pd.DataFrame) -> pd.DataFrame:
    """Count, per criterion, the respondents (rows of ``scores``) without a criterion value.

    ``n_total`` = rows in ``scores``; ``n_missing`` = of these, rows whose criterion is missing, including
    ``n_absent`` rows that do not appear in ``criteria`` at all; ``n_valid = n_total - n_missing``;
    ``n_criteria_without_scores`` = rows of ``criteria`` whose index is not in ``scores`` (they cannot be
    analysed and are reported, not used).
    """
    absent = ~scores.index.isin(criteria.index)
    extra = int((~criteria.index.isin(scores.index)).sum())
    aligned = criteria.reindex(scores.index)
    rows = []
    for c in criteria.columns:
        miss = aligned[c].isna()
        rows.append(
            {
                "criterion": c,
                "n_total": len(scores),
                "n_missing": int(miss.sum()),
                "n_absent": int(absent.sum()),
                "n_valid": int((~miss).sum()),
                "n_criteria_without_scores": extra,
            }
        )
    return pd.DataFrame(rows)


def control_design(controls: pd.DataFrame | None, index=None) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Numeric design columns for the controls, as R's ``model.matrix`` builds them (without intercept).

    Numeric columns are kept; categorical columns (``category``, ``object``/string, ``bool``) become
    treatment dummies named ``"<column>[T.<level>]"`` with the first level as reference: the categories'
    order for a pandas ``Categorical``, sorted unique values otherwise (as ``factor()``). Only levels that
    occur among the rows of ``index`` (if given) are used, so an unused level never yields an all-zero
    (aliased) column. Missing values stay missing (the row is dropped listwise by the regression).

    Returns
    -------
    (design, terms) : the design DataFrame and a mapping term (original column) -> its design columns.
    """
    if controls is None or controls.shape[1] == 0:
        return pd.DataFrame(index=index), {}
    if index is not None:
        controls = controls.loc[index]
    cols: dict[str, pd.Series] = {}
    terms: dict[str, list[str]] = {}
    for c in controls.columns:
        s = controls[c]
        if _is_categorical(s):
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                levels = sorted(s.dropna().unique().tolist())
            if len(levels) < 2:
                raise ValueError(f"categorical control {c!r} has fewer than two observed levels")
            names = []
            for lv in levels[1:]:
                name = f"{c}[T.{lv}]"
                cols[name] = (s == lv).astype(float).where(s.notna())
                names.append(name)
            terms[c] = names
        else:
            cols[c] = pd.to_numeric(s, errors="raise").astype(float)
            terms[c] = [c]
    return pd.DataFrame(cols, index=controls.index), terms
