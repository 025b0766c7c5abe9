"""Revision suggestions with their evidence, each one refitted alone and written as a ready codebook.

:func:`suggest_revisions` reads the evidence a validation already has and proposes changes a codebook can express:

================================  ==========================================================  =====================
evidence (``kind``)               rule (cut-offs from :mod:`compval.present.rules`)            change
================================  ==========================================================  =====================
``low_loading``                   standardized CFA loading below ``LOADING_MIN`` (.50)         drop the item
``low_item_rest``                 corrected item-total r below ``ITEM_REST_MIN`` (.30)         drop the item
``efa_other_factor``              the item's largest EFA loading (>= ``SALIENT_LOADING``) is   move it to that
                                  on a factor that belongs to another competency               competency
``efa_cross_loading``             salient EFA loadings on its own and another competency's     drop the item
                                  factor
``mi_cross_loading``              modification index >= ``MI_MIN`` (10) for loading on         move it to that
                                  another competency's factor                                  competency
``mi_residual``                   modification index >= ``MI_MIN`` for a residual covariance   drop the weaker item
``redundant_pair``                two items of a competency correlate >= ``REDUNDANT_R`` (.80)  drop the weaker item
``incoherent_dimension``          mean inter-item r of a dimension below ``COHERENCE_MIN``      merge it into its
                                  (.15)                                                        closest sibling
================================  ==========================================================  =====================

An EFA factor belongs to the competency most of whose items load highest on it. A moved item goes to the dimension
of the target competency whose items it correlates with most, and only to the competency with the strongest
evidence; the weaker item of a pair is the one with the lower corrected item-total r (else the lower loading).
Evidence that proposes the same change is merged into one row.

A modification index is a one-degree-of-freedom chi-square: on a correct model with a few hundred fixed parameters
a handful reach 10 by chance (p = .0016 each), which is one more reason to check suggestions on a holdout.

:func:`apply_change` turns one row into a codebook (a validated :class:`~compval.codebook.Codebook`), and
:func:`evaluate_suggestions` refits the hypothesised model with each change applied alone: delta CFI, delta BIC
(only when the change keeps the item set: BIC compares models of the same data), delta alpha of the competency
the change comes from and, given a criterion, the change of that competency score's correlation with it.

Modification indices, EFA loadings and item-total correlations are themselves estimates: suggestions are
meant to be made on the training part of a holdout split and checked on the holdout
(:func:`compval.revision.holdout.check_on_holdout`).
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..codebook import Codebook
from ..present import rules

__all__ = [
    "SUGGESTION_COLUMNS",
    "EVALUATION_COLUMNS",
    "revision_evidence",
    "suggest_revisions",
    "apply_change",
    "weakest_items",
    "drop_items",
    "drop_weakest_items",
    "evaluate_suggestions",
]

SUGGESTION_COLUMNS = ["suggestion", "change", "subject", "source", "target", "kind", "value", "threshold", "evidence"]
EVALUATION_COLUMNS = [
    "suggestion",
    "status",
    "cfi",
    "delta_cfi",
    "bic",
    "delta_bic",
    "alpha",
    "delta_alpha",
    "criterion_r",
    "delta_criterion_r",
]


def _row(change: str, subject: str, source: str, target: str, kind: str, value: float, threshold: float, evidence: str):
    return {
        "change": change,
        "subject": subject,
        "source": source,
        "target": target,
        "kind": kind,
        "value": float(value),
        "threshold": float(threshold),
        "evidence": evidence,
    }


def _drops_below(values: pd.Series, competency: pd.Series, minimum: float, kind: str, label: str) -> list[dict]:
    """A ``drop`` row for each item whose value is below ``minimum``."""
    return [
        _row("drop", item, competency[item], "", kind, v, minimum, f"{label} {v:.2f} < {minimum:.2f}")
        for item, v in values.items()
        if v < minimum
    ]


def _closest_dimension(item: str, competency: str, cb: Codebook, corr: pd.DataFrame) -> str:
    """The dimension of ``competency`` whose items ``item`` correlates with most (mean r)."""
    items = cb.items.set_index("item")
    dims = items.loc[items["competency"] == competency, "dimension"]
    means = {d: float(corr.loc[item, dims.index[dims == d]].mean()) for d in dict.fromkeys(dims)}
    return max(means, key=lambda d: (means[d], d))


def _weaker(a: str, b: str, item_rest: pd.Series, loading: pd.Series) -> str:
    for score in (item_rest, loading):
        if a in score.index and b in score.index and score[a] != score[b]:
            return a if score[a] < score[b] else b
    return max(a, b)


def _efa_rows(cb: Codebook, pattern: pd.DataFrame, corr: pd.DataFrame) -> list[dict]:
    items = cb.items.set_index("item")["competency"]
    pattern = pattern.loc[[i for i in pattern.index if i in items.index]]
    primary = pattern.abs().idxmax(axis=1)
    owner = {}
    for f in pattern.columns:
        members = items[primary.index[primary == f]]
        if len(members):
            counts = members.value_counts()
            owner[f] = sorted(counts.index[counts == counts.max()])[0]
    out = []
    for item, row in pattern.abs().iterrows():
        own = items[item]
        top = primary[item]
        top_comp = owner.get(top, own)
        if top_comp != own and row[top] >= rules.SALIENT_LOADING:
            target = _closest_dimension(item, top_comp, cb, corr)
            out.append(
                _row(
                    "move",
                    item,
                    own,
                    target,
                    "efa_other_factor",
                    row[top],
                    rules.SALIENT_LOADING,
                    f"largest EFA loading {row[top]:.2f} on {top}, a factor of {top_comp}",
                )
            )
            continue
        others = [f for f in pattern.columns if owner.get(f, own) != own and row[f] >= rules.SALIENT_LOADING]
        if others and row[top] >= rules.SALIENT_LOADING:
            f = max(others, key=lambda c: (row[c], c))
            out.append(
                _row(
                    "drop",
                    item,
                    own,
                    "",
                    "efa_cross_loading",
                    row[f],
                    rules.SALIENT_LOADING,
                    f"EFA loadings {row[top]:.2f} on its own factor and {row[f]:.2f} on {f} ({owner[f]})",
                )
            )
    return out


def revision_evidence(
    codebook: Codebook,
    items: pd.DataFrame,
    *,
    efa_method: str = "minres",
    efa_rotation: str = "oblimin",
    cor: str = "pearson",
    fit: Callable[..., Any] | None = None,
    item_missing: str = "pairwise",
    **fit_options: Any,
) -> dict:
    """The evidence :func:`suggest_revisions` reads, computed from the data as the pipeline computes it.

    The hypothesised model's fit (one factor per competency) and its modification indices
    (:func:`compval.sem.modindices.modification_indices`), the corrected item-total correlation of each item within
    its competency (:func:`compval.reliability.item_analysis`, ``r_drop``), and the EFA pattern loadings with one
    factor per competency (:func:`compval.efa.fa` on :func:`compval.efa.correlation_matrix`).

    Parameters
    ----------
    codebook : Codebook
    items : DataFrame
        Reverse-scored answers (columns: item ids), e.g. the training part of a holdout split.
    efa_method, efa_rotation, cor : str
        The EFA settings (config ``efa``).
    fit : callable, optional
        The fitting function (default :func:`compval.cfa.fit_cfa` with ``se="none"``: no standard errors);
        ``fit_options`` are passed to it.
    item_missing : {"pairwise", "listwise"}
        How the item analysis treats missing answers (config ``missing``; the fit's own ``missing`` is one of
        ``fit_options``).

    Returns
    -------
    dict with keys ``fit``, ``item_rest``, ``efa_pattern``, ``mi`` (``mi`` empty when the fit is not usable):
    ``suggest_revisions(codebook, items, **revision_evidence(codebook, items))``.
    """
    from ..cfa import hypothesized
    from ..efa import correlation_matrix, fa
    from ..reliability import item_analysis
    from ..sem.modindices import modification_indices

    if fit is None:
        from ..cfa import fit_cfa

        fit = partial(fit_cfa, se="none")  # fit measures (and estimates) are all that is read
    data = items[codebook.item_ids]
    model_fit = fit(data, hypothesized(codebook.groups("competency")), **fit_options)
    usable = bool(model_fit.converged and model_fit.status == "ok" and model_fit.fit)
    item_rest = pd.concat(
        [
            item_analysis(data[m], missing=item_missing).set_index("item")["r_drop"]
            for m in codebook.groups("competency").values()
            if len(m) >= 2
        ]
    )
    r = correlation_matrix(data.astype(float), cor)
    pattern = fa(r, len(codebook.competencies), method=efa_method, rotation=efa_rotation, n_obs=len(data)).loadings
    return {
        "fit": model_fit if usable else None,
        "item_rest": item_rest,
        "efa_pattern": pattern,
        "mi": modification_indices(model_fit) if usable else None,
    }


def suggest_revisions(
    codebook: Codebook,
    items: pd.DataFrame,
    *,
    fit=None,
    item_rest: pd.Series | None = None,
    efa_pattern: pd.DataFrame | None = None,
    mi: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Changes to the codebook that the evidence points to, strongest evidence first, one row per change.

    Parameters
    ----------
    codebook : Codebook
        The codebook the evidence was computed for (CFA factors are its competencies).
    items : DataFrame
        Reverse-scored answers, one column per item (for inter-item correlations; pairwise complete).
    fit : CFAResult, optional
        The hypothesised model's fit (standardized loadings: ``params`` rows with ``op == "=~"``, ``std_all``).
    item_rest : Series, optional
        Corrected item-total correlation by item, each within its competency (``r_drop`` of
        :func:`compval.reliability.item_analysis`).
    efa_pattern : DataFrame, optional
        EFA pattern loadings, items x factors.
    mi : DataFrame, optional
        Modification indices of the hypothesised model (:func:`compval.sem.modindices.modification_indices`:
        ``lhs``, ``op``, ``rhs``, ``mi``).

    Returns
    -------
    DataFrame with :data:`SUGGESTION_COLUMNS`: ``suggestion`` (``s01``, ...), ``change`` (``drop`` / ``move`` /
    ``merge``), ``subject`` (item or dimension), ``source`` (its competency, or its dimension for a merge),
    ``target`` (dimension moved or merged into; empty for a drop), ``kind`` (the evidence, ``+``-joined when
    several kinds propose the same change), ``value`` and ``threshold`` (of the strongest evidence), ``evidence``
    (one sentence per kind).
    """
    ids = [i for i in codebook.item_ids if i in items.columns]
    corr = items[ids].corr()
    competency = codebook.items.set_index("item")["competency"]
    loading = pd.Series(dtype=float)
    rows: list[dict] = []
    if fit is not None and fit.params is not None and len(fit.params):
        p = fit.params[(fit.params["op"] == "=~") & fit.params["rhs"].isin(ids)]
        loading = p.groupby("rhs")["std_all"].first()
        rows += _drops_below(loading.abs(), competency, rules.LOADING_MIN, "low_loading", "standardized loading")
    item_rest = item_rest if item_rest is not None else pd.Series(dtype=float)
    rest = item_rest[item_rest.index.isin(competency.index)]
    rows += _drops_below(rest, competency, rules.ITEM_REST_MIN, "low_item_rest", "corrected item-total r")
    if efa_pattern is not None:
        rows += _efa_rows(codebook, efa_pattern, corr)
    if mi is not None and len(mi):
        big = mi[mi["mi"] >= rules.MI_MIN]
        for r in big.itertuples(index=False):
            if r.op == "=~" and r.rhs in competency.index and r.lhs in set(competency) and competency[r.rhs] != r.lhs:
                target = _closest_dimension(r.rhs, r.lhs, codebook, corr)
                ev = f"modification index {r.mi:.1f} for loading on {r.lhs}"
                rows.append(_row("move", r.rhs, competency[r.rhs], target, "mi_cross_loading", r.mi, rules.MI_MIN, ev))
            elif r.op == "~~" and r.lhs in competency.index and r.rhs in competency.index and r.lhs != r.rhs:
                weak = _weaker(r.lhs, r.rhs, item_rest, loading)
                ev = f"modification index {r.mi:.1f} for the residual covariance of {r.lhs} and {r.rhs}"
                rows.append(_row("drop", weak, competency[weak], "", "mi_residual", r.mi, rules.MI_MIN, ev))
    for comp, members in codebook.groups("competency").items():
        members = [i for i in members if i in corr.index]
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                r = corr.loc[a, b]
                if r >= rules.REDUNDANT_R:
                    weak = _weaker(a, b, item_rest, loading)
                    ev = f"{a} and {b} correlate {r:.2f} (near-redundant)"
                    rows.append(_row("drop", weak, comp, "", "redundant_pair", r, rules.REDUNDANT_R, ev))
    dim_comp = codebook.dimension_competency()
    dims = codebook.groups("dimension")
    for dim, members in dims.items():
        members = [i for i in members if i in corr.index]
        if len(members) < 2:
            continue
        sub = corr.loc[members, members].to_numpy()
        mean_r = float(sub[np.triu_indices(len(members), 1)].mean())
        siblings = [d for d, c in dim_comp.items() if c == dim_comp[dim] and d != dim]
        if mean_r < rules.COHERENCE_MIN and siblings:
            cross = {
                d: float(corr.loc[members, [i for i in dims[d] if i in corr.index]].to_numpy().mean()) for d in siblings
            }
            target = max(cross, key=lambda d: (cross[d], d))
            ev = f"mean inter-item r {mean_r:.2f} < {rules.COHERENCE_MIN:.2f}; closest sibling {target}"
            ev += f" (r {cross[target]:.2f})"
            rows.append(_row("merge", dim, dim, target, "incoherent_dimension", mean_r, rules.COHERENCE_MIN, ev))
    return _merge_rows(rows)


