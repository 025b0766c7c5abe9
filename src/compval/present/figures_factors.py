"""Figures of the factor analyses: the scree plot with parallel analysis, the EFA loading heatmap and the fit of
the competing CFA models against their cut-offs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compval.i18n import gettext as _
from compval.present import figures_style as fs
from compval.present.formatting import format_r, groups_to_map, index_label, label, require_columns, wide_loadings
from compval.present.rules import SALIENT_LOADING, cutoff_rule

__all__ = ["scree_plot", "loading_heatmap", "model_comparison"]


# ============================================================================ 4. scree / parallel analysis
def _pick(df: pd.DataFrame, *names: str) -> str | None:
    for n in names:
        if n and n in df.columns:
            return n
    return None


@fs.styled
def scree_plot(
    table: pd.DataFrame,
    suggested: Mapping[str, int] | None = None,
    *,
    max_factors: int | None = None,
    ylabel: str | None = None,
    width: float = fs.ONE_COLUMN,
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
    fig = fs.new_figure(width, 2.5)
    ax = fig.add_subplot()
    x = t[num].to_numpy()
    ax.plot(x, t[obs], "-o", color=fs.PALETTE[0], ms=3, label=_("Observed data"), zorder=3)
    if sim:
        ax.plot(x, t[sim], "--", color=fs.PALETTE[1], label=_("Simulated, 95th percentile"))
    if res:
        ax.plot(x, t[res], ":", color=fs.PALETTE[2], lw=1.2, label=_("Resampled, 95th percentile"))
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


@fs.styled
def loading_heatmap(
    loadings: pd.DataFrame,
    item_groups: Mapping,
    *,
    threshold: float = SALIENT_LOADING,
    factor_order: Sequence[str] | None = None,
    group_labels: Mapping[str, str] | None = None,
    width: float = fs.ONE_COLUMN,
) -> Figure:
    """Heatmap of EFA pattern loadings, items ordered by hypothesised competency, |loading| >= ``threshold``
    annotated so cross-loadings stand out.

    ``loadings``: wide (index = items or an ``item`` column; one column per factor, e.g.
    ``efa.FactorSolution.loadings``) or long (``item, factor, loading``). ``item_groups``: {competency:
    [items]} or {item: competency}. Axes: heatmap + colour bar.
    """
    w = wide_loadings(loadings)
    w.index = [str(i) for i in w.index]
    gmap = groups_to_map(item_groups)
    order = {i: k for k, i in enumerate(gmap)}
    items = sorted(w.index, key=lambda i: order.get(i, len(order)))
    cols = [str(c) for c in w.columns]
    w.columns = cols
    if factor_order is not None:
        cols = [str(c) for c in factor_order]
    w = w.loc[items, cols]
    m = w.to_numpy(dtype=float)
    fig = fs.new_figure(width, 0.9 + 0.13 * len(items))
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = m[i, j]
            if np.isfinite(v) and abs(v) >= threshold:
                ax.text(
                    j,
                    i,
                    format_r(v),
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
                label(group_labels, grp[start]),
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
    text = _("Pattern loading (standardized); |loading| ≥ {threshold} printed")
    cb.set_label(text.format(threshold=format_r(threshold)))
    fs.apa_axis(cb.ax.xaxis)
    return fig


# ============================================================================ 7. model comparison


@fs.styled
def model_comparison(
    fits: pd.DataFrame,
    cutoffs: Mapping[str, object],
    *,
    acceptable: Mapping[str, object] | None = None,
    model_labels: Mapping[str, str] | None = None,
    width: float = fs.TWO_COLUMN,
) -> Figure:
    """Fit indices per model with Hu & Bentler (1999) bands, one panel per index in ``cutoffs``.

    ``fits``: one row per model: ``model`` and the index columns (``cfi``, ``tli``, ``rmsea``, ``srmr``...);
    ``cutoffs`` as :data:`compval.present.rules.DEFAULT_CUTOFFS`: index -> (">=" | "<=", value) or a bare number.
    The region meeting the cut-off is shaded; optional ``acceptable`` cut-offs (e.g.
    :data:`compval.present.rules.ACCEPTABLE_FIT`) add a lighter band. Indices missing from ``fits`` are skipped.
    """
    require_columns(fits, ["model"], "model_comparison")
    idx = [k for k in cutoffs if k in fits.columns]
    if not idx:
        raise ValueError(f"none of the cut-off indices {list(cutoffs)} is a column of fits")
    models = list(fits["model"])
    fig = fs.new_figure(width, 0.9 + 0.2 * len(models))
    axes = fig.subplots(1, len(idx), sharey=True, squeeze=False)[0]
    ypos = np.arange(len(models))[::-1]
    for ax, k in zip(axes, idx):
        op, cut = cutoff_rule(k, cutoffs[k])
        vals = fits[k].to_numpy(dtype=float)
        good = vals >= cut if op == ">=" else vals <= cut
        allv = np.append(vals[np.isfinite(vals)], cut)
        if acceptable and k in acceptable:
            allv = np.append(allv, cutoff_rule(k, acceptable[k])[1])
        span = max(float(allv.max() - allv.min()), 0.02)
        lo = max(0.0, float(allv.min()) - 0.15 * span)
        hi = min(1.0, float(allv.max()) + 0.15 * span)
        if acceptable and k in acceptable:
            aop, acut = cutoff_rule(k, acceptable[k])
            if aop == ">=":
                ax.axvspan(acut, cut, color=fs.mix(fs.OKABE_ITO["bluish_green"], 0.07), lw=0)
            else:
                ax.axvspan(cut, acut, color=fs.mix(fs.OKABE_ITO["bluish_green"], 0.07), lw=0)
        if op == ">=":
            ax.axvspan(cut, hi, color=fs.BAND, lw=0)
        else:
            ax.axvspan(lo, cut, color=fs.BAND, lw=0)
        ax.axvline(cut, color=fs.OKABE_ITO["bluish_green"], lw=0.9, ls="--")
        for y, v, ok in zip(ypos, vals, good):
            ax.plot([v], [y], "o" if ok else "X", color=fs.PALETTE[0] if ok else fs.PALETTE[1], ms=4.5)
            ax.annotate(format_r(v, 3), (v, y), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=6.5)
        ax.set_xlim(lo, hi)
        fs.apa_axis(ax.xaxis)
        ax.set_xlabel(f"{index_label(k)} (0–1)")
        fs.panel_label(ax, f"{index_label(k)} {'≥' if op == '>=' else '≤'} {format_r(cut)}")
        ax.set_ylim(-0.6, len(models) - 0.4)
    axes[0].set_yticks(ypos, [label(model_labels, m) for m in models])
    axes[0].set_ylabel(_("Model"))
    return fig
