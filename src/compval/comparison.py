"""The CFA stage's model set: the hypothesised structure and its rivals, and how they compare.

:func:`build_models` derives every model from the codebook's structure (never hand-written per instrument):

* ``hypothesized`` — competencies as correlated first-order factors, items as indicators;
* ``one_factor`` — a single general factor;
* ``modules`` — one factor per module (skipped when there is one module: it equals ``one_factor``);
* ``second_order`` — competencies loading on their modules (or on one general factor when there is one module);
* ``orthogonal`` — the hypothesised factors, uncorrelated;
* ``parcels`` — dimension means as indicators, when every competency has at least three dimensions;
* user models in lavaan syntax.

The verdict (:func:`comparison_tables`): the hypothesised structure is *supported* when it meets the fit cut-offs
and is preferred over every competing rival (lower BIC and, for nested rivals, a significant chi-square
difference). Under the ordinal estimator (WLSMV) there is no likelihood, so no AIC/BIC: a rival is beaten when
its (robust, else scaled) CFI is lower and, if nested, the DIFFTEST (Asparouhov & Muthen 2006) is significant;
the best model is the one with the highest CFI. The second-order model is not a competitor: it keeps the same
first-order factors and explains their correlations by higher-order factors, so it is reported as a test of that
organisation, with Marsh and Hocevar's (1985) target coefficient ``T = chisq(first order) / chisq(second order)``
(1 = the higher-order factors account for all covariation among the first-order factors).

:func:`comparison_tables` turns fitted models into tidy tables: fit indices (lavaan's ``fitMeasures`` names),
chi-square difference tests of each nested rival against the reference model (``lavTestLRT``; Satorra–Bentler
scaled under MLR), ΔCFI/ΔRMSEA, AIC/BIC ranks among models fitted to the same indicators, verdicts against
cut-offs (Hu & Bentler 1999; :mod:`compval.present.rules`), and the ``summary.json`` section.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import cfa
from .present.rules import DEFAULT_CUTOFFS, cutoff_rules, fit_value, judge_cutoffs, judged_key

__all__ = [
    "build_models",
    "comparison_tables",
    "model_estimator",
    "FIT_KEYS",
    "NESTED_IN_HYPOTHESIZED",
]

FIT_KEYS = [
    "npar",
    "ntotal",
    "chisq",
    "df",
    "pvalue",
    "cfi",
    "tli",
    "rmsea",
    "rmsea.ci.lower",
    "rmsea.ci.upper",
    "rmsea.pvalue",
    "srmr",
    "logl",
    "aic",
    "bic",
    "chisq.scaled",
    "chisq.scaling.factor",
    "pvalue.scaled",
    "cfi.robust",
    "tli.robust",
    "rmsea.robust",
    "rmsea.ci.lower.robust",
    "rmsea.ci.upper.robust",
    "cfi.scaled",
    "tli.scaled",
    "rmsea.scaled",
    "rmsea.ci.lower.scaled",
    "rmsea.ci.upper.scaled",
]

# rivals obtained from the hypothesised model by constraints (so a chi-square difference test applies)
NESTED_IN_HYPOTHESIZED = ("one_factor", "modules", "second_order", "orthogonal")
# models that keep the hypothesised first-order factors and only re-express their correlations: they do not
# compete with the hypothesis but test a higher-order organisation of it (Marsh & Hocevar 1985)
HIGHER_ORDER = ("second_order",)


def build_models(
    factors: Mapping[str, Sequence[str]],
    factor_module: Mapping[str, str],
    dimensions: Mapping[str, Sequence[str]],
    dimension_factor: Mapping[str, str],
    *,
    rivals: Sequence[str] = ("one_factor", "modules", "second_order", "orthogonal", "parcels"),
    user_models: Mapping[str, str] | None = None,
) -> dict[str, tuple[cfa.ModelSpec, Callable[[pd.DataFrame], pd.DataFrame] | None]]:
    """Name -> (ModelSpec, data transform or None) for the hypothesised model, the requested rivals and user models.

    The transform, when not None, maps item data to the model's indicators (dimension means for ``parcels``).
    Rivals that do not apply to the structure are left out (``modules`` with one module; ``parcels`` when a
    competency has fewer than three dimensions).
    """
    factors = {k: list(v) for k, v in factors.items()}
    out: dict = {"hypothesized": (cfa.hypothesized(factors), None)}
    n_modules = len(set(factor_module.values()))
    for r in rivals:
        if r == "one_factor":
            out[r] = (cfa.one_factor(factors), None)
        elif r == "modules":
            if n_modules > 1:
                out[r] = (cfa.modules(factors, factor_module), None)
        elif r == "second_order":
            out[r] = (cfa.second_order(factors, factor_module if n_modules > 1 else None), None)
        elif r == "orthogonal":
            out[r] = (cfa.orthogonal(factors), None)
        elif r == "parcels":
            per_factor: dict[str, list[str]] = {}
            for dim, fac in dimension_factor.items():
                per_factor.setdefault(fac, []).append(dim)
            if per_factor and all(len(v) >= 3 for v in per_factor.values()):
                dims = {d: list(dimensions[d]) for d in dimension_factor}
                out[r] = (cfa.parcels(per_factor), lambda data, dims=dims: cfa.make_parcels(data, dims))
        else:
            raise ValueError(f"unknown rival model {r!r}")
    for name, syntax in (user_models or {}).items():
        if name in out:
            raise ValueError(f"user model name {name!r} clashes with a built-in model")
        out[name] = (cfa.from_syntax(syntax, name=name), None)
    return out


def model_estimator(name: str, estimator: str) -> str:
    """Estimator for one model of the set: parcels (dimension means) are not ordinal, so under WLSMV they are
    fitted by MLR (robust ML); every other model uses the configured estimator."""
    return "MLR" if name == "parcels" and estimator.upper() == "WLSMV" else estimator


def comparison_tables(
    fits: Mapping[str, cfa.CFAResult],
    *,
    reference: str = "hypothesized",
    cutoffs: Mapping | None = None,
    modindices_top: int = 20,
) -> dict:
    """Tidy tables and the ``summary.json`` section for a set of fitted models.

    Returns
    -------
    dict with DataFrames ``fit`` (one row per model), ``comparison`` (each rival against ``reference``),
    ``parameters`` (all models, ``model`` column first), ``r2``, ``modindices`` (reference model, top N),
    ``verdicts`` (model x index), and ``summary`` (dict).
    """
    rules = cutoff_rules(cutoffs or DEFAULT_CUTOFFS)
    ref = fits[reference]
    robust = ref.estimator in ("MLR", "WLSMV")
    ordinal = ref.estimator == "WLSMV"
    ref_ov = set(ref.ov_names)
    fit_rows, verdict_rows, params, r2s = [], [], [], []
    judged: dict[str, dict[str, str]] = {}
    for name, f in fits.items():
        # an improper solution (Heywood case, non-positive-definite matrix, not identified) is reported with its
        # indices but never "meets the cut-offs"
        usable = bool(f.converged and f.fit and f.status == "ok")
        row = {
            "model": name,
            "estimator": f.estimator,
            "converged": bool(f.converged),
            "status": f.status,
            "same_indicators": set(f.ov_names) == ref_ov,
        }
        row.update({k: f.fit.get(k, np.nan) for k in FIT_KEYS})
        ok_all = usable
        judged[name] = {}
        for idx, v in zip(rules, judge_cutoffs(f.fit, rules, robust=robust, usable=usable)):
            judged[name][idx] = v["index"]
            ok_all = ok_all and v["ok"]
            verdict_rows.append({"model": name, **v})
        row["meets_cutoffs"] = ok_all
        fit_rows.append(row)
        p = f.params.copy()
        p.insert(0, "model", name)
        params.append(p)
        r2 = f.r2.rename("r2").reset_index()
        r2.columns = ["name", "r2"] if r2.shape[1] == 2 else list(r2.columns[:-1]) + ["r2"]
        r2.insert(0, "model", name)
        r2s.append(r2)
    fit = pd.DataFrame(fit_rows)
    comparable = fit[fit["same_indicators"] & fit["converged"]].copy()
    for crit in ("aic", "bic"):
        fit[f"{crit}_rank"] = comparable[crit].rank(method="min").reindex(fit.index)
    # each rival against the reference (only when both converged and share the indicators)
    comp_rows = []
    for name, f in fits.items():
        if name == reference:
            continue
        row = {
            "model": name,
            "reference": reference,
            "nested": name in NESTED_IN_HYPOTHESIZED,
            "role": "higher_order" if name in HIGHER_ORDER else "rival",
            "comparable": bool(set(f.ov_names) == ref_ov and f.converged and ref.converged and f.fit and ref.fit),
        }
        if row["comparable"]:
            c = cfa.compare_models({reference: ref, name: f})
            last = c.iloc[-1]
            row.update(
                {
                    "df": f.fit["df"],
                    "chisq": f.fit["chisq"],
                    "chisq_diff": last["chisq_diff"],
                    "df_diff": last["df_diff"],
                    "pvalue": last["pvalue"] if row["nested"] else np.nan,
                    "delta_cfi": last["cfi"] - c.loc[c["model"] == reference, "cfi"].iloc[0],
                    "delta_rmsea": last["rmsea"] - c.loc[c["model"] == reference, "rmsea"].iloc[0],
                    "delta_aic": f.fit["aic"] - ref.fit["aic"],
                    "delta_bic": f.fit["bic"] - ref.fit["bic"],
                }
            )
            if not row["nested"]:
                row["chisq_diff"] = row["df_diff"] = np.nan
            if ordinal:  # no likelihood under DWLS: the (robust) CFI and the DIFFTEST decide
                better = np.isfinite(row["delta_cfi"]) and row["delta_cfi"] < 0
            else:
                better = row["delta_bic"] > 0
            row["reference_preferred"] = bool(better and (not row["nested"] or row["pvalue"] < 0.05))
            if row["role"] == "higher_order":
                row["target_coefficient"] = ref.fit["chisq"] / f.fit["chisq"] if f.fit["chisq"] > 0 else np.nan
        else:
            row["reference_preferred"] = np.nan
        comp_rows.append(row)
    comparison = pd.DataFrame(comp_rows)
    mi = cfa.modification_indices(ref, top=modindices_top) if ref.converged and ref.fit else pd.DataFrame()
    parameters = pd.concat(params, ignore_index=True)
    # summary section
    summary: dict = {}
    for name, f in fits.items():
        fr = fit.set_index("model").loc[name]
        rec = {
            "chisq": fr["chisq"],
            "df": fr["df"],
            "pvalue": fr["pvalue"],
            "cfi": fr["cfi"],
            "tli": fr["tli"],
            "rmsea": fr["rmsea"],
            "rmsea_ci_lower": fr["rmsea.ci.lower"],
            "rmsea_ci_upper": fr["rmsea.ci.upper"],
            "srmr": fr["srmr"],
            "aic": fr["aic"],
            "bic": fr["bic"],
            "loglik": f.fit.get("logl", np.nan),
            "converged": bool(f.converged),
            "status": f.status,
            "meets_cutoffs": bool(fr["meets_cutoffs"]),
        }
        if robust:
            rec.update(
                {
                    "chisq_scaled": f.fit.get("chisq.scaled"),
                    "cfi_robust": f.fit.get("cfi.robust"),
                    "tli_robust": f.fit.get("tli.robust"),
                    "rmsea_robust": f.fit.get("rmsea.robust"),
                }
            )
        rec["cutoff_keys"] = judged[name]
        rec["cutoff_values"] = {idx: f.fit.get(key, np.nan) for idx, key in judged[name].items()}
        if f.estimator == "WLSMV":
            rec.update(
                {
                    "estimator": "WLSMV",
                    "pvalue_scaled": f.fit.get("pvalue.scaled"),
                    "cfi_scaled": f.fit.get("cfi.scaled"),
                    "tli_scaled": f.fit.get("tli.scaled"),
                    "rmsea_scaled": f.fit.get("rmsea.scaled"),
                }
            )
        p = f.params
        load = p[(p["op"] == "=~")]
        rec["loadings_std"] = {lv: dict(zip(g["rhs"], g["std_all"])) for lv, g in load.groupby("lhs", sort=False)}
        lvs = set(load["lhs"])
        cov = p[(p["op"] == "~~") & p["lhs"].isin(lvs) & p["rhs"].isin(lvs) & (p["lhs"] != p["rhs"])]
        rec["factor_correlations"] = {f"{a}~~{b}": v for a, b, v in zip(cov["lhs"], cov["rhs"], cov["std_all"])}
        summary[name] = rec
    competing = comparable[~comparable["model"].isin(HIGHER_ORDER)]
    if ordinal:
        # DWLS has no likelihood (no AIC/BIC): the best model is the one with the highest (robust) CFI
        comparable = comparable.assign(
            _cfi=[fit_value(fits[mn].fit, judged_key(fits[mn].fit, "cfi", True)) for mn in comparable["model"]]
        )
        competing = comparable[~comparable["model"].isin(HIGHER_ORDER)]
        order = (["_cfi", "model"], [False, True])
        criterion = "cfi"
    else:
        order = (["bic", "model"], [True, True])
        criterion = "bic"
    winner = competing.sort_values(order[0], ascending=order[1]).iloc[0]["model"] if len(competing) else None
    best_overall = comparable.sort_values(order[0], ascending=order[1]).iloc[0]["model"] if len(comparable) else None
    ref_ok = bool(fit.set_index("model").loc[reference, "meets_cutoffs"])
    # only rivals fitted to the same indicators can be compared (parcels use dimension means: reported apart)
    rivals = comparison[(comparison["role"] == "rival") & comparison["comparable"]] if len(comparison) else comparison
    rivals_beaten = bool(all(v is True for v in rivals["reference_preferred"])) if len(rivals) else True
    higher = {}
    if len(comparison):
        for _, r in comparison[comparison["role"] == "higher_order"].iterrows():
            higher[r["model"]] = {
                "comparable": bool(r["comparable"]),
                "chisq_diff": r.get("chisq_diff"),
                "df_diff": r.get("df_diff"),
                "pvalue": r.get("pvalue"),
                "delta_bic": r.get("delta_bic"),
                "target_coefficient": r.get("target_coefficient"),
            }
    summary["comparison"] = {
        "reference": reference,
        "selection_criterion": criterion,
        "best_bic": winner if criterion == "bic" else None,
        "best_bic_including_higher_order": best_overall if criterion == "bic" else None,
        "best_model": winner,
        "best_model_including_higher_order": best_overall,
        "reference_meets_cutoffs": ref_ok,
        "reference_preferred_over_all_rivals": bool(rivals_beaten),
        "verdict": ("supported" if (winner == reference and ref_ok and rivals_beaten) else "not supported"),
        "higher_order": higher,
        "cutoffs": {k: [op, v] for k, (op, v) in rules.items()},
    }
    return {
        "fit": fit,
        "comparison": comparison,
        "parameters": parameters,
        "r2": pd.concat(r2s, ignore_index=True),
        "modindices": mi,
        "verdicts": pd.DataFrame(verdict_rows),
        "summary": summary,
    }
