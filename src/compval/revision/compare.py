"""Codebook variants side by side: one row per variant from each variant's ``summary.json``.

Each variant of an instrument (config ``variants``; the main codebook is ``original``) is validated on the same
cleaned data. :func:`compare_variants` lines their headline numbers up: the hypothesised model's fit, the change
against the original, the chi-square difference test of nested variants (:func:`nesting` says which are nested;
:func:`compval.sem.compare.compare_models` computes the test), the fit on the training and the holdout part with
the holdout guard (:func:`compval.revision.holdout.holds_out`), reliability, composite reliability / AVE / HTMT, and
each criterion's largest correlation with a competency, incremental R-squared and most dominant competency.

Information criteria compare models of the same data only: AIC and BIC differences are given for variants that
analyse the original's item set and left empty (``bic_comparable`` false) for the others, which are compared by
the fit of their own item set (CFI, TLI, RMSEA, SRMR) instead.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..codebook import Codebook
from .holdout import holds_out

__all__ = ["nesting", "variant_model", "compare_variants", "COMPARISON_COLUMNS"]

COMPARISON_COLUMNS = [
    "variant",
    "n_items",
    "n_factors",
    "model",
    "same_items",
    "nested",
    "status",
    "chisq",
    "df",
    "cfi",
    "tli",
    "rmsea",
    "srmr",
    "aic",
    "bic",
    "delta_cfi",
    "delta_rmsea",
    "delta_aic",
    "delta_bic",
    "chisq_diff",
    "df_diff",
    "p_diff",
    "cfi_training",
    "cfi_holdout",
    "delta_cfi_training",
    "delta_cfi_holdout",
    "holds",
    "alpha_mean",
    "alpha_min",
    "omega_total_mean",
    "cr_mean",
    "ave_mean",
    "htmt_max",
]


def variant_model(codebook: Codebook, model: str = "hypothesized"):
    """The model of a codebook's CFA set that states a variant's hypothesis (config ``variants.<name>.model``):
    ``hypothesized`` (one factor per competency) or ``second_order`` (those factors under one second-order factor
    per module), as :func:`compval.comparison.build_models` builds it for the CFA stage."""
    from ..comparison import build_models

    rivals = [] if model == "hypothesized" else [model]
    cb_groups = codebook.groups("competency")
    models = build_models(
        cb_groups,
        codebook.competency_module(),
        codebook.groups("dimension"),
        codebook.dimension_competency(),
        rivals=rivals,
    )
    if model not in models:
        raise ValueError(f"model {model!r} cannot be built for this codebook ({len(cb_groups)} competencies)")
    return models[model][0]


def nesting(original: Codebook, variant: Codebook) -> str:
    """How a variant's hypothesised model (one factor per competency) relates to the original's.

    Returns
    -------
    str
        ``"same"`` (same items scored the same way, same partition into factors), ``"in_original"`` (same
        items, every original competency lies wholly in one variant factor and there are fewer factors: e.g.
        two competencies merged, which fixes their correlation at 1, so the variant is nested in the original),
        ``"contains_original"`` (the reverse: a competency split), or ``""`` (different items, different
        reverse-keying, or crossing partitions: not nested).
    """
    if set(original.item_ids) != set(variant.item_ids) or set(original.reverse_items) != set(variant.reverse_items):
        return ""  # other items, or other scoring of them: not the same data
    a = {frozenset(v) for v in original.groups("competency").values()}
    b = {frozenset(v) for v in variant.groups("competency").values()}
    if a == b:
        return "same"

    def coarser(fine: set, coarse: set) -> bool:
        return len(coarse) < len(fine) and all(any(f <= c for c in coarse) for f in fine)

    if coarser(a, b):
        return "in_original"
    if coarser(b, a):
        return "contains_original"
    return ""


def _mean(values) -> float:
    v = [float(x) for x in values if x is not None and np.isfinite(float(x))]
    return float(np.mean(v)) if v else np.nan


def _headline(summary: Mapping[str, Any], model: str = "hypothesized") -> dict:
    """The numbers of one variant's summary.json that the comparison shows (fit of the model ``model``)."""
    hyp = summary.get("cfa", {}).get(model, {})
    judged = hyp.get("cutoff_values", {})
    out: dict[str, Any] = {
        "status": hyp.get("status", ""),
        "chisq": hyp.get("chisq"),
        "df": hyp.get("df"),
        "cfi": judged.get("cfi", hyp.get("cfi")),
        "tli": judged.get("tli", hyp.get("tli")),
        "rmsea": judged.get("rmsea", hyp.get("rmsea")),
        "srmr": judged.get("srmr", hyp.get("srmr")),
        "aic": hyp.get("aic"),
        "bic": hyp.get("bic"),
    }
    rel = {k: v for k, v in summary.get("reliability", {}).items() if isinstance(v, dict) and "alpha" in v}
    out["alpha_mean"] = _mean(r["alpha"] for r in rel.values())
    out["alpha_min"] = min((r["alpha"] for r in rel.values() if r["alpha"] is not None), default=np.nan)
    out["omega_total_mean"] = _mean(r.get("omega_total") for r in rel.values())
    val = summary.get("validity", {})
    comp = {k: v for k, v in val.items() if isinstance(v, dict) and "cr" in v}
    out["cr_mean"] = _mean(v["cr"] for v in comp.values())
    out["ave_mean"] = _mean(v["ave"] for v in comp.values())
    out["htmt_max"] = max((float(x) for x in (val.get("htmt") or {}).values() if x is not None), default=np.nan)
    crit = summary.get("criterion", {})
    for name, per_competency in crit.items():
        if not isinstance(per_competency, dict):
            continue  # score_type
        # a criterion maps competencies to {r, ...}; the sections beside the criteria (regression, dominance,
        # missing, latent_regression) hold no r
        rs = [float(v["r"]) for v in per_competency.values() if isinstance(v, dict) and v.get("r") is not None]
        if rs:
            out[f"r_max_{name}"] = max(rs, key=abs)
    for name, reg in (crit.get("regression") or {}).items():
        out[f"delta_r2_{name}"] = reg.get("delta_r2")
        weights = (crit.get("dominance") or {}).get(name) or {}
        out[f"dominant_{name}"] = max(weights, key=lambda k: weights[k]) if weights else ""
    holdout = summary.get("holdout", {})
    for part in ("training", "holdout"):
        out[f"cfi_{part}"] = (holdout.get(part) or {}).get("cfi", np.nan)
    return out


