"""results/report.html: gather summary.json (headline numbers), the result tables and the figures, and render
them with compval.present.html.render_report into one self-contained file."""

import datetime as dt
import os
from pathlib import Path

from compval.codebook import Codebook
from compval.present.html import read_result_tables, render_report, report_title
from compval.i18n import display_labels, language
from compval.io import read_json
from compval.pipeline import step
from compval.report import check_summary


def run_date() -> str:
    """UTC now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M UTC")


with step(snakemake) as log, display_labels(snakemake.params.labels):
    summary = check_summary(read_json(snakemake.input.summary), snakemake.input.summary)
    codebook = Codebook.from_structure(snakemake.params.structure)
    results = read_result_tables({k: snakemake.input[k] for k in snakemake.input.keys()})
    for lang, sfx in snakemake.params.languages:
        cb = codebook.localized(lang)
        tables = {"codebook": cb.items, **results}
        figures = {}
        for f in snakemake.input["figures" if not sfx else f"figures_{lang}"]:
            p = Path(f)
            stem = p.name[: -len(sfx + p.suffix)]  # fig01_sample_flow.zh.svg -> fig01_sample_flow
            figures[stem] = p.read_text(encoding="utf-8") if p.suffix == ".svg" else p.read_bytes()
        log.info(
            "rendering the report (%s): %d tables, %d figures, %d codebook texts in another language",
            lang,
            len(tables),
            len(figures),
            len(cb.fallbacks),
        )
        with language(lang):
            html = render_report(
                summary, tables, figures, run_date=run_date(), title=report_title(cb.instrument), fallbacks=cb.fallbacks
            )
        out = Path(snakemake.output.html)
        out = out.with_name(f"{out.stem}{sfx}{out.suffix}")
        out.write_text(html, encoding="utf-8")
        log.info("wrote %s (%d bytes)", out, len(html.encode("utf-8")))
