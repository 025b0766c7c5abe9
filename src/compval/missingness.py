"""Missing data: item and respondent missingness, patterns, Little's MCAR test, exclusion policies.

All functions are pure: DataFrames in, tidy DataFrames or small dataclasses out.

References
----------
Little, R. J. A. (1988). A test of missing completely at random for multivariate data with missing values.
*Journal of the American Statistical Association, 83*, 1198-1202.
Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with missing data* (2nd ed.), sec. 11.2 (EM for the
multivariate normal). Wiley.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .careless import numeric_items
from .sem.fitindices import chisq_sf
from .colstats import column_means, column_variances
from .sem.samplestats import em_step, row_patterns

__all__ = [
    "item_missingness",
    "respondent_missingness",
    "missing_patterns",
    "MvnEstimate",
    "em_mvn",
    "LittleMCAR",
    "little_mcar",
    "apply_missing_policy",
]


# --------------------------------------------------------------------------------------------- descriptives
def item_missingness(items: pd.DataFrame) -> pd.DataFrame:
    """Missing answers per item.

    Returns
    -------
    DataFrame with one row per item (in column order): ``item``, ``n`` (respondents), ``n_missing``,
    ``share_missing`` (= n_missing / n); equivalent to R ``colSums(is.na(x))`` and ``colMeans(is.na(x))``.
    """
    na = items.isna()
    n = len(items)
    out = pd.DataFrame(
        {
            "item": list(items.columns),
            "n": n,
            "n_missing": na.sum(axis=0).to_numpy().astype(int),
        }
    )
    out["share_missing"] = out["n_missing"] / n if n else np.nan
    return out


def respondent_missingness(items: pd.DataFrame) -> pd.DataFrame:
    """Missing answers per respondent.

    Returns
    -------
    DataFrame indexed like ``items``: ``n_items``, ``n_missing``, ``share_missing`` (= n_missing / n_items);
    R ``rowSums(is.na(x))`` / ``rowMeans(is.na(x))``.
    """
    p = items.shape[1]
    nm = items.isna().sum(axis=1).astype(int)
    return pd.DataFrame({"n_items": p, "n_missing": nm, "share_missing": nm / p}, index=items.index)


def _pattern_keys(miss: np.ndarray) -> np.ndarray:
    return np.array(["".join("1" if v else "0" for v in row) for row in miss])


def missing_patterns(items: pd.DataFrame) -> pd.DataFrame:
    """The distinct missing-data patterns and how many respondents show each.

    Returns
    -------
    DataFrame, one row per pattern, most frequent first (ties: fewer missing first, then the pattern):
    ``pattern`` (a string of 0/1 per item in column order, 1 = missing), ``n`` (respondents), ``share``,
    ``n_missing`` (items missing in the pattern) and ``missing_items`` (comma-separated item ids).
    """
    cols = list(items.columns)
    miss = items.isna().to_numpy()
    keys = _pattern_keys(miss)
    uniq, counts = np.unique(keys, return_counts=True)
    rows = []
    for k, c in zip(uniq, counts):
        mi = [cols[i] for i, ch in enumerate(k) if ch == "1"]
        rows.append(
            {"pattern": k, "n": int(c), "share": c / len(items), "n_missing": len(mi), "missing_items": ",".join(mi)}
        )
    out = pd.DataFrame(rows, columns=["pattern", "n", "share", "n_missing", "missing_items"])
    return out.sort_values(["n", "n_missing", "pattern"], ascending=[False, True, True]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------- ML estimates
@dataclass(frozen=True)
class MvnEstimate:
    """Maximum-likelihood mean vector and covariance matrix (denominator n) under MVN with missing data.

    Attributes
    ----------
    mean : Series
    cov : DataFrame
    n : int
        Respondents used (those with at least one observed value).
    iterations : int
    converged : bool
    """

    mean: pd.Series
    cov: pd.DataFrame
    n: int
    iterations: int
    converged: bool


def _em_start(x: np.ndarray, by_column: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The EM's start for the rows ``x`` (no row entirely missing): the observed means and a diagonal of the
    observed variances; raises ValueError for fewer than two rows or an item with fewer than two values.
    ``by_column``: summed as a column-major table is (:func:`compval.colstats.column_means`)."""
    if len(x) < 2:
        raise ValueError("need at least two respondents with an answer")
    nobs = (~np.isnan(x)).sum(axis=0)
    if (nobs < 2).any():
        raise ValueError("every item needs at least two observed values")
    # numpy's nanmean and nanvar, bit for bit, without their copies of the rows
    return column_means(x, by_column=by_column), np.diag(column_variances(x, by_column=by_column))


