"""The self-contained HTML validation report (:mod:`~compval.present.html.page`), its sections
(:mod:`~compval.present.html.sections`) and pieces (:mod:`~compval.present.html.pieces`), the publication tables it
shares with ``results/tables/`` (:mod:`~compval.present.html.build`), the revision section
(:mod:`~compval.present.html.revision`) and the sample-size planning section (:mod:`~compval.present.html.power`).
"""

from compval.present.formatting import fmt_num, fmt_r, pretty
from compval.present.html.build import RESULT_TABLE_KEYS, build_tables, read_result_tables
from compval.present.html.page import (
    CSS,
    FIGURES,
    HTML_LANG,
    REVISION_TABLES,
    SECTIONS,
    TABLES,
    render_report,
    report_title,
)
from compval.present.html.pieces import apa_table_html, figure_src, figure_width_px
from compval.present.html.power import render_power_section
from compval.present.rules import congruence_verdict, htmt_verdict, index_verdict, kmo_verdict, reliability_verdict

__all__ = [
    "FIGURES",
    "TABLES",
    "SECTIONS",
    "REVISION_TABLES",
    "CSS",
    "RESULT_TABLE_KEYS",
    "render_report",
    "build_tables",
    "read_result_tables",
    "apa_table_html",
    "figure_src",
    "figure_width_px",
    "index_verdict",
    "reliability_verdict",
    "kmo_verdict",
    "congruence_verdict",
    "htmt_verdict",
    "pretty",
    "fmt_r",
    "fmt_num",
    "report_title",
    "HTML_LANG",
    "render_power_section",
]
