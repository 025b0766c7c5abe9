"""results/report.html: gather summary.json (headline numbers), the result tables and the figures, and render
them with compval.htmlreport.render_report into one self-contained file."""
import datetime as dt
import os
from pathlib import Path

import pandas as pd

from compval.codebook import Codebook
from compval.htmlreport import render_report
from compval.io import read_json
from compval.pipeline import step

# input name -> key of render_report's tables
KEYS = {"descriptives": "descriptives", "reliability": "reliability", "loadings": "efa_loadings",
        "communalities": "efa_communalities", "matching": "efa_matching", "fit": "cfa_fit",
        "parameters": "cfa_parameters", "convergent": "convergent", "factor_correlations": "factor_correlations",
        "htmt": "htmt", "invariance": "invariance", "correlations": "criterion_correlations",
        "regression": "regression", "item_missingness": "item_missingness"}


def run_date() -> str:
    """UTC now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M UTC")


with step(snakemake) as log:
    summary = read_json(snakemake.input.summary)
    cb = Codebook.from_structure(snakemake.params.structure)
    tables = {"codebook": cb.items}
    for name, key in KEYS.items():
        if name in snakemake.input.keys():
            path = snakemake.input[name]
            tables[key] = pd.read_csv(path) if Path(path).stat().st_size else pd.DataFrame()
    figures = {}
    for f in snakemake.input.figures:
        p = Path(f)
        figures[p.stem] = p.read_text(encoding="utf-8") if p.suffix == ".svg" else p.read_bytes()
    log.info("rendering the report: %d tables, %d figures", len(tables), len(figures))
    html = render_report(summary, tables, figures, run_date=run_date(),
                         title=f"Validation report: {cb.instrument}" if cb.instrument else None)
    Path(snakemake.output.html).write_text(html, encoding="utf-8")
    log.info("wrote %s (%d bytes)", snakemake.output.html, len(html.encode("utf-8")))