def _merge_rows(rows: list[dict]) -> pd.DataFrame:
    """One row per distinct change (``change``, ``subject``, ``target``), kinds and evidence joined, and one move
    per item (to the target with the strongest evidence); ordered by the strength of the evidence (largest
    relative distance beyond its threshold first), then by subject."""
    if not rows:
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    frame = pd.DataFrame(rows)
    frame["strength"] = (frame["value"].abs() - frame["threshold"]).abs() / frame["threshold"]
    merged = []
    for _, g in frame.groupby(["change", "subject", "target"], sort=False):
        g = g.sort_values(["strength", "kind"], ascending=[False, True])
        first = g.iloc[0].to_dict()
        first["kind"] = "+".join(dict.fromkeys(g["kind"]))
        first["evidence"] = "; ".join(dict.fromkeys(g["evidence"]))
        merged.append(first)
    out = pd.DataFrame(merged).sort_values(["strength", "subject"], ascending=[False, True], kind="mergesort")
    out = out[~(out["change"] == "move").to_numpy() | ~out.duplicated(["change", "subject"]).to_numpy()]
    out.insert(0, "suggestion", [f"s{k + 1:02d}" for k in range(len(out))])
    return out[SUGGESTION_COLUMNS].reset_index(drop=True)


def weakest_items(codebook: Codebook, fit, min_items: int = 3) -> list[str]:
    """The weakest item of each competency, in the codebook's competency order: the item with the smallest absolute
    standardized loading (``std_all``) in the hypothesised model's ``fit`` (made on the training part), for every
    competency that keeps at least ``min_items`` items (a factor needs three indicators to be identified on its own).
    Needs only the codebook's structure; :func:`drop_items` applies the list to a codebook with its wording."""
    p = fit.params[(fit.params["op"] == "=~") & fit.params["rhs"].isin(codebook.item_ids)]
    loading = p.groupby("rhs")["std_all"].first().abs()
    return [
        min(members, key=lambda i: (loading.get(i, np.inf), i))
        for members in codebook.groups("competency").values()
        if len(members) - 1 >= min_items
    ]


