"""The whole EFA stage on item responses (:func:`run_efa`, :class:`EFAResult`) and the cross-validation
split (:func:`split_half`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .agreement import congruence, match_factors, problem_items, target_matrix
from .correlation import correlation_matrix
from .extraction import FactorSolution, fa
from .retention import ParallelAnalysis, map_suggestion, parallel_analysis, scree, velicer_map
from .suitability import bartlett_sphericity, kmo

__all__ = ["split_half", "EFAResult", "run_efa"]


def split_half(df: pd.DataFrame, seed: int, fraction: float = 0.5) -> tuple[pd.Index, pd.Index]:
    """Random split of the rows of ``df`` into two disjoint index sets (for EFA/CFA cross-validation).

    The first set has ``round(fraction * n)`` rows, drawn without replacement with
    ``numpy.random.default_rng(seed)``; both sets keep the original row order.  Deterministic for a seed.
    """
    if not 0 < fraction < 1:
        raise ValueError("fraction must be in (0, 1)")
    n = len(df)
    k = int(round(fraction * n))
    rng = np.random.default_rng(seed)
    pick = np.zeros(n, dtype=bool)
    pick[rng.choice(n, size=k, replace=False)] = True
    return df.index[pick], df.index[~pick]


@dataclass(frozen=True)
class EFAResult:
    """Everything :func:`run_efa` computes, as tidy DataFrames, plus ``headline`` numbers."""

    correlation: pd.DataFrame
    suitability: pd.DataFrame
    n_factors: pd.DataFrame
    parallel: ParallelAnalysis
    map: pd.DataFrame
    solution: FactorSolution
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    variance: pd.DataFrame
    communalities: pd.DataFrame
    matching: pd.DataFrame
    congruence: pd.DataFrame
    problems: pd.DataFrame
    headline: dict

    def tables(self) -> dict[str, pd.DataFrame]:
        """Name -> tidy DataFrame, ready to be written as CSV files by the pipeline."""
        return {
            "suitability": self.suitability,
            "n_factors": self.n_factors,
            "loadings": self.loadings,
            "factor_correlations": self.factor_correlations,
            "variance": self.variance,
            "communalities": self.communalities,
            "matching": self.matching,
            "problems": self.problems,
        }


def run_efa(
    items_df: pd.DataFrame,
    groups: dict[str, list[str]] | None = None,
    n_factors: int | None = None,
    method: str = "minres",
    rotation: str = "oblimin",
    cor: str = "pearson",
    seed: int | None = None,
    n_iter: int = 20,
    target: pd.DataFrame | None = None,
    min_loading: float = 0.40,
    cross_loading: float = 0.30,
    map_max: int = 8,
) -> EFAResult:
    """Run the whole EFA stage on item responses.

    Steps: correlation matrix (Pearson, pairwise; or polychoric), KMO and Bartlett's test, parallel
    analysis and MAP, extraction and rotation with ``n_factors`` factors (default: the number of
    hypothesised factors in ``groups``; if no groups, the parallel-analysis suggestion), matching of EFA to
    hypothesised factors, congruence and problem items.

    Parameters
    ----------
    items_df : DataFrame
        Item responses, one column per item (already reverse-scored if needed).
    groups : dict, optional
        Hypothesised factor key -> item ids.
    n_factors : int, optional
    method, rotation, cor : str
        See :func:`fa` and :func:`correlation_matrix`.
    seed : int, optional
        Seed for parallel analysis.
    n_iter : int
        Parallel-analysis iterations.
    target : DataFrame, optional
        Target loading matrix (items x hypothesised factors) instead of the 0/1 pattern from ``groups``.
    min_loading, cross_loading : float
        Thresholds for :func:`problem_items`.
    """
    x = items_df.astype(float, copy=False)  # read only: no copy of a float table (380 MB at 10^6 rows)
    n = len(x)
    r = correlation_matrix(x, cor)
    k = kmo(r)
    b = bartlett_sphericity(r, n)
    pa = parallel_analysis(x, n_iter=n_iter, seed=seed, cor=cor, r=r)  # the same correlations, computed once
    mp = velicer_map(r, n_max=map_max)
    nf_table = pa.table.merge(scree(r), on="number", how="left").merge(
        mp.rename(columns={"n_factors": "number"}), on="number", how="left"
    )
    if n_factors is None:
        if target is not None:
            n_factors = target.shape[1]
        elif groups:
            n_factors = len(groups)
        else:
            n_factors = max(pa.n_factors, 1)
    sol = fa(r, n_factors, method=method, rotation=rotation, n_obs=n)
    if target is None and groups:
        target = target_matrix(groups, list(x.columns))
    parts = {"correlation": r, "suitability": k.table(), "n_factors": nf_table, "parallel": pa, "map": mp}
    parts.update(_solution_parts(sol))
    parts.update(_agreement_parts(sol, groups, target, min_loading, cross_loading))
    parts["headline"] = {
        "kmo": k.overall,
        "bartlett_chi2": b.chi2,
        "bartlett_df": b.df,
        "bartlett_p": b.p,
        "n_factors_parallel": pa.n_factors,
        "n_factors_parallel_resampled": pa.n_factors_resampled,
        "n_factors_map": map_suggestion(mp, "map"),
        "n_factors_map4": map_suggestion(mp, "map4"),
        "n_factors_extracted": int(n_factors),
        "congruence": {
            row.factor: float(row.congruence) for row in parts["matching"].itertuples() if row.factor is not None
        },
    }
    return EFAResult(**parts)


def _solution_parts(sol: FactorSolution) -> dict:
    """The fields of :class:`EFAResult` that tabulate the factor solution."""
    comm = pd.DataFrame(
        {
            "item": sol.communalities.index,
            "communality": sol.communalities.to_numpy(),
            "uniqueness": sol.uniquenesses.to_numpy(),
        }
    )
    return {
        "solution": sol,
        "loadings": sol.loadings_table(),
        "factor_correlations": sol.phi.rename_axis("factor")
        .reset_index()
        .melt("factor", var_name="factor2", value_name="phi"),
        "variance": sol.variance,
        "communalities": comm,
    }


def _agreement_parts(
    sol: FactorSolution,
    groups: dict[str, list[str]] | None,
    target: pd.DataFrame | None,
    min_loading: float,
    cross_loading: float,
) -> dict:
    """The fields of :class:`EFAResult` that compare the solution with the hypothesised structure (empty without
    a target)."""
    if target is None:
        empty = pd.DataFrame(columns=["factor", "efa_factor", "sign", "congruence"])
        return {"matching": empty, "congruence": pd.DataFrame(), "problems": pd.DataFrame()}
    matching = match_factors(sol.loadings, target)
    cong = congruence(sol.loadings, target.loc[[i for i in target.index if i in sol.loadings.index]])
    if groups is None:
        groups = {c: list(target.index[target[c].abs() > 0]) for c in target.columns}
    problems = problem_items(sol.loadings, groups, matching, min_loading, cross_loading)
    return {"matching": matching, "congruence": cong, "problems": problems}
