"""The shared style of the publication figures and the helpers every figure module uses.

One style (:data:`STYLE`, applied with :func:`style`): Liberation Sans (metric-compatible with Arial; DejaVu Sans
as fallback) at 8 pt, the Okabe & Ito (2008) colour-blind-safe palette, widths for one (:data:`ONE_COLUMN`,
3.5 in) and two (:data:`TWO_COLUMN`, 7.2 in) journal columns, TrueType fonts embedded in PDF and text kept as
text in SVG. :func:`save_figure` is the one I/O helper: it writes ``stem.png`` (300 dpi), ``stem.svg`` and
``stem.pdf`` byte-identically from run to run (fixed SVG hash salt, no dates in the metadata).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from functools import wraps
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from compval.i18n import active_language
from compval.present.formatting import format_r

__all__ = [
    "STYLE",
    "OKABE_ITO",
    "PALETTE",
    "GREY",
    "BAND",
    "ONE_COLUMN",
    "TWO_COLUMN",
    "LANGUAGE_STYLE",
    "LEAN_FAMILIES",
    "lean_fonts",
    "named_families",
    "missing_fonts",
    "DOT_FONTS",
    "style",
    "styled",
    "new_figure",
    "save_figure",
    "apa_axis",
    "mix",
    "panel_label",
    "ordered",
]

ONE_COLUMN = 3.5  # inches, one journal column
TWO_COLUMN = 7.2  # inches, two journal columns (full page width)

#: Okabe & Ito (2008) colour-universal-design palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Cycle order used for categorical series (the most distinguishable first; yellow last).
PALETTE = [
    OKABE_ITO[k]
    for k in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black", "yellow")
]
GREY = "#BBBBBB"
BAND = "#E5F2EC"  # light bluish green: region meeting a criterion

STYLE: dict = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Liberation Sans", "DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.title_fontsize": 8,
    "figure.titlesize": 9,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "axes.titleweight": "bold",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "lines.linewidth": 1.0,
    "lines.markersize": 4,
    "legend.frameon": False,
    "image.cmap": "cividis",
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": None,
    "pdf.fonttype": 42,  # TrueType, as journals ask (no Type 3)
    "ps.fonttype": 42,
    "svg.fonttype": "none",  # text stays editable text
    "svg.hashsalt": "compval",  # deterministic element ids
    "axes.unicode_minus": True,
    "figure.constrained_layout.use": False,
}


#: Style additions per output language (the active :func:`compval.i18n.language`). Chinese: Noto Sans CJK SC
#: (Debian fonts-noto-cjk) after Liberation Sans, so Latin letters and digits keep the English look and every
#: CJK glyph comes from the CJK font (matplotlib's per-glyph font fall-back); the PDF embeds it as TrueType/CID
#: (fonttype 42) and the SVG keeps the glyphs as paths, so the figure shows the same on a machine without it.
#: The families are named in ``font.family`` itself: matplotlib builds its fall-back chain from that list only,
#: and resolves a generic family such as ``sans-serif`` to the *first* installed font of ``font.sans-serif``, so a
#: CJK font listed there after an installed Liberation Sans is never consulted (glyphs then go missing).
_CJK_FAMILY = "Noto Sans CJK SC"
_ZH_FAMILIES = ["Liberation Sans", _CJK_FAMILY, "DejaVu Sans"]
LANGUAGE_STYLE: dict[str, dict] = {
    "zh": {"font.family": _ZH_FAMILIES, "font.sans-serif": _ZH_FAMILIES, "svg.fonttype": "path"},
}
#: The Debian package of each font family the figures name (``make setup`` installs them); DejaVu Sans, the last
#: resort, comes with matplotlib.
FONT_PACKAGES = {"Liberation Sans": "fonts-liberation", _CJK_FAMILY: "fonts-noto-cjk"}


def missing_fonts(languages: Sequence[str]) -> list[str]:
    """The families of :data:`FONT_PACKAGES` that the figures of ``languages`` name (:data:`STYLE` with each
    language's :data:`LANGUAGE_STYLE`) and matplotlib does not find installed, each as "family (Debian package
    ...)". Without them matplotlib draws with the next family of the list, silently: DejaVu Sans in place of
    Liberation Sans (other metrics, another look), and no CJK glyph at all in place of Noto Sans CJK SC."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    named = named_families(languages)
    wanted = [f for f in FONT_PACKAGES if f in named]
    return [f"{f} (Debian package {FONT_PACKAGES[f]})" for f in wanted if f not in installed]


