"""The pieces of HTML the report is made of: escaped text, verdict badges, APA tables, embedded figures, and the
display names the report takes from the codebook table.
"""

from __future__ import annotations

import base64
import html
import re
import struct
from collections.abc import Mapping

import pandas as pd

from compval.i18n import gettext as _
from compval.present.apa import ApaTable
from compval.present.formatting import pretty

__all__ = [
    "esc",
    "badge",
    "missing_note",
    "verdict_li",
    "apa_table_html",
    "figure_src",
    "figure_width_px",
    "display_names",
    "item_groups",
    "display_name",
]


def esc(x) -> str:
    """``x`` as HTML text (quotes escaped too)."""
    return html.escape(str(x), quote=True)


def badge(ok: bool | None) -> str:
    """The verdict badge: meets, fails or (None) info."""
    if ok is None:
        return '<span class="badge na">' + _("info") + "</span>"
    return (
        ('<span class="badge ok">' + _("✓ meets") + "</span>")
        if ok
        else ('<span class="badge fail">' + _("✗ fails") + "</span>")
    )


def missing_note(text: str) -> str:
    """A paragraph saying that a section has no results."""
    return f"<p class='missing'>{text}</p>"


def verdict_li(text_html: str, ok: bool | None) -> str:
    """One item of a verdict list: the badge and the (HTML) text."""
    return f"<li>{badge(ok)} {text_html}</li>"


def apa_table_html(table: ApaTable, number: int | None = None) -> str:
    """An :class:`ApaTable` as an HTML ``<table>`` with the APA number, italic title and note."""
    body = table.formatted()
    cols = table.columns
    num = number if number is not None else table.number
    out = ['<div class="apa">']
    if num is not None:
        out.append(f'<p class="tabnum">{esc(_("Table {number}").format(number=num))}</p>')
    out.append(f'<p class="tabtitle">{esc(table.title)}</p>')
    out.append("<table><thead><tr>")
    for c in cols:
        cls = ' class="num"' if table.is_numeric(c) else ""
        out.append(f"<th{cls}>{esc(table.heading(c))}</th>")
    out.append("</tr></thead><tbody>")
    for g, rows in table.blocks():
        if g is not None:
            out.append(f'<tr class="grp"><td colspan="{len(cols)}">{esc(g)}</td></tr>')
        for idx in rows:
            out.append("<tr>")
            for c in cols:
                v = esc(body.at[idx, c])
                cls = ' class="num"' if table.is_numeric(c) else ""
                out.append(f"<td{cls}>{'<b>' + v + '</b>' if v and table.is_bold(idx, c) else v}</td>")
            out.append("</tr>")
    out.append("</tbody></table>")
    if table.note:
        out.append('<p class="note"><i>' + _("Note.") + f"</i> {esc(table.note)}</p>")
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


def display_names(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Competency and module key -> display name, from the codebook table when given."""
    cb = tables.get("codebook")
    out: dict[str, str] = {}
    if cb is not None:
        for level in ("competency", "module"):
            if level in cb and f"{level}_name" in cb:
                out.update(dict(zip(cb[level].astype(str), cb[f"{level}_name"].astype(str))))
    return out


def item_groups(tables: Mapping[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Competency -> its items, from the codebook table when given."""
    cb = tables.get("codebook")
    if cb is None or "competency" not in cb:
        return {}
    out: dict[str, list[str]] = {}
    for k, i in zip(cb["competency"].astype(str), cb["item"].astype(str)):
        out.setdefault(k, []).append(i)
    return out


def display_name(names: Mapping[str, str], key) -> str:
    """The display name of a competency or module key (:func:`compval.present.formatting.pretty` without one)."""
    return names.get(str(key), pretty(key))