def drop_items(codebook: Codebook, items: list[str]) -> Codebook:
    """The codebook with ``items`` dropped, one :func:`apply_change` after the other in the given order."""
    out = codebook
    for item in items:
        out = apply_change(out, "drop", item)
    return out


def drop_weakest_items(codebook: Codebook, fit, min_items: int = 3) -> Codebook:
    """The codebook with the weakest item of each competency dropped (:func:`weakest_items`).

    The revision a trimmed short form makes; evaluated beside the original like any variant, its gain must hold
    out on the holdout part.
    """
    return drop_items(codebook, weakest_items(codebook, fit, min_items))


def apply_change(codebook: Codebook, change: str, subject: str, target: str = "") -> Codebook:
    """The codebook with one change applied: ``drop`` an item, ``move`` an item to dimension ``target``, or
    ``merge`` dimension ``subject`` into dimension ``target`` (its items appended there, the dimension removed).
    A dimension left without items is removed; the result is validated (:meth:`Codebook.from_dict`), so a change
    that leaves a competency empty raises :class:`~compval.codebook.CodebookError` naming it."""
    data = copy.deepcopy(codebook.to_dict())
    dims = [(c, d) for m in data["modules"] for c in m["competencies"] for d in c["dimensions"]]
    by_key = {d["key"]: d for _, d in dims}
    if change in ("move", "merge") and target not in by_key:
        raise ValueError(f"{change} {subject}: no dimension {target!r} in the codebook")
    if change in ("drop", "move"):
        found = [(d, it) for _, d in dims for it in d["items"] if it["id"] == subject]
        if not found:
            raise ValueError(f"{change}: no item {subject!r} in the codebook")
        d, it = found[0]
        d["items"].remove(it)
        if change == "move":
            by_key[target]["items"].append(it)
    elif change == "merge":
        if subject not in by_key:
            raise ValueError(f"merge: no dimension {subject!r} in the codebook")
        by_key[target]["items"].extend(by_key[subject]["items"])
        by_key[subject]["items"] = []
    else:
        raise ValueError(f"unknown change {change!r} (drop, move or merge)")
    for m in data["modules"]:
        for c in m["competencies"]:
            c["dimensions"] = [d for d in c["dimensions"] if d["items"]]
    return Codebook.from_dict(data, source=f"{codebook.source} ({change} {subject}{' -> ' + target if target else ''})")


