"""Publication figures drawn from the pipeline's tidy tables.

One shared style (:data:`STYLE`, applied with :func:`style`): Liberation Sans (metric-compatible with Arial;
DejaVu Sans as fallback) at 8 pt, the Okabe & Ito (2008) colour-blind-safe palette, widths for one
(:data:`ONE_COLUMN`, 3.5 in) and two (:data:`TWO_COLUMN`, 7.2 in) journal columns, TrueType fonts embedded
in PDF and text kept as text in SVG.

Every plotting function takes tidy DataFrames (the CSVs the pipeline writes) and returns a
:class:`matplotlib.figure.Figure` built on the non-interactive Agg canvas, without touching pyplot's global
state or the file system. :func:`save_figure` is the one I/O helper: it writes ``stem.png`` (300 dpi),
``stem.svg`` and ``stem.pdf`` byte-identically from run to run (fixed SVG hash salt, no dates in the metadata).
The CFA path diagram is Graphviz: :func:`cfa_path_dot` returns DOT text and :func:`render_dot` runs ``dot``.

Nothing here knows item names or the number of factors: groups, orders and labels come from the arguments.
"""

from __future__ import annotations

import contextlib
import html
import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from functools import wraps
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from compval.i18n import N_, active_language
from compval.i18n import gettext as _
from compval.tables import format_number

__all__ = [
    "STYLE",
    "OKABE_ITO",
    "PALETTE",
    "ONE_COLUMN",
    "TWO_COLUMN",
    "style",
    "new_figure",
    "save_figure",
    "sample_flow",
    "response_distribution",
    "reliability_forest",
    "scree_plot",
    "loading_heatmap",
    "cfa_path_dot",
    "render_dot",
    "model_comparison",
    "discriminant_matrix",
    "criterion_forest",
    "known_groups_profile",
    "dominance_plot",
    "invariance_plot",
    "GraphvizNotFoundError",
]

ONE_COLUMN = 3.5  # inches, one journal column
TWO_COLUMN = 7.2  # inches, two journal columns (full page width)

#: Okabe & Ito (2008) colour-universal-design palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Cycle order used for categorical series (the most distinguishable first; yellow last).
PALETTE = [
    OKABE_ITO[k]
    for k in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black", "yellow")
]
GREY = "#BBBBBB"
BAND = "#E5F2EC"  # light bluish green: region meeting a criterion

STYLE: dict = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Liberation Sans", "DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.title_fontsize": 8,
    "figure.titlesize": 9,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "axes.titleweight": "bold",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "lines.linewidth": 1.0,
    "lines.markersize": 4,
    "legend.frameon": False,
    "image.cmap": "cividis",
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": None,
    "pdf.fonttype": 42,  # TrueType, as journals ask (no Type 3)
    "ps.fonttype": 42,
    "svg.fonttype": "none",  # text stays editable text
    "svg.hashsalt": "compval",  # deterministic element ids
    "axes.unicode_minus": True,
    "figure.constrained_layout.use": False,
}


#: Style additions per output language (the active :func:`compval.i18n.language`). Chinese: Noto Sans CJK SC
#: (Debian fonts-noto-cjk) after Liberation Sans, so Latin letters and digits keep the English look and every
#: CJK glyph comes from the CJK font (matplotlib's per-glyph font fall-back); the PDF embeds it as TrueType/CID
#: (fonttype 42) and the SVG keeps the glyphs as paths, so the figure shows the same on a machine without it.
LANGUAGE_STYLE: dict[str, dict] = {
    "zh": {"font.sans-serif": ["Liberation Sans", "Noto Sans CJK SC", "DejaVu Sans"], "svg.fonttype": "path"},
}
#: Graphviz font list per output language (fontconfig falls back per glyph in the same way).
DOT_FONTS = {"zh": "Liberation Sans,Noto Sans CJK SC"}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Temporarily apply :data:`STYLE` (``matplotlib.rc_context``), with the :data:`LANGUAGE_STYLE` of the
    active output language; global rcParams are restored after."""
    with mpl.rc_context({**STYLE, **LANGUAGE_STYLE.get(active_language(), {})}):
        yield


def _styled(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        with style():
            return func(*args, **kwargs)

    return wrapper


def new_figure(width: float = ONE_COLUMN, height: float = 2.6) -> Figure:
    """A Figure on the Agg canvas with constrained layout (no pyplot, no global figure registry)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(
    fig: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg", "pdf"), dpi: int = 300
) -> list[Path]:
    """Write ``stem.png`` (``dpi``), ``stem.svg`` and ``stem.pdf`` deterministically; returns the paths.

    Dates are removed from the SVG/PDF metadata and the SVG hash salt is fixed, so saving the same figure
    twice gives identical bytes.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    }
    out = []
    with style():
        for fmt in formats:
            path = stem.with_name(stem.name + "." + fmt)
            fig.savefig(path, format=fmt, dpi=dpi, metadata=meta.get(fmt))
            out.append(path)
    return out


# ============================================================================ small helpers
def _label(mapping: Mapping | None, key) -> str:
    return str(mapping.get(key, key)) if mapping else str(key)


def _apa(x, digits: int = 2) -> str:
    return format_number(x, digits, leading_zero=False)


def _apa_axis(axis, digits: int = 2) -> None:
    """APA tick labels (no leading zero) on an axis of a quantity bounded by 1."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: _apa(v, digits)))


