"""The whole criterion-validity analysis in one call: :func:`run_criterion` and its :class:`CriterionResult`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .correlations import correct_attenuation, correlate
from .dominance import dominance_analysis
from .groups import known_groups
from .prepare import check_frame, missing_report, transform_criteria
from .regression import hierarchical_regression

__all__ = ["RESERVED_NAMES", "CriterionResult", "run_criterion"]

RESERVED_NAMES = ("regression", "dominance", "missing")


@dataclass
class CriterionResult:
    """Tidy outputs of :func:`run_criterion`.

    Attributes
    ----------
    correlations : Pearson/Spearman table with FDR columns and the attenuation-corrected columns
        (``rxx``, ``ryy``, ``r_corrected``, ``ci_lower_corrected``, ``ci_upper_corrected``).
    regression : one row per criterion (n, R2s, delta R2, partial F, HC3 Wald F, overall F).
    coefficients : step-2 coefficients per criterion (b, SE, HC3 SE, standardized beta with CIs).
    vif : (G)VIF per criterion and term.
    dominance : general dominance weights with bootstrap CIs per criterion and competency.
    known_groups : top-vs-rest comparisons per criterion and competency.
    missing : per criterion n_total, n_missing, n_valid, n_regression, n_excluded_regression.
    settings : the arguments that shaped the analysis.
    """

    correlations: pd.DataFrame
    regression: pd.DataFrame
    coefficients: pd.DataFrame
    vif: pd.DataFrame
    dominance: pd.DataFrame
    known_groups: pd.DataFrame
    missing: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def summary_dict(self) -> dict:
        """JSON-ready summary for ``summary.json``.

        ``{criterion: {competency: {r, ci_lower, ci_upper, p, p_fdr, rho}}, "regression": {criterion:
        {r2_controls, r2_full, delta_r2, p_delta}}, "dominance": {criterion: {competency: weight}},
        "missing": {criterion: {n_missing, n_valid}}}``; missing numbers become ``None``.
        """

        def num(v):
            if v is None:
                return None
            v = float(v)
            return None if math.isnan(v) else v

        out: dict = {}
        for _, r in self.correlations.iterrows():
            out.setdefault(r["criterion"], {})[r["competency"]] = {
                k: num(r[k]) for k in ("r", "ci_lower", "ci_upper", "p", "p_fdr", "rho")
            }
        out["regression"] = {
            r["criterion"]: {k: num(r[k]) for k in ("r2_controls", "r2_full", "delta_r2", "p_delta")}
            for _, r in self.regression.iterrows()
        }
        dom: dict = {}
        for _, r in self.dominance.iterrows():
            dom.setdefault(r["criterion"], {})[r["competency"]] = num(r["weight"])
        out["dominance"] = dom
        out["missing"] = {
            r["criterion"]: {"n_missing": int(r["n_missing"]), "n_valid": int(r["n_valid"])}
            for _, r in self.missing.iterrows()
        }
        return out


def run_criterion(
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    controls: pd.DataFrame | None = None,
    *,
    reliabilities: Mapping[str, float] | None = None,
    criterion_reliabilities: Mapping[str, float] | None = None,
    log_criteria: Sequence[str] = (),
    log_method: str = "log1p",
    top_quantile: float = 0.25,
    n_boot: int = 1000,
    seed: int | None = 12345,
    dominance_controls: bool = False,
    conf: float = 0.95,
    bootstrap_max_n: int | None = None,
) -> CriterionResult:
    """Criterion validity of competency scores: correlations, attenuation, hierarchical OLS, dominance, known groups.

    Parameters
    ----------
    scores : DataFrame
        One numeric column per competency key; its index defines the respondents.
    criteria : DataFrame
        One numeric column per criterion, aligned on the index (respondents absent from ``criteria`` count
        as missing). Names ``"regression"``, ``"dominance"`` and ``"missing"`` are reserved.
    controls : DataFrame, optional
        Numeric and categorical columns entered in step 1 (see :func:`control_design`).
    reliabilities, criterion_reliabilities : mapping, optional
        rxx per competency and ryy per criterion (default 1) for :func:`correct_attenuation`.
    log_criteria, log_method
        Criteria to log-transform before every analysis (:func:`transform_criteria`); the ``transform``
        column of the correlation table notes it.
    top_quantile : float
        Share defining the top group for :func:`known_groups` (default .25).
    n_boot, seed
        Bootstrap replications and seed for the dominance intervals. Criterion j (its column position in
        ``criteria``) draws from child stream j of ``numpy.random.SeedSequence(seed).spawn(...)``, so its
        intervals depend on the seed and its position only, not on the other criteria's data.
    dominance_controls : bool
        False (default): dominance weights decompose the R2 of the competencies alone (controls not in the
        models). True: controls enter every subset model; weights decompose R2(full) - R2(controls). Both use
        the regression's listwise sample.
    bootstrap_max_n : int, optional
        Above this many respondents in a criterion's sample, its dominance intervals come from a bag of little
        bootstraps (:func:`dominance_analysis`'s ``max_n``); None (default) = always the full bootstrap.

    Returns
    -------
    CriterionResult
    """
    check_frame(scores, "scores")
    check_frame(criteria, "criteria")
    if controls is not None:
        check_frame(controls, "controls")
    clash = [c for c in criteria.columns if c in RESERVED_NAMES]
    if clash:
        raise ValueError(f"criterion names {clash} are reserved in the summary")
    if controls is not None:
        overlap = set(controls.columns) & (set(scores.columns) | set(criteria.columns))
        if overlap:
            raise ValueError(f"controls share column names with scores/criteria: {sorted(overlap)}")
    if set(scores.columns) & set(criteria.columns):
        raise ValueError("scores and criteria share column names")
    for k in scores.columns:
        if not pd.api.types.is_numeric_dtype(scores[k]):
            raise TypeError(f"score column {k!r} is not numeric")

    missing = missing_report(scores, criteria)
    crit, transforms = transform_criteria(criteria, log_criteria, log_method)
    crit = crit.reindex(scores.index)

    cors = correlate(scores, crit, conf=conf, transforms=transforms)
    cors = correct_attenuation(cors, reliabilities, criterion_reliabilities)

    ss = np.random.SeedSequence(seed)
    children = ss.spawn(len(crit.columns))
    reg_rows, coef_tabs, vif_tabs, dom_tabs = [], [], [], []
    n_reg = {}
    for j, cr in enumerate(crit.columns):
        res = hierarchical_regression(crit[cr].rename(cr), scores, controls, conf=conf)
        reg_rows.append({"criterion": cr, "transform": transforms.loc[j, "transform"], **res["summary"]})
        coef_tabs.append(res["coefficients"].assign(criterion=cr))
        vif_tabs.append(res["vif"].assign(criterion=cr))
        n_reg[cr] = res["summary"]["n"]
        idx = res["sample"]
        always = res["design"][res["control_columns"]] if (dominance_controls and res["control_columns"]) else None
        dom = dominance_analysis(
            crit.loc[idx, cr],
            scores.loc[idx].astype(float),
            always,
            n_boot=n_boot,
            rng=np.random.default_rng(children[j]),
            conf=conf,
            max_n=bootstrap_max_n,
        )
        dom_tabs.append(dom.assign(criterion=cr))
        del res, idx, always  # this criterion's design (100 MB at a million rows) goes before the next one's is made

    def front(df):
        cols = ["criterion"] + [c for c in df.columns if c != "criterion"]
        return df[cols].reset_index(drop=True)

    missing["n_regression"] = missing["criterion"].map(n_reg)
    missing["n_excluded_regression"] = missing["n_valid"] - missing["n_regression"]
    missing = missing.merge(transforms, on="criterion")
    return CriterionResult(
        correlations=cors,
        regression=pd.DataFrame(reg_rows),
        coefficients=front(pd.concat(coef_tabs, ignore_index=True)),
        vif=front(pd.concat(vif_tabs, ignore_index=True)),
        dominance=front(pd.concat(dom_tabs, ignore_index=True)),
        known_groups=known_groups(scores, crit, top_quantile=top_quantile, conf=conf),
        missing=missing,
        settings={
            "log_criteria": list(log_criteria),
            "log_method": log_method,
            "top_quantile": top_quantile,
            "n_boot": n_boot,
            "seed": seed,
            "dominance_controls": dominance_controls,
            "conf": conf,
            "bootstrap_max_n": bootstrap_max_n,
            "controls": [] if controls is None else list(controls.columns),
            "reliabilities": dict(reliabilities or {}),
            "criterion_reliabilities": dict(criterion_reliabilities or {}),
        },
    )
