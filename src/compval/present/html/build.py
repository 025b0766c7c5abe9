"""The publication tables the report and ``results/tables/`` share: :func:`build_tables` turns the result tables
into :class:`~compval.present.apa.ApaTable` objects (written as CSV, Markdown, LaTeX and DOCX, and rendered as HTML
in the report), so a number in a table is the same in Word and in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from compval.i18n import gettext as _
from compval.present import tables as T
from compval.present.apa import ApaTable
from compval.present.formatting import pretty
from compval.present.html.pieces import display_name, display_names, item_groups

__all__ = ["RESULT_TABLE_KEYS", "read_result_tables", "build_tables"]

# Snakemake input name -> key of the tables mapping that build_tables / render_report read
RESULT_TABLE_KEYS = {
    "descriptives": "descriptives",
    "reliability": "reliability",
    "loadings": "efa_loadings",
    "communalities": "efa_communalities",
    "matching": "efa_matching",
    "fit": "cfa_fit",
    "parameters": "cfa_parameters",
    "convergent": "convergent",
    "factor_correlations": "factor_correlations",
    "htmt": "htmt",
    "invariance": "invariance",
    "correlations": "criterion_correlations",
    "regression": "regression",
    "dominance": "dominance",
    "item_missingness": "item_missingness",
    "variants_comparison": "variants_comparison",
    "variants_diff": "variants_diff",
    "suggestions": "suggestions",
}


def read_result_tables(paths: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """Read the result CSVs named in ``paths`` (input name -> file) into the keys of :data:`RESULT_TABLE_KEYS`;
    an empty file gives an empty table. The one I/O helper of this module, shared by the tables and report rules."""
    out = {}
    for name, key in RESULT_TABLE_KEYS.items():
        if name in paths:
            path = Path(paths[name])
            out[key] = pd.read_csv(path) if path.stat().st_size else pd.DataFrame()
    return out


def build_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, ApaTable]:
    """The publication tables, in :data:`TABLES` order, from the result tables that are present.

    ``tables`` keys (each optional): ``codebook`` (results/codebook/items.csv: names and groups),
    ``descriptives``, ``reliability``, ``efa_loadings``, ``efa_communalities``, ``efa_matching``, ``cfa_fit``,
    ``cfa_parameters`` (with a ``model`` column; the ``hypothesized`` model is tabled), ``convergent``,
    ``factor_correlations``, ``htmt``, ``invariance``, ``criterion_correlations``, ``regression``,
    ``variants_comparison`` (:func:`compval.revision.compare.compare_variants`).
    Tables are numbered consecutively in the order they appear.
    """
    names = display_names(tables)
    groups = item_groups(tables)
    out: dict[str, ApaTable] = {}
    comp_label = {k: names.get(k, pretty(k)) for k in groups} or None

    d = tables.get("descriptives")
    if d is not None and len(d):
        out["descriptives"] = T.descriptives_table(d, groups or None, group_labels=comp_label)
    r = tables.get("reliability")
    if r is not None and len(r):
        out["reliability"] = T.reliability_table(r, names=names or None)
    lo = tables.get("efa_loadings")
    if lo is not None and len(lo):
        lo = lo.copy()
        m = tables.get("efa_matching")
        rename = {}
        if m is not None and {"factor", "efa_factor"} <= set(m.columns):
            rename = {str(e): f"{e} ({display_name(names, f)})" for f, e in zip(m["factor"], m["efa_factor"])}
            lo["factor"] = lo["factor"].astype(str).map(lambda f: rename.get(f, f))
        comm = tables.get("efa_communalities")
        h2 = dict(zip(comm["item"], comm["communality"])) if comm is not None and "communality" in comm else None
        out["efa_loadings"] = T.efa_loadings_table(
            lo[["item", "factor", "loading"]], groups or None, communalities=h2, group_labels=comp_label
        )
    f = tables.get("cfa_fit")
    if f is not None and len(f):
        out["model_fit"] = T.fit_table(f, model_labels={m: pretty(m) for m in f["model"]})
    p = tables.get("cfa_parameters")
    if p is not None and len(p):
        if "model" in p:
            p = p[p["model"] == "hypothesized"]
        if len(p):
            out["cfa_loadings"] = T.cfa_loadings_table(p, factor_labels=names or None)
    conv, fc = tables.get("convergent"), tables.get("factor_correlations")
    if conv is not None and fc is not None and len(conv):
        out["validity"] = T.validity_table(conv, fc, tables.get("htmt"), factor_labels=names or None)
    inv = tables.get("invariance")
    if inv is not None and len(inv) and "step" in inv:
        grp = inv["group"].iloc[0] if "group" in inv else None
        title = _("Measurement Invariance Across Groups") + (f" ({pretty(grp)})" if grp else "")
        out["invariance"] = T.invariance_table(inv.drop(columns=["group", "status"], errors="ignore"), title=title)
    c = tables.get("criterion_correlations")
    if c is not None and len(c):
        out["criterion"] = T.criterion_table(
            c, predictor_labels=names or None, criterion_labels={k: pretty(k) for k in c["criterion"]}
        )
    reg = tables.get("regression")
    if reg is not None and len(reg):
        out["regression"] = T.regression_table(reg)
    v = tables.get("variants_comparison")
    if v is not None and len(v):
        ratio = float(v["min_ratio"].iloc[0]) if "min_ratio" in v else 0.5
        out["variants"] = T.variants_table(v, min_ratio=ratio)
    for k, t in enumerate(out.values(), start=1):
        t.number = k
    return out