def _em(cols: list, start: tuple[np.ndarray, np.ndarray], pt, tol: float, max_iter: int) -> MvnEstimate:
    """EM from ``start`` (:func:`_em_start`) over the missing-data patterns ``pt`` of the rows
    (:func:`compval.sem.samplestats.row_patterns`): the E step of every row at once
    (:func:`compval.sem.samplestats.em_step`), until the largest change of any estimate is below ``tol``."""
    mu, sigma = start
    n = int(pt.n.sum())
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        _, mu_new, sigma_new = em_step(pt, mu, sigma)
        delta = max(np.max(np.abs(mu_new - mu)), np.max(np.abs(sigma_new - sigma)))
        mu, sigma = mu_new, sigma_new
        if delta < tol:
            converged = True
            break
    return MvnEstimate(
        mean=pd.Series(mu, index=cols, name="mean"),
        cov=pd.DataFrame((sigma + sigma.T) / 2, index=cols, columns=cols),
        n=int(n),
        iterations=it,
        converged=converged,
    )


def em_mvn(items: pd.DataFrame, tol: float = 1e-11, max_iter: int = 10000) -> MvnEstimate:
    """ML estimates of the mean vector and covariance matrix with missing values by EM.

    The EM algorithm for the multivariate normal (Little & Rubin 2002, sec. 11.2): the E step replaces the
    sufficient statistics of each missing-data pattern by their conditional expectations given the observed
    values (regression predictions plus the residual covariance), the M step sets mean = T1 / n and
    covariance = T2 / n - mean mean'. Iterates until the largest absolute change of any mean or covariance
    element is below ``tol``. Respondents without any observed value are left out. The result is the FIML
    saturated-model estimate that lavaan gives with ``lavCor(x, missing = "ml")`` (``lavInspect(fit,
    "implied")``) and that ``norm::em.norm`` approximates.

    Parameters
    ----------
    items : DataFrame
        Numeric answers with NaN for missing values.
    tol : float
        Convergence tolerance on the parameters.
    max_iter : int

    Returns
    -------
    MvnEstimate
    """
    df = numeric_items(items)
    x = df.to_numpy()
    x = x[~np.isnan(x).all(axis=1)]
    return _em(list(df.columns), _em_start(x), row_patterns(x), tol, max_iter)


