"""Figure of the revision workflow: codebook variants side by side, with the holdout guard."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compval.i18n import gettext as _
from compval.present import figures_style as fs
from compval.present.formatting import format_r, label, require_columns
from compval.present.rules import DEFAULT_CUTOFFS, RELIABILITY_ACCEPTABLE, cutoff_rule

__all__ = ["variants_plot"]


@fs.styled
def variants_plot(
    comparison: pd.DataFrame,
    *,
    cutoffs: Mapping[str, object] | None = None,
    variant_labels: Mapping[str, str] | None = None,
    width: float = fs.TWO_COLUMN,
) -> Figure:
    """Codebook variants side by side: CFI of each variant's hypothesised model on the full sample, the training
    and the holdout part (left; a variant whose gain over the original does not hold out is drawn in the warning
    colour), and the mean alpha and mean composite reliability of its competencies (right).

    ``comparison``: :func:`compval.revision.compare.compare_variants` table (variant, cfi, cfi_training,
    cfi_holdout, holds, alpha_mean, cr_mean). Two axes.
    """
    require_columns(comparison, ["variant", "cfi", "alpha_mean", "cr_mean"], "variants_plot")
    cut = dict(cutoffs or {"cfi": DEFAULT_CUTOFFS["cfi"]})
    names = [label(variant_labels, v) for v in comparison["variant"]]
    y = np.arange(len(names))[::-1]
    fig = fs.new_figure(width, 0.5 * len(names) + 1.7)
    ax_fit, ax_rel = fig.subplots(1, 2, sharey=True)
    marks = [
        ("cfi", _("Full sample"), "o", fs.PALETTE[0]),
        ("cfi_training", _("Training part"), "s", fs.PALETTE[2]),
        ("cfi_holdout", _("Holdout part"), "D", fs.PALETTE[3]),
    ]
    holds = comparison["holds"] if "holds" in comparison else pd.Series([None] * len(comparison))
    for k, (col, lab, marker, color) in enumerate(marks):
        if col not in comparison or not np.isfinite(comparison[col].to_numpy(dtype=float)).any():
            continue
        v = comparison[col].to_numpy(dtype=float)
        off = (k - 1) * 0.18
        ax_fit.scatter(v, y + off, marker=marker, s=16, color=color, label=lab, zorder=3)
        if col == "cfi":
            for yy, vv in zip(y + off, v):
                if np.isfinite(vv):
                    ax_fit.annotate(format_r(vv, 3), (vv, yy), xytext=(5, -2), textcoords="offset points", fontsize=6.5)
    for yy, h in zip(y, holds):
        if str(h).lower() == "false":
            ax_fit.annotate(
                _("gain does not hold out"),
                (1.0, yy),
                xycoords=("axes fraction", "data"),
                xytext=(-2, 5),
                textcoords="offset points",
                ha="right",
                fontsize=6.5,
                color=fs.OKABE_ITO["vermillion"],
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},  # over the cut-off line
            )
    # a variant without any CFI (its model did not converge, or is not identified) would be an empty row
    fitted = np.zeros(len(comparison), dtype=bool)
    for col, *_rest in marks:
        if col in comparison:
            fitted |= np.isfinite(comparison[col].to_numpy(dtype=float))
    for yy in y[~fitted]:
        ax_fit.annotate(
            _("no fit to show: see its status in the comparison table"),
            (0.0, yy),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=6.5,
            fontstyle="italic",
            color="0.35",
        )
    if "cfi" in cut:
        _op, value = cutoff_rule("cfi", cut["cfi"])
        ax_fit.axvline(value, color=fs.OKABE_ITO["bluish_green"], ls="--", lw=0.9)
    ax_fit.set_yticks(y, names)
    ax_fit.set_xlabel(_("CFI of the hypothesised model"))
    fs.apa_axis(ax_fit.xaxis, 3)
    ax_fit.margins(x=0.15)
    ax_fit.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, fontsize=6.5, frameon=False)
    fs.panel_label(ax_fit, _("Fit by part of the holdout split"))
    for k, (col, lab) in enumerate(((("alpha_mean"), _("Mean α")), ("cr_mean", _("Mean CR")))):
        v = comparison[col].to_numpy(dtype=float)
        ax_rel.barh(y + (0.2 if k == 0 else -0.2), v, height=0.35, color=fs.PALETTE[k], label=lab)
    ax_rel.axvline(RELIABILITY_ACCEPTABLE, color=fs.OKABE_ITO["bluish_green"], ls="--", lw=0.9)
    ax_rel.set_xlim(0, 1)
    ax_rel.set_xlabel(_("Reliability (0–1)"))
    fs.apa_axis(ax_rel.xaxis, 1)
    ax_rel.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=6.5, frameon=False)
    fs.panel_label(ax_rel, _("Reliability of the competencies"))
    return fig