def named_families(languages: Sequence[str]) -> list[str]:
    """The font families the figures of ``languages`` name (``font.family`` and ``font.sans-serif`` of
    :data:`STYLE` with each language's :data:`LANGUAGE_STYLE`), in order, with repeats."""
    named: list[str] = []
    for lang in languages:
        rc = {**STYLE, **LANGUAGE_STYLE.get(lang, {})}
        for key in ("font.family", "font.sans-serif"):
            value = rc[key]
            named += [value] if isinstance(value, str) else list(value)
    return named


#: The families :func:`lean_fonts` copies without their layout tables, and the family names of the copies.
LEAN_FAMILIES = {"Liberation Sans": "Liberation Sans (figures)", _CJK_FAMILY: "Noto Sans CJK SC (figures)"}
_LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx")
_lean_names: dict[str, str] = {}  # the families copied in this process -> the copies' family names


@contextlib.contextmanager
def lean_fonts(languages: Sequence[str] | None = None) -> Iterator[list[Path]]:
    """Within the block, draw the figures with copies of the fonts of :data:`LEAN_FAMILIES` without their OpenType
    layout tables; yields the copies' paths (none for a family not installed). The copies live in a temporary
    directory removed, and unregistered, on leaving the block; worker processes forked inside it share them.
    With ``languages``, only the families the figures of those languages name are copied (copying the faces of
    Noto Sans CJK takes about 0.7 s, which English figures need not spend); None copies every family.

    Matplotlib's PDF backend subsets the font file for every figure it saves (fontTools), and much of that time goes
    to the GSUB/GPOS tables, which matplotlib never uses (it places glyphs one by one, with the ``kern`` table and
    without shaping): for Noto Sans CJK (a 19 MB collection, 65,000 glyphs per face) about 0.8 s of the 1.4 s a
    PDF took, for Liberation Sans about 0.2 s of 0.45 s. Each installed face of a family (regular, bold, italic) is
    copied with every glyph outline, metric, ``kern`` and character-map entry unchanged and without GSUB, GPOS, GDEF,
    BASE and the vertical metrics; a PNG is then byte-identical and a PDF renders the same.

    The embedded fonts keep their PostScript names (``LiberationSans``, ``NotoSansCJKsc-Regular``); only the family
    name by which matplotlib finds the copies differs (the values of :data:`LEAN_FAMILIES`), and :func:`style`
    names the copies in place of the installed families, except where an SVG keeps its text as text (its
    ``font-family`` must name the installed font). A language whose SVG keeps text as text should therefore name
    its families through the generic ``sans-serif`` (resolved when the figure is saved), as English does.
    """
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    fm = font_manager.fontManager
    out: list[Path] = []
    named = None if languages is None else set(named_families(languages))
    with tempfile.TemporaryDirectory() as directory:
        try:
            for family, lean in LEAN_FAMILIES.items():
                if named is not None and family not in named:
                    continue
                faces = sorted({(f.fname, f.index) for f in fm.ttflist if f.name == family})
                for fname, index in faces:
                    # recalcTimestamp=False: the copy keeps the installed font's 'head' dates (saving would stamp
                    # the time into it, and through the PDF's embedded subset into every PDF)
                    collection = fname.lower().endswith((".ttc", ".otc"))
                    number = {"fontNumber": index} if collection else {}
                    font = TTFont(fname, recalcTimestamp=False, **number)
                    for tag in _LAYOUT_TABLES:
                        if tag in font:
                            del font[tag]
                    for rec in font["name"].names:
                        if rec.nameID in (1, 16):  # family names; the PostScript name (6) is kept
                            rec.string = lean
                    path = Path(directory) / f"figures-font-{len(out)}{'.otf' if 'CFF ' in font else '.ttf'}"
                    font.save(path)
                    fm.addfont(str(path))  # (clears matplotlib's font look-up cache)
                    out.append(path)
                if faces:
                    _lean_names[family] = lean
            yield out
        finally:
            _lean_names.clear()
            fm.ttflist = [f for f in fm.ttflist if f.name not in LEAN_FAMILIES.values()]


def _with_lean_fonts(rc: dict) -> dict:
    """``rc`` with the families copied by :func:`lean_fonts` replaced by their copies."""
    out = dict(rc)
    for key in ("font.family", "font.sans-serif"):
        value = rc[key]
        families = [value] if isinstance(value, str) else value
        out[key] = [_lean_names.get(f, f) for f in families]
    return out


#: Graphviz font list per output language (fontconfig falls back per glyph in the same way).
DOT_FONTS = {"zh": "Liberation Sans,Noto Sans CJK SC"}


