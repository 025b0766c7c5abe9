"""APA-style tables (7th edition) built from the pipeline's tidy tables.

Every table is an :class:`ApaTable`: a title, a note, a DataFrame of *raw* values and a per-column format.
It renders to CSV (numbers rounded to the displayed precision), Markdown (pipe table), LaTeX (``booktabs``:
``\\toprule``/``\\midrule``/``\\bottomrule``, no vertical rules) and Word (``python-docx``: a real table with
APA rules - top, below the header, bottom - plus a numbered title and a note).

Number formatting follows APA 7 (section 6.36): no leading zero for values that cannot exceed 1 in absolute
value (correlations, reliability coefficients, standardized loadings, proportions of variance, p values),
a leading zero otherwise; p values with three decimals and ``< .001`` below that.

Rendering is pure (strings out); only :meth:`ApaTable.to_docx` and :meth:`ApaTable.to_csv` with a path
write files. The builder functions (``descriptives_table``, ``reliability_table``, ...) take the tidy
tables the pipeline writes and know no item names or number of factors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from compval.i18n import active_language
from compval.i18n import gettext as _

__all__ = [
    "ApaTable",
    "format_number",
    "format_p",
    "format_ci",
    "descriptives_table",
    "reliability_table",
    "efa_loadings_table",
    "fit_table",
    "cfa_loadings_table",
    "validity_table",
    "criterion_table",
    "invariance_table",
]

NA = ""  # how missing values are shown

Formatter = Callable[[object], str]


# ============================================================================ number formatting
def _finite(x) -> bool:
    try:
        return x is not None and not (isinstance(x, float) and math.isnan(x)) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def format_number(x, digits: int = 2, *, leading_zero: bool = True, na: str = NA) -> str:
    """Round ``x`` to ``digits`` decimals; drop the leading zero when ``leading_zero`` is False (APA for
    quantities bounded by 1: ``-0.32 -> "-.32"``). Negative zero prints as zero; NaN/None as ``na``."""
    if not _finite(x):
        return na
    s = f"{float(x):.{digits}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    if not leading_zero:
        s = re.sub(r"^(-?)0\.", r"\1.", s)
    return s


def format_p(p, digits: int = 3, *, na: str = NA) -> str:
    """APA p value: three decimals without leading zero, ``< .001`` below .001 (``digits`` sets the floor)."""
    if not _finite(p):
        return na
    floor = 10.0 ** (-digits)
    if float(p) < floor:
        return "< " + format_number(floor, digits, leading_zero=False)
    return format_number(p, digits, leading_zero=False)


def format_ci(lower, upper, digits: int = 2, *, leading_zero: bool = False, na: str = NA) -> str:
    """``[lo, hi]`` with APA number formatting; ``na`` when either bound is missing."""
    if not (_finite(lower) and _finite(upper)):
        return na
    return (
        f"[{format_number(lower, digits, leading_zero=leading_zero)}, "
        f"{format_number(upper, digits, leading_zero=leading_zero)}]"
    )


def _formatter(spec) -> Formatter:
    """Turn a format spec into a function value -> str.

    Specs: ``"r"``/``"r2"``/``"r3"`` (bounded by 1: no leading zero; 2 or 3 decimals), ``"f0"``..``"f4"``
    (fixed decimals with leading zero), ``"int"``, ``"p"`` (APA p value), ``"pct"``/``"pct0"``/``"pct1"``
    (a share shown as a percentage), ``"text"``, or any callable.
    """
    if callable(spec):
        return lambda v: spec(v) if _finite(v) or isinstance(v, str) else NA
    if spec in ("text", "str", None):
        return lambda v: NA if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    if spec == "int":
        return lambda v: format_number(v, 0)
    if spec == "p":
        return format_p
    m = re.fullmatch(r"r(\d?)", spec)
    if m:
        d = int(m.group(1) or 2)
        return lambda v: format_number(v, d, leading_zero=False)
    m = re.fullmatch(r"f(\d)", spec)
    if m:
        d = int(m.group(1))
        return lambda v: format_number(v, d)
    m = re.fullmatch(r"pct(\d?)", spec)
    if m:
        d = int(m.group(1) or 1)
        return lambda v: format_number(100 * float(v), d) if _finite(v) else NA
    raise ValueError(f"unknown format spec {spec!r}")


def _digits_of(spec) -> int | None:
    """Decimals a spec displays (for rounding the CSV), None for text/callables."""
    if not isinstance(spec, str):
        return None
    if spec == "int":
        return 0
    if spec == "p":
        return 3
    m = re.fullmatch(r"(?:r|f|pct)(\d?)", spec)
    if m:
        d = m.group(1)
        if spec.startswith("pct"):
            return (int(d) if d else 1) + 2
        return int(d) if d else 2
    return None


# ============================================================================ LaTeX / Markdown escaping
_LATEX_SPECIAL = {
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}
_LATEX_UNICODE = {
    "α": r"$\alpha$",
    "ω": r"$\omega$",
    "λ": r"$\lambda$",
    "χ": r"$\chi$",
    "Δ": r"$\Delta$",
    "β": r"$\beta$",
    "ρ": r"$\rho$",
    "²": r"$^2$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "√": r"$\surd$",
    "–": "--",
    "—": "---",
    "−": "$-$",
    "×": r"$\times$",
    "±": r"$\pm$",
    "η": r"$\eta$",
    "φ": r"$\phi$",
    "ψ": r"$\psi$",
    "θ": r"$\theta$",
    "σ": r"$\sigma$",
    "μ": r"$\mu$",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters and map common Greek/maths symbols to math mode."""
    out = []
    for ch in str(text):
        out.append(_LATEX_SPECIAL.get(ch) or _LATEX_UNICODE.get(ch) or ch)
    return re.sub(r"(?<!\\)\$\$", "", "".join(out))


