"""Publication figures drawn from the pipeline's tidy tables.

Every plotting function takes tidy DataFrames (the CSVs the pipeline writes) and returns a
:class:`matplotlib.figure.Figure` built on the non-interactive Agg canvas, without touching pyplot's global
state or the file system; :func:`save_figure` writes them (:mod:`compval.present.figures_style`: the shared
style). The CFA path diagram is Graphviz: :func:`cfa_path_dot` returns DOT text and :func:`render_dot` runs
``dot``. Nothing here knows item names or the number of factors: groups, orders and labels come from the
arguments.

This module gathers the figures of the topic modules: sample and items (:mod:`~compval.present.figures_sample`),
factor analyses (:mod:`~compval.present.figures_factors`), the path diagram (:mod:`~compval.present.figures_path`),
construct validity (:mod:`~compval.present.figures_validity`), criterion validity
(:mod:`~compval.present.figures_criterion`) and the revision workflow (:mod:`~compval.present.figures_revision`).
"""

from compval.present.figures_criterion import criterion_forest, dominance_plot, known_groups_profile
from compval.present.figures_factors import loading_heatmap, model_comparison, scree_plot
from compval.present.figures_path import GraphvizNotFoundError, cfa_path_dot, render_dot
from compval.present.figures_sample import reliability_forest, response_distribution, sample_flow
from compval.present.figures_style import (
    OKABE_ITO,
    ONE_COLUMN,
    PALETTE,
    STYLE,
    TWO_COLUMN,
    new_figure,
    save_figure,
    style,
)
from compval.present.figures_revision import variants_plot
from compval.present.figures_validity import discriminant_matrix, invariance_plot

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
    "variants_plot",
    "GraphvizNotFoundError",
]