def _groups_to_map(item_groups) -> dict[str, str]:
    """{group: [items]} or {item: group} -> {item: group} (insertion order kept)."""
    item_groups = dict(item_groups or {})
    if item_groups and all(isinstance(v, (list, tuple)) for v in item_groups.values()):
        return {str(i): g for g, items in item_groups.items() for i in items}
    return {str(k): v for k, v in item_groups.items()}


def _mix(color, t: float) -> tuple:
    """Blend ``color`` with white: t = 1 gives the colour, t = 0 white."""
    c = np.array(to_rgb(color))
    return tuple(1 - t * (1 - c))


def _panel_label(ax, text: str) -> None:
    ax.set_title(text, loc="left")


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; got {list(df.columns)}")


def _ordered(values, order: Sequence | None) -> list:
    vals = list(pd.unique(pd.Series(list(values))))
    if order is None:
        return vals
    return [v for v in order if v in vals] + [v for v in vals if v not in order]


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


@_styled
def sample_flow(report: Mapping, *, labels: Mapping[str, str] | None = None, width: float = ONE_COLUMN) -> Figure:
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
    fig = new_figure(width, 0.62 * (top + 1.1))
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
            fc=_mix(OKABE_ITO["vermillion"], 0.12),
        )
        y -= 1
        last = k == len(steps) - 1
        nxt = _flow_box(
            ax,
            xm,
            y,
            _("Analysed\n(n = {n})").format(n=n_an) if last else _("Remaining\n(n = {n})").format(n=remaining),
            weight="bold" if last else "normal",
            fc=_mix(OKABE_ITO["bluish_green"], 0.15) if last else "white",
        )
        _connect(ax, box, nxt)
        _connect(ax, (xm, ym), side, dst_xy=(0.0, 0.5))
        box = nxt
    if not steps:
        y -= 1
        nxt = _flow_box(
            ax, xm, y, _("Analysed\n(n = {n})").format(n=n_an), weight="bold", fc=_mix(OKABE_ITO["bluish_green"], 0.15)
        )
        _connect(ax, box, nxt)
        box = nxt
    if perf:
        y_match = y - 1.3
        mbox = _flow_box(
            ax,
            xm,
            y_match,
            _("Survey and performance\nmatched (n = {n})").format(n=perf.get("matched")),
            weight="bold",
            fc=_mix(OKABE_ITO["blue"], 0.15),
        )
        pbox = _flow_box(
            ax,
            xs,
            y_match,
            _("Performance records\n(n = {n})").format(n=perf.get("n_performance_records")),
            weight="bold",
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
                ec=GREY,
            )
    return fig


# ============================================================================ 2. response distributions
@_styled
def response_distribution(
    distribution: pd.DataFrame,
    items: pd.DataFrame,
    *,
    group: str = "competency",
    group_label: str | None = "competency_name",
    category_labels: Mapping | Sequence[str] | None = None,
    item_label: str = "item",
    width: float = TWO_COLUMN,
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
    _require(distribution, ["item", "category", "share"], "response_distribution")
    _require(items, ["item", group], "response_distribution items")
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
    colors = [_mix(OKABE_ITO["vermillion"], t) for t in shades]
    if k % 2:
        colors.append(GREY)
    colors += [_mix(OKABE_ITO["blue"], t) for t in shades[::-1]]

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
    fig = new_figure(width, 0.6 + 0.13 * n_items + 0.25 * len(panels))
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
        _panel_label(ax, str(names.get(g, g)))
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
@_styled
def reliability_forest(
    reliability: pd.DataFrame,
    *,
    coefficients: Sequence[str] = ("alpha", "omega_total", "omega_hierarchical"),
    levels: Sequence[str] = ("competency", "module"),
    names: Mapping[str, str] | None = None,
    alpha_ci: str = "feldt",
    references: Sequence[float] = (0.70, 0.80),
    width: float = ONE_COLUMN,
) -> Figure:
    """Forest plot of reliability coefficients with 95% CIs, one panel per level.

    ``reliability``: ``results/reliability/reliability.csv`` (level, key, alpha, alpha_ci_lower/upper
    (Feldt), alpha_boot_lower/upper, omega_total, omega_total_boot_lower/upper). For each coefficient ``c``
    the interval is ``c_ci_lower/upper`` (alpha: Feldt, unless ``alpha_ci="boot"``) or else
    ``c_boot_lower/upper``; rows without an interval show the point only; coefficients that were not computed
    (all NaN) are left out. Reference lines at ``references``.
    """
    _require(reliability, ["level", "key", *coefficients[:1]], "reliability_forest")
    rel = reliability[reliability["level"].isin(levels)]
    # coefficients not computed (absent or all NaN, e.g. omega hierarchical) are left out
    coefficients = [c for c in coefficients if c in rel and rel[c].notna().any()]
    lv = [lvl for lvl in levels if (rel["level"] == lvl).any()]
    if not lv:
        raise ValueError(f"no rows for levels {list(levels)}")
    sizes = [int((rel["level"] == lvl).sum()) for lvl in lv]
    fig = new_figure(width, 0.8 + 0.24 * sum(sizes) + 0.3 * len(lv))
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
                color=PALETTE[c_i],
                ms=3.5,
                elinewidth=0.8,
                capsize=1.5,
                label=sym.get(c, c),
            )
        ax.set_yticks(ypos, [_label(names, k) for k in sub["key"]])
        ax.set_ylim(-0.7, len(sub) - 0.3)
        _panel_label(ax, _(str(lvl).capitalize()))
    lo_lim = max(0.0, math.floor((min(xmin, min(references)) - 0.03) * 20) / 20)
    axes[-1].set_xlim(lo_lim, 1.0)
    axes[-1].set_xlabel(_("Reliability coefficient with 95% CI (0–1)"))
    _apa_axis(axes[-1].xaxis)
    handles, labs = axes[0].get_legend_handles_labels()
    fig.legend(handles, labs, loc="outside lower center", ncols=len(coefficients))
    return fig


