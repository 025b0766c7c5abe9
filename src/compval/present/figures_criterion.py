"""Figures of criterion validity: correlations with the performance criteria (forest plot), the known-groups
profile and the general dominance weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compval.i18n import gettext as _
from compval.present import figures_style as fs
from compval.present.formatting import CorrelationColumns, format_number, format_r, label, require_columns

__all__ = ["criterion_forest", "known_groups_profile", "dominance_plot"]


# ============================================================================ 9. criterion forest
@fs.styled
def criterion_forest(
    correlations: pd.DataFrame,
    *,
    columns: CorrelationColumns = CorrelationColumns(),
    predictor_order: Sequence[str] | None = None,
    predictor_labels: Mapping[str, str] | None = None,
    criterion_labels: Mapping[str, str] | None = None,
    width: float = fs.TWO_COLUMN,
) -> Figure:
    """Forest plot of criterion correlations with 95% CIs: one panel per criterion, competencies on the
    y axis. ``correlations``: ``criterion.correlate``/``CriterionResult.correlations`` (criterion,
    competency, r, ci_lower, ci_upper; other names through ``columns``)."""
    predictor, criterion, r, lower, upper = columns
    require_columns(correlations, [predictor, criterion, r, lower, upper], "criterion_forest")
    preds = fs.ordered(correlations[predictor], predictor_order)
    crits = list(pd.unique(correlations[criterion]))
    fig = fs.new_figure(width, 0.9 + 0.2 * len(preds))
    axes = fig.subplots(1, len(crits), sharey=True, sharex=True, squeeze=False)[0]
    ypos = np.arange(len(preds))[::-1]
    pos = dict(zip(preds, ypos))
    lo_all = float(np.nanmin(correlations[lower]))
    hi_all = float(np.nanmax(correlations[upper]))
    for ax, c in zip(axes, crits):
        sub = correlations[correlations[criterion] == c]
        y = np.array([pos[k] for k in sub[predictor]])
        est = sub[r].to_numpy(dtype=float)
        err = np.vstack([est - sub[lower].to_numpy(dtype=float), sub[upper].to_numpy(dtype=float) - est])
        ax.axvline(0, color="0.5", lw=0.7)
        ax.errorbar(est, y, xerr=err, fmt="o", color=fs.PALETTE[0], ms=3.5, elinewidth=0.9, capsize=1.5)
        ax.set_xlabel(_("r with 95% CI"))
        fs.panel_label(ax, label(criterion_labels, c))
    axes[0].set_yticks(ypos, [label(predictor_labels, k) for k in preds])
    axes[0].set_ylim(-0.6, len(preds) - 0.4)
    pad = 0.05
    axes[0].set_xlim(min(lo_all, 0) - pad, max(hi_all, 0) + pad)
    fs.apa_axis(axes[0].xaxis)
    return fig


# ============================================================================ 10. known groups
@fs.styled
def known_groups_profile(
    known_groups: pd.DataFrame,
    *,
    conf: float = 0.95,
    predictor_order: Sequence[str] | None = None,
    predictor_labels: Mapping[str, str] | None = None,
    criterion_labels: Mapping[str, str] | None = None,
    scale: tuple[float, float] | None = None,
    ylabel: str | None = None,
    width: float = fs.TWO_COLUMN,
) -> Figure:
    """Competency profile of the top group vs the rest on each criterion, means with t-based CIs
    (``mean +- t_{n-1} sd / sqrt(n)``), one panel per criterion, two panels per row (the competency names on the
    bottom row's axes only, the y label once for the figure); Hedges' g printed above each competency, in a row
    headed *g*, when the table has a ``g`` column. ``known_groups``: ``criterion.known_groups`` (criterion,
    competency, n_top, n_rest, mean_top, mean_rest, sd_top, sd_rest, g)."""
    from scipy.special import stdtrit  # stats.t.ppf's own function, without scipy.stats' import

    need = ["criterion", "competency", "n_top", "n_rest", "mean_top", "mean_rest", "sd_top", "sd_rest"]
    require_columns(known_groups, need, "known_groups_profile")
    preds = fs.ordered(known_groups["competency"], predictor_order)
    crits = list(pd.unique(known_groups["criterion"]))
    nrows = fs.panel_rows(len(crits))
    fig = fs.new_figure(width, 1.2 + 1.6 * nrows + 0.035 * max(len(str(label(predictor_labels, k))) for k in preds))
    grid, axes = fs.panel_grid(fig, len(crits))
    x = np.arange(len(preds))
    pos = dict(zip(preds, x))
    for ax, c in zip(axes, crits):
        sub = known_groups[known_groups["criterion"] == c]
        xs = np.array([pos[k] for k in sub["competency"]])
        o = np.argsort(xs)
        sub, xs = sub.iloc[o], xs[o]
        for g_i, (grp, name, dx, mk) in enumerate((("top", _("Top group"), 0.1, "o"), ("rest", _("Rest"), -0.1, "s"))):
            n = sub[f"n_{grp}"].to_numpy(dtype=float)
            mean = sub[f"mean_{grp}"].to_numpy(dtype=float)
            sd = sub[f"sd_{grp}"].to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                half = stdtrit(np.maximum(n - 1, 1), 0.5 + conf / 2) * sd / np.sqrt(n)
            ax.errorbar(
                xs + dx,
                mean,
                yerr=half,
                fmt=mk + "-",
                color=fs.PALETTE[g_i],
                ms=3.5,
                lw=0.9,
                elinewidth=0.8,
                capsize=1.5,
                label=name,
            )
        if "g" in sub:
            # a row just above the panel, headed g at its left edge: clear of the data and of the tick labels
            row = {"xycoords": ("data", "axes fraction"), "xytext": (0, 2), "textcoords": "offset points"}
            ax.annotate("g", (-0.5, 1.0), **row, ha="left", va="bottom", fontsize=6, fontstyle="italic")
            for xx, g in zip(xs, sub["g"]):
                ax.annotate(format_number(g, 2), (xx, 1.0), **row, ha="center", va="bottom", fontsize=6)
        ax.set_xticks(x, [label(predictor_labels, k) for k in preds], rotation=40, ha="right", rotation_mode="anchor")
        fs.panel_label(ax, label(criterion_labels, c), pad=12 if "g" in sub else None)
        ax.set_xlim(-0.5, len(preds) - 0.5)
    for ax in fs.bottom_panels(grid, len(crits)):
        ax.set_xlabel(_("Competency"))
    if scale is not None:
        axes[0].set_ylim(*scale)
    ylabel = _("Mean competency score (scale points)") if ylabel is None else ylabel
    fig.supylabel(_("{label}\nwith {level}% CI").format(label=ylabel, level=round(conf * 100)), fontsize=8)
    handles, labs = axes[0].get_legend_handles_labels()
    fig.legend(handles, labs, loc="outside upper right", ncols=2)
    return fig


# ============================================================================ 11. dominance
@fs.styled
def dominance_plot(
    dominance: pd.DataFrame,
    *,
    predictor_order: Sequence[str] | None = None,
    predictor_labels: Mapping[str, str] | None = None,
    criterion_labels: Mapping[str, str] | None = None,
    width: float = fs.TWO_COLUMN,
) -> Figure:
    """General dominance weights (Budescu 1993; Azen & Budescu 2003) with bootstrap CIs, one panel per
    criterion, two panels per row (:func:`.figures_style.panel_grid`); the total R2 in the panel title.
    ``dominance``: ``CriterionResult.dominance`` (criterion, competency, weight, weight_ci_lower, weight_ci_upper,
    r2_total)."""
    require_columns(dominance, ["criterion", "competency", "weight"], "dominance_plot")
    preds = fs.ordered(dominance["competency"], predictor_order)
    crits = list(pd.unique(dominance["criterion"]))
    nrows = fs.panel_rows(len(crits))
    fig = fs.new_figure(width, 0.9 + nrows * (0.5 + 0.2 * len(preds)))
    grid, axes = fs.panel_grid(fig, len(crits))
    ypos = np.arange(len(preds))[::-1]
    pos = dict(zip(preds, ypos))
    for ax, c in zip(axes, crits):
        sub = dominance[dominance["criterion"] == c]
        y = np.array([pos[k] for k in sub["competency"]])
        w = sub["weight"].to_numpy(dtype=float)
        err = None
        if {"weight_ci_lower", "weight_ci_upper"} <= set(sub.columns):
            lo, hi = sub["weight_ci_lower"].to_numpy(dtype=float), sub["weight_ci_upper"].to_numpy(dtype=float)
            if np.isfinite(lo).any():
                err = np.vstack([w - lo, hi - w])
        ax.barh(
            y, w, height=0.6, color=fs.PALETTE[0], xerr=err, error_kw=dict(elinewidth=0.8, capsize=1.5, ecolor="black")
        )
        ax.axvline(0, color="black", lw=0.6)
        title = label(criterion_labels, c)
        if "r2_total" in sub:
            title += f" (R² = {format_r(sub['r2_total'].iloc[0])})"
        fs.panel_label(ax, title)
        fs.apa_axis(ax.xaxis)
    for ax in fs.bottom_panels(grid, len(crits)):
        ax.set_xlabel(_("General dominance weight (ΔR², 0–1)"))
    axes[0].set_yticks(ypos, [label(predictor_labels, k) for k in preds])
    axes[0].set_ylim(-0.6, len(preds) - 0.4)
    return fig
