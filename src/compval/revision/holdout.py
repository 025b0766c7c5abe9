"""The holdout guard of a revision: split respondents once, choose on the training part, check on the holdout.

A revision found on one sample (a modification index, a dropped item) improves that sample's fit partly by chance;
fitted again on respondents it was not chosen on, a real improvement stays and a capitalisation on chance shrinks or
reverses (MacCallum, Roznowski & Necowitz 1992; Cudeck & Browne 1983). :func:`holdout_split` splits once (seeded,
optionally stratified), :func:`holds_out` is the decision rule, :func:`check_on_holdout` fits both models on each
part.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import pandas as pd

__all__ = ["holdout_split", "holds_out", "HoldoutCheck", "check_on_holdout", "fit_by_part", "PART_FIT_KEYS"]

# fit measures reported per part (the judged version of each index: robust under MLR/WLSMV when available)
PART_FIT_KEYS = ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic")


def holdout_split(ids: pd.Index, fraction: float, seed: int, strata: pd.Series | None = None) -> pd.Series:
    """Split respondents once into ``training`` and ``holdout`` (seeded, optionally stratified).

    Suggestions and every data-driven choice are made on the training part; each variant is also evaluated on the
    holdout part, so that a revision that only capitalises on chance shows up (MacCallum, Roznowski & Necowitz
    1992; Cudeck & Browne 1983 on cross-validating covariance structures).

    The split is drawn over the respondents' positions in ``ids`` (the pipeline passes them in the order of the
    export), not over the id values: the pipeline's ids are keyed pseudonyms, so a split by their values would
    change with the pseudonymisation key and a reviewer with another key would get another holdout.

    Parameters
    ----------
    ids : Index
        Respondent ids, in a reproducible order (the export's).
    fraction : float
        Share of respondents in the holdout part, in [0, 1); 0 puts everyone in training.
    seed : int
    strata : Series, optional
        A grouping (e.g. the invariance group) indexed by id: each stratum is split in the same proportion
        (``round(fraction * n_stratum)`` to the holdout, strata in sorted order); missing values form a stratum
        of their own.

    Returns
    -------
    Series of ``"training"`` / ``"holdout"`` indexed by ``ids`` (in the given order).
    """
    import numpy as np

    if not 0 <= fraction < 1:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    out = np.full(len(ids), "training", dtype=object)
    if fraction > 0:
        rng = np.random.default_rng(seed)
        groups = (
            np.full(len(ids), "all", dtype=object)
            if strata is None
            else strata.reindex(ids).astype(object).where(lambda x: x.notna(), "<missing>").astype(str).to_numpy()
        )
        for g in sorted(set(groups)):
            members = np.flatnonzero(groups == g)
            k = int(round(fraction * len(members)))
            out[members[rng.permutation(len(members))[:k]]] = "holdout"
    return pd.Series(out, index=ids, dtype=object)


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
        The fitting function (default :func:`compval.cfa.fit_cfa` with ``se="none"``: no standard errors).
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
        from ..cfa import fit_cfa

        fit = partial(fit_cfa, se="none")  # fit measures (and estimates) are all that is read
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


def fit_by_part(
    data: pd.DataFrame,
    model,
    split: pd.Series,
    *,
    parts: tuple[str, ...] = ("training", "holdout"),
    fit: Callable[..., Any] | None = None,
    **fit_options: Any,
) -> pd.DataFrame:
    """One model fitted separately on each part of a holdout split.

    Parameters
    ----------
    data : DataFrame
        Item responses indexed by respondent id; every row must be in ``split``.
    model : ModelSpec
    split : Series
        ``"training"`` / ``"holdout"`` by respondent id (:func:`holdout_split`).
    parts : tuple of str
        The parts fitted, in this order (a part with no respondent gets a row with status ``"no respondents"``).
    fit : callable, optional
        The fitting function (default :func:`compval.cfa.fit_cfa` with ``se="none"``: no standard errors);
        ``fit_options`` are passed to it.

    Returns
    -------
    DataFrame, one row per part: ``part``, ``n``, ``status``, ``converged`` and :data:`PART_FIT_KEYS` (CFI, TLI
    and RMSEA in the version the cut-offs judge: :func:`compval.present.rules.judged_key`, robust under MLR and
    WLSMV; NaN when the fit failed or the estimator has no such measure, e.g. AIC/BIC under WLSMV).

    Examples
    --------
    In R (lavaan)::

        sapply(split(seq_len(nrow(dat)), part), function(i) fitMeasures(cfa(model, dat[i, ], missing = "ml"),
               c("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic")))
    """
    from ..present.rules import judged_key

    if fit is None:
        from ..cfa import fit_cfa

        fit = partial(fit_cfa, se="none")  # fit measures (and estimates) are all that is read
    where = split.reindex(data.index)
    if where.isna().any():
        missing = list(where.index[where.isna()][:3])
        raise ValueError(f"{int(where.isna().sum())} respondent(s) of the data are not in the split, e.g. {missing}")
    robust = str(fit_options.get("estimator", "ML")).upper() in ("MLR", "WLSMV")
    rows = []
    for part in parts:
        sub = data.loc[where == part]
        row: dict[str, Any] = {"part": part, "n": len(sub)}
        if sub.empty:
            rows.append({**row, "status": "no respondents", "converged": False})
            continue
        f = fit(sub, model, **fit_options)
        usable = bool(f.converged and f.status == "ok" and f.fit)
        row.update(status=f.status, converged=bool(f.converged))
        for key in PART_FIT_KEYS:
            row[key] = float(f.fit.get(judged_key(f.fit, key, robust), float("nan"))) if usable else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=["part", "n", "status", "converged", *PART_FIT_KEYS])