# ============================================================================ 4. scree / parallel analysis
def _pick(df: pd.DataFrame, *names: str) -> str | None:
    for n in names:
        if n and n in df.columns:
            return n
    return None


@_styled
def scree_plot(
    table: pd.DataFrame,
    suggested: Mapping[str, int] | None = None,
    *,
    max_factors: int | None = None,
    ylabel: str | None = None,
    width: float = ONE_COLUMN,
) -> Figure:
    """Scree plot with Horn's (1965) parallel-analysis reference and the suggested numbers of factors.

    ``table`` is ``efa.number_of_factors``/``efa.parallel_analysis(...).table``: ``number``, ``observed``,
    ``simulated_quantile``, ``resampled_quantile`` (also accepted: ``factor_number``, ``simulated_95``,
    ``resampled_95``). ``suggested`` (e.g. ``{"parallel": 6, "map": 6}``) draws one marked vertical line per
    distinct count, labelled with the criteria that suggest it.
    """
    num = _pick(table, "number", "factor_number", "n_factors")
    obs = _pick(table, "observed", "eigenvalue_fa")
    if num is None or obs is None:
        raise ValueError(f"scree_plot needs a factor-number and an 'observed' column; got {list(table.columns)}")
    sim = _pick(table, "simulated_quantile", "simulated_95")
    res = _pick(table, "resampled_quantile", "resampled_95")
    t = table.sort_values(num)
    if max_factors is not None:
        t = t[t[num] <= max_factors]
    fig = new_figure(width, 2.5)
    ax = fig.add_subplot()
    x = t[num].to_numpy()
    ax.plot(x, t[obs], "-o", color=PALETTE[0], ms=3, label=_("Observed data"), zorder=3)
    if sim:
        ax.plot(x, t[sim], "--", color=PALETTE[1], label=_("Simulated, 95th percentile"))
    if res:
        ax.plot(x, t[res], ":", color=PALETTE[2], lw=1.2, label=_("Resampled, 95th percentile"))
    ax.axhline(0, color="0.6", lw=0.5)
    by_count: dict[int, list[str]] = {}
    names = {
        "parallel": "PA",
        "parallel_resampled": _("PA (resampled)"),
        "map": "MAP",
        "map4": "MAP (r⁴)",
        "kaiser": "Kaiser",
    }
    for key, n in dict(suggested or {}).items():
        if n is None or (isinstance(n, float) and math.isnan(n)):
            continue
        by_count.setdefault(int(n), []).append(names.get(key, key))
    ymax = float(np.nanmax(t[obs]))
    for j, (n, crit) in enumerate(sorted(by_count.items())):
        ax.axvline(n, color="0.3", lw=0.7, ls="-.", zorder=1)
        ax.annotate(
            f"{', '.join(crit)}: {n}",
            xy=(n, ymax * (0.95 - 0.12 * j)),
            xytext=(3, 0),
            textcoords="offset points",
            fontsize=7,
            va="center",
        )
    ax.set_xlabel(_("Factor number (count)"))
    ax.set_ylabel(_("Eigenvalue (reduced correlation matrix)") if ylabel is None else ylabel)
    step = max(1, int(math.ceil(len(x) / 12)))
    ax.set_xticks(x[::step])
    ax.legend(loc="center right")
    return fig


# ============================================================================ 5. loading heatmap
def _wide_loadings(loadings: pd.DataFrame, item="item", factor="factor", value="loading") -> pd.DataFrame:
    if {item, factor, value} <= set(loadings.columns):
        w = loadings.pivot(index=item, columns=factor, values=value)
        return w.reindex(index=pd.unique(loadings[item]), columns=pd.unique(loadings[factor]))
    w = loadings.set_index(item) if item in loadings.columns else loadings
    return w.apply(pd.to_numeric)


