"""The APA-style table object (7th edition): :class:`ApaTable` and its renderers.

Every table is an :class:`ApaTable`: a title, a note, a DataFrame of *raw* values and a per-column format.
It renders to CSV (numbers rounded to the displayed precision), Markdown (pipe table), LaTeX (``booktabs``:
``\\toprule``/``\\midrule``/``\\bottomrule``, no vertical rules), Word (``python-docx``: a real table with
APA rules - top, below the header, bottom - plus a numbered title and a note) and HTML
(:func:`compval.present.html.apa_table_html`). Numbers follow :mod:`compval.present.formatting`.

Rendering is pure (strings out); only :meth:`ApaTable.to_docx`, :meth:`ApaTable.write` and
:meth:`ApaTable.to_csv` with a path write files. The builders are in :mod:`compval.present.tables`.
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
from compval.present.formatting import NA, finite, format_number, format_p

__all__ = ["ApaTable", "latex_escape", "EAST_ASIAN_FONTS", "set_east_asian_font"]

Formatter = Callable[[object], str]


def _formatter(spec) -> Formatter:
    """Turn a format spec into a function value -> str.

    Specs: ``"r"``/``"r2"``/``"r3"`` (bounded by 1: no leading zero; 2 or 3 decimals), ``"f0"``..``"f4"``
    (fixed decimals with leading zero), ``"int"``, ``"p"`` (APA p value), ``"pct"``/``"pct0"``/``"pct1"``
    (a share shown as a percentage), ``"text"``, or any callable.
    """
    if callable(spec):
        return lambda v: spec(v) if finite(v) or isinstance(v, (str, bool, np.bool_)) else NA
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
        return lambda v: format_number(100 * float(v), d) if finite(v) else NA
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

    def is_numeric(self, col: str) -> bool:
        """Whether a column shows numbers (right-aligned)."""
        spec = self._spec(col)
        if spec in ("text", "str", None):
            return False
        if callable(spec):
            return pd.api.types.is_numeric_dtype(self.df[col])
        return True

    def is_bold(self, idx, col) -> bool:
        """Whether a cell is printed bold (``emphasis``)."""
        if self.emphasis is None or col not in self.emphasis.columns or idx not in self.emphasis.index:
            return False
        return bool(self.emphasis.at[idx, col])

    def blocks(self):
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
        lines.append("|" + "|".join("---:" if self.is_numeric(c) else ":---" for c in cols) + "|")
        for g, rows in self.blocks():
            if g is not None:
                lines.append("| " + " | ".join([f"*{_md_escape(g)}*"] + [""] * (len(cols) - 1)) + " |")
            for idx in rows:
                cells = []
                for c in cols:
                    v = _md_escape(body.at[idx, c])
                    cells.append(f"**{v}**" if v and self.is_bold(idx, c) else v)
                lines.append("| " + " | ".join(cells) + " |")
        if self.note:
            lines += ["", "*" + _("Note.") + f"* {self.note}"]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        """A ``table`` float with a ``booktabs`` tabular (``\\usepackage{booktabs}``), no vertical rules."""
        body = self.formatted()
        cols = self.columns
        align = "".join("r" if self.is_numeric(c) else "l" for c in cols)
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
        for g, rows in self.blocks():
            if g is not None:
                out.append(f"\\multicolumn{{{len(cols)}}}{{l}}{{\\textit{{{latex_escape(g)}}}}} \\\\")
            for idx in rows:
                cells = []
                for c in cols:
                    v = _latex_cell(body.at[idx, c])
                    cells.append(f"\\textbf{{{v}}}" if v and self.is_bold(idx, c) else v)
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
        n_rows = 1 + len(self.df) + sum(1 for g, _rows in self.blocks() if g is not None)
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

        # each row's cells looked up once (python-docx builds a row's whole cell list on every ``.cells``)
        table_rows = list(table.rows)
        for cell, c in zip(table_rows[0].cells, cols):
            put(cell, self.heading(c), right=self.is_numeric(c))
            _docx_cell_border(cell, "bottom")
        r = 1
        for g, rows in self.blocks():
            if g is not None:
                cells = table_rows[r].cells
                merged = cells[0].merge(cells[len(cols) - 1]) if len(cols) > 1 else cells[0]
                put(merged, str(g), italic=True)
                r += 1
            for idx in rows:
                for cell, c in zip(table_rows[r].cells, cols):
                    put(cell, body.at[idx, c], bold=self.is_bold(idx, c), right=self.is_numeric(c))
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
