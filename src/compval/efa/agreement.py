"""Agreement of an EFA solution with a hypothesised structure: Tucker's congruence
(``psych::factor.congruence``), Hungarian matching of EFA to hypothesised factors and problem items."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["congruence", "target_matrix", "match_factors", "problem_items"]


def congruence(a, b) -> pd.DataFrame:
    """Tucker's (1951) congruence coefficients between the columns of two loading matrices.

    ``phi_jk = sum_i a_ij b_ik / sqrt(sum_i a_ij^2 sum_i b_ik^2)``; rows of ``a`` and ``b`` are aligned by
    index when both are DataFrames.  Matches ``psych::factor.congruence(a, b, digits = Inf)`` (psych rounds
    to 2 digits by default).

    Returns
    -------
    DataFrame
        Columns of ``a`` x columns of ``b``.
    """
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        b = b.loc[a.index]
    A = pd.DataFrame(a)
    B = pd.DataFrame(b)
    x, y = A.to_numpy(float), B.to_numpy(float)
    num = x.T @ y
    den = np.sqrt(np.outer((x**2).sum(axis=0), (y**2).sum(axis=0)))
    return pd.DataFrame(num / den, index=A.columns, columns=B.columns)


def target_matrix(groups: dict[str, list[str]], items: list[str]) -> pd.DataFrame:
    """0/1 indicator pattern: item x hypothesised factor (1 where the item belongs to the factor)."""
    t = pd.DataFrame(0.0, index=list(items), columns=list(groups))
    for key, its in groups.items():
        for it in its:
            if it in t.index:
                t.loc[it, key] = 1.0
    return t


def match_factors(loadings: pd.DataFrame, target: pd.DataFrame) -> pd.DataFrame:
    """Match EFA factors to hypothesised factors by the Hungarian algorithm (Kuhn 1955).

    The assignment maximises the sum of |Tucker congruence| between EFA loading columns and the target
    columns (a 0/1 indicator pattern from :func:`target_matrix` or any target loading matrix).  With more
    EFA factors than targets the surplus factors stay unmatched, and vice versa.

    Returns
    -------
    DataFrame
        One row per hypothesised factor: ``factor`` (hypothesised key), ``efa_factor`` (or NA), ``sign``
        (+1/-1, the sign that makes the congruence positive), ``congruence`` (signed so it is >= 0 when
        reflected), plus rows for unmatched EFA factors with ``factor`` NA.
    """
    items = [i for i in target.index if i in loadings.index]
    c = congruence(loadings.loc[items], target.loc[items])
    absc = np.nan_to_num(np.abs(c.to_numpy()))
    from scipy.optimize import linear_sum_assignment  # here: scipy.optimize's import costs every process
    # that imports compval.efa (reliability's among them) about 0.15 s

    ri, ci = linear_sum_assignment(-absc)
    rows = []
    matched_efa = set()
    for i, j in zip(ri, ci):
        val = float(c.iat[i, j])
        rows.append(
            {"factor": c.columns[j], "efa_factor": c.index[i], "sign": 1 if val >= 0 else -1, "congruence": abs(val)}
        )
        matched_efa.add(c.index[i])
    for j, key in enumerate(c.columns):
        if key not in {r["factor"] for r in rows}:
            rows.append({"factor": key, "efa_factor": None, "sign": np.nan, "congruence": np.nan})
    for f in c.index:
        if f not in matched_efa:
            rows.append({"factor": None, "efa_factor": f, "sign": np.nan, "congruence": np.nan})
    order = {k: n for n, k in enumerate(c.columns)}
    out = pd.DataFrame(rows)
    out["_o"] = out["factor"].map(order).fillna(len(order))
    return out.sort_values(["_o", "efa_factor"], na_position="last").drop(columns="_o").reset_index(drop=True)


def problem_items(
    loadings: pd.DataFrame,
    groups: dict[str, list[str]],
    matching: pd.DataFrame,
    min_loading: float = 0.40,
    cross_loading: float = 0.30,
) -> pd.DataFrame:
    """Items whose EFA loadings contradict the hypothesised structure.

    Flags per item (an item may have several): ``low_primary`` -- largest |loading| below ``min_loading``;
    ``wrong_factor`` -- the largest |loading| is on an EFA factor matched to another hypothesised factor
    (or to none); ``cross_loading`` -- |loading| above ``cross_loading`` on two or more factors.

    Parameters
    ----------
    loadings : DataFrame
        Pattern loadings (items x EFA factors).
    groups : dict
        Hypothesised factor key -> items.
    matching : DataFrame
        Output of :func:`match_factors`.

    Returns
    -------
    DataFrame
        One row per flagged item: item, hypothesised factor, primary EFA factor, the hypothesised factor it is
        matched to, primary loading (signed after reflection by the matching sign), loading on the factor
        matched to the hypothesised one, number of |loadings| above ``cross_loading``, and the flags.
    """
    efa_to_hyp = {
        r.efa_factor: r.factor for r in matching.itertuples() if r.efa_factor is not None and r.factor is not None
    }
    hyp_to_efa = {v: k for k, v in efa_to_hyp.items()}
    sign = {
        r.efa_factor: (r.sign if r.sign == r.sign else 1) for r in matching.itertuples() if r.efa_factor is not None
    }
    rows = []
    for key, its in groups.items():
        for it in its:
            if it not in loadings.index:
                continue
            row = loadings.loc[it]
            absrow = row.abs()
            prim = absrow.idxmax()
            n_cross = int((absrow > cross_loading).sum())
            prim_hyp = efa_to_hyp.get(prim)
            own = hyp_to_efa.get(key)
            flags = []
            if absrow[prim] < min_loading:
                flags.append("low_primary")
            if prim_hyp != key:
                flags.append("wrong_factor")
            if n_cross >= 2:
                flags.append("cross_loading")
            if flags:
                rows.append(
                    {
                        "item": it,
                        "factor": key,
                        "primary_efa_factor": prim,
                        "primary_matched_factor": prim_hyp,
                        "primary_loading": float(row[prim] * sign.get(prim, 1)),
                        "own_factor_loading": float(row[own] * sign.get(own, 1)) if own is not None else np.nan,
                        "n_above_cross": n_cross,
                        "flags": ";".join(flags),
                    }
                )
    cols = [
        "item",
        "factor",
        "primary_efa_factor",
        "primary_matched_factor",
        "primary_loading",
        "own_factor_loading",
        "n_above_cross",
        "flags",
    ]
    return pd.DataFrame(rows, columns=cols)
