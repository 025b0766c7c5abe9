"""How many factors to retain: parallel analysis (``psych::fa.parallel(fa = "fa")``), Velicer's MAP
(``psych::vss(...)$map`` and the fourth-power revision) and the scree eigenvalues.

See the package docstring (:mod:`compval.efa`) for psych's defaults that parallel analysis follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .correlation import (
    as_corr,
    code_pair_sums,
    column_means,
    correlation_matrix,
    pairwise_pearson,
    pearson_of_sums,
    small_integer_codes,
    smc,
)
from .extraction import extract

__all__ = [
    "velicer_map",
    "map_suggestion",
    "scree",
    "fa_values",
    "ParallelAnalysis",
    "null_correlation",
    "parallel_analysis",
    "number_of_factors",
]


def velicer_map(r, n_max: int = 8) -> pd.DataFrame:
    """Velicer's minimum average partial (MAP) test.

    For m = 1..n_max principal components are partialled out of R and the mean squared off-diagonal partial
    correlation is computed (Velicer 1976; ``map``, exactly ``psych::vss(...)$map``) together with the mean
    fourth power (Velicer, Eaton & Fava 2000; ``map4``).  Row m = 0 (the raw correlations) is included for
    reference as in Velicer's original; psych (and our suggestion) take the minimum over m >= 1.  As in psych,
    m stops at p - 1 (later rows are NaN).

    Returns
    -------
    DataFrame
        Columns ``n_factors``, ``map``, ``map4``.
    """
    m, _ = as_corr(r)
    p = m.shape[0]
    n_max = min(n_max, p)
    vals, vecs = np.linalg.eigh(m)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    comp = vecs * np.sqrt(np.maximum(vals, 0))
    rows = []
    for i in range(0, n_max + 1):
        if i >= p:
            rows.append((i, np.nan, np.nan))
            continue
        c = m - comp[:, :i] @ comp[:, :i].T
        d = 1 / np.sqrt(np.diag(c))
        rs = c * np.outer(d, d)
        np.fill_diagonal(rs, 0.0)
        rows.append((i, (rs**2).sum() / (p * (p - 1)), (rs**4).sum() / (p * (p - 1))))
    return pd.DataFrame(rows, columns=["n_factors", "map", "map4"])


def map_suggestion(tab: pd.DataFrame, col: str = "map") -> int:
    """Number of factors MAP suggests: the ``n_factors`` >= 1 with the smallest ``col``, as psych.

    Parameters
    ----------
    tab : DataFrame
        Output of :func:`velicer_map`.
    col : {"map", "map4"}
        Velicer's (1976) squared or the fourth-power (2000) criterion.

    Returns
    -------
    int
    """
    t = tab[tab["n_factors"] >= 1].dropna(subset=[col])
    return int(t.loc[t[col].idxmin(), "n_factors"])


def scree(r) -> pd.DataFrame:
    """Eigenvalues of R (principal components) and of R with SMCs on the diagonal, in decreasing order."""
    m, _ = as_corr(r)
    reduced = m.copy()
    np.fill_diagonal(reduced, smc(m))
    return pd.DataFrame(
        {
            "number": np.arange(1, m.shape[0] + 1),
            "eigenvalue": np.sort(np.linalg.eigvalsh(m))[::-1],
            "eigenvalue_smc": np.sort(np.linalg.eigvalsh(reduced))[::-1],
        }
    )


def fa_values(m: np.ndarray, smc_diag: bool) -> np.ndarray:
    """Eigenvalues psych::fa.parallel uses for "fa": reduced by SMCs, or by a 1-factor minres solution.

    Parameters
    ----------
    m : array
        Correlation matrix.
    smc_diag : bool
        SMCs on the diagonal (psych ``SMC = TRUE``) instead of the one-factor minres communalities
        (``SMC = FALSE``, psych's default).

    Returns
    -------
    ndarray
        Eigenvalues of the reduced matrix, in decreasing order.
    """
    red = m.copy()
    if smc_diag:
        np.fill_diagonal(red, smc(m))
    else:
        load = extract(m, 1, "minres")[0]
        np.fill_diagonal(red, (load**2).sum(axis=1))
    return np.sort(np.linalg.eigvalsh(red))[::-1]


@dataclass(frozen=True)
class ParallelAnalysis:
    """Result of :func:`parallel_analysis`.

    ``table`` has one row per factor number: observed eigenvalue, mean and quantile of the simulated and of
    the resampled eigenvalues.  ``n_factors`` follows psych (observed > simulated quantile), and
    ``n_factors_resampled`` is the same rule against the resampled quantile.
    """

    table: pd.DataFrame
    n_factors: int
    n_factors_resampled: int
    n_iter: int
    quantile: float


def _leading_above(obs: np.ndarray, crit: np.ndarray) -> int:
    below = np.flatnonzero(~(obs > crit))
    return int(below[0]) if below.size else int(obs.size)


def null_correlation(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    """Correlation matrix of ``n`` independent standard normal rows of ``p`` variables, drawn at O(p^3) cost.

    The centred cross-product matrix of such rows, A = sum_i (x_i - xbar)(x_i - xbar)', is Wishart with n - 1
    degrees of freedom and identity scale, and Bartlett's (1933) decomposition draws it exactly: A = T T' with T
    lower triangular, T_ij ~ N(0, 1) below the diagonal and T_ii^2 ~ chi^2(n - i) (i = 1..p), all independent.
    The correlation matrix is cov2cor(A) -- the distribution of ``np.corrcoef`` of ``n x p`` normal draws (as
    psych's ``cor(matrix(rnorm(n * p), n, p))``) without drawing them, whose cost grows with n (at a million
    respondents, 20 such data sets cost about 15 s of the EFA's 45 s). The draws are those of
    ``scipy.stats.wishart(df=n - 1, scale=np.eye(p)).rvs(random_state=rng)`` (the tests compare them bit for
    bit); written out because importing scipy.stats costs the EFA process about 0.3 s, more than the draws.
    Needs n - 1 >= p (otherwise A is singular; :func:`parallel_analysis` then draws the data).

    In R: ``cov2cor(rWishart(1, n - 1, diag(p))[, , 1])``.
    """
    t = np.zeros((p, p))
    t[np.tril_indices(p, k=-1)] = rng.normal(size=p * (p - 1) // 2)
    t[np.diag_indices(p)] = [np.sqrt(rng.chisquare(n - 1 - i, size=1))[0] for i in range(p)]
    a = t @ t.T
    d = 1.0 / np.sqrt(np.diag(a))
    return a * np.outer(d, d)


def _parallel_draws(arr, columns, n_iter, rng, smc_diag, resample, cor):
    n, p = arr.shape
    sim_vals = np.empty((n_iter, p))
    res_vals = np.empty((n_iter, p))
    coded = small_integer_codes(arr)
    by_codes = coded is not None and cor == "pearson"  # Pearson sums of the drawn codes themselves
    if coded is None:
        cols = np.ascontiguousarray(arr.T)  # one column per row: contiguous gathers
    else:  # the answers' codes, a byte each: the gathers read a column of n bytes instead of 8n
        cols, offsets, gaps = coded
        picked = np.empty((p, n) if by_codes else n, dtype=np.uint8)
    samp_t = None if by_codes else np.empty((p, n))
    with np.errstate(invalid="ignore"):
        centre = column_means(arr)  # the resamples' centring (accuracy only)
    for it in range(n_iter):
        while True:
            for j in range(p):  # each column resampled on its own
                idx = rng.integers(0, n, n) if resample == "bootstrap" else rng.permutation(n)
                if coded is None:
                    np.take(cols[j], idx, out=samp_t[j])
                elif by_codes:
                    np.take(cols[j], idx, out=picked[j])
                else:  # the same numbers: the code of each drawn row, then its value (code + offset, NaN for 0)
                    np.take(cols[j], idx, out=picked)
                    np.add(picked, offsets[j], out=samp_t[j])
                    if gaps[j]:
                        np.copyto(samp_t[j], np.nan, where=picked == 0)
            if by_codes:  # the drawn values' pairwise sums, exact in the codes (a quarter of the float sums' cost)
                c = pearson_of_sums(*code_pair_sums(picked, centre - offsets))
            elif cor == "pearson":
                c = pairwise_pearson(samp_t.T, centre=centre)
            else:
                c = correlation_matrix(pd.DataFrame(samp_t.T, columns=columns, copy=False), cor).to_numpy()
            if not np.isnan(c).any():
                break
        res_vals[it] = fa_values(c, smc_diag)
        if n - 1 >= p:
            sim = null_correlation(rng, n, p)
        else:  # too few rows for the Wishart draw: the data themselves (a singular correlation matrix)
            sim = np.corrcoef(rng.standard_normal((n, p)), rowvar=False)
        sim_vals[it] = fa_values(sim, smc_diag)
    return sim_vals, res_vals


def parallel_analysis(
    items: pd.DataFrame,
    n_iter: int = 20,
    seed: int | None = None,
    quantile: float = 0.95,
    smc: bool = False,
    resample: str = "bootstrap",
    cor: str = "pearson",
    r: pd.DataFrame | np.ndarray | None = None,
) -> ParallelAnalysis:
    """Horn's (1965) parallel analysis for common factors, as ``psych::fa.parallel(x, fa = "fa")``.

    The observed "fa" eigenvalues (see the module note: by default, R with the communalities of a one-factor
    minres solution on the diagonal, as psych's ``SMC = FALSE``; ``smc=True`` puts SMCs on the diagonal) are
    compared with those of ``n_iter`` data sets of the same size drawn from independent standard normal
    variables (``simulated``) and of ``n_iter`` data sets whose columns are resampled independently
    (``resampled``).  Suggested number of factors (psych's rule): the number of leading observed eigenvalues
    greater than the ``quantile`` of the simulated ones.

    The simulated correlation matrices are drawn from their exact distribution (:func:`null_correlation`, a
    Wishart draw) instead of from ``n x p`` normal data as psych does: the same distribution, at a cost that
    does not grow with n. The resampled data sets are drawn row by row, as psych's (their correlations depend
    on the items' observed distributions). psych's random numbers are R's, so the simulated and resampled
    columns agree with psych's in distribution, not in digits; the observed eigenvalues are psych's.

    Parameters
    ----------
    items : DataFrame
        Raw item responses (missing values allowed; pairwise correlations).
    n_iter : int
        Number of simulated and of resampled data sets (psych default 20).
    seed : int, optional
        Seed for ``numpy.random.default_rng``.
    quantile : float
        Quantile of the random eigenvalues used as criterion (psych ``quant = .95``).
    smc : bool
        Use SMCs on the diagonal (psych ``SMC = TRUE``).
    resample : {"bootstrap", "permute"}
        How columns are resampled: with replacement (psych) or permuted.
    cor : {"pearson", "polychoric"}
        Correlation type for the observed and resampled data (simulated data: Pearson, as psych).
    r : DataFrame or array, optional
        The observed correlation matrix of ``items``, ``correlation_matrix(items, cor)``, when the caller has it
        (the EFA stage computes it once for every criterion); computed here otherwise.
    """
    if resample not in ("bootstrap", "permute"):
        raise ValueError("resample must be 'bootstrap' or 'permute'")
    rng = np.random.default_rng(seed)
    x = items.astype(float, copy=False)  # read only: no copy of a float table
    n, p = x.shape
    obs_r, _ = as_corr(correlation_matrix(x, cor) if r is None else r)
    obs = fa_values(obs_r, smc)
    arr = x.to_numpy()
    # many small eigen-decompositions: multi-threaded BLAS only adds overhead (x7 slower on a busy machine)
    with threadpool_limits(limits=1, user_api="blas"):
        sim_vals, res_vals = _parallel_draws(arr, list(x.columns), n_iter, rng, smc, resample, cor)
    sim_q = np.quantile(sim_vals, quantile, axis=0)
    res_q = np.quantile(res_vals, quantile, axis=0)
    table = pd.DataFrame(
        {
            "number": np.arange(1, p + 1),
            "observed": obs,
            "simulated_mean": sim_vals.mean(axis=0),
            "simulated_quantile": sim_q,
            "resampled_mean": res_vals.mean(axis=0),
            "resampled_quantile": res_q,
        }
    )
    table["above_simulated"] = table["observed"] > table["simulated_quantile"]
    table["above_resampled"] = table["observed"] > table["resampled_quantile"]
    return ParallelAnalysis(table, _leading_above(obs, sim_q), _leading_above(obs, res_q), n_iter, quantile)


def number_of_factors(
    items: pd.DataFrame,
    n_iter: int = 20,
    seed: int | None = None,
    cor: str = "pearson",
    map_max: int = 8,
    quantile: float = 0.95,
) -> tuple[pd.DataFrame, dict]:
    """All number-of-factors criteria in one tidy table plus the suggested counts.

    Combines :func:`parallel_analysis` (psych's ``fa.parallel(fa = "fa")``), :func:`velicer_map`
    (``psych::vss(...)$map`` and the 2000 fourth-power version) and :func:`scree`.

    Returns
    -------
    table : DataFrame
        One row per factor number: observed/simulated/resampled "fa" eigenvalues, scree eigenvalues
        (``eigenvalue``, ``eigenvalue_smc``), ``map`` and ``map4``.
    suggested : dict
        ``parallel`` (psych's rule), ``parallel_resampled``, ``map`` (psych), ``map4``, ``kaiser``
        (eigenvalues of R > 1, for reference only).
    """
    r = correlation_matrix(items.astype(float), cor)
    pa = parallel_analysis(items, n_iter=n_iter, seed=seed, quantile=quantile, cor=cor, r=r)
    mp = velicer_map(r, n_max=map_max)
    sc = scree(r)
    table = pa.table.merge(sc, on="number", how="left").merge(
        mp.rename(columns={"n_factors": "number"}), on="number", how="left"
    )
    suggested = {
        "parallel": pa.n_factors,
        "parallel_resampled": pa.n_factors_resampled,
        "map": map_suggestion(mp, "map"),
        "map4": map_suggestion(mp, "map4"),
        "kaiser": int((sc["eigenvalue"] > 1).sum()),
    }
    return table, suggested
