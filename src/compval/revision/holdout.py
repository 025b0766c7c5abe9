"""The holdout guard of a revision: split respondents once, choose on the training part, check on the holdout.

A revision found on one sample (a modification index, a dropped item) improves that sample's fit partly by chance;
fitted again on respondents it was not chosen on, a real improvement stays and a capitalisation on chance shrinks or
reverses (MacCallum, Roznowski & Necowitz 1992; Cudeck & Browne 1983). :func:`holdout_split` splits once (seeded,
optionally stratified), :func:`holds_out` is the decision rule, :func:`check_on_holdout` fits both models on each
part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

__all__ = ["holdout_split", "holds_out", "HoldoutCheck", "check_on_holdout"]


def holdout_split(ids: pd.Index, fraction: float, seed: int, strata: pd.Series | None = None) -> pd.Series:
    """Split respondents once into ``training`` and ``holdout`` (seeded, optionally stratified).

    Suggestions and every data-driven choice are made on the training part; each variant is also evaluated on the
    holdout part, so that a revision that only capitalises on chance shows up (MacCallum, Roznowski & Necowitz
    1992; Cudeck & Browne 1983 on cross-validating covariance structures).

    Parameters
    ----------
    ids : Index
        Respondent ids (pseudonyms). The split does not depend on their order.
    fraction : float
        Share of respondents in the holdout part, in [0, 1); 0 puts everyone in training.
    seed : int
    strata : Series, optional
        A grouping (e.g. the invariance group) indexed by id: each stratum is split in the same proportion
        (``round(fraction * n_stratum)`` to the holdout); missing values form a stratum of their own.

    Returns
    -------
    Series of ``"training"`` / ``"holdout"`` indexed by ``ids`` (in the given order).
    """
    import numpy as np

    if not 0 <= fraction < 1:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    order = pd.Index(sorted(map(str, ids)))
    out = pd.Series("training", index=order, dtype=object)
    if fraction == 0:
        return out.reindex(pd.Index(map(str, ids))).set_axis(ids)
    rng = np.random.default_rng(seed)
    groups = (
        pd.Series("all", index=order)
        if strata is None
        else strata.reindex(ids)
        .set_axis(pd.Index(map(str, ids)))
        .reindex(order)
        .astype(object)
        .where(lambda s: s.notna(), "<missing>")
        .astype(str)
    )
    for _, members in sorted(groups.groupby(groups).groups.items()):
        members = pd.Index(sorted(members))
        k = int(round(fraction * len(members)))
        out.loc[members[rng.permutation(len(members))[:k]]] = "holdout"
    return out.reindex(pd.Index(map(str, ids))).set_axis(ids)


def holds_out(gain_training: float, gain_holdout: float, min_ratio: float = 0.5) -> bool:
    """Whether a revision's gain on the training part holds out: same sign and at least ``min_ratio`` of it.

    A gain is a change in the good direction (e.g. delta CFI of the revised over the original model, or minus
    delta BIC). A revision that gains nothing on training (gain <= 0) has nothing to hold out and passes.
    """
    if not (gain_training > 0):
        return True
    return gain_holdout > 0 and gain_holdout >= min_ratio * gain_training


@dataclass(frozen=True)
class HoldoutCheck:
    """A revision evaluated on the training part, the holdout part and the full sample (:func:`check_on_holdout`).

    Attributes
    ----------
    table : DataFrame
        One row per part (``training``, ``holdout``, ``full``): ``n``, the fit of the original and of the revised
        model (``cfi_*``, ``rmsea_*``, ``bic_*``), ``delta_cfi`` (revised - original), ``delta_bic`` (NaN when the
        two models do not analyse the same items: BIC compares models of the same data only) and both fits'
        ``status``.
    gain_training, gain_holdout : float
        The revision's gain in CFI on each part (``delta_cfi``).
    holds : bool or None
        :func:`holds_out` of the two gains: False flags a revision whose training gain is not repeated on the
        holdout (less than ``min_ratio`` of it, or of the other sign); None when a fit on either part failed or
        did not converge (``note`` says which), so a failure never passes as a revision that holds.
    note : str
        Empty, or which fit failed and its status.
    """

    table: pd.DataFrame
    gain_training: float
    gain_holdout: float
    holds: bool | None
    note: str = ""


def _observed(model) -> frozenset[str]:
    return frozenset(i for items in model.factors.values() for i in items)


def check_on_holdout(
    data: pd.DataFrame,
    original,
    revised,
    split: pd.Series,
    *,
    fit: Callable[..., Any] | None = None,
    min_ratio: float = 0.5,
    **fit_options: Any,
) -> HoldoutCheck:
    """Fit the original and the revised model on the training part, the holdout part and the full sample, and say
    whether the revision's gain holds out.

    A revision found on one sample (a modification index, a dropped item) improves that sample's fit partly by
    chance; fitted again on respondents it was not chosen on, a real improvement stays and a capitalisation on
    chance shrinks or reverses (MacCallum, Roznowski & Necowitz 1992; Cudeck & Browne 1983). The gain is
    ``delta_cfi = CFI(revised) - CFI(original)``; the revision holds out when the holdout gain has the same sign and
    is at least ``min_ratio`` of the training gain (:func:`holds_out`).

    Parameters
    ----------
    data : DataFrame
        Item responses (and the group column if ``fit_options`` names one), indexed by respondent id.
    original, revised : ModelSpec
        The two models (:mod:`compval.cfa` builders or :func:`compval.cfa.from_syntax`).
    split : Series
        ``"training"`` / ``"holdout"`` by respondent id (:func:`holdout_split`); every row of ``data`` must be in it.
    fit : callable, optional
        The fitting function (default :func:`compval.cfa.fit_cfa`).
    min_ratio : float
        Share of the training gain the holdout must keep (default .5, as the issue's guard states).
    **fit_options
        Passed to ``fit`` for every fit (``estimator``, ``missing``, ``group``, ...).

    Returns
    -------
    HoldoutCheck

    Examples
    --------
    In R (lavaan), the same check is two ``cfa()`` calls per part::

        train <- dat[split == "training", ]; hold <- dat[split == "holdout", ]
        sapply(list(train, hold), function(d)
            fitMeasures(cfa(revised, d), "cfi") - fitMeasures(cfa(original, d), "cfi"))
    """
    if fit is None:
        from ..cfa import fit_cfa as fit
    parts = split.reindex(data.index)
    if parts.isna().any():
        missing = list(parts.index[parts.isna()][:3])
        raise ValueError(f"{int(parts.isna().sum())} respondent(s) of the data are not in the split, e.g. {missing}")
    same_items = _observed(original) == _observed(revised)
    rows, failed = [], []
    for part, rows_of in (("training", parts == "training"), ("holdout", parts == "holdout"), ("full", None)):
        sub = data if rows_of is None else data.loc[rows_of]
        a, b = fit(sub, original, **fit_options), fit(sub, revised, **fit_options)
        fa, fb = a.fit or {}, b.fit or {}
        row = {"part": part, "n": len(sub), "status_original": a.status, "status_revised": b.status}
        failed += [
            f"{which} model on the {part} part: {f.status}"
            for which, f in (("original", a), ("revised", b))
            if part != "full" and not (f.converged and f.status == "ok" and f.fit)
        ]
        for key in ("cfi", "rmsea", "bic"):
            row[f"{key}_original"], row[f"{key}_revised"] = fa.get(key, float("nan")), fb.get(key, float("nan"))
        row["delta_cfi"] = row["cfi_revised"] - row["cfi_original"]
        row["delta_bic"] = row["bic_revised"] - row["bic_original"] if same_items else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows)
    gains = table.set_index("part")["delta_cfi"]
    return HoldoutCheck(
        table=table,
        gain_training=float(gains["training"]),
        gain_holdout=float(gains["holdout"]),
        holds=None if failed else holds_out(float(gains["training"]), float(gains["holdout"]), min_ratio),
        note="; ".join(failed),
    )