@_styled
def loading_heatmap(
    loadings: pd.DataFrame,
    item_groups: Mapping,
    *,
    threshold: float = 0.30,
    factor_order: Sequence[str] | None = None,
    group_labels: Mapping[str, str] | None = None,
    width: float = ONE_COLUMN,
) -> Figure:
    """Heatmap of EFA pattern loadings, items ordered by hypothesised competency, |loading| >= ``threshold``
    annotated so cross-loadings stand out.

    ``loadings``: wide (index = items or an ``item`` column; one column per factor, e.g.
    ``efa.FactorSolution.loadings``) or long (``item, factor, loading``). ``item_groups``: {competency:
    [items]} or {item: competency}. Axes: heatmap + colour bar.
    """
    w = _wide_loadings(loadings)
    w.index = [str(i) for i in w.index]
    gmap = _groups_to_map(item_groups)
    order = {i: k for k, i in enumerate(gmap)}
    items = sorted(w.index, key=lambda i: order.get(i, len(order)))
    cols = [str(c) for c in w.columns]
    w.columns = cols
    if factor_order is not None:
        cols = [str(c) for c in factor_order]
    w = w.loc[items, cols]
    m = w.to_numpy(dtype=float)
    fig = new_figure(width, 0.9 + 0.13 * len(items))
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = m[i, j]
            if np.isfinite(v) and abs(v) >= threshold:
                ax.text(
                    j,
                    i,
                    _apa(v),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if abs(v) > 0.6 else "black",
                    fontweight="bold",
                )
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(items)), items, fontsize=6.5 if len(items) > 30 else 7.5)
    ax.tick_params(length=0)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(_("EFA factor"))
    ax.set_ylabel(_("Item, grouped by hypothesised competency"))
    # group separators and labels
    grp = [gmap.get(i, _("(unassigned)")) for i in items]
    start = 0
    for k in range(1, len(items) + 1):
        if k == len(items) or grp[k] != grp[start]:
            if k < len(items):
                ax.axhline(k - 0.5, color="black", lw=0.8)
            ax.annotate(
                _label(group_labels, grp[start]),
                xy=(1.0, (start + k - 1) / 2),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                rotation=0,
                annotation_clip=False,
            )
            start = k
    for spine in ax.spines.values():
        spine.set_visible(False)
    cb = fig.colorbar(im, ax=ax, location="bottom", shrink=0.7, aspect=30, pad=0.02)
    cb.set_label(_("Pattern loading (standardized); |loading| ≥ {threshold} printed").format(threshold=_apa(threshold)))
    _apa_axis(cb.ax.xaxis)
    return fig


# ============================================================================ 6. CFA path diagram (Graphviz)
class GraphvizNotFoundError(RuntimeError):
    """Raised when the Graphviz ``dot`` executable is not on PATH."""