_NUMERIC_CELL = re.compile(r"^[-<>=\s]*[\d.]")


def _latex_cell(text: str) -> str:
    s = latex_escape(text)
    if text.startswith("-") and _NUMERIC_CELL.match(text):
        s = "$-$" + latex_escape(text[1:])  # a proper minus sign for negative numbers
    return s


_XECJK_LANGUAGES = ("zh",)


def _md_escape(text: str) -> str:
    return str(text).replace("|", r"\|").replace("\n", " ")


# ============================================================================ the table object
@dataclass
class ApaTable:
    """An APA-style table: numbered title, column heads, body, note.

    Parameters
    ----------
    title : str
        Table title (APA: italic title case, shown under the bold "Table n").
    df : DataFrame
        Raw values, one row per table row, columns in display order.
    formats : mapping column -> spec, optional
        See :func:`_formatter` (``"r"``, ``"r3"``, ``"f2"``, ``"int"``, ``"p"``, ``"pct"``, ``"text"`` or a
        callable). Unlisted columns: ``"f2"`` for floats, ``"int"`` for integers, ``"text"`` otherwise.
    note : str
        General note (printed after "Note.").
    number : int, optional
        Table number ("Table 1"); without it only the title is printed.
    labels : mapping column -> heading, optional
        Column headings (default: the column names).
    group_by : str, optional
        A column whose values become full-width group rows (e.g. "Competency" / "Module"); the column
        itself is not shown.
    emphasis : DataFrame of bool, optional
        Same shape/labels as ``df``: cells printed bold (e.g. salient loadings).
    label : str, optional
        LaTeX ``\\label``.
    """

    title: str
    df: pd.DataFrame
    formats: Mapping[str, object] = field(default_factory=dict)
    note: str = ""
    number: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    group_by: str | None = None
    emphasis: pd.DataFrame | None = None
    label: str | None = None

    # ------------------------------------------------------------------ helpers
    @property
    def columns(self) -> list[str]:
        """The displayed columns (all but ``group_by``)."""
        return [c for c in self.df.columns if c != self.group_by]

    def heading(self, col: str) -> str:
        return str(self.labels.get(col, col))

    def _spec(self, col: str):
        if col in self.formats:
            return self.formats[col]
        s = self.df[col]
        if pd.api.types.is_bool_dtype(s):
            return lambda v: _("yes") if bool(v) else _("no")
        if pd.api.types.is_integer_dtype(s):
            return "int"
        if pd.api.types.is_float_dtype(s):
            return "f2"
        return "text"

    def formatted(self) -> pd.DataFrame:
        """The body as strings (APA number formats), same index/columns as ``df`` minus ``group_by``."""
        out = {}
        for c in self.columns:
            f = _formatter(self._spec(c))
            out[c] = [f(v) for v in self.df[c]]
        return pd.DataFrame(out, index=self.df.index, columns=self.columns)

    def _is_numeric(self, col: str) -> bool:
        spec = self._spec(col)
        if spec in ("text", "str", None):
            return False
        if callable(spec):
            return pd.api.types.is_numeric_dtype(self.df[col])
        return True

    def _bold(self, idx, col) -> bool:
        if self.emphasis is None or col not in self.emphasis.columns or idx not in self.emphasis.index:
            return False
        return bool(self.emphasis.at[idx, col])

    def _blocks(self):
        """[(group label or None, [row index labels])] in table order."""
        if self.group_by is None:
            return [(None, list(self.df.index))]
        blocks: list = []
        for idx, g in zip(self.df.index, self.df[self.group_by]):
            if not blocks or blocks[-1][0] != g:
                blocks.append((g, []))
            blocks[-1][1].append(idx)
        return blocks

    def caption(self) -> str:
        return _("Table {number}").format(number=self.number) if self.number is not None else ""

    # ------------------------------------------------------------------ renderers
    def to_csv(self, path: str | Path | None = None) -> str:
        """CSV of the values rounded to their displayed precision, with the display headings (and the
        group column, if any, first). Writes ``path`` when given; returns the text."""
        df = self.df.copy()
        for c in self.columns:
            spec = self._spec(c)
            d = _digits_of(spec)
            if d is None or not pd.api.types.is_float_dtype(df[c]):
                continue
            if isinstance(spec, str) and spec.startswith("pct"):  # the heading says %, so write percentages
                df[c] = (100 * df[c]).round(d - 2)
            else:
                df[c] = df[c].round(d)
        cols = ([self.group_by] if self.group_by else []) + self.columns
        df = df[cols].rename(columns={c: self.heading(c) for c in cols})
        text = df.to_csv(index=False, lineterminator="\n")
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_markdown(self) -> str:
        """Pipe table (GitHub/Pandoc Markdown): bold "Table n", italic title, table, "*Note.* ..."."""
        body = self.formatted()
        cols = self.columns
        lines = []
        if self.number is not None:
            lines += [f"**{self.caption()}**", ""]
        lines += [f"*{self.title}*", ""]
        lines.append("| " + " | ".join(_md_escape(self.heading(c)) for c in cols) + " |")
        lines.append("|" + "|".join("---:" if self._is_numeric(c) else ":---" for c in cols) + "|")
        for g, rows in self._blocks():
            if g is not None:
                lines.append("| " + " | ".join([f"*{_md_escape(g)}*"] + [""] * (len(cols) - 1)) + " |")
            for idx in rows:
                cells = []
                for c in cols:
                    v = _md_escape(body.at[idx, c])
                    cells.append(f"**{v}**" if v and self._bold(idx, c) else v)
                lines.append("| " + " | ".join(cells) + " |")
        if self.note:
            lines += ["", "*" + _("Note.") + f"* {self.note}"]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        """A ``table`` float with a ``booktabs`` tabular (``\\usepackage{booktabs}``), no vertical rules."""
        body = self.formatted()
        cols = self.columns
        align = "".join("r" if self._is_numeric(c) else "l" for c in cols)
        out = ["\\begin{table}[htbp]", "\\centering"]
        if active_language() in _XECJK_LANGUAGES:
            out.insert(
                0, "% CJK text: compile with XeLaTeX and \\usepackage{xeCJK} (e.g. \\setCJKmainfont{Noto Serif CJK SC})"
            )
        cap = latex_escape(self.title)
        out.append(f"\\caption{{{cap}}}")
        if self.label:
            out.append(f"\\label{{{self.label}}}")
        out.append(f"\\begin{{tabular}}{{{align}}}")
        out.append("\\toprule")
        out.append(" & ".join(latex_escape(self.heading(c)) for c in cols) + " \\\\")
        out.append("\\midrule")
        for g, rows in self._blocks():
            if g is not None:
                out.append(f"\\multicolumn{{{len(cols)}}}{{l}}{{\\textit{{{latex_escape(g)}}}}} \\\\")
            for idx in rows:
                cells = []
                for c in cols:
                    v = _latex_cell(body.at[idx, c])
                    cells.append(f"\\textbf{{{v}}}" if v and self._bold(idx, c) else v)
                out.append(" & ".join(cells) + " \\\\")
        out.append("\\bottomrule")
        out.append("\\end{tabular}")
        if self.note:
            out.append("\\par\\smallskip")
            out.append("{\\footnotesize\\textit{" + _("Note.") + f"}} {latex_escape(self.note)}\\par}}")
        out.append("\\end{table}")
        return "\n".join(out) + "\n"

    def add_to_document(self, document) -> object:
        """Append the table (number, title, table with APA rules, note) to a ``docx.Document``; returns the
        ``docx`` table object."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        body = self.formatted()
        cols = self.columns
        if self.number is not None:
            p = document.add_paragraph()
            p.add_run(self.caption()).bold = True
        p = document.add_paragraph()
        p.add_run(self.title).italic = True
        n_rows = 1 + len(self.df) + sum(1 for g, _rows in self._blocks() if g is not None)
        table = document.add_table(rows=n_rows, cols=len(cols))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _docx_borders(
            table,
            {"top": "single", "bottom": "single", "left": "nil", "right": "nil", "insideH": "nil", "insideV": "nil"},
        )

        def put(cell, text, *, bold=False, italic=False, right=False):
            par = cell.paragraphs[0]
            for extra in cell.paragraphs[1:]:  # merged cells bring their own empty paragraphs
                extra._p.getparent().remove(extra._p)
            for r_ in list(par.runs):
                r_._r.getparent().remove(r_._r)
            run = par.add_run(text)
            run.bold = bold
            run.italic = italic
            run.font.size = Pt(10)
            if right:
                par.alignment = WD_ALIGN_PARAGRAPH.RIGHT

        for j, c in enumerate(cols):
            cell = table.rows[0].cells[j]
            put(cell, self.heading(c), right=self._is_numeric(c))
            _docx_cell_border(cell, "bottom")
        r = 1
        for g, rows in self._blocks():
            if g is not None:
                merged = (
                    table.rows[r].cells[0].merge(table.rows[r].cells[len(cols) - 1])
                    if len(cols) > 1
                    else table.rows[r].cells[0]
                )
                put(merged, str(g), italic=True)
                r += 1
            for idx in rows:
                for j, c in enumerate(cols):
                    put(table.rows[r].cells[j], body.at[idx, c], bold=self._bold(idx, c), right=self._is_numeric(c))
                r += 1
        if self.note:
            p = document.add_paragraph()
            p.add_run(_("Note.")).italic = True
            p.add_run(" " + self.note)
        return table

    def to_docx(self, path: str | Path) -> Path:
        """Write a Word document holding this table (I/O helper); returns the path."""
        from docx import Document

        doc = Document()
        font = EAST_ASIAN_FONTS.get(active_language())
        if font:
            set_east_asian_font(doc, font)
        self.add_to_document(doc)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc.save(str(path))
        return path

    def write(self, stem: str | Path, formats: Sequence[str] = ("csv", "md", "tex", "docx")) -> list[Path]:
        """Write ``stem.csv``, ``stem.md``, ``stem.tex`` and ``stem.docx`` (I/O helper)."""
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        out = []
        for fmt in formats:
            p = stem.with_name(stem.name + "." + fmt)
            if fmt == "csv":
                self.to_csv(p)
            elif fmt == "md":
                p.write_text(self.to_markdown(), encoding="utf-8")
            elif fmt == "tex":
                p.write_text(self.to_latex(), encoding="utf-8")
            elif fmt == "docx":
                self.to_docx(p)
            else:
                raise ValueError(f"unknown table format {fmt!r}")
            out.append(p)
        return out


#: Word's East Asian font per output language (``w:rFonts/@w:eastAsia`` of the Normal style): SimSun (宋体),
#: the body font of Chinese journals and present on every Chinese Windows/Office installation.
EAST_ASIAN_FONTS = {"zh": "SimSun"}


def set_east_asian_font(document, font: str) -> None:
    """Set the East Asian font of a ``docx.Document``'s Normal style (``w:eastAsia``; Latin text keeps the
    style's ASCII font), so that Word renders CJK table text in ``font`` instead of its fallback."""
    from docx.oxml.ns import qn

    rpr = document.styles["Normal"].element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    rfonts.set(qn("w:eastAsia"), font)
    rfonts.attrib.pop(qn("w:eastAsiaTheme"), None)


