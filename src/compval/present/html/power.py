"""The sample-size planning section (``results/power/report_section.html``)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from compval.present.formatting import INDEX_LABELS, finite, pretty
from compval.present.html.page import CSS
from compval.present.html.pieces import esc, figure_src, verdict_li

__all__ = ["render_power_section"]

#: The section's tables: (heading, table, columns - ``name:decimals`` for numbers -, column heads).
_TABLES = (
    ("Power to reject each rival", "power", "n:0 rival valid:0 power:3 mc_se:3", "N;Rival;Replications;Power;MC SE"),
    (
        "Hypothesised model meets the cut-off",
        "cutoffs",
        "n:0 index converged:0 share:3 mc_se:3",
        "N;Index;Converged;Share;MC SE",
    ),
    (
        "Parameter recovery (loadings and factor covariances)",
        "parameters",
        "n:0 mean_abs_relative_bias:3 mean_coverage:3 min_coverage:3 mean_se_ratio:3",
        "N;Mean |relative bias|;Mean coverage;Lowest coverage;Mean SE / SD",
    ),
    (
        "Convergence",
        "convergence",
        "n:0 replications:0 not_converged:3 improper:3 mean_n_analysed:1",
        "N;Replications;Not converged;Improper;Mean N analysed",
    ),
)


def _table(df: pd.DataFrame, columns: str, heads: list[str]) -> str:
    """A compact HTML table of ``columns`` (``name:decimals`` for numbers, ``name`` for keys shown as text)."""
    digits = {c: int(d) for c, _sep, d in (x.partition(":") for x in columns.split()) if d}
    cols = [x.partition(":")[0] for x in columns.split()]
    out = ['<table class="compact"><thead><tr>']
    out += [f"<th{' class=num' if c in digits else ''}>{esc(h)}</th>" for c, h in zip(cols, heads)]
    out.append("</tr></thead><tbody>")
    for _i, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            txt = (
                ("–" if not finite(v) else f"{float(v):.{digits[c]}f}")
                if c in digits
                else INDEX_LABELS.get(v, pretty(v))
            )
            cells.append(f"<td{' class=num' if c in digits else ''}>{esc(txt)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_power_section(tables: Mapping[str, pd.DataFrame], figure_svg: str, meta: Mapping) -> str:
    """The sample-size planning section (``results/power/report_section.html``) as a self-contained HTML page
    with one ``<section id="power">``: the smallest N reaching each target, the figure, and power, cut-off
    attainment, parameter recovery and convergence by N (tables from :func:`compval.power.summarise` and
    :func:`compval.power.smallest_n`). Pure: no file access."""

    small = tables["smallest_n"]
    items = []
    for r in small.itertuples(index=False):
        reached = finite(r.smallest_n)
        text = (
            f"{esc(r.criterion)} ≥ {r.target:.2f}: smallest N = <b>{int(r.smallest_n)}</b> ({r.value_at_smallest_n:.2f})"
            if reached
            else f"{esc(r.criterion)} ≥ {r.target:.2f}: not reached at any N simulated"
        )
        items.append(verdict_li(text, reached))
    par = tables["parameters"]
    if len(par):
        par = par.groupby("n", as_index=False).agg(
            mean_abs_relative_bias=("relative_bias", lambda x: x.abs().mean()),
            mean_coverage=("coverage", "mean"),
            min_coverage=("coverage", "min"),
            mean_se_ratio=("se_ratio", "mean"),
        )
    body = [
        f"<p>{int(meta['replications'])} replications per N from the {esc(meta['population'])} population "
        f"({esc(meta['response'])} answers), cleaned and fitted as the pipeline does ({esc(meta['estimator'])}); "
        f"rivals rejected by the chi-square difference test at α = {meta['alpha']}. Shares are over converged "
        "replications; Monte Carlo SE = √(q(1 − q)/R).</p>",
        f'<ul class="verdicts">{"".join(items)}</ul>',
        f'<figure id="power_figure"><img src="{figure_src(figure_svg)}" alt="Power and cut-off attainment '
        'against N"><figcaption><b>Figure.</b> Power to reject each rival and share of replications in which the '
        "hypothesised model meets each cut-off, against N (±1.96 Monte Carlo SE).</figcaption></figure>",
    ]
    for heading, key, columns, heads in _TABLES:
        df = par if key == "parameters" else tables[key]
        if len(df) or key != "parameters":
            body += [f"<h3>{heading}</h3>", _table(df, columns, heads.split(";"))]
    section = '<section id="power"><h2>Sample-size planning</h2>' + "\n".join(body) + "</section>"
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Sample-size planning'
        f"</title>\n<style>{CSS}</style>\n</head>\n<body>\n{section}\n</body>\n</html>\n"
    )
