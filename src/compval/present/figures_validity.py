"""Figures of construct validity: the discriminant-validity matrix (latent correlations, HTMT, sqrt(AVE)) and the
measurement-invariance steps with Chen's (2007) limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compval.i18n import gettext as _
from compval.present import figures_style as fs
from compval.present.formatting import INDEX_LABELS, format_number, format_r, label, pair_lookup, require_columns
from compval.present.rules import CHEN_DELTA_CFI, CHEN_DELTA_RMSEA, DEFAULT_CUTOFFS, HTMT_STRICT, cutoff_rule

__all__ = ["discriminant_matrix", "invariance_plot"]


# ============================================================================ 8. discriminant validity


@fs.styled
def discriminant_matrix(
    correlations: pd.DataFrame,
    htmt: pd.DataFrame,
    *,
    factors: Sequence[str] | None = None,
    r: str = "r",
    htmt_value: str = "htmt",
    threshold: float = HTMT_STRICT,
    diagonal: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    width: float = fs.ONE_COLUMN + 0.5,
) -> Figure:
    """Factor correlations below and HTMT ratios above the diagonal, annotated; HTMT >= ``threshold``
    framed (Henseler et al. 2015). ``correlations``: factor_a, factor_b, r (``validity.factor_correlations``);
    ``htmt``: factor_a, factor_b, htmt (``validity.htmt(...).table``); optional ``diagonal`` values (e.g.
    sqrt(AVE)). Axes: matrix + colour bar."""
    rmap = pair_lookup(correlations, r, "discriminant_matrix")
    hmap = pair_lookup(htmt, htmt_value, "discriminant_matrix")
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
    fig = fs.new_figure(width, width * 0.95)
    ax = fig.add_subplot()
    im = ax.imshow(np.abs(m), cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    for i in range(n):
        for j in range(n):
            v = m[i, j]
            if not np.isfinite(v):
                continue
            ax.text(j, i, format_r(v), ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 else "black")
            if i < j and v >= threshold:
                ax.add_patch(
                    mpl.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=fs.OKABE_ITO["vermillion"], lw=1.5)
                )
    names = [label(labels, f) for f in factors]
    ax.set_xticks(range(n), names, rotation=40, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), names)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(_("Factor (above diagonal: HTMT ratio)"))
    ax.set_ylabel(_("Factor (below diagonal: latent correlation r)"))
    cb = fig.colorbar(im, ax=ax, shrink=0.75)
    cb.set_label(_("Absolute value (0–1); framed: HTMT ≥ {threshold}").format(threshold=format_r(threshold)))
    fs.apa_axis(cb.ax.yaxis)
    return fig


# ============================================================================ 12. invariance
@fs.styled
def invariance_plot(
    invariance: pd.DataFrame,
    *,
    delta_cfi: float = CHEN_DELTA_CFI,
    delta_rmsea: float = CHEN_DELTA_RMSEA,
    cutoffs: Mapping[str, object] | None = None,
    width: float = fs.TWO_COLUMN,
) -> Figure:
    """Measurement invariance steps: CFI and RMSEA per step (top) and their changes from the previous step
    with Chen's (2007) limits (bottom: -``delta_cfi``, +``delta_rmsea``). ``invariance``:
    ``cfa.measurement_invariance`` table (step, cfi, rmsea, delta_cfi, delta_rmsea). Four axes."""
    require_columns(invariance, ["step", "cfi", "rmsea", "delta_cfi", "delta_rmsea"], "invariance_plot")
    cutoffs = dict(cutoffs or {k: DEFAULT_CUTOFFS[k] for k in ("cfi", "rmsea")})
    steps = [_(str(s).capitalize()) for s in invariance["step"]]
    x = np.arange(len(steps))
    fig = fs.new_figure(width, 3.6)
    axes = fig.subplots(2, 2, sharex=True)
    specs = [("cfi", "CFI (0–1)", axes[0, 0]), ("rmsea", "RMSEA (0–1)", axes[0, 1])]
    for k, lab, ax in specs:
        name = INDEX_LABELS[k]
        v = invariance[k].to_numpy(dtype=float)
        ax.plot(x, v, "o-", color=fs.PALETTE[0], ms=3.5)
        for xx, vv in zip(x, v):
            ax.annotate(format_r(vv, 3), (xx, vv), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=6.5)
        if k in cutoffs:
            op, cut = cutoff_rule(k, cutoffs[k])
            ax.axhline(cut, color=fs.OKABE_ITO["bluish_green"], ls="--", lw=0.9)
            lo, hi = ax.get_ylim()
            lo, hi = min(lo, cut - 0.005), max(hi, cut + 0.005)
            ax.set_ylim(lo, hi)
            if op == ">=":
                ax.axhspan(cut, hi, color=fs.BAND, lw=0, zorder=0)
            else:
                ax.axhspan(lo, cut, color=fs.BAND, lw=0, zorder=0)
        ax.set_ylabel(lab)
        fs.apa_axis(ax.yaxis, 3 if k == "rmsea" else 2)
        fs.panel_label(ax, _("{index} per step").format(index=name))
    # the index names are given, not cut from the (translated) axis labels: Chinese has no space before its
    # full-width parenthesis, so "ΔCFI（CFI 单位）".split(" ")[0] is "ΔCFI（CFI"
    for k, name, lab, lim, ax in (
        ("delta_cfi", "ΔCFI", _("ΔCFI (CFI units)"), -delta_cfi, axes[1, 0]),
        ("delta_rmsea", "ΔRMSEA", _("ΔRMSEA (RMSEA units)"), delta_rmsea, axes[1, 1]),
    ):
        v = invariance[k].to_numpy(dtype=float)
        ok = np.isfinite(v)
        holds = (v >= lim) if lim < 0 else (v <= lim)
        colors = [fs.PALETTE[0] if h else fs.PALETTE[1] for h in holds]
        ax.bar(x[ok], v[ok], color=[c for c, o in zip(colors, ok) if o], width=0.5)
        ax.axhline(0, color="black", lw=0.6)
        ax.axhline(lim, color=fs.OKABE_ITO["vermillion"], ls="--", lw=0.9)
        ax.annotate(
            _("limit {value}").format(value=format_number(lim, 3, leading_zero=False)),
            (1.0, lim),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 3 if lim > 0 else -8),
            textcoords="offset points",
            ha="right",
            fontsize=6.5,
            color=fs.OKABE_ITO["vermillion"],
        )
        ax.set_ylabel(lab)
        ax.set_xlabel(_("Invariance step (constraints added)"))
        fs.panel_label(ax, _("{index} vs previous step").format(index=name))
        lo = min(np.nanmin(np.append(v[ok], 0)), lim) * 1.3 if lim < 0 else min(np.nanmin(np.append(v[ok], 0)), 0) * 1.3
        hi = max(np.nanmax(np.append(v[ok], 0)), lim) * 1.3 if lim > 0 else max(np.nanmax(np.append(v[ok], 0)), 0) * 1.3
        ax.set_ylim(lo - 1e-4, hi + 1e-4)
        fs.apa_axis(ax.yaxis, 3)
    for ax in axes[1]:
        ax.set_xticks(x, steps)
    return fig
