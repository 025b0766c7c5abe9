"""Figures of the sample and the items: the CONSORT-style sample flow, the response distributions (Likert plot)
and the reliability forest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from compval.i18n import N_
from compval.i18n import gettext as _
from compval.present import figures_style as fs
from compval.present.formatting import label, require_columns
from compval.present.rules import RELIABILITY_ACCEPTABLE, RELIABILITY_GOOD

__all__ = ["sample_flow", "response_distribution", "reliability_forest"]


# ============================================================================ 1. sample flow
#: Exclusion reasons of :func:`compval.clean.clean` as the sample-flow boxes show them (catalogue entries).
_REASONS = (
    N_("missing id"),
    N_("duplicate id"),
    N_("no responses"),
    N_("careless responding"),
    N_("too many missing"),
    N_("all missing"),
    N_("incomplete"),
)


def _flow_box(ax, x, y, text, *, fc="white", ec="black", weight="normal"):
    return ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=7.5,
        fontweight=weight,
        bbox=dict(boxstyle="square,pad=0.45", fc=fc, ec=ec, lw=0.7),
    )


_ARROW = dict(arrowstyle="-|>", lw=0.7, color="black", mutation_scale=7)


def _connect(ax, src, dst, src_xy=(0.5, 0.0), dst_xy=(0.5, 1.0)):
    """Arrow between two boxes (or a data point and a box), anchored on the boxes' edges."""
    src_is_box = not isinstance(src, tuple)
    ax.annotate(
        "",
        xy=dst_xy,
        xycoords=dst,
        xytext=src_xy if src_is_box else src,
        textcoords=src if src_is_box else "data",
        arrowprops=dict(_ARROW, shrinkA=4.5 if src_is_box else 0, shrinkB=4.5),
    )


@fs.styled
def sample_flow(report: Mapping, *, labels: Mapping[str, str] | None = None, width: float = fs.ONE_COLUMN) -> Figure:
    """CONSORT-style flow of respondents (Schulz et al. 2010), from the cleaning report dict.

    Expects ``n_raw``, ``n_analyzed``, ``excluded`` (reason -> count, in pipeline order) and optionally
    ``performance`` (``n_performance_records``, ``matched``, ``survey_only``, ``performance_only``,
    ``performance_of_excluded``). Each exclusion is a side box; the remaining count follows every step.
    ``labels`` maps exclusion reasons to display text (default: the key with spaces).

    Raises
    ------
    ValueError
        When ``n_raw`` minus the exclusions does not equal ``n_analyzed``.
    """
    n_raw = int(report["n_raw"])
    n_an = int(report["n_analyzed"])
    excluded = {k: int(v) for k, v in dict(report.get("excluded", {})).items()}
    if n_raw - sum(excluded.values()) != n_an:
        raise ValueError(
            f"sample flow does not add up: n_raw {n_raw} - exclusions {sum(excluded.values())} != n_analyzed {n_an}"
        )
    perf = report.get("performance") or None
    steps = list(excluded.items())
    top = max(len(steps), 1) + (2.3 if perf else 0.0)
    fig = fs.new_figure(width, 0.62 * (top + 1.1))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.55, top + 0.55)
    xm, xs = 0.27, 0.76
    y = top
    box = _flow_box(ax, xm, y, _("Survey records received\n(n = {n})").format(n=n_raw), weight="bold")
    remaining = n_raw
    for k, (reason, count) in enumerate(steps):
        remaining -= count
        ym = y - 0.5
        text = (labels or {}).get(reason, _(str(reason).replace("_", " ")))
        side = _flow_box(
            ax,
            xs,
            ym,
            _("Excluded: {reason}\n(n = {n})").format(reason=text, n=count),
            fc=fs.mix(fs.OKABE_ITO["vermillion"], 0.12),
        )
        y -= 1
        last = k == len(steps) - 1
        nxt = _flow_box(
            ax,
            xm,
            y,
            _("Analysed\n(n = {n})").format(n=n_an) if last else _("Remaining\n(n = {n})").format(n=remaining),
            weight="bold" if last else "normal",
            fc=fs.mix(fs.OKABE_ITO["bluish_green"], 0.15) if last else "white",
        )
        _connect(ax, box, nxt)
        _connect(ax, (xm, ym), side, dst_xy=(0.0, 0.5))
        box = nxt
    if not steps:
        y -= 1
        nxt = _flow_box(
            ax,
            xm,
            y,
            _("Analysed\n(n = {n})").format(n=n_an),
            weight="bold",
            fc=fs.mix(fs.OKABE_ITO["bluish_green"], 0.15),
        )
        _connect(ax, box, nxt)
        box = nxt
    if perf:
        y_match = y - 1.3
        matched = _("Survey and performance\nmatched (n = {n})").format(n=perf.get("matched"))
        records = _("Performance records\n(n = {n})").format(n=perf.get("n_performance_records"))
        mbox, pbox = (
            _flow_box(ax, x, y_match, text, weight="bold", fc=fc)
            for x, text, fc in ((xm, matched, fs.mix(fs.OKABE_ITO["blue"], 0.15)), (xs, records, "white"))
        )
        _connect(ax, box, mbox)
        _connect(ax, pbox, mbox, src_xy=(0.0, 0.5), dst_xy=(1.0, 0.5))
        extra = []
        for key, text in (
            ("survey_only", _("survey only")),
            ("performance_only", _("performance only")),
            ("performance_of_excluded", _("of excluded respondents")),
        ):
            if perf.get(key) is not None:
                extra.append(f"{text} n = {perf[key]}")
        if extra:
            sep = _("; ")
            _flow_box(
                ax,
                0.5,
                y_match - 1.0,
                _("Not matched: ") + sep.join(extra[:2]) + ("\n" + sep.join(extra[2:]) if extra[2:] else ""),
                ec=fs.GREY,
            )
    return fig


