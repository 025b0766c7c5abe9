"""results/report.html: gather summary.json (headline numbers), the result tables and the figures, and render
them with compval.htmlreport.render_report into one self-contained file."""
import datetime as dt
import os
from pathlib import Path

from compval.codebook import Codebook
from compval.htmlreport import read_result_tables, render_report
from compval.io import read_json
from compval.pipeline import step
from compval.report import check_summary



def run_date() -> str:
    """UTC now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M UTC")


with step(snakemake) as log:
    summary = check_summary(read_json(snakemake.input.summary), snakemake.input.summary)
    cb = Codebook.from_structure(snakemake.params.structure)
    tables = {"codebook": cb.items,
              **read_result_tables({k: snakemake.input[k] for k in snakemake.input.keys()})}
    figures = {}
    for f in snakemake.input.figures:
        p = Path(f)
        figures[p.stem] = p.read_text(encoding="utf-8") if p.suffix == ".svg" else p.read_bytes()
    log.info("rendering the report: %d tables, %d figures", len(tables), len(figures))
    html = render_report(summary, tables, figures, run_date=run_date(),
                         title=f"Validation report: {cb.instrument}" if cb.instrument else None)
    Path(snakemake.output.html).write_text(html, encoding="utf-8")
    log.info("wrote %s (%d bytes)", snakemake.output.html, len(html.encode("utf-8")))