def _dot_id(name: str) -> str:
    return '"' + str(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def cfa_path_dot(
    params: pd.DataFrame,
    *,
    group=None,
    value: str = "std_all",
    correlations: str = "table",
    show_correlations: bool = True,
    min_correlation: float = 0.0,
    labels: Mapping[str, str] | None = None,
    font: str | None = None,
) -> str:
    """DOT source of the CFA path diagram (pure; render it with :func:`render_dot`).

    ``params``: lavaan-style parameter table (``lhs, op, rhs, std_all``; optional ``group``; e.g.
    ``CFAResult.params``). Latent variables are the ``lhs`` of ``=~`` rows (ellipses), indicators are boxes;
    loadings are arrows labelled with ``value``; residual covariances between indicators are dotted arcs;
    ``~`` rows are structural arrows. Higher-order factors are placed further right automatically (layout left
    to right: items, factors, higher-order factors).

    Correlations between latent variables (``~~`` rows): ``correlations="table"`` (default) puts them in a
    lower-triangular table to the right of the factors (factors numbered as in the table), so that with many
    factors no arcs cross the loadings; ``"arcs"`` draws dashed two-headed arcs labelled with the correlation
    (shown when ``|r| >= min_correlation``); ``"none"`` (or ``show_correlations=False``) leaves them out.
    """
    _require(params, ["lhs", "op", "rhs", value], "cfa_path_dot")
    font = DOT_FONTS.get(active_language(), "Liberation Sans") if font is None else font
    if correlations not in ("table", "arcs", "none"):
        raise ValueError("correlations must be 'table', 'arcs' or 'none'")
    if not show_correlations:
        correlations = "none"
    p = params
    if "group" in p.columns and p["group"].nunique() > 1:
        p = p[p["group"] == (p["group"].iloc[0] if group is None else group)]
    meas = p[p["op"] == "=~"]
    latent = list(pd.unique(meas["lhs"]))
    lat_set = set(latent)
    indicators = [v for v in pd.unique(meas["rhs"]) if v not in lat_set]
    cov = p[(p["op"] == "~~") & (p["lhs"] != p["rhs"])]
    lat_cov = cov[cov["lhs"].isin(lat_set) & cov["rhs"].isin(lat_set)]
    in_table = correlations == "table" and len(lat_cov) > 0
    order = [f for f in latent if f in set(lat_cov["lhs"]) | set(lat_cov["rhs"])] if in_table else []
    number = {f: k + 1 for k, f in enumerate(order)}
    lines = [
        "digraph cfa {",
        f'  graph [rankdir=LR, splines=true, nodesep=0.06, ranksep=1.1, fontname="{font}", bgcolor="white"];',
        f'  node [fontname="{font}", fontsize=9, penwidth=0.8];',
        f'  edge [fontname="{font}", fontsize=8, penwidth=0.7, arrowsize=0.5];',
    ]
    for v in indicators:
        lines.append(
            f'  {_dot_id(v)} [shape=box, height=0.22, width=0.7, margin="0.04,0.01", '
            f"label={_dot_id(_label(labels, v))}];"
        )
    for f in latent:
        name = _label(labels, f)
        if f in number:
            name = f"{number[f]}. {name}"
        lines.append(f'  {_dot_id(f)} [shape=ellipse, style=filled, fillcolor="#DCEBF5", label={_dot_id(name)}];')
    first = [f for f in latent if not (meas["rhs"] == f).any()]  # first-order factors (not indicators)
    if len(first) > 1:
        # same rank, chained by invisible edges: stacked top-down in model order (items follow their factors)
        lines.append("  { rank=same; " + " -> ".join(_dot_id(f) for f in first) + " [style=invis]; }")
    for _i, r in meas.iterrows():
        lab = _apa(r[value])
        # drawn indicator -> factor with the arrow head reversed so factors rank to the right of their items
        lines.append(f"  {_dot_id(r['rhs'])} -> {_dot_id(r['lhs'])} [dir=back, label={_dot_id(lab)}];")
    for _i, r in p[p["op"] == "~"].iterrows():
        lines.append(
            f'  {_dot_id(r["rhs"])} -> {_dot_id(r["lhs"])} [label={_dot_id(_apa(r[value]))}, color="#0072B2"];'
        )
    for _i, r in cov.iterrows():
        a, b, v = r["lhs"], r["rhs"], r[value]
        both_latent = a in lat_set and b in lat_set
        if both_latent and correlations != "arcs":
            continue
        if both_latent and np.isfinite(v) and abs(v) < min_correlation:
            continue
        style_ = "dashed" if both_latent else "dotted"
        lines.append(
            f"  {_dot_id(a)} -> {_dot_id(b)} [dir=both, style={style_}, constraint=false, "
            f'color="#555555", fontcolor="#555555", label={_dot_id(_apa(v))}];'
        )
    if in_table:
        lines.append(
            f"  factor_correlations [shape=plaintext, margin=0, label=<{_correlation_table(lat_cov, order, value)}>];"
        )
        lines.append("  { rank=sink; factor_correlations; }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _correlation_table(cov: pd.DataFrame, order: list, value: str) -> str:
    """Graphviz HTML-like table: lower triangle of the latent correlations, factors numbered 1..k."""
    k = len(order)
    r = {}
    for _i, row in cov.iterrows():
        r[(row["lhs"], row["rhs"])] = r[(row["rhs"], row["lhs"])] = row[value]
    cell = '<TD ALIGN="RIGHT">{}</TD>'
    head = "<TR><TD></TD>" + "".join(f"<TD><B>{j + 1}</B></TD>" for j in range(k - 1)) + "</TR>"
    rows = []
    for i in range(1, k):
        cells = "".join(cell.format(_apa(r.get((order[i], order[j]), np.nan))) for j in range(i))
        cells += "<TD></TD>" * (k - 1 - i)
        rows.append(f"<TR><TD><B>{i + 1}</B></TD>{cells}</TR>")
    title = f'<TR><TD COLSPAN="{k}"><I>' + html.escape(_("Factor correlations")) + "</I></TD></TR>"
    return (
        '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">' + title + head + "".join(rows) + "</TABLE>"
    )


def _fix_pdf_dates(path: Path) -> None:
    """Overwrite the dates cairo writes into a PDF's info dictionary with 1970-01-01, keeping every byte
    offset (same length), so the cross-reference table stays valid and the output is reproducible."""
    data = path.read_bytes()
    template = b"19700101000000"

    def fixed(m: re.Match) -> bytes:
        digits = iter(template + b"0" * 64)
        body = bytes(next(digits) if 48 <= c <= 57 else c for c in m.group(2))
        return m.group(1) + body + b")"

    new = re.sub(rb"(/(?:CreationDate|ModDate) \(D:)([^)]*)\)", fixed, data)
    if new != data:
        path.write_bytes(new)


def _set_png_dpi(path: Path, dpi: float) -> None:
    """Insert a pHYs chunk (pixels per metre) after IHDR when the PNG has none (cairo writes none)."""
    import struct
    import zlib

    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or b"pHYs" in data[:4096]:
        return
    ihdr_end = 8 + 8 + struct.unpack(">I", data[8:12])[0] + 4
    ppm = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    path.write_bytes(data[:ihdr_end] + chunk + data[ihdr_end:])


def render_dot(
    dot_source: str, stem: str | Path, formats: Sequence[str] = ("png", "svg", "pdf"), dpi: int = 300, dot: str = "dot"
) -> list[Path]:
    """Render DOT text with Graphviz ``dot`` to ``stem.<fmt>`` (I/O helper; PNG at ``dpi``).

    ``SOURCE_DATE_EPOCH=0`` is set so cairo writes no current date into the PDF (deterministic output).

    Raises
    ------
    GraphvizNotFoundError
        When ``dot`` is not installed (Debian: ``apt-get install graphviz``).
    """
    exe = shutil.which(dot)
    if exe is None:
        raise GraphvizNotFoundError(
            f"Graphviz executable {dot!r} not found on PATH; install Graphviz (Debian: apt-get install graphviz)"
        )
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        path = stem.with_name(stem.name + "." + fmt)
        args = [exe, f"-T{fmt}", "-o", str(path)]
        if fmt == "png":
            args.insert(1, f"-Gdpi={dpi}")
        proc = subprocess.run(args, input=dot_source.encode("utf-8"), capture_output=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"dot -T{fmt} failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
        if fmt == "pdf":
            _fix_pdf_dates(path)
        elif fmt == "png":
            _set_png_dpi(path, dpi)
        out.append(path)
    return out


# ============================================================================ 7. model comparison
_INDEX_NAMES = {"cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "nnfi": "NNFI"}


def _cut(rule, index: str) -> tuple[str, float]:
    if isinstance(rule, (int, float)):
        return ("<=" if any(s in index for s in ("rmsea", "srmr", "rmr")) else ">=", float(rule))
    op, val = rule
    return op, float(val)


@_styled
def model_comparison(
    fits: pd.DataFrame,
    cutoffs: Mapping[str, object],
    *,
    acceptable: Mapping[str, object] | None = None,
    model_labels: Mapping[str, str] | None = None,
    width: float = TWO_COLUMN,
) -> Figure:
    """Fit indices per model with Hu & Bentler (1999) bands, one panel per index in ``cutoffs``.

    ``fits``: one row per model: ``model`` and the index columns (``cfi``, ``tli``, ``rmsea``, ``srmr``...);
    ``cutoffs`` as ``cfa.DEFAULT_CUTOFFS``: index -> (">=" | "<=", value) or a bare number. The region meeting
    the cut-off is shaded; optional ``acceptable`` cut-offs (e.g. CFI .90, RMSEA .08) add a lighter band.
    Indices missing from ``fits`` are skipped.
    """
    _require(fits, ["model"], "model_comparison")
    idx = [k for k in cutoffs if k in fits.columns]
    if not idx:
        raise ValueError(f"none of the cut-off indices {list(cutoffs)} is a column of fits")
    models = list(fits["model"])
    fig = new_figure(width, 0.9 + 0.2 * len(models))
    axes = fig.subplots(1, len(idx), sharey=True, squeeze=False)[0]
    ypos = np.arange(len(models))[::-1]
    for ax, k in zip(axes, idx):
        op, cut = _cut(cutoffs[k], k)
        vals = fits[k].to_numpy(dtype=float)
        good = vals >= cut if op == ">=" else vals <= cut
        allv = np.append(vals[np.isfinite(vals)], cut)
        if acceptable and k in acceptable:
            allv = np.append(allv, _cut(acceptable[k], k)[1])
        span = max(float(allv.max() - allv.min()), 0.02)
        lo = max(0.0, float(allv.min()) - 0.15 * span)
        hi = min(1.0, float(allv.max()) + 0.15 * span)
        if acceptable and k in acceptable:
            aop, acut = _cut(acceptable[k], k)
            if aop == ">=":
                ax.axvspan(acut, cut, color=_mix(OKABE_ITO["bluish_green"], 0.07), lw=0)
            else:
                ax.axvspan(cut, acut, color=_mix(OKABE_ITO["bluish_green"], 0.07), lw=0)
        if op == ">=":
            ax.axvspan(cut, hi, color=BAND, lw=0)
        else:
            ax.axvspan(lo, cut, color=BAND, lw=0)
        ax.axvline(cut, color=OKABE_ITO["bluish_green"], lw=0.9, ls="--")
        for y, v, ok in zip(ypos, vals, good):
            ax.plot([v], [y], "o" if ok else "X", color=PALETTE[0] if ok else PALETTE[1], ms=4.5)
            ax.annotate(_apa(v, 3), (v, y), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=6.5)
        ax.set_xlim(lo, hi)
        _apa_axis(ax.xaxis)
        ax.set_xlabel(f"{_INDEX_NAMES.get(k, k.upper())} (0–1)")
        _panel_label(ax, f"{_INDEX_NAMES.get(k, k.upper())} {'≥' if op == '>=' else '≤'} {_apa(cut)}")
        ax.set_ylim(-0.6, len(models) - 0.4)
    axes[0].set_yticks(ypos, [_label(model_labels, m) for m in models])
    axes[0].set_ylabel(_("Model"))
    return fig


# ============================================================================ 8. discriminant validity
def _pairs(df: pd.DataFrame | None, value: str) -> dict[frozenset, float]:
    if df is None:
        return {}
    _require(df, ["factor_a", "factor_b", value], "discriminant_matrix")
    return {frozenset((a, b)): float(v) for a, b, v in zip(df["factor_a"], df["factor_b"], df[value])}


@_styled
def discriminant_matrix(
    correlations: pd.DataFrame,
    htmt: pd.DataFrame,
    *,
    factors: Sequence[str] | None = None,
    r: str = "r",
    htmt_value: str = "htmt",
    threshold: float = 0.85,
    diagonal: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    width: float = ONE_COLUMN + 0.5,
) -> Figure:
    """Factor correlations below and HTMT ratios above the diagonal, annotated; HTMT >= ``threshold``
    framed (Henseler et al. 2015). ``correlations``: factor_a, factor_b, r (``validity.factor_correlations``);
    ``htmt``: factor_a, factor_b, htmt (``validity.htmt(...).table``); optional ``diagonal`` values (e.g.
    sqrt(AVE)). Axes: matrix + colour bar."""
    rmap, hmap = _pairs(correlations, r), _pairs(htmt, htmt_value)
    if factors is None:
        seen: list = []
        for df in (correlations, htmt):
            for a, b in zip(df["factor_a"], df["factor_b"]):
                for f in (a, b):
                    if f not in seen:
                        seen.append(f)
        factors = seen
    n = len(factors)
    m = np.full((n, n), np.nan)
    for i, a in enumerate(factors):
        for j, b in enumerate(factors):
            if i > j:
                m[i, j] = rmap.get(frozenset((a, b)), np.nan)
            elif i < j:
                m[i, j] = hmap.get(frozenset((a, b)), np.nan)
            elif diagonal is not None:
                m[i, j] = diagonal.get(a, np.nan)
    fig = new_figure(width, width * 0.95)
    ax = fig.add_subplot()
    im = ax.imshow(np.abs(m), cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    for i in range(n):
        for j in range(n):
            v = m[i, j]
            if not np.isfinite(v):
                continue
            ax.text(j, i, _apa(v), ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 else "black")
            if i < j and v >= threshold:
                ax.add_patch(
                    mpl.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=OKABE_ITO["vermillion"], lw=1.5)
                )
    names = [_label(labels, f) for f in factors]
    ax.set_xticks(range(n), names, rotation=40, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), names)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(_("Factor (above diagonal: HTMT ratio)"))
    ax.set_ylabel(_("Factor (below diagonal: latent correlation r)"))
    cb = fig.colorbar(im, ax=ax, shrink=0.75)
    cb.set_label(_("Absolute value (0–1); framed: HTMT ≥ {threshold}").format(threshold=_apa(threshold)))
    _apa_axis(cb.ax.yaxis)
    return fig


# ============================================================================ 9. criterion forest
@_styled
def criterion_forest(
    correlations: pd.DataFrame,
    *,
    predictor: str = "competency",
    criterion: str = "criterion",
    r: str = "r",
    lower: str = "ci_lower",
    upper: str = "ci_upper",
    predictor_order: Sequence[str] | None = None,
    predictor_labels: Mapping[str, str] | None = None,
    criterion_labels: Mapping[str, str] | None = None,
    width: float = TWO_COLUMN,
) -> Figure:
    """Forest plot of criterion correlations with 95% CIs: one panel per criterion, competencies on the
    y axis. ``correlations``: ``criterion.correlate``/``CriterionResult.correlations`` (criterion,
    competency, r, ci_lower, ci_upper)."""
    _require(correlations, [predictor, criterion, r, lower, upper], "criterion_forest")
    preds = _ordered(correlations[predictor], predictor_order)
    crits = list(pd.unique(correlations[criterion]))
    fig = new_figure(width, 0.9 + 0.2 * len(preds))
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
        ax.errorbar(est, y, xerr=err, fmt="o", color=PALETTE[0], ms=3.5, elinewidth=0.9, capsize=1.5)
        ax.set_xlabel(_("r with 95% CI"))
        _panel_label(ax, _label(criterion_labels, c))
    axes[0].set_yticks(ypos, [_label(predictor_labels, k) for k in preds])
    axes[0].set_ylim(-0.6, len(preds) - 0.4)
    pad = 0.05
    axes[0].set_xlim(min(lo_all, 0) - pad, max(hi_all, 0) + pad)
    _apa_axis(axes[0].xaxis)
    return fig


# ============================================================================ 10. known groups
@_styled
def known_groups_profile(
    known_groups: pd.DataFrame,
    *,
    conf: float = 0.95,
    predictor_order: Sequence[str] | None = None,
    predictor_labels: Mapping[str, str] | None = None,
    criterion_labels: Mapping[str, str] | None = None,
    scale: tuple[float, float] | None = None,
    ylabel: str | None = None,
    width: float = TWO_COLUMN,
) -> Figure:
    """Competency profile of the top group vs the rest on each criterion, means with t-based CIs
    (``mean +- t_{n-1} sd / sqrt(n)``), one panel per criterion; Hedges' g printed per competency when the
    table has a ``g`` column. ``known_groups``: ``criterion.known_groups`` (criterion, competency, n_top,
    n_rest, mean_top, mean_rest, sd_top, sd_rest, g)."""
    from scipy import stats

    need = ["criterion", "competency", "n_top", "n_rest", "mean_top", "mean_rest", "sd_top", "sd_rest"]
    _require(known_groups, need, "known_groups_profile")
    preds = _ordered(known_groups["competency"], predictor_order)
    crits = list(pd.unique(known_groups["criterion"]))
    fig = new_figure(width, 2.6)
    axes = fig.subplots(1, len(crits), sharey=True, squeeze=False)[0]
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
                half = stats.t.ppf(0.5 + conf / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
            ax.errorbar(
                xs + dx,
                mean,
                yerr=half,
                fmt=mk + "-",
                color=PALETTE[g_i],
                ms=3.5,
                lw=0.9,
                elinewidth=0.8,
                capsize=1.5,
                label=name,
            )
        if "g" in sub:
            for xx, g in zip(xs, sub["g"]):
                ax.annotate(
                    f"g = {format_number(g, 2)}",
                    (xx, 1.0),
                    xycoords=("data", "axes fraction"),
                    ha="center",
                    va="top",
                    fontsize=6,
                )
        ax.set_xticks(x, [_label(predictor_labels, k) for k in preds], rotation=40, ha="right", rotation_mode="anchor")
        ax.set_xlabel(_("Competency"))
        _panel_label(ax, _label(criterion_labels, c))
        ax.set_xlim(-0.5, len(preds) - 0.5)
    if scale is not None:
        axes[0].set_ylim(*scale)
    ylabel = _("Mean competency score (scale points)") if ylabel is None else ylabel
    axes[0].set_ylabel(_("{label}\nwith {level}% CI").format(label=ylabel, level=round(conf * 100)))
    handles, labs = axes[0].get_legend_handles_labels()
    fig.legend(handles, labs, loc="outside upper right", ncols=2)
    return fig


# ============================================================================ 11. dominance
@_styled
def dominance_plot(
    dominance: pd.DataFrame,
    *,
    predictor_order: Sequence[str] | None = None,
    predictor_labels: Mapping[str, str] | None = None,
    criterion_labels: Mapping[str, str] | None = None,
    width: float = TWO_COLUMN,
) -> Figure:
    """General dominance weights (Budescu 1993; Azen & Budescu 2003) with bootstrap CIs, one panel per
    criterion; the total R2 in the panel title. ``dominance``: ``CriterionResult.dominance`` (criterion,
    competency, weight, weight_ci_lower, weight_ci_upper, r2_total)."""
    _require(dominance, ["criterion", "competency", "weight"], "dominance_plot")
    preds = _ordered(dominance["competency"], predictor_order)
    crits = list(pd.unique(dominance["criterion"]))
    fig = new_figure(width, 0.9 + 0.2 * len(preds))
    axes = fig.subplots(1, len(crits), sharey=True, sharex=True, squeeze=False)[0]
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
            y, w, height=0.6, color=PALETTE[0], xerr=err, error_kw=dict(elinewidth=0.8, capsize=1.5, ecolor="black")
        )
        ax.axvline(0, color="black", lw=0.6)
        title = _label(criterion_labels, c)
        if "r2_total" in sub:
            title += f" (R² = {_apa(sub['r2_total'].iloc[0])})"
        _panel_label(ax, title)
        ax.set_xlabel(_("General dominance weight (ΔR², 0–1)"))
        _apa_axis(ax.xaxis)
    axes[0].set_yticks(ypos, [_label(predictor_labels, k) for k in preds])
    axes[0].set_ylim(-0.6, len(preds) - 0.4)
    return fig


# ============================================================================ 12. invariance
@_styled
def invariance_plot(
    invariance: pd.DataFrame,
    *,
    delta_cfi: float = 0.010,
    delta_rmsea: float = 0.015,
    cutoffs: Mapping[str, object] | None = None,
    width: float = TWO_COLUMN,
) -> Figure:
    """Measurement invariance steps: CFI and RMSEA per step (top) and their changes from the previous step
    with Chen's (2007) limits (bottom: -``delta_cfi``, +``delta_rmsea``). ``invariance``:
    ``cfa.measurement_invariance`` table (step, cfi, rmsea, delta_cfi, delta_rmsea). Four axes."""
    _require(invariance, ["step", "cfi", "rmsea", "delta_cfi", "delta_rmsea"], "invariance_plot")
    cutoffs = dict(cutoffs or {"cfi": (">=", 0.95), "rmsea": ("<=", 0.06)})
    steps = [_(str(s).capitalize()) for s in invariance["step"]]
    x = np.arange(len(steps))
    fig = new_figure(width, 3.6)
    axes = fig.subplots(2, 2, sharex=True)
    specs = [("cfi", "CFI (0–1)", axes[0, 0]), ("rmsea", "RMSEA (0–1)", axes[0, 1])]
    for k, lab, ax in specs:
        v = invariance[k].to_numpy(dtype=float)
        ax.plot(x, v, "o-", color=PALETTE[0], ms=3.5)
        for xx, vv in zip(x, v):
            ax.annotate(_apa(vv, 3), (xx, vv), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=6.5)
        if k in cutoffs:
            op, cut = _cut(cutoffs[k], k)
            ax.axhline(cut, color=OKABE_ITO["bluish_green"], ls="--", lw=0.9)
            lo, hi = ax.get_ylim()
            lo, hi = min(lo, cut - 0.005), max(hi, cut + 0.005)
            ax.set_ylim(lo, hi)
            if op == ">=":
                ax.axhspan(cut, hi, color=BAND, lw=0, zorder=0)
            else:
                ax.axhspan(lo, cut, color=BAND, lw=0, zorder=0)
        ax.set_ylabel(lab)
        _apa_axis(ax.yaxis, 3 if k == "rmsea" else 2)
        _panel_label(ax, _("{index} per step").format(index=lab.split(" ")[0]))
    for k, lab, lim, ax in (
        ("delta_cfi", _("ΔCFI (CFI units)"), -delta_cfi, axes[1, 0]),
        ("delta_rmsea", _("ΔRMSEA (RMSEA units)"), delta_rmsea, axes[1, 1]),
    ):
        v = invariance[k].to_numpy(dtype=float)
        ok = np.isfinite(v)
        holds = (v >= lim) if lim < 0 else (v <= lim)
        colors = [PALETTE[0] if h else PALETTE[1] for h in holds]
        ax.bar(x[ok], v[ok], color=[c for c, o in zip(colors, ok) if o], width=0.5)
        ax.axhline(0, color="black", lw=0.6)
        ax.axhline(lim, color=OKABE_ITO["vermillion"], ls="--", lw=0.9)
        ax.annotate(
            _("limit {value}").format(value=format_number(lim, 3, leading_zero=False)),
            (1.0, lim),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 3 if lim > 0 else -8),
            textcoords="offset points",
            ha="right",
            fontsize=6.5,
            color=OKABE_ITO["vermillion"],
        )
        ax.set_ylabel(lab)
        ax.set_xlabel(_("Invariance step (constraints added)"))
        _panel_label(ax, _("{index} vs previous step").format(index=lab.split(" ")[0]))
        lo = min(np.nanmin(np.append(v[ok], 0)), lim) * 1.3 if lim < 0 else min(np.nanmin(np.append(v[ok], 0)), 0) * 1.3
        hi = max(np.nanmax(np.append(v[ok], 0)), lim) * 1.3 if lim > 0 else max(np.nanmax(np.append(v[ok], 0)), 0) * 1.3
        ax.set_ylim(lo - 1e-4, hi + 1e-4)
        _apa_axis(ax.yaxis, 3)
    for ax in axes[1]:
        ax.set_xticks(x, steps)
    return fig