@contextlib.contextmanager
def style(lean_fonts: bool = True) -> Iterator[None]:
    """Temporarily apply :data:`STYLE` (``matplotlib.rc_context``), with the :data:`LANGUAGE_STYLE` of the
    active output language and, unless ``lean_fonts`` is false, the font copies of :func:`lean_fonts`; global
    rcParams are restored after."""
    rc = {**STYLE, **LANGUAGE_STYLE.get(active_language(), {})}
    with mpl.rc_context(_with_lean_fonts(rc) if lean_fonts else rc):
        yield


def styled(func):
    """Decorator: draw the figure under :func:`style`."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        with style():
            return func(*args, **kwargs)

    return wrapper


def new_figure(width: float = ONE_COLUMN, height: float = 2.6) -> Figure:
    """A Figure on the Agg canvas with constrained layout (no pyplot, no global figure registry)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(
    fig: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg", "pdf"), dpi: int = 300
) -> list[Path]:
    """Write ``stem.png`` (``dpi``), ``stem.svg`` and ``stem.pdf`` deterministically; returns the paths.

    Dates are removed from the SVG/PDF metadata and the SVG hash salt is fixed, so saving the same figure
    twice gives identical bytes. The layout (constrained layout) is computed once, when the first format is saved,
    and serves the others: every format shows the same geometry, and the other formats skip the layout pass that
    matplotlib would otherwise repeat for each (a draw of the whole figure without rendering, plus the layout):
    four draws of the figure for the three formats instead of six.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    }
    out = []
    engine = fig.get_layout_engine()
    try:
        for fmt in formats:
            path = stem.with_name(stem.name + "." + fmt)
            with style():
                # an SVG that keeps its text as text names the installed fonts, not the copies of lean_fonts
                text_as_text = fmt == "svg" and mpl.rcParams["svg.fonttype"] == "none"
            with style(lean_fonts=not text_as_text):
                fig.savefig(path, format=fmt, dpi=dpi, metadata=meta.get(fmt))
            out.append(path)
            if engine is not None:
                # the positions the first format's layout set are kept: no layout engine at all, not the
                # placeholder of set_layout_engine("none"), for which matplotlib still draws the figure once
                # without rendering before each format (a third of the time of saving all three)
                with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
                    fig.set_layout_engine(None)
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return out


def apa_axis(axis, digits: int = 2) -> None:
    """APA tick labels (no leading zero) on an axis of a quantity bounded by 1."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_r(v, digits)))


def mix(color, t: float) -> tuple:
    """Blend ``color`` with white: t = 1 gives the colour, t = 0 white."""
    c = np.array(to_rgb(color))
    return tuple(1 - t * (1 - c))


def panel_rows(n: int, ncols: int = 2) -> int:
    """The number of rows of a :func:`panel_grid` of ``n`` panels in rows of ``ncols`` (to size its figure)."""
    return -(-n // max(1, min(ncols, n)))


def panel_grid(fig: Figure, n: int, ncols: int = 2, **subplot_kw) -> tuple[np.ndarray, list]:
    """``n`` panels in rows of ``ncols`` (fewer when n is smaller), sharing both axes: returns (grid, the n panels
    in reading order). With shared axes matplotlib labels the x ticks of the bottom row only; when the last row is
    short, its empty cells are removed and the panels above them get their x tick labels back."""
    ncols = max(1, min(ncols, n))
    nrows = panel_rows(n, ncols)
    grid = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False, **subplot_kw)
    for cell in range(n, nrows * ncols):
        grid[-2, cell % ncols].xaxis.set_tick_params(labelbottom=True)
        grid.flat[cell].remove()
    return grid, list(grid.flat[:n])


def bottom_panels(grid: np.ndarray, n: int) -> list:
    """The panels of a :func:`panel_grid` of ``n`` panels that show x tick labels (the lowest of each column)."""
    nrows, ncols = grid.shape
    return [grid[nrows - 1 if (nrows - 1) * ncols + c < n else nrows - 2, c] for c in range(ncols)]


def panel_label(ax, text: str, pad: float | None = None) -> None:
    """A panel title, left-aligned; ``pad``: its distance from the panel in points (default: the style's), larger
    where a row of text sits just above the panel."""
    ax.set_title(text, loc="left", pad=pad)


def ordered(values, order: Sequence | None) -> list:
    """The distinct ``values`` in ``order`` first, the others after, in order of appearance."""
    vals = list(pd.unique(pd.Series(list(values))))
    if order is None:
        return vals
    return [v for v in order if v in vals] + [v for v in vals if v not in order]
