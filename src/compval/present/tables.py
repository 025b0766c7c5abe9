"""APA tables (7th edition) built from the pipeline's tidy tables.

Each builder takes a tidy table the pipeline writes and returns an :class:`~compval.present.apa.ApaTable`;
none knows item names or the number of factors. :func:`compval.present.html.build_tables` picks the set that
``results/tables/`` and the HTML report share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from compval.i18n import N_
from compval.i18n import gettext as _
from compval.present.apa import ApaTable
from compval.present.formatting import (
    NA,
    CorrelationColumns,
    finite,
    format_ci,
    format_number,
    format_p,
    groups_to_map,
    interval_method,
    interval_methods,
    label,
    pair_lookup,
    pretty,
    wide_loadings,
)
from compval.present.rules import ALPHA, SALIENT_LOADING
from compval.resampling import PERCENTILE_BOOTSTRAP

__all__ = [
    "ApaTable",
    "format_number",
    "format_p",
    "format_ci",
    "descriptives_table",
    "reliability_table",
    "efa_loadings_table",
    "fit_table",
    "cfa_loadings_table",
    "validity_table",
    "criterion_table",
    "invariance_table",
    "regression_table",
    "variants_table",
]


def _ci_col(df: pd.DataFrame, lo: str, hi: str, digits: int = 2, leading_zero: bool = False) -> list[str]:
    if lo not in df or hi not in df:
        return [NA] * len(df)
    return [format_ci(a, b, digits, leading_zero=leading_zero) for a, b in zip(df[lo], df[hi])]


#: Display format of every column the builders show (see :class:`~compval.present.apa.ApaTable`).
_FORMATS = {
    **dict.fromkeys("item scale model factor predictor criterion step holds".split(), "text"),
    **dict.fromkeys("alpha_ci omega_ci omega_h_ci rmsea_ci".split(), "text"),
    **dict.fromkeys("n n_items df df_diff df1 df2".split(), "int"),
    **dict.fromkeys("mean sd skew kurtosis chisq chisq_diff est se f_change".split(), "f2"),
    **dict.fromkeys("median aic bic".split(), "f1"),
    **dict.fromkeys("floor ceiling share_missing".split(), "pct1"),
    **dict.fromkeys("alpha omega_total omega_h average_r h2 std_all cr ave r2_controls r2_full delta_r2".split(), "r"),
    **dict.fromkeys("cfi tli rmsea srmr delta_cfi delta_rmsea".split(), "r3"),
    **dict.fromkeys("pvalue pvalue_diff p_delta p_delta_hc3".split(), "p"),
}


def _formats(columns) -> dict[str, str]:
    """The display formats of those of ``columns`` that the builders know."""
    return {c: _FORMATS[c] for c in columns if c in _FORMATS}


def _labels(columns) -> dict[str, str]:
    """The column headings (in the active language) of those of ``columns`` that the builders know."""
    headings = {
        "_g": _("Competency"),
        "item": _("Item"),
        "n": "n",
        "mean": "M",
        "sd": "SD",
        "median": "Mdn",
        "skew": _("Skew"),
        "kurtosis": _("Kurtosis"),
        "floor": _("Floor %"),
        "ceiling": _("Ceiling %"),
        "share_missing": _("Missing %"),
        "level": _("Level"),
        "scale": _("Scale"),
        "n_items": _("Items"),
        "alpha": "α",
        "alpha_ci": "α 95% CI",
        "omega_total": "ω",
        "omega_ci": "ω 95% CI",
        "omega_h": "ωh",
        "omega_h_ci": "ωh 95% CI",
        "average_r": _("Mean r"),
        "h2": "h²",
        "model": _("Model"),
        "chisq": "χ²",
        "df": "df",
        "pvalue": "p",
        "cfi": "CFI",
        "tli": "TLI",
        "rmsea": "RMSEA",
        "rmsea_ci": "90% CI",
        "srmr": "SRMR",
        "aic": "AIC",
        "bic": "BIC",
        "chisq_diff": "Δχ²",
        "df_diff": "Δdf",
        "pvalue_diff": "p (Δχ²)",
        "delta_cfi": "ΔCFI",
        "delta_rmsea": "ΔRMSEA",
        "factor": _("Factor"),
        "est": "b",
        "se": "SE",
        "std_all": "β",
        "cr": "CR",
        "ave": "AVE",
        "predictor": _("Competency"),
        "step": _("Step"),
        "holds": _("Holds"),
        "criterion": _("Criterion"),
        "r2_controls": _("R² (controls)"),
        "r2_full": _("R² (full)"),
        "delta_r2": "ΔR²",
        "f_change": _("F change"),
        "df1": "df1",
        "df2": "df2",
        "p_delta": "p",
        "p_delta_hc3": "p (HC3)",
    }
    return {c: headings[c] for c in columns if c in headings}


def _present(df: pd.DataFrame, names: str) -> list[str]:
    """The columns of ``names`` (space-separated, in this order) that ``df`` has."""
    return [c for c in names.split() if c in df.columns]


#: Default title and note of each table (catalogue entries; translated, and the note formatted, when built).
_TITLES = {
    "descriptives": N_("Item Descriptive Statistics"),
    "reliability": N_("Internal Consistency Reliability"),
    "efa_loadings": N_("Exploratory Factor Analysis: Pattern Loadings"),
    "fit": N_("Fit of the Competing Measurement Models"),
    "cfa_loadings": N_("Confirmatory Factor Analysis: Factor Loadings"),
    "validity": N_("Convergent and Discriminant Validity"),
    "invariance": N_("Measurement Invariance Across Groups"),
}
_NOTES = {
    "descriptives": N_(
        "Skew and excess kurtosis as psych::describe (type 3). Floor and ceiling: percentage of valid "
        "answers at the lowest and highest scale point. Missing: percentage of respondents without an "
        "answer."
    ),
    "reliability": N_(
        "α = Cronbach's alpha with {ci} 95% confidence interval; ω = McDonald's omega total with "
        "{omega_ci} 95% CI; ωh = omega hierarchical (Schmid-Leiman, with {omega_h_ci} "
        "95% CI where computed); Mean r = mean inter-item correlation. "
        "Values of .70 and .80 are conventional minimums for group comparisons and for decisions."
    ),
    "efa_loadings": N_("Loadings with an absolute value of at least {salient} are printed in bold. h² = communality."),
    "fit": N_(
        "CFI = comparative fit index; TLI = Tucker-Lewis index; RMSEA = root mean square error of "
        "approximation with 90% CI; SRMR = standardized root mean square residual. Hu and Bentler (1999) "
        "cut-offs: CFI and TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08."
    ),
    "cfa_loadings": N_(
        "b = unstandardized loading; SE = standard error; β = completely standardized loading "
        "(lavaan std.all). Loadings without SE are fixed to identify the scale of the factor."
    ),
    "validity": N_(
        "CR = composite reliability; AVE = average variance extracted. Diagonal (bold): square root of "
        "AVE; below the diagonal: latent factor correlations; above the diagonal: heterotrait-monotrait "
        "ratio (HTMT; Henseler et al., 2015). Discriminant validity (Fornell & Larcker, 1981) holds when "
        "the diagonal exceeds the correlations in its row and column; HTMT should stay below .85."
    ),
    "invariance": N_(
        "Each step adds equality constraints to the previous one. A step holds when CFI drops by at most "
        ".010 and RMSEA rises by at most .015 (Chen, 2007)."
    ),
}


def _methods(df: pd.DataFrame, column: str) -> str:
    """The translated bootstrap method(s) named in ``column`` ("percentile bootstrap" when none is named)."""
    return _(", ").join(interval_method(m) for m in interval_methods(df, [column]) or [PERCENTILE_BOOTSTRAP])


def _title_note(table: str, title: str | None, note: str | None, **fields) -> tuple[str, str]:
    """The given title and note, or the table's defaults in the active language (the note formatted with
    ``fields``)."""
    title = _(_TITLES[table]) if title is None else title
    return title, _(_NOTES[table]).format(**fields) if note is None else note


# ============================================================================ builders
def descriptives_table(
    descriptives: pd.DataFrame,
    item_groups: Mapping | None = None,
    *,
    group_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Item descriptives (``results/descriptives/items.csv``: item, n, mean, sd, skew, kurtosis, floor,
    ceiling, share_missing ...), grouped by competency when ``item_groups`` ({group: [items]} or
    {item: group}) is given, items in the order of the groups."""
    d = descriptives.copy()
    gmap = groups_to_map(item_groups)
    cols = _present(d, "item n mean sd median skew kurtosis floor ceiling share_missing")
    out = d[cols].copy()
    group_by = None
    if gmap:
        order = {i: k for k, i in enumerate(gmap)}
        out["_g"] = [label(group_labels, gmap.get(i, _("Unassigned"))) for i in out["item"]]
        out["_o"] = [order.get(i, len(order)) for i in out["item"]]
        out = out.sort_values("_o", kind="stable").drop(columns="_o")
        out = out[["_g"] + cols]
        group_by = "_g"
    labels, formats = _labels(["_g", *cols]), _formats(cols)
    title, note = _title_note("descriptives", title, note)
    return ApaTable(
        title, out.reset_index(drop=True), formats, note, number, labels, group_by, label="tab:descriptives"
    )