def compare_variants(
    summaries: Mapping[str, Mapping[str, Any]],
    codebooks: Mapping[str, Codebook],
    nested_tests: Mapping[str, Mapping[str, float]] | None = None,
    *,
    models: Mapping[str, str] | None = None,
    min_ratio: float = 0.5,
) -> pd.DataFrame:
    """One row per variant: fit, change against the original, nested test, holdout guard, reliability, validity,
    criterion validity.

    Parameters
    ----------
    summaries : mapping
        Variant name -> its ``summary.json`` (``original`` first; the sections ``cfa``, ``reliability``,
        ``validity``, optionally ``criterion`` and ``holdout`` with ``training`` / ``holdout`` fit measures).
    codebooks : mapping
        Variant name -> its :class:`~compval.codebook.Codebook`.
    nested_tests : mapping, optional
        Variant name -> ``{"chisq_diff", "df_diff", "pvalue"}`` of its chi-square difference test against the
        original (:func:`compval.sem.compare.compare_models` of the two fits; Satorra-Bentler scaled under MLR,
        DIFFTEST under WLSMV), for the variants :func:`nesting` calls nested.
    models : mapping, optional
        Variant name -> the model of its CFA set that states its hypothesis (:func:`variant_model`; default
        ``hypothesized`` for every variant). Nesting is only judged between two ``hypothesized`` models.
    min_ratio : float
        The holdout guard (:func:`~compval.revision.holdout.holds_out`): a variant's CFI gain over the original on
        the training part holds out when the holdout gain has the same sign and is at least this share of it.

    Returns
    -------
    DataFrame with :data:`COMPARISON_COLUMNS` and, per criterion, ``r_max_<criterion>`` (the competency score's
    correlation with it that is largest in absolute value), ``delta_r2_<criterion>`` (incremental R-squared of the
    competency scores over the controls) and ``dominant_<criterion>`` (the competency with the largest general
    dominance weight). ``delta_*`` are the variant minus the original; ``delta_aic`` / ``delta_bic`` are
    NaN unless ``same_items`` (information criteria compare models of the same data only). ``holds`` is empty for
    the original and when either part's fit is missing; ``min_ratio`` repeats the guard's setting.
    """
    if "original" not in summaries:
        raise ValueError("the comparison needs the variant 'original' (the main codebook)")
    base_cb = codebooks["original"]
    models = {name: (models or {}).get(name, "hypothesized") for name in summaries}
    heads = {name: _headline(s, models[name]) for name, s in summaries.items()}
    base = heads["original"]
    rows = []
    for name, head in heads.items():
        cb = codebooks[name]
        same = set(cb.item_ids) == set(base_cb.item_ids)
        row: dict[str, Any] = {
            "variant": name,
            "n_items": len(cb.item_ids),
            "n_factors": len(cb.competencies),
            "model": models[name],
            "same_items": same,
            "nested": ""
            if name == "original" or {models[name], models["original"]} != {"hypothesized"}
            else nesting(base_cb, cb),
            **head,
        }
        for key in ("cfi", "rmsea", "aic", "bic"):
            row[f"delta_{key}"] = _diff(head.get(key), base.get(key))
        if not same:
            row["delta_aic"] = row["delta_bic"] = np.nan
        test = (nested_tests or {}).get(name) or {}
        row["chisq_diff"], row["df_diff"], row["p_diff"] = (
            test.get("chisq_diff", np.nan),
            test.get("df_diff", np.nan),
            test.get("pvalue", np.nan),
        )
        gains = [_diff(head.get(f"cfi_{p}"), base.get(f"cfi_{p}")) for p in ("training", "holdout")]
        row["delta_cfi_training"], row["delta_cfi_holdout"] = gains
        row["holds"] = (
            holds_out(gains[0], gains[1], min_ratio)
            if name != "original" and all(np.isfinite(g) for g in gains)
            else None
        )
        rows.append(row)
    out = pd.DataFrame(rows).assign(min_ratio=min_ratio)
    extra = [c for c in out.columns if c not in COMPARISON_COLUMNS]
    return out.reindex(columns=COMPARISON_COLUMNS + extra)


def _diff(a, b) -> float:
    try:
        return float(a) - float(b)
    except (TypeError, ValueError):
        return np.nan