# --------------------------------------------------------------------------------------------- Little's test
@dataclass(frozen=True)
class LittleMCAR:
    """Result of Little's (1988) MCAR test.

    Attributes
    ----------
    chi2 : float
        Little's d² statistic.
    df : int
        sum over patterns of the number of observed variables, minus the number of variables.
    p : float
        Upper-tail chi² probability; small values reject MCAR.
    n_patterns : int
        Missing-data patterns among the respondents used.
    n : int
        Respondents used (those with at least one answer).
    n_excluded_empty : int
        Respondents left out because they answered nothing.
    estimate : MvnEstimate
        The ML mean and covariance the statistic is based on.
    """

    chi2: float
    df: int
    p: float
    n_patterns: int
    n: int
    n_excluded_empty: int
    estimate: MvnEstimate = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One-row tidy table (chi2, df, p, n_patterns, n, n_excluded_empty)."""
        return pd.DataFrame(
            [
                {
                    "chi2": self.chi2,
                    "df": self.df,
                    "p": self.p,
                    "n_patterns": self.n_patterns,
                    "n": self.n,
                    "n_excluded_empty": self.n_excluded_empty,
                }
            ]
        )


def little_mcar(items: pd.DataFrame, tol: float = 1e-11, max_iter: int = 10000, *, consume: bool = False) -> LittleMCAR:
    """Little's (1988) test that the data are missing completely at random.

    d² = Σ_j n_j (ȳ_j − μ_j)' Σ_j⁻¹ (ȳ_j − μ_j) over the missing-data patterns j, where ȳ_j are the means of the
    observed variables of the n_j respondents with pattern j, and μ_j, Σ_j the corresponding parts of the ML
    estimates (:func:`em_mvn`, covariance with denominator n). Under MCAR d² ~ chi²(Σ_j p_j − p). Respondents
    who answered nothing are left out. The statistic equals ``naniar::mcar_test`` / ``BaylorEdPsych::LittleMCAR``
    up to the convergence of their EM (``norm::em.norm``); the reference in the tests computes it from the
    formula in R with a tightly converged EM cross-checked against lavaan's FIML estimates.

    Parameters
    ----------
    items : DataFrame
        Numeric answers with NaN for missing values.
    tol, max_iter
        Passed to :func:`em_mvn`.
    consume : bool
        The caller gives its answers away: when ``items`` holds them as one writeable C-ordered float64 array
        (a frame made of ``numpy.ascontiguousarray(frame.to_numpy())`` with ``copy=False``), the patterns sort
        that array in place instead of a copy of it (400 MB less at a million respondents x 50 items). The
        caller must not use ``items`` afterwards. Otherwise the rows are sorted in a copy, as without it.

    Returns
    -------
    LittleMCAR
    """
    df = numeric_items(items)
    x = df.to_numpy()
    empty = np.isnan(x).all(axis=1)
    p = x.shape[1]
    own = bool(empty.any())
    if own:  # this function's own copy of the rows (C-ordered): the patterns can sort it in place
        x = np.ascontiguousarray(x[~empty])
    # the caller's rows are sorted in a copy, unless given away; an own copy in place (at a million respondents
    # 400 MB less). Rows given away are the row-major copy of a frame's block: the EM starts from the frame's
    # numbers (column by column), so that the test is the same to the bit as on the frame
    given = not own and consume and x.dtype == np.float64 and x.flags.c_contiguous and x.flags.writeable
    start = _em_start(x, by_column=given)
    pt = row_patterns(x, consume=own or given)
    del x
    est = _em(list(df.columns), start, pt, tol, max_iter)  # the EM's patterns serve d^2 too
    mu = est.mean.to_numpy()
    sigma = est.cov.to_numpy()
    d2 = float(pt.n @ pt.pattern_quadratic(sigma, mu))
    dfree = int(pt.nobs.sum()) - p
    pval = chisq_sf(d2, dfree) if dfree > 0 else float("nan")
    return LittleMCAR(
        chi2=float(d2),
        df=int(dfree),
        p=pval,
        n_patterns=int(pt.nb),
        n=est.n,
        n_excluded_empty=int(empty.sum()),
        estimate=est,
    )


# --------------------------------------------------------------------------------------------- policy
def apply_missing_policy(
    items: pd.DataFrame, policy: str = "pairwise", max_missing: float = 0.2
) -> tuple[pd.Index, pd.DataFrame]:
    """Decide which respondents to keep given their missing answers.

    Parameters
    ----------
    items : DataFrame
        Answers (respondents x items).
    policy : {"listwise", "pairwise"}
        ``"listwise"``: keep complete respondents only. ``"pairwise"``: keep respondents with a share of
        missing answers of at most ``max_missing`` (analyses then use the available answers).
    max_missing : float
        Largest tolerated share of missing answers, in [0, 1]; a respondent is excluded when
        ``n_missing / n_items > max_missing``.

    Returns
    -------
    kept : Index
        Index labels of the kept respondents, in the original order.
    excluded : DataFrame
        One row per excluded respondent, indexed by its label: ``reason`` and ``value`` (the share of missing
        answers), plus ``n_missing``. Reasons, the first that applies: ``"all_missing"`` (no answer at all),
        ``"too_many_missing"`` (share > max_missing), ``"incomplete"`` (listwise only: at least one missing).
    """
    if policy not in ("listwise", "pairwise"):
        raise ValueError(f"policy must be 'listwise' or 'pairwise', got {policy!r}")
    if not 0.0 <= float(max_missing) <= 1.0:
        raise ValueError(f"max_missing must be between 0 and 1, got {max_missing}")
    rm = respondent_missingness(items)
    p = items.shape[1]
    all_missing = rm["n_missing"] == p
    too_many = rm["n_missing"] > float(max_missing) * p + 1e-9
    reason = pd.Series("", index=items.index, dtype=object)
    if policy == "listwise":
        reason[rm["n_missing"] > 0] = "incomplete"
    reason[too_many] = "too_many_missing"
    reason[all_missing] = "all_missing"
    excl = reason != ""
    excluded = pd.DataFrame(
        {"reason": reason[excl], "value": rm.loc[excl, "share_missing"], "n_missing": rm.loc[excl, "n_missing"]},
        index=items.index[excl.to_numpy()],
    )
    return items.index[~excl.to_numpy()], excluded