def reliability_table(
    reliability: pd.DataFrame,
    *,
    levels: Sequence[str] | None = ("competency", "module"),
    names: Mapping[str, str] | None = None,
    alpha_ci: str = "feldt",
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Reliability per scale from ``results/reliability/reliability.csv`` (level, key, n_items, alpha,
    alpha_ci_lower/upper (Feldt), alpha_boot_lower/upper, omega_total, omega_total_boot_lower/upper,
    omega_hierarchical, average_r, boot_ci_method, omega_h_boot_ci_method ...). ``alpha_ci``: "feldt" or "boot";
    rows grouped by level. The note names the bootstrap's method from the method columns ("percentile bootstrap"
    when they are absent; several distinct methods, e.g. bags of little bootstraps of different subset sizes
    under listwise deletion, are listed)."""
    rel = reliability.copy()
    if levels is not None:
        rel = rel[rel["level"].isin(levels)]
        rel = (
            rel.assign(_lo=rel["level"].map({lv: k for k, lv in enumerate(levels)}))
            .sort_values("_lo", kind="stable")
            .drop(columns="_lo")
        )
    lo, hi = ("alpha_ci_lower", "alpha_ci_upper") if alpha_ci == "feldt" else ("alpha_boot_lower", "alpha_boot_upper")
    out = pd.DataFrame(
        {
            "level": [_(str(v).capitalize()) for v in rel["level"]],
            "scale": [label(names, k) for k in rel["key"]],
            "n_items": rel["n_items"].astype(int).to_numpy(),
            "alpha": rel["alpha"].to_numpy(),
            "alpha_ci": _ci_col(rel, lo, hi),
            "omega_total": rel["omega_total"].to_numpy() if "omega_total" in rel else np.nan,
            "omega_ci": _ci_col(rel, "omega_total_boot_lower", "omega_total_boot_upper"),
        }
    )
    if "omega_hierarchical" in rel:
        out["omega_h"] = rel["omega_hierarchical"].to_numpy()
        boot = ["omega_hierarchical_boot_lower", "omega_hierarchical_boot_upper"]
        if set(boot) <= set(rel.columns) and rel[boot].notna().all(axis=1).any():
            out["omega_h_ci"] = _ci_col(rel, *boot)
    if "average_r" in rel:
        out["average_r"] = rel["average_r"].to_numpy()
    labels, formats = _labels(out.columns), _formats(out.columns)
    boot = _methods(rel, "boot_ci_method")
    ci = "Feldt (1965)" if alpha_ci == "feldt" else boot
    title, note = _title_note(
        "reliability", title, note, ci=ci, omega_ci=boot, omega_h_ci=_methods(rel, "omega_h_boot_ci_method")
    )
    return ApaTable(title, out.reset_index(drop=True), formats, note, number, labels, "level", label="tab:reliability")


def efa_loadings_table(
    loadings: pd.DataFrame,
    item_groups: Mapping | None = None,
    *,
    communalities: Mapping[str, float] | pd.Series | None = None,
    salient: float = SALIENT_LOADING,
    group_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Pattern loadings (wide: items as index or an ``item`` column, one column per factor; or long: item,
    factor, loading), items grouped by hypothesised competency; loadings with ``|l| >= salient`` in bold;
    optional communality column (h2)."""
    w = wide_loadings(loadings)
    factors = [str(c) for c in w.columns]
    w.columns = factors
    gmap = groups_to_map(item_groups)
    items = list(w.index)
    if gmap:
        order = {i: k for k, i in enumerate(gmap)}
        items = sorted(items, key=lambda i: order.get(i, len(order)))
    w = w.loc[items]
    out = pd.DataFrame({"item": [str(i) for i in items]})
    for f in factors:
        out[f] = w[f].to_numpy(dtype=float)
    if communalities is not None:
        h = pd.Series(communalities)
        out["h2"] = [h.get(i, np.nan) for i in items]
    group_by = None
    if gmap:
        out.insert(0, "_g", [label(group_labels, gmap.get(i, _("Unassigned"))) for i in items])
        group_by = "_g"
    emph = pd.DataFrame(False, index=out.index, columns=out.columns)
    for f in factors:
        emph[f] = out[f].abs() >= salient
    formats = {"item": "text", **{f: "r" for f in factors}, "h2": "r"}
    labels = _labels(["item", "h2", "_g"])
    title, note = _title_note("efa_loadings", title, note, salient=format_number(salient, 2, leading_zero=False))
    return ApaTable(title, out, formats, note, number, labels, group_by, emph, label="tab:efa-loadings")


