"""The self-contained HTML validation report and the set of APA tables it shares with ``results/tables/``.

:func:`render_report` is pure: it takes the summary dict (``results/summary.json``, the one source of truth for
every headline number), the tidy result tables (DataFrames read from the pipeline's CSVs) and the figures (PNG
bytes or SVG text) and returns one HTML document with everything embedded as ``data:`` URIs - no network, no
external CSS or JavaScript. Plain-language verdicts stand beside the numbers ("CFI = .998 meets the ≥ .95
criterion"), numbers are formatted the APA way (:func:`compval.tables.format_number`).

:func:`build_tables` turns the result tables into the :class:`compval.tables.ApaTable` objects written to
``results/tables/`` (CSV, Markdown, LaTeX, DOCX); the report renders the same objects as HTML, so a number in a
table is the same in Word and in the report.

Nothing here knows item names, competencies or the number of factors: they come from the inputs.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence

from pathlib import Path

import pandas as pd

from compval import tables as T
from compval.i18n import N_, active_language
from compval.i18n import gettext as _
from compval.tables import ApaTable, format_ci, format_number, format_p

__all__ = [
    "FIGURES",
    "TABLES",
    "SECTIONS",
    "render_report",
    "build_tables",
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

#: Report sections: (anchor id, heading), in order (English; translated when the report is rendered).
SECTIONS = [
    ("sample", N_("Sample and data cleaning")),
    ("descriptives", N_("Item descriptives")),
    ("reliability", N_("Reliability")),
    ("efa", N_("Exploratory factor analysis")),
    ("cfa", N_("Confirmatory factor analysis and model comparison")),
    ("validity", N_("Construct validity")),
    ("criterion", N_("Criterion validity")),
    ("appendix", N_("Appendix: provenance")),
]

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
}


# ============================================================================ formatting and verdicts
def _finite(x) -> bool:
    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_r(x, digits: int = 2) -> str:
    """A quantity bounded by 1, APA style (no leading zero): ``0.8443 -> ".84"``; "n/a" when missing."""
    return format_number(x, digits, leading_zero=False, na=_("n/a"))


def fmt_num(x, digits: int = 2) -> str:
    """Any other number with a leading zero; "n/a" when missing."""
    return format_number(x, digits, na=_("n/a"))


def _fmt_p(p) -> str:
    """``p = .012`` or ``p &lt; .001`` (APA; HTML-escaped, for the report's text)."""
    s = format_p(p, na=_("n/a"))
    return html.escape(f"p {s}" if s.startswith("<") else f"p = {s}")


def _pct(part, whole, digits: int = 1) -> str:
    return format_number(100.0 * float(part) / float(whole), digits) if _finite(part) and whole else _("n/a")


#: Pipeline keys shown through :func:`pretty` (exclusion reasons, CFA models, invariance steps, reliability
#: levels), marked for the catalogue.
_DISPLAY_KEYS = (
    N_("Missing id"),
    N_("Duplicate id"),
    N_("No responses"),
    N_("Careless responding"),
    N_("Too many missing"),
    N_("All missing"),
    N_("Incomplete"),
    N_("Hypothesized"),
    N_("One factor"),
    N_("Modules"),
    N_("Second order"),
    N_("Orthogonal"),
    N_("Parcels"),
    N_("Configural"),
    N_("Metric"),
    N_("Scalar"),
    N_("Strict"),
    N_("Competency"),
    N_("Module"),
)


def pretty(key) -> str:
    """A key as display text: ``"card_sales_volume" -> "Card sales volume"``, translated when the catalogue
    has the text (model names, invariance steps, exclusion reasons); data keys without an entry stay as they are."""
    s = str(key).replace("_", " ").strip()
    return _(s[:1].upper() + s[1:])


_LOWER_IS_BETTER = ("rmsea", "srmr", "rmr")
_INDEX_LABELS = {"cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "nnfi": "NNFI"}


def _cutoff(rule, index: str) -> tuple[str, float]:
    if isinstance(rule, (list, tuple)):
        return str(rule[0]), float(rule[1])
    return ("<=" if any(s in index for s in _LOWER_IS_BETTER) else ">="), float(rule)


def _boot_ci(ci) -> str:
    """ ", 95% CI [lo, hi]" for a bootstrap interval, or "" when there is none."""
    lo, hi = (list(ci or []) + [None, None])[:2]
    return _(" (95% CI {ci})").format(ci=format_ci(lo, hi)) if _finite(lo) and _finite(hi) else ""


def _judged(rec: Mapping, idx: str) -> tuple[str, object]:
    """(name, value) of the version of a fit index the verdict used (robust/scaled under MLR/WLSMV)."""
    key = (rec.get("cutoff_keys") or {}).get(idx, idx)
    return key, rec.get("cutoff_values", {}).get(idx, rec.get(idx))


def _best_label(comp: Mapping, lower: bool = False) -> str:
    """How the best model was chosen: lowest BIC, or highest CFI under WLSMV (no likelihood); ``lower``: the
    run-in form (English lower case, index names kept in other languages)."""
    if comp.get("selection_criterion") == "cfi":
        return _("highest cfi (no likelihood under wlsmv)") if lower else _("Highest CFI (no likelihood under WLSMV)")
    return _("lowest bic") if lower else _("Lowest BIC")


def index_verdict(index: str, value, rule, digits: int = 3) -> tuple[str, bool | None]:
    """``("CFI = .998 meets the ≥ .95 criterion", True)``; ``rule`` is ``(">=", .95)`` or a bare number (the
    direction then follows the index: RMSEA/SRMR lower is better). ``None`` when the value is missing."""
    op, cut = _cutoff(rule, index)
    base, _sep, version = index.partition(".")
    name = _INDEX_LABELS.get(base, base.upper()) + (f" ({version})" if version else "")
    sym = "≥" if op == ">=" else "≤"
    if not _finite(value):
        return _("{index} not available").format(index=name), None
    v = float(value)
    ok = v >= cut if op == ">=" else v <= cut
    text = (
        _("{index} = {value} meets the {sym} {cutoff} criterion")
        if ok
        else _("{index} = {value} does not meet the {sym} {cutoff} criterion")
    )
    return text.format(index=name, value=fmt_r(v, digits), sym=sym, cutoff=fmt_r(cut, 2)), ok


def reliability_verdict(value) -> tuple[str, bool | None]:
    """Nunnally (1978) conventions: ≥ .80 good (decisions about groups and research), ≥ .70 acceptable,
    below .70 insufficient."""
    if not _finite(value):
        return _("not available"), None
    v = float(value)
    if v >= 0.80:
        return _("meets the .80 criterion (good)"), True
    if v >= 0.70:
        return _("meets the .70 criterion (acceptable) but not .80"), True
    return _("does not meet the .70 criterion"), False


def kmo_verdict(value) -> tuple[str, bool | None]:
    """Kaiser (1974) labels for the Kaiser-Meyer-Olkin measure of sampling adequacy."""
    if not _finite(value):
        return _("not available"), None
    v = float(value)
    for cut, label in (
        (0.9, N_("marvelous")),
        (0.8, N_("meritorious")),
        (0.7, N_("middling")),
        (0.6, N_("mediocre")),
        (0.5, N_("miserable")),
    ):
        if v >= cut:
            return _("{label} (Kaiser, 1974); the data are suitable for factor analysis").format(
                label=_(label)
            ), v >= 0.6
    return _("unacceptable (Kaiser, 1974); the data are not suitable for factor analysis"), False


def congruence_verdict(value) -> tuple[str, bool | None]:
    """Tucker congruence (Lorenzo-Seva & ten Berge 2006): ≥ .95 equal, .85-.94 fair similarity, else not."""
    if not _finite(value):
        return _("not available"), None
    v = float(value)
    if v >= 0.95:
        return _("the factors can be considered equal (≥ .95)"), True
    if v >= 0.85:
        return _("fair similarity (.85–.94)"), True
    return _("not similar (< .85)"), False


def htmt_verdict(value) -> tuple[str, bool | None]:
    """Henseler et al. (2015): below .85 discriminant, .85-.90 questionable, from .90 not discriminant."""
    if not _finite(value):
        return _("not available"), None
    v = float(value)
    if v < 0.85:
        return _("below .85: discriminant"), True
    if v < 0.90:
        return _("between .85 and .90: questionable"), False
    return _("at least .90: not discriminant"), False


# ============================================================================ HTML pieces
def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _badge(ok: bool | None) -> str:
    if ok is None:
        return '<span class="badge na">' + _("info") + "</span>"
    return (
        ('<span class="badge ok">' + _("✓ meets") + "</span>")
        if ok
        else ('<span class="badge fail">' + _("✗ fails") + "</span>")
    )


def _missing(text: str) -> str:
    return f"<p class='missing'>{text}</p>"


def _verdict_li(text_html: str, ok: bool | None) -> str:
    return f"<li>{_badge(ok)} {text_html}</li>"


def apa_table_html(table: ApaTable, number: int | None = None) -> str:
    """An :class:`ApaTable` as an HTML ``<table>`` with the APA number, italic title and note."""
    body = table.formatted()
    cols = table.columns
    num = number if number is not None else table.number
    out = ['<div class="apa">']
    if num is not None:
        out.append(f'<p class="tabnum">{_e(_("Table {number}").format(number=num))}</p>')
    out.append(f'<p class="tabtitle">{_e(table.title)}</p>')
    out.append("<table><thead><tr>")
    for c in cols:
        cls = ' class="num"' if table._is_numeric(c) else ""
        out.append(f"<th{cls}>{_e(table.heading(c))}</th>")
    out.append("</tr></thead><tbody>")
    for g, rows in table._blocks():
        if g is not None:
            out.append(f'<tr class="grp"><td colspan="{len(cols)}">{_e(g)}</td></tr>')
        for idx in rows:
            out.append("<tr>")
            for c in cols:
                v = _e(body.at[idx, c])
                cls = ' class="num"' if table._is_numeric(c) else ""
                out.append(f"<td{cls}>{'<b>' + v + '</b>' if v and table._bold(idx, c) else v}</td>")
            out.append("</tr>")
    out.append("</tbody></table>")
    if table.note:
        out.append('<p class="note"><i>' + _("Note.") + f"</i> {_e(table.note)}</p>")
    out.append("</div>")
    return "".join(out)


def figure_src(data: bytes | str) -> str:
    """A ``data:`` URI for a PNG (bytes) or an SVG (text or bytes)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        mime = "image/png"
    elif b"<svg" in data[:4096]:
        mime = "image/svg+xml"
    else:
        raise ValueError("figure is neither PNG nor SVG")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


_SCREEN_SCALE = 1.35  # figures are drawn at journal size; shown a little larger on screen


def figure_width_px(data: bytes | str) -> int | None:
    """On-screen width (CSS px) of a figure: its physical width (SVG ``width`` in pt/in/px, or PNG pixels
    over its pHYs resolution, 300 dpi when absent) at 96 px per inch, times a screen scale of 1.35."""
    import re
    import struct

    if isinstance(data, str):
        data = data.encode("utf-8")
    inches = None
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        w_px = struct.unpack(">I", data[16:20])[0]
        dpi = 300.0
        k = data.find(b"pHYs", 0, 4096)
        if k > 0:
            ppm = struct.unpack(">I", data[k + 4 : k + 8])[0]
            if data[k + 12] == 1 and ppm:
                dpi = ppm * 0.0254
        inches = w_px / dpi
    else:
        m = re.search(rb"<svg[^>]*?\swidth=\"([\d.]+)(pt|px|in)?\"", data[:4096])
        if m:
            v = float(m.group(1))
            inches = v / {b"pt": 72.0, b"in": 1.0}.get(m.group(2), 96.0)
    return round(inches * 96 * _SCREEN_SCALE) if inches else None


# ============================================================================ names
def _names(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Competency and module key -> display name, from the codebook table when given."""
    cb = tables.get("codebook")
    out: dict[str, str] = {}
    if cb is not None:
        for level in ("competency", "module"):
            if level in cb and f"{level}_name" in cb:
                out.update(dict(zip(cb[level].astype(str), cb[f"{level}_name"].astype(str))))
    return out


def _groups(tables: Mapping[str, pd.DataFrame]) -> dict[str, list[str]]:
    cb = tables.get("codebook")
    if cb is None or "competency" not in cb:
        return {}
    out: dict[str, list[str]] = {}
    for k, i in zip(cb["competency"].astype(str), cb["item"].astype(str)):
        out.setdefault(k, []).append(i)
    return out


def _name(names: Mapping[str, str], key) -> str:
    return names.get(str(key), pretty(key))


# ============================================================================ the APA tables
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
    "item_missingness": "item_missingness",
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
    ``factor_correlations``, ``htmt``, ``invariance``, ``criterion_correlations``, ``regression``.
    Tables are numbered consecutively in the order they appear.
    """
    names = _names(tables)
    groups = _groups(tables)
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
            rename = {str(e): f"{e} ({_name(names, f)})" for f, e in zip(m["factor"], m["efa_factor"])}
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
        out["regression"] = _regression_table(reg)
    for k, t in enumerate(out.values(), start=1):
        t.number = k
    return out


def _regression_table(reg: pd.DataFrame) -> ApaTable:
    cols = [
        c
        for c in [
            "criterion",
            "n",
            "r2_controls",
            "r2_full",
            "delta_r2",
            "f_change",
            "df1",
            "df2",
            "p_delta",
            "p_delta_hc3",
        ]
        if c in reg.columns
    ]
    df = reg[cols].copy()
    df["criterion"] = [pretty(c) for c in df["criterion"]]
    labels = {
        "criterion": _("Criterion"),
        "n": "n",
        "r2_controls": _("R² (controls)"),
        "r2_full": _("R² (full)"),
        "delta_r2": "ΔR²",
        "f_change": _("F change"),
        "df1": "df1",
        "df2": "df2",
        "p_delta": "p",
        "p_delta_hc3": "p (HC3)",
    }
    formats = {
        "criterion": "text",
        "n": "int",
        "r2_controls": "r",
        "r2_full": "r",
        "delta_r2": "r",
        "f_change": "f2",
        "df1": "int",
        "df2": "int",
        "p_delta": "p",
        "p_delta_hc3": "p",
    }
    note = _(
        "Hierarchical regression: step 1 the control variables, step 2 adds the competency scores. ΔR² is "
        "the variance the competencies explain beyond the controls, tested with the F change; p (HC3) uses "
        "heteroscedasticity-consistent standard errors (MacKinnon & White, 1985)."
    )
    return ApaTable(
        _("Incremental Validity of the Competency Scores"), df, formats, note, labels=labels, label="tab:regression"
    )


# ============================================================================ sections
def _section_sample(s: Mapping, tables: Mapping) -> list[str]:
    out = []
    n_raw, n_an = s.get("n_raw"), s.get("n_analyzed")
    excl = dict(s.get("excluded") or {})
    n_ex = sum(int(v) for v in excl.values())
    parts = _(", ").join(f"{_e(pretty(k).lower())} (n = {int(v)})" for k, v in excl.items()) or _("none")
    out.append(
        _(
            "<p>Of <b>{n_raw}</b> survey records received, <b>{n_analyzed}</b> ({pct}%) were analysed "
            "and {n_excluded} were excluded: {reasons}.</p>"
        ).format(n_raw=n_raw, n_analyzed=n_an, pct=_pct(n_an, n_raw), n_excluded=n_ex, reasons=parts)
    )
    ok = n_raw is not None and n_an is not None and int(n_raw) == int(n_an) + n_ex
    items = [
        _verdict_li(
            _("Conservation: received = analysed + excluded ({n_raw} = {n_analyzed} + {n_excluded})").format(
                n_raw=n_raw, n_analyzed=n_an, n_excluded=n_ex
            )
            + ("" if ok else _(" does <b>not</b> hold")),
            ok,
        )
    ]
    perf = s.get("performance")
    if perf:
        items.append(
            _verdict_li(
                _(
                    "{matched} analysed respondents were matched to one of {n_records} performance records; "
                    "{survey_only} analysed respondents have no performance record and {performance_only} performance "
                    "records have no analysed survey"
                ).format(
                    matched=perf.get("matched"),
                    n_records=perf.get("n_performance_records"),
                    survey_only=perf.get("survey_only"),
                    performance_only=perf.get("performance_only"),
                )
                + (
                    _(" ({n} of them belong to excluded respondents)").format(n=perf.get("performance_of_excluded"))
                    if perf.get("performance_of_excluded") is not None
                    else ""
                )
                + _("."),
                None,
            )
        )
    out.append("<ul class='verdicts'>" + "".join(items) + "</ul>")
    mcar = s.get("little_mcar") or (s.get("missingness") or {}).get("little_mcar")
    if mcar:
        sig = _finite(mcar.get("p")) and float(mcar["p"]) < 0.05
        out.append(
            _("<p>Little's (1988) MCAR test: χ²({df}) = {chi2}, {p}; the data are {verdict}.</p>").format(
                df=mcar.get("df"),
                chi2=fmt_num(mcar.get("chi2")),
                p=_fmt_p(mcar.get("p")),
                verdict=_("<b>not</b> missing completely at random") if sig else _("consistent with MCAR"),
            )
        )
    miss = tables.get("item_missingness")
    if miss is not None and len(miss) and "share_missing" in miss:
        top = miss.sort_values(["share_missing", "item"], ascending=[False, True]).head(10)
        t = ApaTable(
            _("Items With the Most Missing Answers"),
            top[["item", "n_missing", "share_missing"]].reset_index(drop=True),
            {"item": "text", "n_missing": "int", "share_missing": "pct1"},
            note=_(
                "Missing answers among respondents after ingest, before the careless-responding screen; the "
                "ten items with the highest share."
            ),
            labels={"item": _("Item"), "n_missing": _("Missing (n)"), "share_missing": _("Missing %")},
        )
        out.append(apa_table_html(t))
    return out


def _section_reliability(s: Mapping, names: Mapping) -> list[str]:
    rel = s.get("reliability") or {}
    if not rel:
        return [_missing(_("No reliability results."))]
    items = []
    for key, r in rel.items():
        lo, hi = (r.get("alpha_ci") or [None, None])[:2]
        text, ok = reliability_verdict(r.get("alpha"))
        items.append(
            _verdict_li(
                _(
                    "<b>{name}</b> ({n_items} items): α = {alpha}, 95% CI {ci}, ω<sub>t</sub> = {omega_t}, "
                    "ω<sub>h</sub> = {omega_h}{omega_h_ci} — α {verdict}"
                ).format(
                    name=_e(_name(names, key)),
                    n_items=r.get("n_items"),
                    alpha=fmt_r(r.get("alpha")),
                    ci=format_ci(lo, hi, na=_("n/a")),
                    omega_t=fmt_r(r.get("omega_total")),
                    omega_h=fmt_r(r.get("omega_hierarchical")),
                    omega_h_ci=_boot_ci(r.get("omega_hierarchical_ci")),
                    verdict=text,
                ),
                ok,
            )
        )
    n_ok = sum(1 for r in rel.values() if _finite(r.get("alpha")) and float(r["alpha"]) >= 0.70)
    return [
        _("<p>{n_ok} of {n} competency scales reach Cronbach's α ≥ .70.</p>").format(n_ok=n_ok, n=len(rel)),
        "<ul class='verdicts'>" + "".join(items) + "</ul>",
    ]


def _section_efa(s: Mapping, names: Mapping) -> list[str]:
    e = s.get("efa") or {}
    if not e:
        return [_missing(_("No EFA results."))]
    out = []
    kmo_text, kmo_ok = kmo_verdict(e.get("kmo"))
    bart_ok = _finite(e.get("bartlett_p")) and float(e["bartlett_p"]) < 0.05
    cong = dict(e.get("congruence") or {})
    k_hyp = len(cong) or None
    items = [
        _verdict_li(_("KMO = {kmo}: {verdict}.").format(kmo=fmt_r(e.get("kmo")), verdict=kmo_text), kmo_ok),
        _verdict_li(
            (
                _(
                    "Bartlett's test of sphericity: χ²({df}) = {chi2}, {p} — the correlation matrix differs "
                    "from an identity matrix."
                )
                if bart_ok
                else _(
                    "Bartlett's test of sphericity: χ²({df}) = {chi2}, {p} — the correlation matrix does not "
                    "differ from an identity matrix."
                )
            ).format(df=e.get("bartlett_df"), chi2=fmt_num(e.get("bartlett_chi2")), p=_fmt_p(e.get("bartlett_p"))),
            bart_ok,
        ),
    ]
    for key, label in (
        ("n_factors_parallel", _("Parallel analysis (Horn, 1965)")),
        ("n_factors_map", _("Velicer's MAP")),
        ("n_factors_map4", "MAP (r⁴)"),
    ):
        if key in e:
            n = e.get(key)
            ok = None if k_hyp is None or n is None else int(n) == k_hyp
            items.append(
                _verdict_li(
                    _("{criterion} suggests <b>{n}</b> factors").format(criterion=label, n=n)
                    + (_("; the codebook hypothesises {k}").format(k=k_hyp) if k_hyp else "")
                    + _("."),
                    ok,
                )
            )
    out.append(
        _(
            "<p>{method} extraction of <b>{k}</b> factors on n = {n} respondents; each hypothesised "
            "competency is matched to the EFA factor with the highest Tucker congruence.</p>"
        ).format(method=_e(str(e.get("method", "")).upper() or _("The")), k=e.get("n_factors_extracted"), n=e.get("n"))
    )
    out.append("<ul class='verdicts'>" + "".join(items) + "</ul>")
    if cong:
        ci = []
        for key, v in cong.items():
            text, ok = congruence_verdict(v)
            ci.append(
                _verdict_li(
                    _("<b>{name}</b>: congruence = {value} — {verdict}").format(
                        name=_e(_name(names, key)), value=fmt_r(v), verdict=text
                    ),
                    ok,
                )
            )
        out.append("<ul class='verdicts'>" + "".join(ci) + "</ul>")
    return out


#: The model-comparison verdicts of :func:`compval.comparison.comparison_tables` (translated for display).
_VERDICTS = (N_("supported"), N_("not supported"))


def _verdict_word(verdict) -> str:
    return _(verdict) if verdict in _VERDICTS else str(verdict)


def _cfa_models(cfa: Mapping) -> list[str]:
    return [k for k, v in cfa.items() if k != "comparison" and isinstance(v, Mapping)]


def _section_cfa(s: Mapping, names: Mapping) -> list[str]:
    cfa = s.get("cfa") or {}
    if not cfa:
        return [_missing(_("No CFA results."))]
    comp = cfa.get("comparison") or {}
    ref = comp.get("reference", "hypothesized")
    cut = comp.get("cutoffs") or {"cfi": [">=", 0.95], "tli": [">=", 0.95], "rmsea": ["<=", 0.06], "srmr": ["<=", 0.08]}
    h = cfa.get(ref) or {}
    out = []
    if h:
        out.append(
            _(
                "<p>The hypothesised model ({model}): χ²({df}) = {chi2}, {p}; RMSEA 90% CI {ci}; "
                "{converged}{status}.</p>"
            ).format(
                model=_e(pretty(ref)),
                df=h.get("df"),
                chi2=fmt_num(h.get("chisq")),
                p=_fmt_p(h.get("pvalue")),
                ci=format_ci(h.get("rmsea_ci_lower"), h.get("rmsea_ci_upper"), 3, na=_("n/a")),
                converged=_("converged") if h.get("converged") else _("<b>did not converge</b>"),
                status="" if h.get("status") in (None, "ok") else " (" + _e(h.get("status")) + ")",
            )
        )
        items = []
        for idx, rule in cut.items():
            text, ok = index_verdict(*_judged(h, idx), rule)
            items.append(_verdict_li(_e(text) + _("."), ok))
        out.append("<ul class='verdicts'>" + "".join(items) + "</ul>")
        loads = [v for f in (h.get("loadings_std") or {}).values() for v in f.values() if _finite(v)]
        if loads:
            n_low = sum(1 for v in loads if abs(v) < 0.50)
            out.append(
                _(
                    "<p>Standardized loadings range from {low} to {high}; {n_ok} of {n} reach .50 "
                    "({which}; Hair et al., 2019).</p>"
                ).format(
                    low=fmt_r(min(loads)),
                    high=fmt_r(max(loads)),
                    n_ok=len(loads) - n_low,
                    n=len(loads),
                    which=_("all") if n_low == 0 else _("{n} below").format(n=n_low),
                )
            )
    rivals = [m for m in _cfa_models(cfa) if m != ref]
    if rivals:
        rows = []
        for m in [ref] + rivals:
            v = cfa[m]
            rows.append(
                f"<tr><td>{_e(pretty(m))}</td><td class='num'>{fmt_r(v.get('cfi'), 3)}</td>"
                f"<td class='num'>{fmt_r(v.get('rmsea'), 3)}</td><td class='num'>{fmt_r(v.get('srmr'), 3)}</td>"
                f"<td class='num'>{fmt_num(v.get('bic'), 1)}</td>"
                "<td>" + (_("yes") if v.get("meets_cutoffs") else _("no")) + "</td></tr>"
            )
        out.append(
            "<table class='compact'><thead><tr><th>" + _("Model") + "</th><th class='num'>CFI</th>"
            "<th class='num'>RMSEA</th><th class='num'>SRMR</th><th class='num'>BIC</th>"
            "<th>" + _("Meets cut-offs") + "</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
    if comp:
        pref = comp.get("reference_preferred_over_all_rivals")
        meets = comp.get("reference_meets_cutoffs")
        out.append(
            "<ul class='verdicts'>"
            + _verdict_li(
                _(
                    "{criterion}: <b>{best}</b>. The hypothesised model {meets} the cut-offs and is {preferred}; "
                    "overall verdict: <b>{verdict}</b>."
                ).format(
                    criterion=_best_label(comp),
                    best=_e(pretty(comp.get("best_model", comp.get("best_bic")))),
                    meets=_("meets") if meets else _("does not meet"),
                    preferred=_("preferred over every rival") if pref else _("not preferred over every rival"),
                    verdict=_e(_verdict_word(comp.get("verdict"))),
                ),
                bool(pref) if pref is not None else None,
            )
            + "</ul>"
        )
        for m, hrec in (comp.get("higher_order") or {}).items():
            if not hrec.get("comparable"):
                continue
            t = hrec.get("target_coefficient")
            out.append(
                _(
                    "<p>The {model} model keeps the hypothesised factors and explains their correlations by "
                    "higher-order factors: Δχ²({df}) = {chi2}, {p}, ΔBIC = {delta_bic}; target coefficient T = {t} "
                    "(Marsh &amp; Hocevar, 1985: the share of the first-order factors' covariation the higher-order "
                    "factors account for).</p>"
                ).format(
                    model=_e(pretty(m).lower()),
                    df=fmt_num(hrec.get("df_diff"), 0),
                    chi2=fmt_num(hrec.get("chisq_diff")),
                    p=_fmt_p(hrec.get("pvalue")),
                    delta_bic=fmt_num(hrec.get("delta_bic"), 1),
                    t=fmt_r(t, 3),
                )
            )
    return out


def _pair(key: str) -> tuple[str, str]:
    a, _sep, b = str(key).partition("~~")
    return a, b


def _section_validity(s: Mapping, names: Mapping) -> list[str]:
    v = s.get("validity") or {}
    if not v:
        return [_missing(_("No construct-validity results."))]
    out = []
    facs = {k: r for k, r in v.items() if k not in ("htmt", "invariance") and isinstance(r, Mapping)}
    items = []
    for k, r in facs.items():
        cr, ave = r.get("cr"), r.get("ave")
        ok_cr = _finite(cr) and float(cr) >= 0.70
        ok_ave = _finite(ave) and float(ave) >= 0.50
        items.append(
            _verdict_li(
                _(
                    "<b>{name}</b>: CR = {cr} {meets_cr} the ≥ .70 criterion; AVE = {ave} {meets_ave} the ≥ .50 criterion "
                    "(Fornell & Larcker, 1981)"
                ).format(
                    name=_e(_name(names, k)),
                    cr=fmt_r(cr),
                    meets_cr=_("meets") if ok_cr else _("does not meet"),
                    ave=fmt_r(ave),
                    meets_ave=_("meets") if ok_ave else _("does not meet"),
                ),
                ok_cr and ok_ave,
            )
        )
    if items:
        out.append("<h3>" + _("Convergent validity") + "</h3><ul class='verdicts'>" + "".join(items) + "</ul>")
    # Fornell-Larcker from the CFA factor correlations and the AVEs, both in the summary
    cors = ((s.get("cfa") or {}).get("hypothesized") or {}).get("factor_correlations") or {}
    fl = []
    for key, r in cors.items():
        a, b = _pair(key)
        if a in facs and b in facs and _finite(r) and _finite(facs[a].get("ave")) and _finite(facs[b].get("ave")):
            fl.append((a, b, float(r), min(float(facs[a]["ave"]), float(facs[b]["ave"])) > float(r) ** 2))
    if fl:
        bad = [f"{_e(_name(names, a))}–{_e(_name(names, b))} (r = {fmt_r(r)})" for a, b, r, ok in fl if not ok]
        out.append(
            "<h3>"
            + _("Discriminant validity")
            + "</h3><ul class='verdicts'>"
            + _verdict_li(
                _(
                    "Fornell–Larcker: {n_ok} of {n} factor pairs have both AVEs above the squared latent correlation"
                ).format(n_ok=len(fl) - len(bad), n=len(fl))
                + (_("; fails for {pairs}").format(pairs=_(", ").join(bad)) if bad else "")
                + _("."),
                not bad,
            )
            + "</ul>"
        )
    ht = {k: x for k, x in (v.get("htmt") or {}).items() if _finite(x)}
    if ht:
        worst = max(ht, key=lambda k: ht[k])
        n_ok = sum(1 for x in ht.values() if x < 0.85)
        a, b = _pair(worst)
        text, ok = htmt_verdict(ht[worst])
        if not fl:
            out.append("<h3>" + _("Discriminant validity") + "</h3>")
        out.append(
            "<ul class='verdicts'>"
            + _verdict_li(
                _(
                    "HTMT (Henseler et al., 2015): {n_ok} of {n} pairs below .85; the largest is {a}–{b} with HTMT = "
                    "{value}, {verdict}."
                ).format(
                    n_ok=n_ok,
                    n=len(ht),
                    a=_e(_name(names, a)),
                    b=_e(_name(names, b)),
                    value=fmt_r(ht[worst]),
                    verdict=text,
                ),
                ok,
            )
            + "</ul>"
        )
    inv = v.get("invariance") or {}
    steps = [(k, r) for k, r in inv.items() if isinstance(r, Mapping)]
    if steps:
        vcfg = ((s.get("provenance") or {}).get("config") or {}).get("validity") or {}
        chen = _("Chen, 2007: ΔCFI ≥ −{delta_cfi}, ΔRMSEA ≤ {delta_rmsea}").format(
            delta_cfi=fmt_r(vcfg.get("delta_cfi", 0.010), 3), delta_rmsea=fmt_r(vcfg.get("delta_rmsea", 0.015), 3)
        )
        it = []
        for k, r in steps:
            if r.get("status") not in (None, "ok") and not _finite(r.get("cfi")):
                it.append(
                    _verdict_li(
                        _("<b>{step}</b>: could not be estimated ({status})").format(
                            step=_e(pretty(k)), status=_e(str(r.get("status")))
                        ),
                        False,
                    )
                )
            elif not _finite(r.get("delta_cfi")):
                it.append(
                    _verdict_li(
                        _("<b>{step}</b>: CFI = {cfi}, RMSEA = {rmsea} (baseline)").format(
                            step=_e(pretty(k)), cfi=fmt_r(r.get("cfi"), 3), rmsea=fmt_r(r.get("rmsea"), 3)
                        ),
                        None,
                    )
                )
            else:
                it.append(
                    _verdict_li(
                        (
                            _(
                                "<b>{step}</b>: CFI = {cfi}, ΔCFI = {delta_cfi}, RMSEA = {rmsea}, ΔRMSEA = {delta_rmsea} — "
                                "invariance holds ({rule})"
                            )
                            if r.get("holds")
                            else _(
                                "<b>{step}</b>: CFI = {cfi}, ΔCFI = {delta_cfi}, RMSEA = {rmsea}, ΔRMSEA = {delta_rmsea} — "
                                "invariance does not hold ({rule})"
                            )
                        ).format(
                            step=_e(pretty(k)),
                            cfi=fmt_r(r.get("cfi"), 3),
                            delta_cfi=fmt_r(r.get("delta_cfi"), 3),
                            rmsea=fmt_r(r.get("rmsea"), 3),
                            delta_rmsea=fmt_r(r.get("delta_rmsea"), 3),
                            rule=chen,
                        ),
                        bool(r.get("holds")),
                    )
                )
        ff = inv.get("first_failing_step")
        out.append(
            _("<h3>Measurement invariance across {group}</h3>").format(
                group=_e(pretty(inv.get("group", "groups")).lower())
            )
            + "<ul class='verdicts'>"
            + "".join(it)
            + "</ul>"
            + "<p>"
            + (_("All steps hold.") if not ff else _("First failing step: <b>{step}</b>.").format(step=_e(pretty(ff))))
            + "</p>"
        )
    return out


def _section_criterion(s: Mapping, names: Mapping) -> list[str]:
    c = s.get("criterion") or {}
    crits = {
        k: x
        for k, x in c.items()
        if k not in ("regression", "dominance", "missing", "latent_regression") and isinstance(x, Mapping)
    }
    if not crits:
        return [_missing(_("No criterion-validity results (no performance data configured)."))]
    out = []
    reg = c.get("regression") or {}
    dom = c.get("dominance") or {}
    miss = c.get("missing") or {}
    for crit, comps in crits.items():
        rs = {k: x for k, x in comps.items() if isinstance(x, Mapping) and _finite(x.get("r"))}
        items = []
        if rs:
            best = max(rs, key=lambda k: abs(rs[k]["r"]))
            n_sig = sum(1 for x in rs.values() if _finite(x.get("p_fdr")) and float(x["p_fdr"]) < 0.05)
            b = rs[best]
            items.append(
                _verdict_li(
                    _(
                        "{n_sig} of {n} competencies correlate significantly with the criterion (Benjamini–Hochberg "
                        "adjusted p &lt; .05); strongest: {name}, r = {r}, 95% CI {ci}, {p} (adjusted)."
                    ).format(
                        n_sig=n_sig,
                        n=len(rs),
                        name=_e(_name(names, best)),
                        r=fmt_r(b["r"]),
                        ci=format_ci(b.get("ci_lower"), b.get("ci_upper"), na=_("n/a")),
                        p=_fmt_p(b.get("p_fdr")),
                    ),
                    n_sig > 0,
                )
            )
        g = reg.get(crit)
        if g:
            sig = _finite(g.get("p_delta")) and float(g["p_delta"]) < 0.05
            items.append(
                _verdict_li(
                    _(
                        "Incremental validity: the competencies add ΔR² = {delta_r2} beyond the controls (R² from "
                        "{r2_controls} to {r2_full}), {p}."
                    ).format(
                        delta_r2=fmt_r(g.get("delta_r2")),
                        r2_controls=fmt_r(g.get("r2_controls")),
                        r2_full=fmt_r(g.get("r2_full")),
                        p=_fmt_p(g.get("p_delta")),
                    ),
                    sig,
                )
            )
        d = {k: x for k, x in (dom.get(crit) or {}).items() if _finite(x)}
        if d:
            top = max(d, key=lambda k: d[k])
            items.append(
                _verdict_li(
                    _("Most important competency by general dominance: {name} (weight = {w}).").format(
                        name=_e(_name(names, top)), w=fmt_r(d[top], 3)
                    ),
                    None,
                )
            )
        lat = (c.get("latent_regression") or {}).get(crit) or {}
        if lat and _finite(lat.get("r2")):
            betas = {k: v for k, v in (lat.get("betas") or {}).items() if _finite(v)}
            top_b = max(betas, key=lambda k: abs(betas[k])) if betas else None
            items.append(
                _verdict_li(
                    _("Latent structural regression (measurement error removed): R² = {r2}").format(
                        r2=fmt_r(lat.get("r2"))
                    )
                    + (
                        _("; largest standardized β: {name} = {beta}").format(
                            name=_e(_name(names, top_b)), beta=fmt_r(betas[top_b])
                        )
                        if top_b
                        else ""
                    )
                    + (
                        ""
                        if lat.get("status") in (None, "ok")
                        else _(" (status: {status})").format(status=_e(str(lat.get("status"))))
                    )
                    + _("."),
                    None,
                )
            )
        m = miss.get(crit) or {}
        n_txt = (
            f" (n = {m.get('n_valid')}"
            + (_("; {n} without a value)").format(n=m.get("n_missing")) if m.get("n_missing") else ")")
            if m
            else ""
        )
        out.append(f"<h3>{_e(pretty(crit))}{n_txt}</h3><ul class='verdicts'>" + "".join(items) + "</ul>")
    fs = s.get("criterion_factor_scores") or {}
    fs_reg = {k: g for k, g in (fs.get("regression") or {}).items() if isinstance(g, Mapping)}
    if fs_reg:
        rows = []
        for crit, g in fs_reg.items():
            mean_dr2 = (reg.get(crit) or {}).get("delta_r2")
            rows.append(
                _("{criterion}: ΔR² = {delta_r2}, {p} (mean scores: {mean_delta_r2})").format(
                    criterion=_e(pretty(crit)),
                    delta_r2=fmt_r(g.get("delta_r2")),
                    p=_fmt_p(g.get("p_delta")),
                    mean_delta_r2=fmt_r(mean_dr2),
                )
            )
        out.append(
            _("<p>Robustness with CFA factor scores instead of mean scores: {results}.</p>").format(
                results=_("; ").join(rows)
            )
        )
    return out


def _section_appendix(s: Mapping, run_date: str | None) -> list[str]:
    p = s.get("provenance") or {}
    rows = [
        (_("Run date"), run_date or _("not recorded")),
        ("Python", p.get("python")),
        (_("Platform"), p.get("platform")),
        (_("Seed"), p.get("seed")),
        (_("Codebook SHA-256"), p.get("codebook_sha256")),
    ]
    for k, h in (p.get("inputs_sha256") or {}).items():
        rows.append((_("Raw data SHA-256 ({name})").format(name=k), h))
    out = [
        "<table class='compact prov'><tbody>"
        + "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in rows)
        + "</tbody></table>"
    ]
    pk = p.get("packages") or {}
    if pk:
        out.append(
            "<h3>"
            + _("Software versions")
            + "</h3><table class='compact'><thead><tr><th>"
            + _("Package")
            + "</th><th>"
            + _("Version")
            + "</th></tr></thead><tbody>"
            + "".join(f"<tr><td>{_e(k)}</td><td><code>{_e(v)}</code></td></tr>" for k, v in pk.items())
            + "</tbody></table>"
        )
    if p.get("config") is not None:
        out.append(
            "<h3>"
            + _("Configuration")
            + "</h3><pre>"
            + _e(json.dumps(p["config"], indent=2, ensure_ascii=False, default=str))
            + "</pre>"
        )
    out.append(
        _(
            "<p>Every headline number in this report is read from <code>results/summary.json</code>; the "
            "tables come from the CSV files under <code>results/</code>. The run date above is the only "
            "element that differs between two runs on the same inputs.</p>"
        )
    )
    return out


# ============================================================================ glance
def _glance(s: Mapping, names: Mapping) -> list[str]:
    items = []
    if s.get("n_raw") is not None:
        items.append(
            _verdict_li(
                _("Analysed sample: n = {n_analyzed} of {n_raw} records.").format(
                    n_analyzed=s.get("n_analyzed"), n_raw=s.get("n_raw")
                ),
                None,
            )
        )
    rel = s.get("reliability") or {}
    if rel:
        alphas = [r.get("alpha") for r in rel.values() if _finite(r.get("alpha"))]
        if alphas:
            ok = min(alphas) >= 0.70
            items.append(
                _verdict_li(
                    _("Reliability: α from {low} to {high} across {n} competencies ({which} ≥ .70).").format(
                        low=fmt_r(min(alphas)),
                        high=fmt_r(max(alphas)),
                        n=len(alphas),
                        which=_("all") if ok else _("not all"),
                    ),
                    ok,
                )
            )
    cfa = s.get("cfa") or {}
    comp = cfa.get("comparison") or {}
    h = cfa.get(comp.get("reference", "hypothesized")) or {}
    if h:
        cut = comp.get("cutoffs") or {"cfi": [">=", 0.95], "rmsea": ["<=", 0.06]}
        parts = [index_verdict(*_judged(h, k), r) for k, r in cut.items()]
        items.append(
            _verdict_li(
                "CFA: " + _("; ").join(_e(t) for t, _ok in parts) + _("."),
                all(ok for _t, ok in parts) if parts else None,
            )
        )
    if comp.get("verdict"):
        items.append(
            _verdict_li(
                _("Model comparison verdict: <b>{verdict}</b> ({criterion}: {best}).").format(
                    verdict=_e(_verdict_word(comp["verdict"])),
                    criterion=_best_label(comp, lower=True),
                    best=_e(pretty(comp.get("best_model", comp.get("best_bic")))),
                ),
                comp.get("reference_preferred_over_all_rivals"),
            )
        )
    ht = [x for x in ((s.get("validity") or {}).get("htmt") or {}).values() if _finite(x)]
    if ht:
        text, ok = htmt_verdict(max(ht))
        items.append(
            _verdict_li(
                _("Discriminant validity: largest HTMT = {value}, {verdict}.").format(
                    value=fmt_r(max(ht)), verdict=text
                ),
                ok,
            )
        )
    reg = (s.get("criterion") or {}).get("regression") or {}
    if reg:
        d = {k: g.get("delta_r2") for k, g in reg.items() if _finite(g.get("delta_r2"))}
        if d:
            items.append(
                _verdict_li(
                    _("Criterion validity: ΔR² beyond controls {results}.").format(
                        results=_(", ").join(f"{_e(pretty(k))} {fmt_r(v)}" for k, v in d.items())
                    ),
                    None,
                )
            )
    return ["<ul class='verdicts glance'>" + "".join(items) + "</ul>"] if items else []


# ============================================================================ page
_CSS = """
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

    names = _names(tables)
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
        "sample": _section_sample(summary, tables),
        "descriptives": [
            _(
                "<p>{n_items} items in {n_scales} competencies; descriptives of the analysed sample "
                "(reverse-keyed items as answered).</p>"
            ).format(n_items=sum(int(r.get("n_items", 0)) for r in rel.values()), n_scales=len(rel))
        ],
        "reliability": _section_reliability(summary, names),
        "efa": _section_efa(summary, names),
        "cfa": _section_cfa(summary, names),
        "validity": _section_validity(summary, names),
        "criterion": _section_criterion(summary, names),
        "appendix": _section_appendix(summary, run_date),
    }
    fig_number = 0
    sections = []
    known = set(FIGURES)
    for sid, heading in SECTIONS:
        figs = []
        for stem, (sec, cap) in FIGURES.items():
            if sec == sid and stem in figures:
                fig_number += 1
                figs.append(
                    {
                        "id": stem,
                        "src": figure_src(figures[stem]),
                        "alt": _(cap),
                        "caption": _(cap),
                        "label": _("Figure {number}.").format(number=fig_number),
                        "width": figure_width_px(figures[stem]),
                    }
                )
        if sid == "appendix":
            for stem in figures:
                if stem not in known:
                    fig_number += 1
                    figs.append(
                        {
                            "id": stem,
                            "src": figure_src(figures[stem]),
                            "alt": pretty(stem),
                            "caption": pretty(stem),
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
        css=Markup(_CSS + _CSS_LANG.get(active_language(), "")),
        sections=sections,
        glance=Markup("".join(_glance(summary, names))),
    )


# ============================================================================ sample-size planning (power)
def render_power_section(tables: Mapping[str, pd.DataFrame], figure_svg: str, meta: Mapping) -> str:
    """The sample-size planning section (``results/power/report_section.html``) as a self-contained HTML page
    with one ``<section id="power">``: the smallest N reaching each target, the figure, and power, cut-off
    attainment, parameter recovery and convergence by N (tables from :func:`compval.power.summarise` and
    :func:`compval.power.smallest_n`). Pure: no file access."""

    def table(df: pd.DataFrame, cols: list, heads: list, digits: dict) -> str:
        out = ['<table class="compact"><thead><tr>']
        out += [f"<th{' class=num' if c in digits else ''}>{_e(h)}</th>" for c, h in zip(cols, heads)]
        out.append("</tr></thead><tbody>")
        for _i, r in df.iterrows():
            cells = []
            for c in cols:
                v = r[c]
                txt = (
                    ("–" if not _finite(v) else f"{float(v):.{digits[c]}f}")
                    if c in digits
                    else _INDEX_LABELS.get(v, pretty(v))
                )
                cells.append(f"<td{' class=num' if c in digits else ''}>{_e(txt)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table>")
        return "".join(out)

    small = tables["smallest_n"]
    items = []
    for r in small.itertuples(index=False):
        reached = _finite(r.smallest_n)
        text = (
            f"{_e(r.criterion)} ≥ {r.target:.2f}: smallest N = <b>{int(r.smallest_n)}</b> ({r.value_at_smallest_n:.2f})"
            if reached
            else f"{_e(r.criterion)} ≥ {r.target:.2f}: not reached at any N simulated"
        )
        items.append(_verdict_li(text, reached))
    par = tables["parameters"]
    if len(par):
        par = par.groupby("n", as_index=False).agg(
            mean_abs_relative_bias=("relative_bias", lambda x: x.abs().mean()),
            mean_coverage=("coverage", "mean"),
            min_coverage=("coverage", "min"),
            mean_se_ratio=("se_ratio", "mean"),
        )
    body = [
        f"<p>{int(meta['replications'])} replications per N from the {_e(meta['population'])} population "
        f"({_e(meta['response'])} answers), cleaned and fitted as the pipeline does ({_e(meta['estimator'])}); "
        f"rivals rejected by the chi-square difference test at α = {meta['alpha']}. Shares are over converged "
        "replications; Monte Carlo SE = √(q(1 − q)/R).</p>",
        f'<ul class="verdicts">{"".join(items)}</ul>',
        f'<figure id="power_figure"><img src="{figure_src(figure_svg)}" alt="Power and cut-off attainment '
        'against N"><figcaption><b>Figure.</b> Power to reject each rival and share of replications in which the '
        "hypothesised model meets each cut-off, against N (±1.96 Monte Carlo SE).</figcaption></figure>",
        "<h3>Power to reject each rival</h3>",
        table(
            tables["power"],
            ["n", "rival", "valid", "power", "mc_se"],
            ["N", "Rival", "Replications", "Power", "MC SE"],
            {"n": 0, "valid": 0, "power": 3, "mc_se": 3},
        ),
        "<h3>Hypothesised model meets the cut-off</h3>",
        table(
            tables["cutoffs"],
            ["n", "index", "converged", "share", "mc_se"],
            ["N", "Index", "Converged", "Share", "MC SE"],
            {"n": 0, "converged": 0, "share": 3, "mc_se": 3},
        ),
    ]
    if len(par):
        body += [
            "<h3>Parameter recovery (loadings and factor covariances)</h3>",
            table(
                par,
                ["n", "mean_abs_relative_bias", "mean_coverage", "min_coverage", "mean_se_ratio"],
                ["N", "Mean |relative bias|", "Mean coverage", "Lowest coverage", "Mean SE / SD"],
                {"n": 0, "mean_abs_relative_bias": 3, "mean_coverage": 3, "min_coverage": 3, "mean_se_ratio": 3},
            ),
        ]
    body += [
        "<h3>Convergence</h3>",
        table(
            tables["convergence"],
            ["n", "replications", "not_converged", "improper", "mean_n_analysed"],
            ["N", "Replications", "Not converged", "Improper", "Mean N analysed"],
            {"n": 0, "replications": 0, "not_converged": 3, "improper": 3, "mean_n_analysed": 1},
        ),
    ]
    section = '<section id="power"><h2>Sample-size planning</h2>' + "\n".join(body) + "</section>"
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Sample-size planning'
        f"</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{section}\n</body>\n</html>\n"
    )
