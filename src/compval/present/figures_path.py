"""The CFA path diagram: :func:`cfa_path_dot` returns Graphviz DOT text (pure) and :func:`render_dot` runs ``dot``
(PNG, SVG and PDF, reproducible bytes).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from compval.i18n import active_language

from compval.i18n import gettext as _
from compval.present import figures_style as fs
from compval.present.formatting import format_r, label, require_columns

__all__ = ["GraphvizNotFoundError", "cfa_path_dot", "render_dot"]


# ============================================================================ 6. CFA path diagram (Graphviz)
class GraphvizNotFoundError(RuntimeError):
    """Raised when the Graphviz ``dot`` executable is not on PATH."""


def _dot_id(name: str) -> str:
    return '"' + str(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def cfa_path_dot(
    params: pd.DataFrame,
    *,
    group=None,
    value: str = "std_all",
    correlations: str = "table",
    show_correlations: bool = True,
    min_correlation: float = 0.0,
    labels: Mapping[str, str] | None = None,
    font: str | None = None,
) -> str:
    """DOT source of the CFA path diagram (pure; render it with :func:`render_dot`).

    ``params``: lavaan-style parameter table (``lhs, op, rhs, std_all``; optional ``group``; e.g.
    ``CFAResult.params``). Latent variables are the ``lhs`` of ``=~`` rows (ellipses), indicators are boxes;
    loadings are arrows labelled with ``value``; residual covariances between indicators are dotted arcs;
    ``~`` rows are structural arrows. Higher-order factors are placed further right automatically (layout left
    to right: items, factors, higher-order factors).

    Correlations between latent variables (``~~`` rows): ``correlations="table"`` (default) puts them in a
    lower-triangular table to the right of the factors (factors numbered as in the table), so that with many
    factors no arcs cross the loadings; ``"arcs"`` draws dashed two-headed arcs labelled with the correlation
    (shown when ``|r| >= min_correlation``); ``"none"`` (or ``show_correlations=False``) leaves them out.
    """
    require_columns(params, ["lhs", "op", "rhs", value], "cfa_path_dot")
    font = fs.DOT_FONTS.get(active_language(), "Liberation Sans") if font is None else font
    if correlations not in ("table", "arcs", "none"):
        raise ValueError("correlations must be 'table', 'arcs' or 'none'")
    if not show_correlations:
        correlations = "none"
    p = params
    if "group" in p.columns and p["group"].nunique() > 1:
        p = p[p["group"] == (p["group"].iloc[0] if group is None else group)]
    meas = p[p["op"] == "=~"]
    latent = list(pd.unique(meas["lhs"]))
    lat_set = set(latent)
    indicators = [v for v in pd.unique(meas["rhs"]) if v not in lat_set]
    cov = p[(p["op"] == "~~") & (p["lhs"] != p["rhs"])]
    lat_cov = cov[cov["lhs"].isin(lat_set) & cov["rhs"].isin(lat_set)]
    in_table = correlations == "table" and len(lat_cov) > 0
    order = [f for f in latent if f in set(lat_cov["lhs"]) | set(lat_cov["rhs"])] if in_table else []
    number = {f: k + 1 for k, f in enumerate(order)}
    lines = [
        "digraph cfa {",
        f'  graph [rankdir=LR, splines=true, nodesep=0.06, ranksep=1.1, fontname="{font}", bgcolor="white"];',
        f'  node [fontname="{font}", fontsize=9, penwidth=0.8];',
        f'  edge [fontname="{font}", fontsize=8, penwidth=0.7, arrowsize=0.5];',
    ]
    for v in indicators:
        lines.append(
            f'  {_dot_id(v)} [shape=box, height=0.22, width=0.7, margin="0.04,0.01", '
            f"label={_dot_id(label(labels, v))}];"
        )
    for f in latent:
        name = label(labels, f)
        if f in number:
            name = f"{number[f]}. {name}"
        lines.append(f'  {_dot_id(f)} [shape=ellipse, style=filled, fillcolor="#DCEBF5", label={_dot_id(name)}];')
    first = [f for f in latent if not (meas["rhs"] == f).any()]  # first-order factors (not indicators)
    if len(first) > 1:
        # same rank, chained by invisible edges: stacked top-down in model order (items follow their factors)
        lines.append("  { rank=same; " + " -> ".join(_dot_id(f) for f in first) + " [style=invis]; }")
    for _i, r in meas.iterrows():
        lab = format_r(r[value])
        # drawn indicator -> factor with the arrow head reversed so factors rank to the right of their items
        lines.append(f"  {_dot_id(r['rhs'])} -> {_dot_id(r['lhs'])} [dir=back, label={_dot_id(lab)}];")
    for _i, r in p[p["op"] == "~"].iterrows():
        lines.append(
            f'  {_dot_id(r["rhs"])} -> {_dot_id(r["lhs"])} [label={_dot_id(format_r(r[value]))}, color="#0072B2"];'
        )
    for _i, r in cov.iterrows():
        a, b, v = r["lhs"], r["rhs"], r[value]
        both_latent = a in lat_set and b in lat_set
        if both_latent and correlations != "arcs":
            continue
        if both_latent and np.isfinite(v) and abs(v) < min_correlation:
            continue
        style_ = "dashed" if both_latent else "dotted"
        lines.append(
            f"  {_dot_id(a)} -> {_dot_id(b)} [dir=both, style={style_}, constraint=false, "
            f'color="#555555", fontcolor="#555555", label={_dot_id(format_r(v))}];'
        )
    if in_table:
        lines.append(
            f"  factor_correlations [shape=plaintext, margin=0, label=<{_correlation_table(lat_cov, order, value)}>];"
        )
        lines.append("  { rank=sink; factor_correlations; }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _correlation_table(cov: pd.DataFrame, order: list, value: str) -> str:
    """Graphviz HTML-like table: lower triangle of the latent correlations, factors numbered 1..k."""
    k = len(order)
    r = {}
    for _i, row in cov.iterrows():
        r[(row["lhs"], row["rhs"])] = r[(row["rhs"], row["lhs"])] = row[value]
    cell = '<TD ALIGN="RIGHT">{}</TD>'
    head = "<TR><TD></TD>" + "".join(f"<TD><B>{j + 1}</B></TD>" for j in range(k - 1)) + "</TR>"
    rows = []
    for i in range(1, k):
        cells = "".join(cell.format(format_r(r.get((order[i], order[j]), np.nan))) for j in range(i))
        cells += "<TD></TD>" * (k - 1 - i)
        rows.append(f"<TR><TD><B>{i + 1}</B></TD>{cells}</TR>")
    title = f'<TR><TD COLSPAN="{k}"><I>' + html.escape(_("Factor correlations")) + "</I></TD></TR>"
    return (
        '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">' + title + head + "".join(rows) + "</TABLE>"
    )


def _fix_pdf_dates(path: Path) -> None:
    """Overwrite the dates cairo writes into a PDF's info dictionary with 1970-01-01, keeping every byte
    offset (same length), so the cross-reference table stays valid and the output is reproducible."""
    data = path.read_bytes()
    template = b"19700101000000"

    def fixed(m: re.Match) -> bytes:
        digits = iter(template + b"0" * 64)
        body = bytes(next(digits) if 48 <= c <= 57 else c for c in m.group(2))
        return m.group(1) + body + b")"

    new = re.sub(rb"(/(?:CreationDate|ModDate) \(D:)([^)]*)\)", fixed, data)
    if new != data:
        path.write_bytes(new)


def _set_png_dpi(path: Path, dpi: float) -> None:
    """Insert a pHYs chunk (pixels per metre) after IHDR when the PNG has none (cairo writes none)."""
    import struct
    import zlib

    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or b"pHYs" in data[:4096]:
        return
    ihdr_end = 8 + 8 + struct.unpack(">I", data[8:12])[0] + 4
    ppm = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    path.write_bytes(data[:ihdr_end] + chunk + data[ihdr_end:])


def render_dot(
    dot_source: str, stem: str | Path, formats: Sequence[str] = ("png", "svg", "pdf"), dpi: int = 300, dot: str = "dot"
) -> list[Path]:
    """Render DOT text with Graphviz ``dot`` to ``stem.<fmt>`` (I/O helper; PNG at ``dpi``).

    ``SOURCE_DATE_EPOCH=0`` is set so cairo writes no current date into the PDF (deterministic output).

    Raises
    ------
    GraphvizNotFoundError
        When ``dot`` is not installed (Debian: ``apt-get install graphviz``).
    """
    exe = shutil.which(dot)
    if exe is None:
        raise GraphvizNotFoundError(
            f"Graphviz executable {dot!r} not found on PATH; install Graphviz (Debian: apt-get install graphviz)"
        )
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        path = stem.with_name(stem.name + "." + fmt)
        args = [exe, f"-T{fmt}", "-o", str(path)]
        if fmt == "png":
            args.insert(1, f"-Gdpi={dpi}")
        proc = subprocess.run(args, input=dot_source.encode("utf-8"), capture_output=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"dot -T{fmt} failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
        if fmt == "pdf":
            _fix_pdf_dates(path)
        elif fmt == "png":
            _set_png_dpi(path, dpi)
        out.append(path)
    return out
