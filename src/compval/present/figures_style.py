"""The shared style of the publication figures and the helpers every figure module uses.

One style (:data:`STYLE`, applied with :func:`style`): Liberation Sans (metric-compatible with Arial; DejaVu Sans
as fallback) at 8 pt, the Okabe & Ito (2008) colour-blind-safe palette, widths for one (:data:`ONE_COLUMN`,
3.5 in) and two (:data:`TWO_COLUMN`, 7.2 in) journal columns, TrueType fonts embedded in PDF and text kept as
text in SVG. :func:`save_figure` is the one I/O helper: it writes ``stem.png`` (300 dpi), ``stem.svg`` and
``stem.pdf`` byte-identically from run to run (fixed SVG hash salt, no dates in the metadata).
"""

from __future__ import annotations

import contextlib
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
    "LEAN_CJK_FAMILY",
    "use_lean_cjk_font",
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
#: The family name of the copy of the CJK font made by :func:`use_lean_cjk_font`.
LEAN_CJK_FAMILY = "Noto Sans CJK SC (figures)"


def use_lean_cjk_font(directory: str | Path) -> list[Path]:
    """Draw the Chinese figures with copies of the CJK font without its OpenType layout tables; returns the
    copies' paths (in ``directory``, which must outlive the drawing), none when the font is not installed.

    Matplotlib's PDF backend subsets the font file for every figure it saves (fontTools): for Noto Sans CJK (a
    19 MB collection, 65,000 glyphs per face) about 1.4 s per PDF, most of it in the GSUB/GPOS tables, which
    matplotlib never uses (it places glyphs one by one, without shaping). Each installed face of the family
    (regular, bold) is copied with every glyph outline, metric and character map entry unchanged and without
    GSUB, GPOS, GDEF, BASE and the vertical metrics; a PDF then takes about 0.6 s and the figures look the same.
    The embedded fonts keep their PostScript names (``NotoSansCJKsc-Regular``); only the family name by which
    matplotlib finds the copies differs (:data:`LEAN_CJK_FAMILY`), and :data:`LANGUAGE_STYLE` names it in place
    of the installed family.
    """
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    fm = font_manager.fontManager
    fm.ttflist = [f for f in fm.ttflist if f.name != LEAN_CJK_FAMILY]  # copies made before (their files are gone)
    faces = sorted({(f.fname, f.index) for f in fm.ttflist if f.name == _CJK_FAMILY})
    out = []
    for k, (fname, index) in enumerate(faces):
        font = TTFont(fname, fontNumber=index) if fname.lower().endswith((".ttc", ".otc")) else TTFont(fname)
        for tag in ("GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"):
            if tag in font:
                del font[tag]
        for rec in font["name"].names:
            if rec.nameID in (1, 16):  # family names; the PostScript name (6) is kept
                rec.string = LEAN_CJK_FAMILY
        path = Path(directory) / f"cjk-figures-{k}.otf"
        font.save(path)
        fm.addfont(str(path))
        out.append(path)
    if out:
        for st in LANGUAGE_STYLE.values():
            for key in ("font.family", "font.sans-serif"):
                if key in st:
                    st[key] = [LEAN_CJK_FAMILY if f == _CJK_FAMILY else f for f in st[key]]
    return out


#: Graphviz font list per output language (fontconfig falls back per glyph in the same way).
DOT_FONTS = {"zh": "Liberation Sans,Noto Sans CJK SC"}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Temporarily apply :data:`STYLE` (``matplotlib.rc_context``), with the :data:`LANGUAGE_STYLE` of the
    active output language; global rcParams are restored after."""
    with mpl.rc_context({**STYLE, **LANGUAGE_STYLE.get(active_language(), {})}):
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
    twice gives identical bytes.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    }
    out = []
    with style():
        for fmt in formats:
            path = stem.with_name(stem.name + "." + fmt)
            fig.savefig(path, format=fmt, dpi=dpi, metadata=meta.get(fmt))
            out.append(path)
    return out


def apa_axis(axis, digits: int = 2) -> None:
    """APA tick labels (no leading zero) on an axis of a quantity bounded by 1."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_r(v, digits)))


def mix(color, t: float) -> tuple:
    """Blend ``color`` with white: t = 1 gives the colour, t = 0 white."""
    c = np.array(to_rgb(color))
    return tuple(1 - t * (1 - c))


def panel_label(ax, text: str) -> None:
    """A panel title, left-aligned."""
    ax.set_title(text, loc="left")


def ordered(values, order: Sequence | None) -> list:
    """The distinct ``values`` in ``order`` first, the others after, in order of appearance."""
    vals = list(pd.unique(pd.Series(list(values))))
    if order is None:
        return vals
    return [v for v in order if v in vals] + [v for v in vals if v not in order]