def fit_table(
    fits: pd.DataFrame,
    *,
    model_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Model fit comparison. ``fits``: one row per model with any of model, chisq, df, pvalue (model test),
    cfi, tli, rmsea, rmsea_ci_lower/upper (or lavaan's ``rmsea.ci.lower``), srmr, aic, bic, chisq_diff,
    df_diff, pvalue_diff, delta_cfi, delta_rmsea (``cfa.compare_models`` output merged with fit measures)."""
    f = fits.rename(columns={"rmsea.ci.lower": "rmsea_ci_lower", "rmsea.ci.upper": "rmsea_ci_upper"}).copy()
    out = pd.DataFrame({"model": [label(model_labels, m) for m in f["model"]]})
    for c in ["chisq", "df", "pvalue", "cfi", "tli", "rmsea"]:
        if c in f:
            out[c] = f[c].to_numpy()
    if "rmsea_ci_lower" in f:
        out["rmsea_ci"] = _ci_col(f, "rmsea_ci_lower", "rmsea_ci_upper", 3)
    for c in ["srmr", "aic", "bic", "chisq_diff", "df_diff", "pvalue_diff", "delta_cfi", "delta_rmsea"]:
        if c in f:
            out[c] = f[c].to_numpy()
    formats = _formats(out.columns)
    title, note = _title_note("fit", title, note)
    return ApaTable(title, out, formats, note, number, _labels(out.columns), label="tab:fit")


def cfa_loadings_table(
    params: pd.DataFrame,
    *,
    group=None,
    factor_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Loadings from a lavaan-style parameter table (lhs, op, rhs, est, se, pvalue, std_all; optional
    group): one row per ``=~`` parameter, grouped by factor: unstandardized b, SE, standardized β, p."""
    p = params
    if "group" in p.columns and p["group"].nunique() > 1:
        p = p[p["group"] == (p["group"].iloc[0] if group is None else group)]
    p = p[p["op"] == "=~"]
    out = pd.DataFrame(
        {
            "factor": [label(factor_labels, f) for f in p["lhs"]],
            "item": p["rhs"].astype(str).to_numpy(),
            "est": p["est"].to_numpy(dtype=float),
        }
    )
    for c in ("se", "pvalue", "std_all"):
        if c in p:
            out[c] = p[c].to_numpy(dtype=float)
    # a fixed (marker) loading has no SE / p
    if "se" in out:
        fixed = out["se"].fillna(0) == 0
        out.loc[fixed, "se"] = np.nan
        if "pvalue" in out:
            out.loc[fixed, "pvalue"] = np.nan
    cols = ["factor", "item", "est"] + [c for c in ("se", "std_all", "pvalue") if c in out]
    out = out[cols]
    labels, formats = _labels(cols), _formats(cols)
    title, note = _title_note("cfa_loadings", title, note)
    return ApaTable(
        title, out.reset_index(drop=True), formats, note, number, labels, "factor", label="tab:cfa-loadings"
    )


def validity_table(
    convergent: pd.DataFrame,
    correlations: pd.DataFrame,
    htmt: pd.DataFrame | None = None,
    *,
    factor_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Fornell-Larcker / HTMT table. ``convergent``: factor, cr, ave (one row per factor, e.g. merged
    ``validity.composite_reliability`` and ``average_variance_extracted``); ``correlations``: factor_a,
    factor_b, r (``validity.factor_correlations``); ``htmt``: factor_a, factor_b, htmt. Columns: CR, AVE,
    then the factor matrix with sqrt(AVE) on the diagonal, r below it and HTMT above it."""
    conv = convergent.set_index("factor")
    factors = list(conv.index)
    rmap = pair_lookup(correlations, "r")
    hmap = pair_lookup(htmt, "htmt")
    out = pd.DataFrame(
        {
            "factor": [label(factor_labels, f) for f in factors],
            "cr": conv["cr"].to_numpy(dtype=float) if "cr" in conv else np.nan,
            "ave": conv["ave"].to_numpy(dtype=float) if "ave" in conv else np.nan,
        }
    )
    colnames = [str(k + 1) for k in range(len(factors))]
    for j, b in enumerate(factors):
        vals = []
        for i, a in enumerate(factors):
            if i == j:
                ave = conv["ave"].get(a, np.nan) if "ave" in conv else np.nan
                vals.append(math.sqrt(ave) if finite(ave) and ave >= 0 else np.nan)
            elif i > j:
                vals.append(rmap.get(frozenset((a, b)), np.nan))
            else:
                vals.append(hmap.get(frozenset((a, b)), np.nan))
        out[colnames[j]] = vals
    out["factor"] = [f"{k + 1}. {name}" for k, name in enumerate(out["factor"])]
    emph = pd.DataFrame(False, index=out.index, columns=out.columns)
    for j in range(len(factors)):
        emph.iloc[j, 3 + j] = True  # sqrt(AVE) diagonal in bold
    formats = {**_formats(["factor", "cr", "ave"]), **{c: "r" for c in colnames}}
    labels = _labels(["factor", "cr", "ave"])
    title, note = _title_note("validity", title, note)
    return ApaTable(title, out, formats, note, number, labels, emphasis=emph, label="tab:validity")


def criterion_table(
    correlations: pd.DataFrame,
    *,
    columns: CorrelationColumns = CorrelationColumns(),
    p: str | None = "p_fdr",
    alpha: float = ALPHA,
    predictor_labels: Mapping[str, str] | None = None,
    criterion_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Wide criterion-validity table (rows: competencies; per criterion an ``r`` and a ``95% CI`` column)
    from the tidy ``criterion.correlate`` output (``columns``: criterion, competency, r, ci_lower, ci_upper; and ``p``:
    p_fdr).
    Correlations with ``p < alpha`` (FDR-adjusted by default) are printed in bold."""
    predictor, criterion, r, lower, upper = columns
    preds = list(pd.unique(correlations[predictor]))
    crits = list(pd.unique(correlations[criterion]))
    idx = correlations.set_index([predictor, criterion])
    out = pd.DataFrame({"predictor": [label(predictor_labels, k) for k in preds]})
    formats, labels = _formats(["predictor"]), _labels(["predictor"])
    emph = pd.DataFrame(False, index=out.index, columns=["predictor"])
    for c in crits:
        rc, cc = f"r::{c}", f"ci::{c}"
        rv, cv, sig = [], [], []
        for k in preds:
            row = idx.loc[(k, c)] if (k, c) in idx.index else None
            rv.append(np.nan if row is None else row[r])
            cv.append(NA if row is None else format_ci(row[lower], row[upper]))
            sig.append(False if (row is None or p is None or p not in idx.columns) else bool(row[p] < alpha))
        out[rc], out[cc] = rv, cv
        emph[rc], emph[cc] = sig, False
        formats[rc], formats[cc] = "r", "text"
        name = label(criterion_labels, c)
        labels[rc], labels[cc] = _("{name} r").format(name=name), _("{name} 95% CI").format(name=name)
    title = _("Correlations of Competency Scores With Performance Criteria") if title is None else title
    if note is None:
        note = _("Pearson correlations with Fisher-z 95% confidence intervals (pairwise complete cases).")
        if p is not None:
            adj = _(" (Benjamini-Hochberg adjusted)") if "fdr" in p else ""
            note += _(" Bold: p{adjusted} < {alpha}.").format(
                adjusted=adj, alpha=format_number(alpha, 2, leading_zero=False)
            )
    return ApaTable(title, out, formats, note, number, labels, emphasis=emph, label="tab:criterion")


def invariance_table(
    invariance: pd.DataFrame,
    *,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Invariance steps (``cfa.measurement_invariance`` table: step, chisq, df, cfi, rmsea, srmr,
    chisq_diff, df_diff, pvalue, delta_cfi, delta_rmsea, holds)."""
    inv = invariance.copy()
    cols = _present(inv, "step chisq df cfi rmsea srmr chisq_diff df_diff pvalue delta_cfi delta_rmsea holds")
    out = inv[cols].copy()
    out["step"] = [_(str(s).capitalize()) for s in out["step"]]
    if "holds" in out:
        out["holds"] = [
            _("n/a") if h is None or (isinstance(h, float) and np.isnan(h)) else (_("yes") if bool(h) else _("no"))
            for h in out["holds"]
        ]
    labels = {**_labels(cols), "pvalue": "p (Δχ²)"}
    formats = _formats(cols)
    title, note = _title_note("invariance", title, note)
    return ApaTable(title, out, formats, note, number, labels, label="tab:invariance")


def regression_table(reg: pd.DataFrame) -> ApaTable:
    """Incremental validity (``criterion.hierarchical_regression`` table: criterion, n, r2_controls, r2_full,
    delta_r2, f_change, df1, df2, p_delta, p_delta_hc3), one row per criterion."""
    cols = _present(reg, "criterion n r2_controls r2_full delta_r2 f_change df1 df2 p_delta p_delta_hc3")
    df = reg[cols].copy()
    df["criterion"] = [pretty(c) for c in df["criterion"]]
    labels, formats = _labels(cols), _formats(cols)
    note = _(
        "Hierarchical regression: step 1 the control variables, step 2 adds the competency scores. ΔR² is "
        "the variance the competencies explain beyond the controls, tested with the F change; p (HC3) uses "
        "heteroscedasticity-consistent standard errors (MacKinnon & White, 1985)."
    )
    return ApaTable(
        _("Incremental Validity of the Competency Scores"), df, formats, note, labels=labels, label="tab:regression"
    )


def variants_table(comparison: pd.DataFrame, min_ratio: float = 0.5) -> ApaTable:
    """Codebook variants side by side (:func:`compval.revision.compare.compare_variants` table), one row per
    variant: items and factors, fit of its hypothesised model, the change against the original (ΔCFI; ΔBIC only
    on the original's item set), the chi-square difference test of nested variants, CFI on the training and the
    holdout part with the holdout guard, mean alpha, mean CR and the largest HTMT."""
    c = comparison.copy()

    def yes_no(v) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v) == "":
            return NA
        return _("yes") if str(v).lower() in ("true", "1") else _("no")

    nested_text = {
        "in_original": _("in original"),
        "contains_original": _("contains original"),
        "same": _("same model"),
    }
    out = pd.DataFrame({"variant": [pretty(v) for v in c["variant"]]})
    out["n_items"] = c["n_items"].to_numpy()
    out["n_factors"] = c["n_factors"].to_numpy()
    if "model" in c:
        out["model"] = [pretty(m) for m in c["model"]]
    for col in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "delta_cfi", "delta_bic"):
        out[col] = c[col].to_numpy()
    out["nested"] = [nested_text.get(str(v), NA) if isinstance(v, str) and v else NA for v in c["nested"].fillna("")]
    out["chisq_diff"] = c["chisq_diff"].to_numpy()
    out["df_diff"] = c["df_diff"].to_numpy()
    out["pvalue_diff"] = c["p_diff"].to_numpy()
    out["cfi_training"] = c["cfi_training"].to_numpy()
    out["cfi_holdout"] = c["cfi_holdout"].to_numpy()
    out["holds"] = [yes_no(v) for v in c["holds"]]
    out["alpha"] = c["alpha_mean"].to_numpy()
    out["cr"] = c["cr_mean"].to_numpy()
    out["htmt_max"] = c["htmt_max"].to_numpy()
    labels = {
        **_labels(out.columns),
        "variant": _("Variant"),
        "n_factors": _("Factors"),
        "delta_bic": "ΔBIC",
        "nested": _("Nested"),
        "cfi_training": _("CFI (training)"),
        "cfi_holdout": _("CFI (holdout)"),
        "holds": _("Holds out"),
        "alpha": _("Mean α"),
        "cr": _("Mean CR"),
        "htmt_max": _("Max HTMT"),
    }
    formats = {**_formats(out.columns), "n_factors": "int", "delta_bic": "f1", "cfi_training": "r3"}
    formats.update({"cfi_holdout": "r3", "htmt_max": "r", "nested": "text", "variant": "text", "holds": "text"})
    note = _(
        "Each variant's hypothesised model (Model: one factor per competency, or those factors under one "
        "second-order factor per module) fitted to the same cleaned data. "
        "ΔCFI and ΔBIC: variant minus original; BIC compares models of the same items only, so ΔBIC is "
        "empty for a variant with other items, which is compared by the fit of its own items. Δχ²: chi-square "
        "difference test of a variant nested in the original (or containing it). CFI (training), CFI (holdout): "
        "the model fitted on each part of the holdout split; a variant's CFI gain over the original holds out "
        "when the holdout gain has the same sign and is at least {share} of the training gain."
    ).format(share=f"{min_ratio:.0%}")
    return ApaTable(_("Codebook Variants Side by Side"), out, formats, note, labels=labels, label="tab:variants")