# ============================================================================ 2. response distributions
@fs.styled
def response_distribution(
    distribution: pd.DataFrame,
    items: pd.DataFrame,
    *,
    group: str = "competency",
    group_label: str | None = "competency_name",
    category_labels: Mapping | Sequence[str] | None = None,
    item_label: str = "item",
    width: float = fs.TWO_COLUMN,
) -> Figure:
    """Diverging stacked bars of the response shares per item, one panel per competency (Likert plot;
    Heiberger & Robbins 2014).

    Parameters
    ----------
    distribution : DataFrame
        ``item, category, share`` (``results/descriptives/response_distribution.csv``; share of valid answers).
    items : DataFrame
        Codebook item table (``results/codebook/items.csv``): ``item`` and the ``group`` column (and
        ``group_label`` for panel titles, ``reverse`` to mark reverse-keyed items with "(R)").
    category_labels : mapping category -> label or list in category order, optional
        Legend labels (e.g. the codebook's ``scale_labels``); default: the category values.

    The middle category of an odd-length scale is centred on 0; lower categories extend to the left, higher
    ones to the right. One axes per group, items in codebook order.
    """
    require_columns(distribution, ["item", "category", "share"], "response_distribution")
    require_columns(items, ["item", group], "response_distribution items")
    cats = sorted(pd.unique(distribution["category"]))
    k = len(cats)
    wide = (
        distribution.pivot_table(index="item", columns="category", values="share", aggfunc="sum")
        .reindex(columns=cats)
        .fillna(0.0)
        * 100
    )
    if isinstance(category_labels, Mapping):
        cat_lab = [str(category_labels.get(c, c)) for c in cats]
    elif category_labels is not None:
        cat_lab = [str(x) for x in category_labels]
        if len(cat_lab) != k:
            raise ValueError(f"{len(cat_lab)} category labels for {k} categories")
    else:
        cat_lab = [str(c) for c in cats]
    # colours: vermillion shades below the middle, blue above, grey neutral
    n_side = k // 2
    shades = np.linspace(1.0, 0.45, n_side) if n_side else []
    colors = [fs.mix(fs.OKABE_ITO["vermillion"], t) for t in shades]
    if k % 2:
        colors.append(fs.GREY)
    colors += [fs.mix(fs.OKABE_ITO["blue"], t) for t in shades[::-1]]

    codebook = items[items["item"].isin(wide.index)]
    groups = list(pd.unique(codebook[group]))
    unassigned = [i for i in wide.index if i not in set(codebook["item"])]
    panels = [(g, list(codebook.loc[codebook[group] == g, "item"])) for g in groups]
    if unassigned:
        panels.append((_("(unassigned)"), unassigned))
    names = dict(zip(codebook[group], codebook[group_label])) if group_label in codebook else {}
    rev = (
        dict(zip(codebook["item"], codebook["reverse"].astype(str).str.lower().isin(["true", "1"])))
        if "reverse" in codebook
        else {}
    )
    label_of = dict(zip(codebook["item"], codebook[item_label])) if item_label in codebook else {}

    n_items = sum(len(p[1]) for p in panels)
    fig = fs.new_figure(width, 0.6 + 0.13 * n_items + 0.25 * len(panels))
    axes = fig.subplots(
        len(panels),
        1,
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": [max(len(p[1]), 1) + 1.2 for p in panels]},
    )[:, 0]
    lo_max = hi_max = 0.0
    for ax, (g, its) in zip(axes, panels):
        sub = wide.reindex(its).fillna(0.0)
        ypos = np.arange(len(its))[::-1]
        mid = sub[cats[n_side]].to_numpy() if k % 2 else np.zeros(len(its))
        left = -mid / 2
        for j in range(n_side - 1, -1, -1):  # below the middle, nearest first
            w = sub[cats[j]].to_numpy()
            ax.barh(ypos, -w, left=left, color=colors[j], height=0.75, lw=0)
            left = left - w
        lo_max = max(lo_max, float(np.max(-left)) if len(its) else 0)
        if k % 2:
            ax.barh(ypos, mid, left=-mid / 2, color=colors[n_side], height=0.75, lw=0)
        right = mid / 2
        for j in range(k - n_side, k):
            w = sub[cats[j]].to_numpy()
            ax.barh(ypos, w, left=right, color=colors[j], height=0.75, lw=0)
            right = right + w
        hi_max = max(hi_max, float(np.max(right)) if len(its) else 0)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(ypos, [str(label_of.get(i, i)) + (_(" (R)") if rev.get(i) else "") for i in its])
        ax.set_ylim(-0.6, len(its) - 0.4)
        fs.panel_label(ax, str(names.get(g, g)))
        ax.tick_params(axis="y", length=0)
    lim = max(lo_max, hi_max, 1.0)
    lim = min(100.0, math.ceil(lim / 10) * 10)
    axes[-1].set_xlim(-lim, lim)
    step = 25 if lim > 60 else 10
    edge = math.floor(lim / step) * step
    ticks = np.arange(-edge, edge + 1, step)
    axes[-1].set_xticks(ticks, [f"{abs(t):g}" for t in ticks])
    axes[-1].set_xlabel(_("Share of valid responses (%): lower categories left, higher right"))
    fig.supylabel(_("Item"), fontsize=8)
    handles = [Patch(facecolor=c, label=lab) for c, lab in zip(colors, cat_lab)]
    fig.legend(handles=handles, loc="outside upper center", ncols=min(k, 7), title=_("Response category"))
    return fig


