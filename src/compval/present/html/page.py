"""The self-contained HTML validation report.

:func:`render_report` is pure: it takes the summary dict (``results/summary.json``, the one source of truth for
every headline number), the tidy result tables (DataFrames read from the pipeline's CSVs) and the figures (PNG
bytes or SVG text) and returns one HTML document with everything embedded as ``data:`` URIs - no network, no
external CSS or JavaScript. Plain-language verdicts stand beside the numbers ("CFI = .998 meets the ≥ .95
criterion"; :mod:`compval.present.rules`), numbers are formatted the APA way
(:mod:`compval.present.formatting`). The section texts are :mod:`compval.present.html.sections`.

Nothing here knows item names, competencies or the number of factors: they come from the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from compval.i18n import N_, active_language
from compval.i18n import gettext as _
from compval.present.formatting import interval_method, interval_methods, pretty
from compval.present.html import revision as R
from compval.present.html import sections as S
from compval.present.html.build import build_tables
from compval.present.html.pieces import apa_table_html, display_names, figure_src, figure_width_px

__all__ = ["SECTIONS", "FIGURES", "TABLES", "REVISION_TABLES", "CSS", "HTML_LANG", "report_title", "render_report"]

#: Report sections: (anchor id, heading), in order (English; translated when the report is rendered).
SECTIONS = [
    ("sample", N_("Sample and data cleaning")),
    ("descriptives", N_("Item descriptives")),
    ("reliability", N_("Reliability")),
    ("efa", N_("Exploratory factor analysis")),
    ("cfa", N_("Confirmatory factor analysis and model comparison")),
    ("validity", N_("Construct validity")),
    ("criterion", N_("Criterion validity")),
    ("revision", N_("Revising the model: variants and suggestions")),
    ("appendix", N_("Appendix: provenance")),
]

#: The result tables of the revision workflow: the revision section is shown when one of them is present.
REVISION_TABLES = {"variants_comparison", "variants_diff", "suggestions"}

#: Figures: file stem -> (section, short caption). The stems are the file names in ``results/figures/``.
FIGURES: dict[str, tuple[str, str]] = {
    "fig01_sample_flow": (
        "sample",
        N_(
            "Flow of respondents from the survey export to the analysed sample, with "
            "every exclusion step and the match with the performance records."
        ),
    ),
    "fig02_response_distribution": (
        "descriptives",
        N_(
            "Response distributions per item (diverging stacked bars), "
            "grouped by competency; (R) marks reverse-keyed items."
        ),
    ),
    "fig03_reliability": (
        "reliability",
        N_(
            "Cronbach's alpha (Feldt 95% CI), McDonald's omega total and omega "
            "hierarchical (bootstrap 95% CIs) per competency and module; reference "
            "lines at .70 and .80."
        ),
    ),
    "fig04_scree": (
        "efa",
        N_(
            "Scree plot of the observed eigenvalues with the parallel-analysis reference "
            "(95th percentiles) and the numbers of factors suggested by parallel analysis and MAP."
        ),
    ),
    "fig05_efa_loadings": (
        "efa",
        N_(
            "EFA pattern loadings, items ordered by hypothesised competency; loadings "
            "of at least .30 printed, so cross-loadings stand out."
        ),
    ),
    "fig06_cfa_path": (
        "cfa",
        N_(
            "Path diagram of the hypothesised CFA model with completely standardized "
            "loadings; the factor correlations in the table beside the numbered factors."
        ),
    ),
    "fig07_model_comparison": (
        "cfa",
        N_(
            "Fit indices of the hypothesised and the rival models; shaded: the region "
            "meeting the Hu and Bentler (1999) cut-off."
        ),
    ),
    "fig08_discriminant_validity": (
        "validity",
        N_(
            "Latent factor correlations (below the diagonal), HTMT ratios "
            "(above) and the square root of AVE (diagonal); framed: HTMT "
            "≥ .85."
        ),
    ),
    "fig12_invariance": (
        "validity",
        N_(
            "Measurement invariance: CFI and RMSEA per step and their change from "
            "the previous step with Chen's (2007) limits."
        ),
    ),
    "fig09_criterion_validity": (
        "criterion",
        N_("Correlations of the competency scores with each performance criterion, with 95% confidence intervals."),
    ),
    "fig10_known_groups": (
        "criterion",
        N_(
            "Competency profile of the top performers versus the rest on each "
            "criterion (means with 95% CIs, Hedges' g)."
        ),
    ),
    "fig11_dominance": (
        "criterion",
        N_("General dominance weights (share of R² attributable to each competency) with bootstrap 95% CIs."),
    ),
    "fig13_variants": (
        "revision",
        N_(
            "Codebook variants: CFI of each variant's hypothesised model on the full sample and on the training "
            "and holdout parts, and the mean reliability of its competencies."
        ),
    ),
}

#: APA tables: name -> section. The names are the file stems in ``results/tables/``.
TABLES: dict[str, str] = {
    "descriptives": "descriptives",
    "reliability": "reliability",
    "efa_loadings": "efa",
    "model_fit": "cfa",
    "cfa_loadings": "cfa",
    "validity": "validity",
    "invariance": "validity",
    "criterion": "criterion",
    "regression": "criterion",
    "variants": "revision",
}

# ============================================================================ page
#: The report's style sheet (also the power section's).
CSS = """
body{font-family:"Liberation Sans",Arial,Helvetica,sans-serif;font-size:15px;line-height:1.45;color:#1a1a1a;
max-width:60em;margin:0 auto;padding:1em 1.5em 4em;background:#fff}
h1{font-size:1.7em;margin-bottom:.2em}h2{font-size:1.35em;border-bottom:2px solid #0072B2;padding-bottom:.15em;
margin-top:2.2em}h3{font-size:1.1em;margin-top:1.4em}
nav ol{columns:2;font-size:.95em}a{color:#0072B2}
.sub{color:#555;margin-top:0}
ul.verdicts{list-style:none;padding-left:0}ul.verdicts li{margin:.35em 0;padding-left:5.2em;text-indent:-5.2em}
.badge{display:inline-block;width:4.6em;text-indent:0;text-align:center;font-size:.78em;font-weight:bold;
border-radius:3px;padding:.05em 0;margin-right:.5em}
.badge.ok{background:#D9F0E6;color:#00603F}.badge.fail{background:#F9E0D3;color:#8A3700}
.badge.na{background:#EEE;color:#555}
.apa{margin:1.5em 0;overflow-x:auto}.apa p{margin:.2em 0}.tabnum{font-weight:bold}.tabtitle{font-style:italic}
.apa table{border-collapse:collapse;border-top:1.5px solid #000;border-bottom:1.5px solid #000;font-size:.85em;
margin:.4em 0}
.apa th{border-bottom:1px solid #000;font-weight:normal;padding:.25em .6em;text-align:left}
.apa td{padding:.15em .6em}.num{text-align:right;font-variant-numeric:tabular-nums}
.apa tr.grp td{font-style:italic;padding-top:.5em}.note{font-size:.85em;color:#333;max-width:55em}
table.compact{border-collapse:collapse;font-size:.9em;margin:.6em 0}
table.compact th,table.compact td{padding:.2em .7em;border-bottom:1px solid #DDD;text-align:left}
table.compact td.num,table.compact th.num{text-align:right}
table.prov td code{word-break:break-all}
figure{margin:1.5em 0;text-align:center}figure img{max-width:100%;height:auto;border:1px solid #EEE}
figcaption{font-size:.88em;color:#333;text-align:left;margin-top:.4em}
pre{background:#F6F8FA;padding:.8em;overflow-x:auto;font-size:.8em}
.missing{color:#8A3700}
@media print{nav{display:none}h2{page-break-before:auto}figure{page-break-inside:avoid}}
"""

#: ``<html lang>`` per output language (BCP 47; zh-Hans: simplified Chinese script).
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
#: Extra CSS per output language: CJK fonts after the Latin ones (Noto Sans CJK SC from Debian fonts-noto-cjk,
#: then the usual Windows/macOS Chinese UI fonts).
_CSS_LANG = {
    "zh": 'body{font-family:"Liberation Sans",Arial,"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif}'
}

_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p class="sub">{{ subtitle }}</p>
</header>
<nav><h2 id="contents">{{ words.contents }}</h2><ol>
{% for sec in sections %}<li><a href="#{{ sec.id }}">{{ sec.heading }}</a></li>
{% endfor %}</ol></nav>
{% if glance %}<section id="glance"><h2>{{ words.glance }}</h2>{{ glance }}</section>{% endif %}
{% for sec in sections %}<section id="{{ sec.id }}">
<h2>{{ loop.index }}. {{ sec.heading }}</h2>
{{ sec.body }}
{% for fig in sec.figures %}<figure id="{{ fig.id }}"><img src="{{ fig.src }}" alt="{{ fig.alt }}"
{%- if fig.width %} style="width:{{ fig.width }}px"{% endif %}>
<figcaption><b>{{ fig.label }}</b> {{ fig.caption }}</figcaption></figure>
{% endfor %}{% for tab in sec.tables %}{{ tab }}
{% endfor %}</section>
{% endfor %}
<footer><p class="sub">{{ words.footer }}</p></footer>
</body>
</html>
"""


#: Figures whose caption names bootstrap intervals -> (result table, its method columns).
_INTERVAL_METHODS = {
    "fig03_reliability": ("reliability", ("boot_ci_method", "omega_h_boot_ci_method")),
    "fig11_dominance": ("dominance", ("weight_ci_method",)),
}


def _interval_note(tables: Mapping[str, pd.DataFrame], stem: str) -> str:
    """ " Bootstrap intervals: bag of little bootstraps (b = ..., s = ..., r = ...)." for a figure whose intervals
    came from a bag of little bootstraps (above the pipeline's ``bootstrap_max_n``), else "" (the caption's
    "bootstrap" is then the percentile bootstrap)."""
    table, columns = _INTERVAL_METHODS.get(stem, (None, ()))
    methods = interval_methods(tables.get(table), columns, blb_only=True) if table else []
    if not methods:
        return ""
    return " " + _("Bootstrap intervals: {methods} (Kleiner et al., 2014).").format(
        methods=_(", ").join(interval_method(m) for m in methods)
    )


def report_title(instrument: str | None) -> str | None:
    """The report title for an instrument name ("Validation report: <instrument>"; None without a name)."""
    return _("Validation report: {instrument}").format(instrument=instrument) if instrument else None


def render_report(
    summary: Mapping,
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, bytes | str],
    *,
    run_date: str | None = None,
    title: str | None = None,
    fallbacks: Sequence[str] = (),
) -> str:
    """The validation report as one self-contained HTML document (pure: no file or network access).

    Parameters
    ----------
    summary : mapping
        ``results/summary.json`` (``n_raw``, ``n_analyzed``, ``excluded``, ``performance``, ``reliability``,
        ``efa``, ``cfa``, ``validity``, ``criterion``, ``provenance``); every headline number and verdict in
        the text comes from here. Missing sections are reported as missing, not invented.
    tables : mapping name -> DataFrame
        The result tables rendered as APA tables (see :func:`build_tables` for the names) plus
        ``item_missingness`` and ``codebook`` (competency names and item groups).
    figures : mapping stem -> PNG bytes or SVG text
        Keys as in :data:`FIGURES`; embedded as ``data:`` URIs in :data:`FIGURES` order, numbered
        consecutively. Unknown keys are appended to the appendix.
    run_date : str, optional
        Shown in the provenance appendix (the only non-deterministic element; pass None for a
        reproducible document).
    title : str, optional
        Document title (default: "Validation report" with the instrument or codebook path).
    fallbacks : sequence of str, optional
        Codebook fields shown in another language than the report's (:attr:`compval.codebook.Codebook.fallbacks`
        of the localized codebook); listed under the title.

    The language is the active :func:`compval.i18n.language` (English by default): headings, verdicts,
    captions and table titles come from the message catalogue, ``<html lang>`` is set accordingly.

    Returns
    -------
    str
        The HTML document.
    """
    import jinja2
    from markupsafe import Markup

    names = display_names(tables)
    apa = build_tables(tables)
    codebook = ((summary.get("provenance") or {}).get("config") or {}).get("codebook")
    title = title or _("Validation report of the competency model")
    subtitle = (_("Codebook: {path}. ").format(path=codebook) if codebook else "") + _(
        "n = {n} analysed respondents. Numbers follow APA style; verdicts use the conventional cut-offs named "
        "beside them."
    ).format(n=summary.get("n_analyzed"))
    if fallbacks:
        subtitle += " " + _(
            "Codebook texts not available in this language are shown in their original language: {fields}."
        ).format(fields=_(", ").join(fallbacks))
    rel = summary.get("reliability") or {}
    bodies = {
        "sample": S.sample(summary, tables),
        "descriptives": [
            _(
                "<p>{n_items} items in {n_scales} competencies; descriptives of the analysed sample "
                "(reverse-keyed items as answered).</p>"
            ).format(n_items=sum(int(r.get("n_items", 0)) for r in rel.values()), n_scales=len(rel))
        ],
        "reliability": S.reliability(summary, names),
        "efa": S.efa(summary, names),
        "cfa": S.cfa(summary, names),
        "validity": S.validity(summary, names),
        "criterion": S.criterion(summary, names),
        # only with variants or suggestions (config `variants`, `revision.suggestions`)
        "revision": R.revision(summary, tables) if set(tables) & REVISION_TABLES else None,
        "appendix": S.appendix(summary, run_date),
    }
    fig_number = 0
    sections = []
    known = set(FIGURES)
    for sid, heading in SECTIONS:
        if bodies[sid] is None:
            continue
        figs = []
        shown = [
            (stem, _(cap) + _interval_note(tables, stem))
            for stem, (sec, cap) in FIGURES.items()
            if sec == sid and stem in figures
        ]
        if sid == "appendix":
            shown += [(stem, pretty(stem)) for stem in figures if stem not in known]
        for stem, caption in shown:
            fig_number += 1
            figs.append(
                {
                    "id": stem,
                    "src": figure_src(figures[stem]),
                    "alt": caption,
                    "caption": caption,
                    "label": _("Figure {number}.").format(number=fig_number),
                    "width": figure_width_px(figures[stem]),
                }
            )
        tabs = [Markup(apa_table_html(t)) for name, t in apa.items() if TABLES.get(name) == sid]
        sections.append(
            {"id": sid, "heading": _(heading), "body": Markup("\n".join(bodies[sid])), "figures": figs, "tables": tabs}
        )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    words = {"contents": _("Contents"), "glance": _("At a glance"), "footer": _("Generated by compval.")}
    return env.from_string(_TEMPLATE).render(
        lang=HTML_LANG.get(active_language(), active_language()),
        words=words,
        title=title,
        subtitle=subtitle,
        css=Markup(CSS + _CSS_LANG.get(active_language(), "")),
        sections=sections,
        glance=Markup("".join(S.glance(summary, names))),
    )