def _docx_borders(table, spec: Mapping[str, str]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tblPr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        val = spec.get(edge, "nil")
        el.set(qn("w:val"), val)
        if val != "nil":
            el.set(qn("w:sz"), "8")
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    tblPr.append(borders)


def _docx_cell_border(cell, edge: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tcPr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    el = OxmlElement(f"w:{edge}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), "6")
    el.set(qn("w:space"), "0")
    el.set(qn("w:color"), "000000")
    borders.append(el)
    tcPr.append(borders)


# ============================================================================ helpers for builders
def _label(mapping: Mapping[str, str] | None, key) -> str:
    return str(mapping.get(key, key)) if mapping else str(key)


def _groups_to_map(item_groups) -> dict[str, str]:
    """Accept {group: [items]} or {item: group}; return {item: group}."""
    if item_groups is None:
        return {}
    item_groups = dict(item_groups)
    if item_groups and all(isinstance(v, (list, tuple)) for v in item_groups.values()):
        return {i: g for g, items in item_groups.items() for i in items}
    return {str(k): v for k, v in item_groups.items()}


def _ci_col(df: pd.DataFrame, lo: str, hi: str, digits: int = 2, leading_zero: bool = False) -> list[str]:
    if lo not in df or hi not in df:
        return [NA] * len(df)
    return [format_ci(a, b, digits, leading_zero=leading_zero) for a, b in zip(df[lo], df[hi])]


# ============================================================================ builders
def descriptives_table(
    descriptives: pd.DataFrame,
    item_groups: Mapping | None = None,
    *,
    group_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Item descriptives (``results/descriptives/items.csv``: item, n, mean, sd, skew, kurtosis, floor,
    ceiling, share_missing ...), grouped by competency when ``item_groups`` ({group: [items]} or
    {item: group}) is given, items in the order of the groups."""
    d = descriptives.copy()
    gmap = _groups_to_map(item_groups)
    cols = [
        c
        for c in ["item", "n", "mean", "sd", "median", "skew", "kurtosis", "floor", "ceiling", "share_missing"]
        if c in d.columns
    ]
    out = d[cols].copy()
    group_by = None
    if gmap:
        order = {i: k for k, i in enumerate(gmap)}
        out["_g"] = [_label(group_labels, gmap.get(i, _("Unassigned"))) for i in out["item"]]
        out["_o"] = [order.get(i, len(order)) for i in out["item"]]
        out = out.sort_values("_o", kind="stable").drop(columns="_o")
        out = out[["_g"] + cols]
        group_by = "_g"
    labels = {
        "item": _("Item"),
        "n": "n",
        "mean": "M",
        "sd": "SD",
        "median": "Mdn",
        "skew": _("Skew"),
        "kurtosis": _("Kurtosis"),
        "floor": _("Floor %"),
        "ceiling": _("Ceiling %"),
        "share_missing": _("Missing %"),
        "_g": _("Competency"),
    }
    formats = {
        "item": "text",
        "n": "int",
        "mean": "f2",
        "sd": "f2",
        "median": "f1",
        "skew": "f2",
        "kurtosis": "f2",
        "floor": "pct1",
        "ceiling": "pct1",
        "share_missing": "pct1",
    }
    title = _("Item Descriptive Statistics") if title is None else title
    if note is None:
        note = _(
            "Skew and excess kurtosis as psych::describe (type 3). Floor and ceiling: percentage of valid "
            "answers at the lowest and highest scale point. Missing: percentage of respondents without an "
            "answer."
        )
    return ApaTable(
        title, out.reset_index(drop=True), formats, note, number, labels, group_by, label="tab:descriptives"
    )


def reliability_table(
    reliability: pd.DataFrame,
    *,
    levels: Sequence[str] | None = ("competency", "module"),
    names: Mapping[str, str] | None = None,
    alpha_ci: str = "feldt",
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Reliability per scale from ``results/reliability/reliability.csv`` (level, key, n_items, alpha,
    alpha_ci_lower/upper (Feldt), alpha_boot_lower/upper, omega_total, omega_total_boot_lower/upper,
    omega_hierarchical, average_r ...). ``alpha_ci``: "feldt" or "boot"; rows grouped by level."""
    rel = reliability.copy()
    if levels is not None:
        rel = rel[rel["level"].isin(levels)]
        rel = (
            rel.assign(_lo=rel["level"].map({lv: k for k, lv in enumerate(levels)}))
            .sort_values("_lo", kind="stable")
            .drop(columns="_lo")
        )
    lo, hi = ("alpha_ci_lower", "alpha_ci_upper") if alpha_ci == "feldt" else ("alpha_boot_lower", "alpha_boot_upper")
    out = pd.DataFrame(
        {
            "level": [_(str(v).capitalize()) for v in rel["level"]],
            "scale": [_label(names, k) for k in rel["key"]],
            "n_items": rel["n_items"].astype(int).to_numpy(),
            "alpha": rel["alpha"].to_numpy(),
            "alpha_ci": _ci_col(rel, lo, hi),
            "omega_total": rel["omega_total"].to_numpy() if "omega_total" in rel else np.nan,
            "omega_ci": _ci_col(rel, "omega_total_boot_lower", "omega_total_boot_upper"),
        }
    )
    if "omega_hierarchical" in rel:
        out["omega_h"] = rel["omega_hierarchical"].to_numpy()
        boot = ["omega_hierarchical_boot_lower", "omega_hierarchical_boot_upper"]
        if set(boot) <= set(rel.columns) and rel[boot].notna().all(axis=1).any():
            out["omega_h_ci"] = _ci_col(rel, *boot)
    if "average_r" in rel:
        out["average_r"] = rel["average_r"].to_numpy()
    labels = {
        "scale": _("Scale"),
        "n_items": _("Items"),
        "alpha": "α",
        "alpha_ci": "α 95% CI",
        "omega_total": "ω",
        "omega_ci": "ω 95% CI",
        "omega_h": "ωh",
        "omega_h_ci": "ωh 95% CI",
        "average_r": _("Mean r"),
    }
    formats = {
        "scale": "text",
        "n_items": "int",
        "alpha": "r",
        "alpha_ci": "text",
        "omega_total": "r",
        "omega_ci": "text",
        "omega_h": "r",
        "omega_h_ci": "text",
        "average_r": "r",
    }
    title = _("Internal Consistency Reliability") if title is None else title
    if note is None:
        ci = "Feldt (1965)" if alpha_ci == "feldt" else _("percentile bootstrap")
        note = _(
            "α = Cronbach's alpha with {ci} 95% confidence interval; ω = McDonald's omega total with "
            "percentile bootstrap 95% CI; ωh = omega hierarchical (Schmid-Leiman, with percentile bootstrap "
            "95% CI where computed); Mean r = mean inter-item correlation. "
            "Values of .70 and .80 are conventional minimums for group comparisons and for decisions."
        ).format(ci=ci)
    labels["level"] = _("Level")
    return ApaTable(title, out.reset_index(drop=True), formats, note, number, labels, "level", label="tab:reliability")


def _wide_loadings(
    loadings: pd.DataFrame, item: str = "item", factor: str = "factor", value: str = "loading"
) -> pd.DataFrame:
    """Loadings as a wide item x factor frame (accepts wide or long input)."""
    if {item, factor, value} <= set(loadings.columns):
        w = loadings.pivot(index=item, columns=factor, values=value)
        w = w.reindex(index=pd.unique(loadings[item]), columns=pd.unique(loadings[factor]))
        return w
    w = loadings.copy()
    if item in w.columns:
        w = w.set_index(item)
    return w.apply(pd.to_numeric)


def efa_loadings_table(
    loadings: pd.DataFrame,
    item_groups: Mapping | None = None,
    *,
    communalities: Mapping[str, float] | pd.Series | None = None,
    salient: float = 0.30,
    group_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Pattern loadings (wide: items as index or an ``item`` column, one column per factor; or long: item,
    factor, loading), items grouped by hypothesised competency; loadings with ``|l| >= salient`` in bold;
    optional communality column (h2)."""
    w = _wide_loadings(loadings)
    factors = [str(c) for c in w.columns]
    w.columns = factors
    gmap = _groups_to_map(item_groups)
    items = list(w.index)
    if gmap:
        order = {i: k for k, i in enumerate(gmap)}
        items = sorted(items, key=lambda i: order.get(i, len(order)))
    w = w.loc[items]
    out = pd.DataFrame({"item": [str(i) for i in items]})
    for f in factors:
        out[f] = w[f].to_numpy(dtype=float)
    if communalities is not None:
        h = pd.Series(communalities)
        out["h2"] = [h.get(i, np.nan) for i in items]
    group_by = None
    if gmap:
        out.insert(0, "_g", [_label(group_labels, gmap.get(i, _("Unassigned"))) for i in items])
        group_by = "_g"
    emph = pd.DataFrame(False, index=out.index, columns=out.columns)
    for f in factors:
        emph[f] = out[f].abs() >= salient
    formats = {"item": "text", **{f: "r" for f in factors}, "h2": "r"}
    labels = {"item": _("Item"), "h2": "h²", "_g": _("Competency")}
    title = _("Exploratory Factor Analysis: Pattern Loadings") if title is None else title
    if note is None:
        note = _("Loadings with an absolute value of at least {salient} are printed in bold. h² = communality.").format(
            salient=format_number(salient, 2, leading_zero=False)
        )
    return ApaTable(title, out, formats, note, number, labels, group_by, emph, label="tab:efa-loadings")


def _fit_labels() -> dict[str, str]:
    return {
        "model": _("Model"),
        "chisq": "χ²",
        "df": "df",
        "pvalue": "p",
        "cfi": "CFI",
        "tli": "TLI",
        "rmsea": "RMSEA",
        "rmsea_ci": "90% CI",
        "srmr": "SRMR",
        "aic": "AIC",
        "bic": "BIC",
        "chisq_diff": "Δχ²",
        "df_diff": "Δdf",
        "pvalue_diff": "p (Δχ²)",
        "delta_cfi": "ΔCFI",
        "delta_rmsea": "ΔRMSEA",
    }


def fit_table(
    fits: pd.DataFrame,
    *,
    model_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Model fit comparison. ``fits``: one row per model with any of model, chisq, df, pvalue (model test),
    cfi, tli, rmsea, rmsea_ci_lower/upper (or lavaan's ``rmsea.ci.lower``), srmr, aic, bic, chisq_diff,
    df_diff, pvalue_diff, delta_cfi, delta_rmsea (``cfa.compare_models`` output merged with fit measures)."""
    f = fits.rename(columns={"rmsea.ci.lower": "rmsea_ci_lower", "rmsea.ci.upper": "rmsea_ci_upper"}).copy()
    out = pd.DataFrame({"model": [_label(model_labels, m) for m in f["model"]]})
    for c in ["chisq", "df", "pvalue", "cfi", "tli", "rmsea"]:
        if c in f:
            out[c] = f[c].to_numpy()
    if "rmsea_ci_lower" in f:
        out["rmsea_ci"] = _ci_col(f, "rmsea_ci_lower", "rmsea_ci_upper", 3)
    for c in ["srmr", "aic", "bic", "chisq_diff", "df_diff", "pvalue_diff", "delta_cfi", "delta_rmsea"]:
        if c in f:
            out[c] = f[c].to_numpy()
    formats = {
        "model": "text",
        "chisq": "f2",
        "df": "int",
        "pvalue": "p",
        "cfi": "r3",
        "tli": "r3",
        "rmsea": "r3",
        "rmsea_ci": "text",
        "srmr": "r3",
        "aic": "f1",
        "bic": "f1",
        "chisq_diff": "f2",
        "df_diff": "int",
        "pvalue_diff": "p",
        "delta_cfi": "r3",
        "delta_rmsea": "r3",
    }
    title = _("Fit of the Competing Measurement Models") if title is None else title
    if note is None:
        note = _(
            "CFI = comparative fit index; TLI = Tucker-Lewis index; RMSEA = root mean square error of "
            "approximation with 90% CI; SRMR = standardized root mean square residual. Hu and Bentler (1999) "
            "cut-offs: CFI and TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08."
        )
    return ApaTable(title, out, formats, note, number, _fit_labels(), label="tab:fit")


def cfa_loadings_table(
    params: pd.DataFrame,
    *,
    group=None,
    factor_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Loadings from a lavaan-style parameter table (lhs, op, rhs, est, se, pvalue, std_all; optional
    group): one row per ``=~`` parameter, grouped by factor: unstandardized b, SE, standardized β, p."""
    p = params
    if "group" in p.columns and p["group"].nunique() > 1:
        p = p[p["group"] == (p["group"].iloc[0] if group is None else group)]
    p = p[p["op"] == "=~"]
    out = pd.DataFrame(
        {
            "factor": [_label(factor_labels, f) for f in p["lhs"]],
            "item": p["rhs"].astype(str).to_numpy(),
            "est": p["est"].to_numpy(dtype=float),
        }
    )
    for c in ("se", "pvalue", "std_all"):
        if c in p:
            out[c] = p[c].to_numpy(dtype=float)
    # a fixed (marker) loading has no SE / p
    if "se" in out:
        fixed = out["se"].fillna(0) == 0
        out.loc[fixed, "se"] = np.nan
        if "pvalue" in out:
            out.loc[fixed, "pvalue"] = np.nan
    cols = ["factor", "item", "est"] + [c for c in ("se", "std_all", "pvalue") if c in out]
    out = out[cols]
    labels = {"factor": _("Factor"), "item": _("Item"), "est": "b", "se": "SE", "std_all": "β", "pvalue": "p"}
    formats = {"item": "text", "est": "f2", "se": "f2", "std_all": "r", "pvalue": "p"}
    title = _("Confirmatory Factor Analysis: Factor Loadings") if title is None else title
    if note is None:
        note = _(
            "b = unstandardized loading; SE = standard error; β = completely standardized loading "
            "(lavaan std.all). Loadings without SE are fixed to identify the scale of the factor."
        )
    return ApaTable(
        title, out.reset_index(drop=True), formats, note, number, labels, "factor", label="tab:cfa-loadings"
    )


def _pair_lookup(df: pd.DataFrame | None, value: str) -> dict[frozenset, float]:
    if df is None:
        return {}
    return {frozenset((a, b)): v for a, b, v in zip(df["factor_a"], df["factor_b"], df[value])}


def validity_table(
    convergent: pd.DataFrame,
    correlations: pd.DataFrame,
    htmt: pd.DataFrame | None = None,
    *,
    factor_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Fornell-Larcker / HTMT table. ``convergent``: factor, cr, ave (one row per factor, e.g. merged
    ``validity.composite_reliability`` and ``average_variance_extracted``); ``correlations``: factor_a,
    factor_b, r (``validity.factor_correlations``); ``htmt``: factor_a, factor_b, htmt. Columns: CR, AVE,
    then the factor matrix with sqrt(AVE) on the diagonal, r below it and HTMT above it."""
    conv = convergent.set_index("factor")
    factors = list(conv.index)
    rmap = _pair_lookup(correlations, "r")
    hmap = _pair_lookup(htmt, "htmt")
    out = pd.DataFrame(
        {
            "factor": [_label(factor_labels, f) for f in factors],
            "cr": conv["cr"].to_numpy(dtype=float) if "cr" in conv else np.nan,
            "ave": conv["ave"].to_numpy(dtype=float) if "ave" in conv else np.nan,
        }
    )
    colnames = [str(k + 1) for k in range(len(factors))]
    for j, b in enumerate(factors):
        vals = []
        for i, a in enumerate(factors):
            if i == j:
                ave = conv["ave"].get(a, np.nan) if "ave" in conv else np.nan
                vals.append(math.sqrt(ave) if _finite(ave) and ave >= 0 else np.nan)
            elif i > j:
                vals.append(rmap.get(frozenset((a, b)), np.nan))
            else:
                vals.append(hmap.get(frozenset((a, b)), np.nan))
        out[colnames[j]] = vals
    out["factor"] = [f"{k + 1}. {name}" for k, name in enumerate(out["factor"])]
    emph = pd.DataFrame(False, index=out.index, columns=out.columns)
    for j in range(len(factors)):
        emph.iloc[j, 3 + j] = True  # sqrt(AVE) diagonal in bold
    formats = {"factor": "text", "cr": "r", "ave": "r", **{c: "r" for c in colnames}}
    labels = {"factor": _("Factor"), "cr": "CR", "ave": "AVE"}
    title = _("Convergent and Discriminant Validity") if title is None else title
    if note is None:
        note = _(
            "CR = composite reliability; AVE = average variance extracted. Diagonal (bold): square root of "
            "AVE; below the diagonal: latent factor correlations; above the diagonal: heterotrait-monotrait "
            "ratio (HTMT; Henseler et al., 2015). Discriminant validity (Fornell & Larcker, 1981) holds when "
            "the diagonal exceeds the correlations in its row and column; HTMT should stay below .85."
        )
    return ApaTable(title, out, formats, note, number, labels, emphasis=emph, label="tab:validity")


def criterion_table(
    correlations: pd.DataFrame,
    *,
    predictor: str = "competency",
    criterion: str = "criterion",
    r: str = "r",
    lower: str = "ci_lower",
    upper: str = "ci_upper",
    p: str | None = "p_fdr",
    alpha: float = 0.05,
    predictor_labels: Mapping[str, str] | None = None,
    criterion_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Wide criterion-validity table (rows: competencies; per criterion an ``r`` and a ``95% CI`` column)
    from the tidy ``criterion.correlate`` output (criterion, competency, r, ci_lower, ci_upper, p_fdr).
    Correlations with ``p < alpha`` (FDR-adjusted by default) are printed in bold."""
    preds = list(pd.unique(correlations[predictor]))
    crits = list(pd.unique(correlations[criterion]))
    idx = correlations.set_index([predictor, criterion])
    out = pd.DataFrame({"predictor": [_label(predictor_labels, k) for k in preds]})
    formats: dict = {"predictor": "text"}
    labels = {"predictor": _("Competency")}
    emph = pd.DataFrame(False, index=out.index, columns=["predictor"])
    for c in crits:
        rc, cc = f"r::{c}", f"ci::{c}"
        rv, cv, sig = [], [], []
        for k in preds:
            row = idx.loc[(k, c)] if (k, c) in idx.index else None
            rv.append(np.nan if row is None else row[r])
            cv.append(NA if row is None else format_ci(row[lower], row[upper]))
            sig.append(False if (row is None or p is None or p not in idx.columns) else bool(row[p] < alpha))
        out[rc], out[cc] = rv, cv
        emph[rc], emph[cc] = sig, False
        formats[rc], formats[cc] = "r", "text"
        name = _label(criterion_labels, c)
        labels[rc], labels[cc] = _("{name} r").format(name=name), _("{name} 95% CI").format(name=name)
    title = _("Correlations of Competency Scores With Performance Criteria") if title is None else title
    if note is None:
        note = _("Pearson correlations with Fisher-z 95% confidence intervals (pairwise complete cases).")
        if p is not None:
            adj = _(" (Benjamini-Hochberg adjusted)") if "fdr" in p else ""
            note += _(" Bold: p{adjusted} < {alpha}.").format(
                adjusted=adj, alpha=format_number(alpha, 2, leading_zero=False)
            )
    return ApaTable(title, out, formats, note, number, labels, emphasis=emph, label="tab:criterion")


def invariance_table(
    invariance: pd.DataFrame,
    *,
    title: str | None = None,
    number: int | None = None,
    note: str | None = None,
) -> ApaTable:
    """Invariance steps (``cfa.measurement_invariance`` table: step, chisq, df, cfi, rmsea, srmr,
    chisq_diff, df_diff, pvalue, delta_cfi, delta_rmsea, holds)."""
    inv = invariance.copy()
    cols = [
        c
        for c in [
            "step",
            "chisq",
            "df",
            "cfi",
            "rmsea",
            "srmr",
            "chisq_diff",
            "df_diff",
            "pvalue",
            "delta_cfi",
            "delta_rmsea",
            "holds",
        ]
        if c in inv.columns
    ]
    out = inv[cols].copy()
    out["step"] = [_(str(s).capitalize()) for s in out["step"]]
    if "holds" in out:
        out["holds"] = [
            _("n/a") if h is None or (isinstance(h, float) and np.isnan(h)) else (_("yes") if bool(h) else _("no"))
            for h in out["holds"]
        ]
    labels = {**_fit_labels(), "step": _("Step"), "pvalue": "p (Δχ²)", "holds": _("Holds")}
    formats = {
        "step": "text",
        "chisq": "f2",
        "df": "int",
        "cfi": "r3",
        "rmsea": "r3",
        "srmr": "r3",
        "chisq_diff": "f2",
        "df_diff": "int",
        "pvalue": "p",
        "delta_cfi": "r3",
        "delta_rmsea": "r3",
        "holds": "text",
    }
    title = _("Measurement Invariance Across Groups") if title is None else title
    if note is None:
        note = _(
            "Each step adds equality constraints to the previous one. A step holds when CFI drops by at most "
            ".010 and RMSEA rises by at most .015 (Chen, 2007)."
        )
    return ApaTable(title, out, formats, note, number, labels, label="tab:invariance")