# ============================================================================ 3. reliability forest
@fs.styled
def reliability_forest(
    reliability: pd.DataFrame,
    *,
    coefficients: Sequence[str] = ("alpha", "omega_total", "omega_hierarchical"),
    levels: Sequence[str] = ("competency", "module"),
    names: Mapping[str, str] | None = None,
    alpha_ci: str = "feldt",
    references: Sequence[float] = (RELIABILITY_ACCEPTABLE, RELIABILITY_GOOD),
    width: float = fs.ONE_COLUMN,
) -> Figure:
    """Forest plot of reliability coefficients with 95% CIs, one panel per level.

    ``reliability``: ``results/reliability/reliability.csv`` (level, key, alpha, alpha_ci_lower/upper
    (Feldt), alpha_boot_lower/upper, omega_total, omega_total_boot_lower/upper). For each coefficient ``c``
    the interval is ``c_ci_lower/upper`` (alpha: Feldt, unless ``alpha_ci="boot"``) or else
    ``c_boot_lower/upper``; rows without an interval show the point only; coefficients that were not computed
    (all NaN) are left out. Reference lines at ``references``.
    """
    require_columns(reliability, ["level", "key", *coefficients[:1]], "reliability_forest")
    rel = reliability[reliability["level"].isin(levels)]
    # coefficients not computed (absent or all NaN, e.g. omega hierarchical) are left out
    coefficients = [c for c in coefficients if c in rel and rel[c].notna().any()]
    lv = [lvl for lvl in levels if (rel["level"] == lvl).any()]
    if not lv:
        raise ValueError(f"no rows for levels {list(levels)}")
    sizes = [int((rel["level"] == lvl).sum()) for lvl in lv]
    fig = fs.new_figure(width, 0.8 + 0.24 * sum(sizes) + 0.3 * len(lv))
    axes = fig.subplots(
        len(lv), 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": [s + 0.8 for s in sizes]}
    )[:, 0]
    sym = {
        "alpha": _("α (Cronbach)"),
        "omega_total": _("ω total (McDonald)"),
        "omega_hierarchical": _("ω hierarchical"),
        "alpha_std": _("standardized α"),
        "lambda6": _("λ6 (Guttman)"),
    }
    markers = ["o", "s", "D", "^"]
    off = np.linspace(-0.17, 0.17, len(coefficients)) if len(coefficients) > 1 else [0.0]
    xmin = 1.0
    for ax, lvl in zip(axes, lv):
        sub = rel[rel["level"] == lvl]
        ypos = np.arange(len(sub))[::-1]
        for ref, ls in zip(references, ["--", ":", "-."]):
            ax.axvline(ref, color="0.45", lw=0.7, ls=ls, zorder=0)
        for c_i, c in enumerate(coefficients):
            lo_col, hi_col = f"{c}_ci_lower", f"{c}_ci_upper"
            if c == "alpha" and alpha_ci == "boot" or lo_col not in sub:
                lo_col, hi_col = f"{c}_boot_lower", f"{c}_boot_upper"
            est = sub[c].to_numpy(dtype=float)
            if lo_col in sub and hi_col in sub and sub[[lo_col, hi_col]].notna().any().all():
                lo, hi = sub[lo_col].to_numpy(dtype=float), sub[hi_col].to_numpy(dtype=float)
                err = np.vstack([est - lo, hi - est])
                xmin = min(xmin, np.nanmin(lo))
            else:
                err = None
            xmin = min(xmin, np.nanmin(est))
            ax.errorbar(
                est,
                ypos + off[c_i],
                xerr=err,
                fmt=markers[c_i % 4],
                color=fs.PALETTE[c_i],
                ms=3.5,
                elinewidth=0.8,
                capsize=1.5,
                label=sym.get(c, c),
            )
        ax.set_yticks(ypos, [label(names, k) for k in sub["key"]])
        ax.set_ylim(-0.7, len(sub) - 0.3)
        fs.panel_label(ax, _(str(lvl).capitalize()))
    lo_lim = max(0.0, math.floor((min(xmin, min(references)) - 0.03) * 20) / 20)
    axes[-1].set_xlim(lo_lim, 1.0)
    axes[-1].set_xlabel(_("Reliability coefficient with 95% CI (0–1)"))
    fs.apa_axis(axes[-1].xaxis)
    handles, labs = axes[0].get_legend_handles_labels()
    fig.legend(handles, labs, loc="outside lower center", ncols=len(coefficients))
    return fig
