"""Figures: each function returns a Figure with the expected panels and labels from small synthetic tidy
tables (no item names or number of factors assumed); save_figure writes PNG (300 dpi), SVG and PDF
byte-identically; the CFA path diagram is valid DOT rendered by Graphviz."""

from __future__ import annotations

import shutil
import struct
import zlib

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from compval.present import figures as F

# ---------------------------------------------------------------------------- synthetic tidy inputs
GROUPS = {"alpha": ["Q1", "Q2", "Q3"], "beta": ["Q4", "Q5"], "gamma": ["Q6", "Q7", "Q8", "Q9"]}
ITEMS = [i for v in GROUPS.values() for i in v]


def codebook_items() -> pd.DataFrame:
    rows = []
    for g, its in GROUPS.items():
        for k, i in enumerate(its):
            rows.append(
                {
                    "item": i,
                    "text": f"text {i}",
                    "reverse": k == 0,
                    "competency": g,
                    "competency_name": g.capitalize() + " scale",
                    "module": "m1",
                }
            )
    return pd.DataFrame(rows)


def response_dist(n_cat: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for i in ITEMS:
        p = rng.dirichlet(np.ones(n_cat))
        for c in range(1, n_cat + 1):
            rows.append({"item": i, "category": c, "count": int(100 * p[c - 1]), "share": p[c - 1]})
    return pd.DataFrame(rows)


def reliability_table() -> pd.DataFrame:
    rows = []
    for level, keys in (("competency", list(GROUPS)), ("module", ["m1", "m2"]), ("dimension", ["d1"])):
        for k_i, k in enumerate(keys):
            a = 0.7 + 0.05 * k_i
            rows.append(
                {
                    "level": level,
                    "key": k,
                    "n_items": 3,
                    "alpha": a,
                    "alpha_ci_lower": a - 0.04,
                    "alpha_ci_upper": a + 0.03,
                    "alpha_boot_lower": a - 0.05,
                    "alpha_boot_upper": a + 0.04,
                    "omega_total": a + 0.01,
                    "omega_total_boot_lower": a - 0.03,
                    "omega_total_boot_upper": a + 0.04,
                }
            )
    return pd.DataFrame(rows)


def factor_pairs(value: str, vals) -> pd.DataFrame:
    f = list(GROUPS)
    pairs = [(f[0], f[1]), (f[0], f[2]), (f[1], f[2])]
    return pd.DataFrame({"factor_a": [a for a, _ in pairs], "factor_b": [b for _, b in pairs], value: vals})


CRITERIA = ["sales", "rating"]


def correlations() -> pd.DataFrame:
    rows = []
    for c_i, c in enumerate(CRITERIA):
        for k_i, k in enumerate(GROUPS):
            r = 0.1 * (k_i + 1) - 0.05 * c_i
            rows.append(
                {
                    "criterion": c,
                    "competency": k,
                    "r": r,
                    "ci_lower": r - 0.08,
                    "ci_upper": r + 0.08,
                    "p_fdr": 0.01 if r > 0.15 else 0.2,
                }
            )
    return pd.DataFrame(rows)


def text_of(fig: Figure) -> str:
    """All text in the figure (titles, labels, tick labels, annotations, legends)."""
    out = [t.get_text() for t in fig.findobj(mpl.text.Text)]
    return "\n".join(out)


# ---------------------------------------------------------------------------- style / saving
def test_style_is_scoped_and_sized():
    before = dict(mpl.rcParams)
    with F.style():
        assert mpl.rcParams["font.size"] == 8
        assert mpl.rcParams["svg.hashsalt"] == "compval"
        assert mpl.rcParams["pdf.fonttype"] == 42
    assert mpl.rcParams["font.size"] == before["font.size"]
    assert F.ONE_COLUMN == 3.5 and F.TWO_COLUMN == 7.2
    assert F.PALETTE[0] == F.OKABE_ITO["blue"] and len(set(F.PALETTE)) == 8


def _png_dpi(data: bytes) -> float:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        if kind == b"pHYs":
            ppu_x, ppu_y, unit = struct.unpack(">IIB", body)
            assert unit == 1 and ppu_x == ppu_y
            return ppu_x * 0.0254
        pos += 12 + length
    raise AssertionError("no pHYs chunk")


def test_save_figure_formats_dpi_and_determinism(tmp_path):
    fig = F.scree_plot(
        pd.DataFrame({"number": [1, 2, 3], "observed": [2.0, 0.5, 0.1], "simulated_quantile": [0.4, 0.2, 0.1]}),
        {"parallel": 1},
    )
    a = F.save_figure(fig, tmp_path / "a" / "scree")
    b = F.save_figure(fig, tmp_path / "b" / "scree")
    assert [p.suffix for p in a] == [".png", ".svg", ".pdf"]
    for pa, pb in zip(a, b):
        assert pa.stat().st_size > 1000
        assert pa.read_bytes() == pb.read_bytes(), f"{pa.suffix} differs between two saves"
    png = a[0].read_bytes()
    assert round(_png_dpi(png)) == 300
    w, h = struct.unpack(">II", png[16:24])
    assert (w, h) == (round(F.ONE_COLUMN * 300), round(2.5 * 300))
    assert a[1].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert "<svg" in a[1].read_text(encoding="utf-8")
    pdf = a[2].read_bytes()
    assert pdf.startswith(b"%PDF-") and b"CreationDate" not in pdf
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow ships with matplotlib
        return
    with Image.open(a[0]) as im:
        assert round(im.info["dpi"][0]) == 300


def test_save_figure_deterministic_for_a_fresh_figure(tmp_path):
    """Two separately built figures (new hash salt use, new ids) give the same SVG and PDF bytes."""
    flow = {"n_raw": 10, "n_analyzed": 8, "excluded": {"x": 2}}
    a = F.save_figure(F.sample_flow(flow), tmp_path / "a")
    b = F.save_figure(F.sample_flow(flow), tmp_path / "b")
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes()


# ---------------------------------------------------------------------------- 1 sample flow
def test_sample_flow_counts():
    rep = {
        "n_raw": 602,
        "n_analyzed": 571,
        "excluded": {"duplicate_id": 2, "careless_responding": 29},
        "performance": {
            "n_performance_records": 593,
            "matched": 556,
            "survey_only": 15,
            "performance_only": 8,
            "performance_of_excluded": 29,
        },
    }
    fig = F.sample_flow(rep, labels={"careless_responding": "careless responding"})
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    txt = text_of(fig)
    for s in (
        "n = 602",
        "Excluded: duplicate id\n(n = 2)",
        "careless responding",
        "Remaining\n(n = 600)",
        "Analysed\n(n = 571)",
        "matched (n = 556)",
        "(n = 593)",
        "survey only n = 15",
    ):
        assert s in txt, s
    # arrows: 2 down + 2 sideways + analysed->matched + performance->matched
    arrows = [t for t in fig.axes[0].texts if isinstance(t, mpl.text.Annotation)]
    assert len(arrows) == 6


def test_sample_flow_must_add_up():
    with pytest.raises(ValueError, match="does not add up"):
        F.sample_flow({"n_raw": 10, "n_analyzed": 9, "excluded": {"a": 2}})


@pytest.mark.e2e
def test_sample_flow_real_report(e2e_project):
    import json

    path = e2e_project / "results" / "cleaning_report.json"
    rep = json.loads(path.read_text())
    assert f"(n = {rep['n_analyzed']})" in text_of(F.sample_flow(rep))


# ---------------------------------------------------------------------------- 2 response distributions
def test_response_distribution_panels_and_bars():
    fig = F.response_distribution(response_dist(5), codebook_items(), category_labels=["SD", "D", "N", "A", "SA"])
    assert len(fig.axes) == len(GROUPS)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["Alpha scale", "Beta scale", "Gamma scale"]
    # one bar per item and category
    n_bars = sum(len(ax.patches) for ax in fig.axes)
    assert n_bars == len(ITEMS) * 5
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["Q1 (R)", "Q2", "Q3"]
    assert "Share of valid responses (%)" in fig.axes[-1].get_xlabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["SD", "D", "N", "A", "SA"]
    # bars of an item span exactly 100 % of the responses, centred on the middle category
    ax = fig.axes[0]
    q1 = [p for p in ax.patches if abs(p.get_y() + p.get_height() / 2 - 2) < 1e-9]
    assert len(q1) == 5
    assert sum(abs(p.get_width()) for p in q1) == pytest.approx(100.0)


def test_response_distribution_even_scale():
    fig = F.response_distribution(response_dist(4), codebook_items())
    assert sum(len(ax.patches) for ax in fig.axes) == len(ITEMS) * 4
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["1", "2", "3", "4"]


# ---------------------------------------------------------------------------- 3 reliability forest
def test_reliability_forest():
    fig = F.reliability_forest(reliability_table(), names={"alpha": "Alpha scale"})
    assert len(fig.axes) == 2  # competency and module; dimension not requested
    comp, mod = fig.axes
    assert [t.get_text() for t in comp.get_yticklabels()] == ["Alpha scale", "beta", "gamma"]
    assert len(mod.get_yticks()) == 2
    refs = sorted(ln.get_xdata()[0] for ln in comp.get_lines() if ln.get_linestyle() in ("--", ":"))
    assert refs == pytest.approx([0.70, 0.80])
    assert "95% CI" in mod.get_xlabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["α (Cronbach)", "ω total (McDonald)"]
    # the Feldt CI of alpha is used by default
    err = comp.collections[0].get_segments()[0]
    assert err[0][0] == pytest.approx(0.66) and err[1][0] == pytest.approx(0.73)


# ---------------------------------------------------------------------------- 4 scree
def test_scree_plot_with_efa_columns_and_aliases():
    t = pd.DataFrame(
        {
            "number": [1, 2, 3, 4],
            "observed": [3.0, 1.2, 0.3, 0.1],
            "simulated_quantile": [0.5, 0.3, 0.2, 0.1],
            "resampled_quantile": [0.55, 0.3, 0.2, 0.1],
        }
    )
    fig = F.scree_plot(t, {"parallel": 2, "map": 2, "map4": 3})
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    assert len(ax.get_legend().get_texts()) == 3
    txt = text_of(fig)
    assert "PA, MAP: 2" in txt and "MAP (r⁴): 3" in txt
    assert "Factor number" in ax.get_xlabel() and "Eigenvalue" in ax.get_ylabel()
    alias = t.rename(
        columns={"number": "factor_number", "simulated_quantile": "simulated_95", "resampled_quantile": "resampled_95"}
    )
    assert len(F.scree_plot(alias).axes[0].get_legend().get_texts()) == 3


# ---------------------------------------------------------------------------- 5 loading heatmap
def test_loading_heatmap_order_and_annotations():
    rng = np.random.default_rng(2)
    lo = pd.DataFrame(rng.uniform(-0.2, 0.2, (len(ITEMS), 3)), index=ITEMS[::-1], columns=["F1", "F2", "F3"])
    lo.loc["Q1", "F2"] = 0.65
    lo.loc["Q4", "F1"] = -0.35  # a cross-loading
    fig = F.loading_heatmap(lo, GROUPS)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # heatmap + colour bar
    assert [t.get_text() for t in ax.get_yticklabels()] == ITEMS  # hypothesised order, not input order
    ann = sorted(t.get_text() for t in ax.texts if not isinstance(t, mpl.text.Annotation))
    assert ann == ["-.35", ".65"]
    groups = [t.get_text() for t in ax.texts if isinstance(t, mpl.text.Annotation)]
    assert groups == list(GROUPS)
    long = lo.rename_axis("item").reset_index().melt(id_vars="item", var_name="factor", value_name="loading")
    fig2 = F.loading_heatmap(long, {i: g for g, its in GROUPS.items() for i in its})
    assert sorted(t.get_text() for t in fig2.axes[0].texts if not isinstance(t, mpl.text.Annotation)) == ann


# ---------------------------------------------------------------------------- 6 CFA path diagram
def cfa_params() -> pd.DataFrame:
    rows = []
    for g, its in GROUPS.items():
        for k, i in enumerate(its):
            rows.append({"lhs": g, "op": "=~", "rhs": i, "est": 1.0, "std_all": 0.5 + 0.1 * k})
            rows.append({"lhs": i, "op": "~~", "rhs": i, "est": 0.5, "std_all": 0.6})
    rows += [
        {"lhs": "alpha", "op": "~~", "rhs": "beta", "est": 0.3, "std_all": 0.45},
        {"lhs": "alpha", "op": "~~", "rhs": "gamma", "est": 0.1, "std_all": 0.12},
        {"lhs": "beta", "op": "~~", "rhs": "gamma", "est": 0.2, "std_all": -0.31},
        {"lhs": "Q1", "op": "~~", "rhs": "Q2", "est": 0.1, "std_all": 0.2},
    ]
    return pd.DataFrame(rows)


def test_cfa_path_dot_content():
    dot = F.cfa_path_dot(cfa_params(), correlations="arcs", min_correlation=0.2)
    assert dot.startswith("digraph cfa {") and dot.rstrip().endswith("}")
    assert dot.count("shape=box") == len(ITEMS)
    assert dot.count("shape=ellipse") == len(GROUPS)
    assert dot.count("dir=back") == len(ITEMS)
    assert '"Q3" -> "alpha" [dir=back, label=".70"]' in dot
    assert 'label="-.31"' in dot and 'label=".45"' in dot
    assert 'label=".12"' not in dot  # below min_correlation
    assert dot.count("style=dotted") == 1  # the residual covariance
    assert "style=dashed" not in F.cfa_path_dot(cfa_params(), show_correlations=False)


def test_cfa_path_dot_puts_factor_correlations_in_a_table():
    """Default: no correlation arcs across the loadings; a lower-triangular table beside the numbered factors."""
    dot = F.cfa_path_dot(cfa_params())
    assert "style=dashed" not in dot and "factor_correlations [shape=plaintext" in dot
    assert "<I>Factor correlations</I>" in dot
    table = dot[dot.index("<TABLE") : dot.index("</TABLE>")]
    assert table.count("<TR>") == 1 + 1 + 2  # title, header, rows 2 and 3
    assert ">.45<" in table and ">.12<" in table and "-.31<" in table
    assert 'label="1. alpha"' in dot and 'label="3. gamma"' in dot
    # factors stacked top-down in model order
    assert '{ rank=same; "alpha" -> "beta" -> "gamma" [style=invis]; }' in dot
    assert dot.count("style=dotted") == 1  # the residual covariance is still an arc
    assert "factor_correlations" not in F.cfa_path_dot(cfa_params(), correlations="none")


def test_render_dot_missing_binary_raises(tmp_path):
    with pytest.raises(F.GraphvizNotFoundError, match="Graphviz"):
        F.render_dot("digraph{a}", tmp_path / "x", dot="no-such-dot-binary")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_render_dot_outputs_are_deterministic(tmp_path):
    dot = F.cfa_path_dot(cfa_params())
    a = F.render_dot(dot, tmp_path / "a" / "cfa")
    b = F.render_dot(dot, tmp_path / "b" / "cfa")
    for pa, pb in zip(a, b):
        assert pa.stat().st_size > 500 and pa.read_bytes() == pb.read_bytes()
    assert round(_png_dpi(a[0].read_bytes())) == 300
    assert a[2].read_bytes().startswith(b"%PDF-")
    svg = a[1].read_text(encoding="utf-8")
    assert svg.count('class="node"') == len(ITEMS) + len(GROUPS) + 1  # + the factor-correlation table


# ---------------------------------------------------------------------------- 7 model comparison
def test_model_comparison_bands():
    fits = pd.DataFrame(
        {
            "model": ["m1", "m2", "m3"],
            "cfi": [0.96, 0.91, 0.80],
            "tli": [0.95, 0.9, 0.7],
            "rmsea": [0.05, 0.07, 0.12],
            "srmr": [0.04, 0.06, 0.11],
        }
    )
    cut = {"cfi": (">=", 0.95), "tli": (">=", 0.95), "rmsea": ("<=", 0.06), "srmr": 0.08, "gfi": 0.9}
    fig = F.model_comparison(fits, cut, acceptable={"cfi": 0.90})
    assert len(fig.axes) == 4  # gfi is not in the table
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["CFI ≥ .95", "TLI ≥ .95", "RMSEA ≤ .06", "SRMR ≤ .08"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["m1", "m2", "m3"]
    assert all("(0–1)" in ax.get_xlabel() for ax in fig.axes)
    # CFI panel: acceptable band + good band; three value labels
    cfi = fig.axes[0]
    assert len(cfi.patches) == 2
    assert sorted(t.get_text() for t in cfi.texts) == [".800", ".910", ".960"]
    # markers: one meets the cut-off (circle), two do not (X)
    markers = [ln.get_marker() for ln in cfi.get_lines() if len(ln.get_xdata()) == 1 and ln.get_linestyle() == "None"]
    assert sorted(markers) == ["X", "X", "o"]


# ---------------------------------------------------------------------------- 8 discriminant validity
def test_discriminant_matrix():
    r = factor_pairs("r", [0.45, 0.30, 0.62])
    h = factor_pairs("htmt", [0.50, 0.33, 0.88])
    fig = F.discriminant_matrix(r, h, diagonal={"alpha": 0.8, "beta": 0.75, "gamma": 0.7})
    ax = fig.axes[0]
    assert len(fig.axes) == 2
    arr = ax.get_images()[0].get_array()
    assert arr[1, 0] == pytest.approx(0.45) and arr[0, 1] == pytest.approx(0.50)
    assert arr[2, 1] == pytest.approx(0.62) and arr[1, 2] == pytest.approx(0.88)
    assert sorted(t.get_text() for t in ax.texts) == sorted(
        [".45", ".30", ".62", ".50", ".33", ".88", ".80", ".75", ".70"]
    )
    assert len(ax.patches) == 1  # HTMT .88 >= .85 framed
    assert "HTMT" in ax.get_xlabel() and "correlation" in ax.get_ylabel()


# ---------------------------------------------------------------------------- 9-11 criterion validity
def test_criterion_forest():
    fig = F.criterion_forest(correlations(), predictor_labels={"beta": "Beta"})
    assert len(fig.axes) == len(CRITERIA)
    assert [ax.get_title(loc="left") for ax in fig.axes] == CRITERIA
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["alpha", "Beta", "gamma"]
    assert all("r with 95% CI" in ax.get_xlabel() for ax in fig.axes)
    seg = fig.axes[0].collections[0].get_segments()
    assert len(seg) == len(GROUPS)
    assert seg[0][0][0] == pytest.approx(0.02) and seg[0][1][0] == pytest.approx(0.18)


def known_groups_table() -> pd.DataFrame:
    rows = []
    for c in CRITERIA:
        for k_i, k in enumerate(GROUPS):
            rows.append(
                {
                    "criterion": c,
                    "competency": k,
                    "n_top": 30,
                    "n_rest": 90,
                    "mean_top": 3.8 + 0.1 * k_i,
                    "mean_rest": 3.4,
                    "sd_top": 0.6,
                    "sd_rest": 0.7,
                    "g": 0.5 + 0.1 * k_i,
                }
            )
    return pd.DataFrame(rows)


def test_known_groups_profile():
    from scipy import stats

    fig = F.known_groups_profile(known_groups_table(), scale=(1, 5))
    assert len(fig.axes) == len(CRITERIA)
    ax = fig.axes[0]
    assert ax.get_ylim() == (1, 5)
    assert "Mean competency score" in fig.get_supylabel() and "95% CI" in fig.get_supylabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Top group", "Rest"]
    assert sorted(t.get_text() for t in ax.texts) == ["0.50", "0.60", "0.70", "g"]
    seg = ax.collections[0].get_segments()[0]  # top group, first competency
    half = stats.t.ppf(0.975, 29) * 0.6 / np.sqrt(30)
    assert seg[1][1] - seg[0][1] == pytest.approx(2 * half)


DEMO_PREDICTORS = [
    "Achievement orientation",
    "Learning and innovation",
    "Team management",
    "Communication and coordination",
    "Customer orientation",
    "Plan management",
]
DEMO_CRITERIA = ["Card sales volume", "New accounts", "Target attainment", "Supervisor rating"]


def _texts_apart(fig) -> None:
    """No panel title overlaps another, nor a text of its panel (the g row); within a panel no two texts overlap;
    no x label overlaps another; the y label of the figure, if any, overlaps no tick label."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()

    def box(text):
        return text.get_window_extent(renderer)

    def apart(texts):
        boxes = [box(t) for t in texts]
        return not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])

    def artist(container, string):  # the Text artist showing `string`
        (found,) = [t for t in container.findobj(Text) if t.get_text() == string and t.get_visible()]
        return found

    titles = [artist(a, a.get_title(loc="left")) for a in fig.axes]
    assert apart(titles)
    for a, title in zip(fig.axes, titles):
        assert apart(a.texts)
        assert not any(box(t).overlaps(box(title)) for t in a.texts)
    assert apart([a.xaxis.label for a in fig.axes if a.get_xlabel()])
    if fig.get_supylabel():
        ylabel = artist(fig, fig.get_supylabel())
        ticks = [t for a in fig.axes for t in a.get_yticklabels() + a.get_xticklabels() if t.get_text()]
        assert not any(box(t).overlaps(box(ylabel)) for t in ticks)


@pytest.mark.parametrize("n", [4, 3])
def test_known_groups_profile_keeps_its_texts_apart_with_the_demos_shape(n):
    """Four criteria and six competencies with long names (the demo's shape), and three: two panels per row, and
    no panel title, Hedges' g value or y label drawn over another text (one row of four panels overlapped them)."""
    crits = DEMO_CRITERIA[:n]
    rows = [
        {"criterion": c, "competency": k, "n_top": 150, "n_rest": 450, "mean_top": 4.0, "mean_rest": 3.7}
        | {"sd_top": 0.5, "sd_rest": 0.5, "g": 0.25 + 0.05 * i}
        for c in crits
        for i, k in enumerate(DEMO_PREDICTORS)
    ]
    labels = {c: f"Top vs rest: {c}" for c in crits}
    fig = F.known_groups_profile(pd.DataFrame(rows), scale=(1, 5), criterion_labels=labels)
    assert [a.get_subplotspec().get_geometry()[:2] for a in fig.axes] == [(2, 2)] * n
    assert [a.get_title(loc="left") for a in fig.axes] == list(labels.values())
    _texts_apart(fig)  # draws the figure: tick labels are made then
    # the competency names and the x label under the lowest panel of each column only
    named = [any(t.get_visible() and t.get_text() for t in a.get_xticklabels()) for a in fig.axes]
    expected = [False, False, True, True] if n == 4 else [False, True, True]
    assert named == expected and [bool(a.get_xlabel()) for a in fig.axes] == expected


@pytest.mark.parametrize("n", [4, 3])
def test_dominance_plot_keeps_its_texts_apart_with_the_demos_shape(n):
    """The dominance panels of the demo's shape: two per row, titles (with R2) and x labels clear of each other
    (in one row of four they ran into each other)."""
    rows = [
        {"criterion": c, "competency": k, "weight": 0.02 * (i + 1), "weight_ci_lower": 0.01, "weight_ci_upper": 0.2}
        | {"r2_total": 0.22}
        for c in DEMO_CRITERIA[:n]
        for i, k in enumerate(DEMO_PREDICTORS)
    ]
    fig = F.dominance_plot(pd.DataFrame(rows))
    assert [a.get_subplotspec().get_geometry()[:2] for a in fig.axes] == [(2, 2)] * n
    assert fig.axes[0].get_title(loc="left") == "Card sales volume (R² = .22)"
    _texts_apart(fig)


def test_dominance_plot():
    rows = []
    for c in CRITERIA:
        for k_i, k in enumerate(GROUPS):
            w = 0.02 * (k_i + 1)
            rows.append(
                {
                    "criterion": c,
                    "competency": k,
                    "weight": w,
                    "weight_ci_lower": w - 0.01,
                    "weight_ci_upper": w + 0.02,
                    "r2_total": 0.12,
                }
            )
    fig = F.dominance_plot(pd.DataFrame(rows))
    assert len(fig.axes) == len(CRITERIA)
    ax = fig.axes[0]
    assert len(ax.patches) == len(GROUPS)
    assert ax.get_title(loc="left") == "sales (R² = .12)"
    assert "dominance weight" in fig.axes[-1].get_xlabel()
    assert sorted(p.get_width() for p in ax.patches) == pytest.approx([0.02, 0.04, 0.06])


# ---------------------------------------------------------------------------- 12 invariance
def test_invariance_plot():
    inv = pd.DataFrame(
        {
            "step": ["configural", "metric", "scalar"],
            "cfi": [0.96, 0.955, 0.93],
            "rmsea": [0.05, 0.05, 0.07],
            "delta_cfi": [np.nan, -0.005, -0.025],
            "delta_rmsea": [np.nan, 0.0, 0.02],
        }
    )
    fig = F.invariance_plot(inv)
    assert len(fig.axes) == 4
    dcfi = fig.axes[2]
    assert len(dcfi.patches) == 2
    colors = [mpl.colors.to_hex(p.get_facecolor()) for p in dcfi.patches]
    assert colors == [F.PALETTE[0].lower(), F.PALETTE[1].lower()]  # second change exceeds the .010 limit
    assert [t.get_text() for t in fig.axes[3].get_xticklabels()] == ["Configural", "Metric", "Scalar"]
    assert "limit -.010" in text_of(fig) and "limit .015" in text_of(fig)
    assert all(ax.get_ylabel() for ax in fig.axes)
    titles = ["CFI per step", "RMSEA per step", "ΔCFI vs previous step", "ΔRMSEA vs previous step"]
    assert [ax.get_title(loc="left") for ax in fig.axes] == titles


def test_invariance_plot_names_the_indices_whole_in_chinese():
    """The panel titles name the index itself, not the translated axis label cut at its first space (Chinese has
    none before its full-width parenthesis: the titles read "ΔCFI（CFI 相对前一步")."""
    from compval.i18n import language

    inv = pd.DataFrame(
        {"step": ["configural", "metric"], "cfi": [0.96, 0.955], "rmsea": [0.05, 0.05]}
        | {"delta_cfi": [np.nan, -0.005], "delta_rmsea": [np.nan, 0.0]}
    )
    with language("zh"):
        fig = F.invariance_plot(inv)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["各步骤的 CFI", "各步骤的 RMSEA", "ΔCFI 相对前一步", "ΔRMSEA 相对前一步"]


def test_missing_fonts_names_each_absent_family_and_its_debian_package(monkeypatch):
    """The figures step stops on a missing font instead of drawing with the next family (DejaVu Sans for
    Liberation Sans; no glyph at all for Chinese): missing_fonts names the family and the package to install."""
    from matplotlib import font_manager

    from compval.present.figures_style import missing_fonts

    fm = font_manager.fontManager
    assert missing_fonts(["en", "zh"]) == []  # make setup installs both
    monkeypatch.setattr(fm, "ttflist", [f for f in fm.ttflist if f.name != "Liberation Sans"])
    assert missing_fonts(["en"]) == ["Liberation Sans (Debian package fonts-liberation)"]
    monkeypatch.setattr(fm, "ttflist", [f for f in fm.ttflist if f.name != "Noto Sans CJK SC"])
    assert missing_fonts(["en"]) == ["Liberation Sans (Debian package fonts-liberation)"]  # English needs no CJK
    assert missing_fonts(["zh"]) == [
        "Liberation Sans (Debian package fonts-liberation)",
        "Noto Sans CJK SC (Debian package fonts-noto-cjk)",
    ]


# ---------------------------------------------------------------------------- 13 variants
def test_variants_plot_marks_a_gain_that_does_not_hold_out_and_a_variant_without_fit():
    comparison = pd.DataFrame(
        {
            "variant": ["original", "trimmed", "subabilities"],
            "cfi": [0.956, 0.968, np.nan],
            "cfi_training": [0.942, 0.955, np.nan],
            "cfi_holdout": [0.922, 0.927, np.nan],
            "holds": [None, False, None],
            "alpha_mean": [0.89, 0.886, 0.82],
            "cr_mean": [0.896, 0.893, 0.833],
        }
    )
    fig = F.variants_plot(comparison)
    ax_fit, ax_rel = fig.axes
    assert [t.get_text() for t in ax_fit.get_yticklabels()] == ["original", "trimmed", "subabilities"]
    rows = dict(zip([t.get_text() for t in ax_fit.get_yticklabels()], ax_fit.get_yticks()))
    notes = {t.get_text(): t.xy[1] for t in ax_fit.texts if not t.get_text().startswith(".")}
    assert notes == {
        "gain does not hold out": rows["trimmed"],
        "no fit to show: see its status in the comparison table": rows["subabilities"],
    }
    assert sorted(t.get_text() for t in ax_fit.texts if t.get_text().startswith(".")) == [".956", ".968"]
    assert len(ax_rel.patches) == 6  # mean alpha and mean CR per variant