def _score(cb: Codebook, items: pd.DataFrame, competency: str) -> pd.Series:
    return items[cb.groups("competency")[competency]].mean(axis=1)


def evaluate_suggestions(
    codebook: Codebook,
    items: pd.DataFrame,
    suggestions: pd.DataFrame,
    *,
    criterion: pd.Series | None = None,
    fit: Callable[..., Any] | None = None,
    item_missing: str = "pairwise",
    **fit_options: Any,
) -> pd.DataFrame:
    """Refit the hypothesised model (one factor per competency) with each suggestion applied alone.

    Parameters
    ----------
    codebook : Codebook
    items : DataFrame
        Reverse-scored answers (columns: item ids), the data the model is fitted to.
    suggestions : DataFrame
        :func:`suggest_revisions` output.
    criterion : Series or DataFrame, optional
        A criterion by respondent id: the change of the source competency's mean-score correlation with it
        (``criterion_r``, ``delta_criterion_r``); with several criteria (a DataFrame), one pair of columns per
        criterion (``criterion_r_<name>``, ``delta_criterion_r_<name>``) after :data:`EVALUATION_COLUMNS`.
    fit : callable, optional
        The fitting function (default :func:`compval.cfa.fit_cfa` with ``se="none"``: no standard errors);
        ``fit_options`` are passed to it.
    item_missing : {"pairwise", "listwise"}
        How alpha treats missing answers (:func:`compval.reliability.cronbach_alpha`; config ``missing``). The
        fit's own ``missing`` is one of ``fit_options``.

    Returns
    -------
    DataFrame with :data:`EVALUATION_COLUMNS`: a ``baseline`` row (no change) then one row per suggestion;
    ``delta_*`` are the suggestion minus the baseline. ``delta_bic`` is NaN when the change alters the item set
    (BIC compares models of the same data). ``status`` is the fit's status (``ok`` or why not) or the reason the
    change cannot be applied; a failed fit leaves its fit columns NaN.
    """
    from ..cfa import hypothesized
    from ..codebook import CodebookError
    from ..reliability import cronbach_alpha

    if fit is None:
        from ..cfa import fit_cfa

        fit = partial(fit_cfa, se="none")  # fit measures (and estimates) are all that is read

    def model_fit(cb: Codebook) -> dict:
        """The hypothesised model of ``cb``: fitted once per codebook."""
        f = fit(items[cb.item_ids], hypothesized(cb.groups("competency")), **fit_options)
        usable = bool(f.converged and f.status == "ok" and f.fit)
        return {
            "status": f.status,
            "cfi": f.fit["cfi"] if usable else np.nan,
            "bic": f.fit["bic"] if usable else np.nan,
            "item_set": frozenset(cb.item_ids),
        }

    criteria = (
        pd.DataFrame()
        if criterion is None
        else criterion.to_frame("")
        if isinstance(criterion, pd.Series)
        else criterion
    )
    r_keys = {c: "criterion_r" if c == "" else f"criterion_r_{c}" for c in criteria.columns}

    def scale(cb: Codebook, competency: str) -> dict:
        """Alpha of one competency and its mean score's correlation with each criterion."""
        members = cb.groups("competency").get(competency, [])
        alpha = cronbach_alpha(items[members], missing=item_missing).alpha if len(members) >= 2 else np.nan
        out = {"alpha": alpha, "criterion_r": np.nan}
        score = _score(cb, items, competency) if members else None
        for c, key in r_keys.items():
            out[key] = float(score.corr(criteria[c].reindex(score.index))) if score is not None else np.nan
        return out

    source_comp = dict(codebook.dimension_competency())
    base_fit = model_fit(codebook)
    base_scales: dict[str, dict] = {}
    rows = []
    for s in suggestions.itertuples(index=False):
        comp = source_comp.get(s.source, s.source)  # a merge names its dimension, the others their competency
        if comp not in base_scales:
            base_scales[comp] = scale(codebook, comp)
        base = {**base_fit, **base_scales[comp]}
        try:
            variant = apply_change(codebook, s.change, s.subject, s.target)
        except (CodebookError, ValueError) as exc:
            rows.append({"suggestion": s.suggestion, "status": f"not applicable: {exc}"})
            continue
        new = {**model_fit(variant), **scale(variant, comp)}
        row = {"suggestion": s.suggestion, "status": new["status"]}
        for key in ("cfi", "bic", "alpha", *dict.fromkeys(["criterion_r", *r_keys.values()])):
            row[key] = new[key]
            row[f"delta_{key}"] = new[key] - base[key]
        if new["item_set"] != base["item_set"]:
            row["delta_bic"] = np.nan
        rows.append(row)
    baseline = {"suggestion": "baseline", "status": base_fit["status"], "cfi": base_fit["cfi"], "bic": base_fit["bic"]}
    columns = EVALUATION_COLUMNS
    if isinstance(criterion, pd.DataFrame):  # one pair of columns per criterion instead of the single pair
        columns = [c for c in EVALUATION_COLUMNS if c not in ("criterion_r", "delta_criterion_r")]
        columns += [c for k in r_keys.values() for c in (k, f"delta_{k}")]
    return pd.DataFrame([baseline, *rows]).reindex(columns=columns)
