"""APA tables: number formats (APA 7), booktabs LaTeX, Markdown, CSV and a real Word table, and the builders
for each table type from small synthetic tidy inputs."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from compval.present import tables as T


# ---------------------------------------------------------------------------- number formatting
@pytest.mark.parametrize(
    "x, digits, lead, expected",
    [
        (0.8443, 2, False, ".84"),
        (-0.3249, 2, False, "-.32"),
        (1.0, 2, False, "1.00"),
        (-0.001, 2, False, ".00"),
        (0.0451, 3, False, ".045"),
        (3.899, 2, True, "3.90"),
        (-0.73, 2, True, "-0.73"),
        (12.0, 0, True, "12"),
        (np.nan, 2, True, ""),
        (None, 2, False, ""),
    ],
)
def test_format_number(x, digits, lead, expected):
    assert T.format_number(x, digits, leading_zero=lead) == expected


@pytest.mark.parametrize(
    "p, expected", [(0.0004, "< .001"), (0.001, ".001"), (0.0123, ".012"), (0.5, ".500"), (1.0, "1.000"), (np.nan, "")]
)
def test_format_p(p, expected):
    assert T.format_p(p) == expected


def test_format_ci():
    assert T.format_ci(0.8243, 0.8629) == "[.82, .86]"
    assert T.format_ci(-0.05, 0.21) == "[-.05, .21]"
    assert T.format_ci(2.5, 3.75, leading_zero=True) == "[2.50, 3.75]"
    assert T.format_ci(np.nan, 0.3) == ""


# ---------------------------------------------------------------------------- generic table
def simple_table() -> T.ApaTable:
    df = pd.DataFrame(
        {
            "scale": ["A & B", "C_1"],
            "n": [120, 98],
            "alpha": [0.812, 0.7049],
            "mean": [3.456, -0.2],
            "p": [0.0002, 0.0312],
            "group": ["g1", "g2"],
        }
    )
    emph = pd.DataFrame(False, index=df.index, columns=df.columns)
    emph.loc[0, "alpha"] = True
    return T.ApaTable(
        "Test Table",
        df,
        {"alpha": "r", "mean": "f2", "p": "p"},
        note="A note with 5%.",
        number=3,
        labels={"scale": "Scale", "alpha": "α", "mean": "M"},
        group_by="group",
        emphasis=emph,
        label="tab:test",
    )


def test_formatted_body():
    body = simple_table().formatted()
    assert list(body.columns) == ["scale", "n", "alpha", "mean", "p"]
    assert body.loc[0].tolist() == ["A & B", "120", ".81", "3.46", "< .001"]
    assert body.loc[1].tolist() == ["C_1", "98", ".70", "-0.20", ".031"]


def test_latex_booktabs():
    tex = simple_table().to_latex()
    lines = tex.splitlines()
    assert lines[0] == "\\begin{table}[htbp]" and lines[-1] == "\\end{table}"
    assert "\\caption{Test Table}" in tex and "\\label{tab:test}" in tex
    assert "\\begin{tabular}{lrrrr}" in tex  # no vertical rules
    assert "|" not in tex.split("\\begin{tabular}")[1].split("\n")[0]
    i_top, i_mid, i_bot = lines.index("\\toprule"), lines.index("\\midrule"), lines.index("\\bottomrule")
    assert i_top < i_mid < i_bot
    assert lines[i_top + 1] == "Scale & n & $\\alpha$ & M & p \\\\"
    assert "\\multicolumn{5}{l}{\\textit{g1}} \\\\" in lines
    assert "A \\& B & 120 & \\textbf{.81} & 3.46 & < .001 \\\\" in lines
    assert "C\\_1 & 98 & .70 & $-$0.20 & .031 \\\\" in lines
    assert "\\textit{Note.} A note with 5\\%." in tex
    assert "\\hline" not in tex


def test_markdown():
    md = simple_table().to_markdown()
    lines = md.splitlines()
    assert lines[0] == "**Table 3**" and lines[2] == "*Test Table*"
    assert "| Scale | n | α | M | p |" in lines
    assert "|:---|---:|---:|---:|---:|" in lines
    assert "| *g1* |  |  |  |  |" in lines
    assert "| A & B | 120 | **.81** | 3.46 | < .001 |" in lines
    assert lines[-1] == "*Note.* A note with 5%."


def test_csv_rounds_to_displayed_precision():
    text = simple_table().to_csv()
    df = pd.read_csv(io.StringIO(text))
    assert list(df.columns) == ["group", "Scale", "n", "α", "M", "p"]
    assert df["α"].tolist() == [0.81, 0.7]
    assert df["n"].tolist() == [120, 98]
    assert df["p"].tolist() == [0.0, 0.031]


def test_docx_real_table(tmp_path):
    from docx import Document

    path = simple_table().to_docx(tmp_path / "t.docx")
    doc = Document(str(path))
    paras = [p.text for p in doc.paragraphs]
    assert paras[0] == "Table 3" and doc.paragraphs[0].runs[0].bold
    assert paras[1] == "Test Table" and doc.paragraphs[1].runs[0].italic
    assert paras[-1] == "Note. A note with 5%."
    assert len(doc.tables) == 1
    tab = doc.tables[0]
    assert len(tab.rows) == 1 + 2 + 2  # header, two group rows, two body rows
    assert [c.text for c in tab.rows[0].cells] == ["Scale", "n", "α", "M", "p"]
    assert tab.rows[1].cells[0].text == "g1"
    assert [c.text for c in tab.rows[2].cells] == ["A & B", "120", ".81", "3.46", "< .001"]
    assert tab.rows[2].cells[2].paragraphs[0].runs[0].bold
    assert [c.text for c in tab.rows[4].cells] == ["C_1", "98", ".70", "-0.20", ".031"]
    # APA rules: top and bottom table borders, no vertical ones
    xml = tab._tbl.xml
    assert 'w:top w:val="single"' in xml and 'w:bottom w:val="single"' in xml
    assert 'w:insideV w:val="nil"' in xml and 'w:left w:val="nil"' in xml


def test_write_all_formats(tmp_path):
    paths = simple_table().write(tmp_path / "sub" / "tab")
    assert [p.name for p in paths] == ["tab.csv", "tab.md", "tab.tex", "tab.docx"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_unknown_format_spec():
    with pytest.raises(ValueError, match="unknown format spec"):
        T.ApaTable("x", pd.DataFrame({"a": [1.0]}), {"a": "zz"}).formatted()


# ---------------------------------------------------------------------------- builders
GROUPS = {"f1": ["i1", "i2"], "f2": ["i3", "i4"]}


def test_descriptives_table_grouped():
    d = pd.DataFrame(
        {
            "item": ["i3", "i1", "i2", "i4"],
            "n": [10, 11, 12, 13],
            "mean": [3.1, 3.2, 3.3, 3.4],
            "sd": [1.0, 0.9, 0.8, 0.7],
            "skew": [-0.5, 0.1, 0.2, 0.3],
            "kurtosis": [0.1, 0.2, 0.3, 0.4],
            "floor": [0.016, 0.0, 0.0, 0.0],
            "ceiling": [0.25, 0.1, 0.1, 0.1],
            "share_missing": [0.02, 0.0, 0.0, 0.0],
        }
    )
    t = T.descriptives_table(d, GROUPS, group_labels={"f1": "Factor one"})
    md = t.to_markdown()
    assert md.index("*Factor one*") < md.index("| i1 |") < md.index("| i2 |") < md.index("*f2*") < md.index("| i3 |")
    assert "| i3 | 10 | 3.10 | 1.00 | -0.50 | 0.10 | 1.6 | 25.0 | 2.0 |" in md
    csv = pd.read_csv(io.StringIO(t.to_csv()))
    assert csv.loc[csv["Item"] == "i3", "Floor %"].item() == 1.6


def test_reliability_table():
    rel = pd.DataFrame(
        {
            "level": ["module", "competency", "competency", "dimension"],
            "key": ["m", "a", "b", "d"],
            "n_items": [8, 4, 4, 2],
            "alpha": [0.91, 0.8443, 0.70, 0.5],
            "alpha_ci_lower": [0.89, 0.8243, 0.65, 0.4],
            "alpha_ci_upper": [0.93, 0.8629, 0.75, 0.6],
            "omega_total": [0.92, 0.85, 0.72, 0.55],
            "omega_total_boot_lower": [0.9, 0.83, 0.68, 0.5],
            "omega_total_boot_upper": [0.94, 0.87, 0.76, 0.6],
            "omega_hierarchical": [0.7, 0.8, 0.6, np.nan],
        }
    )
    t = T.reliability_table(rel, names={"a": "Scale A"})
    tex = t.to_latex()
    assert "Scale A & 4 & .84 & [.82, .86] & .85 & [.83, .87] & .80 \\\\" in tex
    assert tex.index("\\textit{Competency}") < tex.index("\\textit{Module}")
    assert "d &" not in tex  # dimension level not requested
    assert "Feldt" in t.note


def test_efa_loadings_table_bold_salient():
    lo = pd.DataFrame({"F1": [0.71, 0.05, 0.62, -0.1], "F2": [0.1, 0.66, -0.35, 0.58]}, index=["i1", "i3", "i2", "i4"])
    t = T.efa_loadings_table(lo, GROUPS, communalities={"i1": 0.5, "i2": 0.45, "i3": 0.44, "i4": 0.35})
    md = t.to_markdown()
    assert "| Item | F1 | F2 | h² |" in md
    assert "| i2 | **.62** | **-.35** | .45 |" in md
    assert "| i1 | **.71** | .10 | .50 |" in md
    assert md.index("| i1 |") < md.index("| i2 |") < md.index("| i3 |")
    long = lo.rename_axis("item").reset_index().melt(id_vars="item", var_name="factor", value_name="loading")
    assert "| i2 | **.62** | **-.35** |" in T.efa_loadings_table(long, GROUPS).to_markdown()


def test_fit_table():
    fits = pd.DataFrame(
        {
            "model": ["one", "two"],
            "chisq": [85.3, 300.1],
            "df": [24, 27],
            "pvalue": [1e-8, 0.0],
            "cfi": [0.931, 0.677],
            "tli": [0.896, 0.57],
            "rmsea": [0.092, 0.187],
            "rmsea.ci.lower": [0.071, 0.169],
            "rmsea.ci.upper": [0.114, 0.206],
            "srmr": [0.065, 0.143],
        }
    )
    t = T.fit_table(fits, model_labels={"one": "Three factors"})
    lines = t.to_latex().splitlines()
    assert "Model & $\\chi$$^2$ & df & p & CFI & TLI & RMSEA & 90\\% CI & SRMR \\\\".replace("$$", "") in lines
    assert "Three factors & 85.30 & 24 & < .001 & .931 & .896 & .092 & [.071, .114] & .065 \\\\" in lines


def test_cfa_loadings_table():
    params = pd.DataFrame(
        {
            "lhs": ["f1", "f1", "f2", "f2", "f1"],
            "op": ["=~", "=~", "=~", "=~", "~~"],
            "rhs": ["i1", "i2", "i3", "i4", "f2"],
            "est": [1.0, 0.8, 1.0, 1.2, 0.3],
            "se": [0.0, 0.1, 0.0, 0.2, 0.05],
            "pvalue": [np.nan, 1e-5, np.nan, 0.02, 0.01],
            "std_all": [0.7, 0.6, 0.8, 0.75, 0.4],
        }
    )
    t = T.cfa_loadings_table(params)
    md = t.to_markdown()
    assert "| Item | b | SE | β | p |" in md
    assert "| i1 | 1.00 |  | .70 |  |" in md  # marker loading: no SE, no p
    assert "| i2 | 0.80 | 0.10 | .60 | < .001 |" in md
    assert md.count("| *f") == 2


def test_validity_table():
    conv = pd.DataFrame({"factor": ["a", "b", "c"], "cr": [0.85, 0.8, 0.78], "ave": [0.64, 0.49, 0.36]})
    r = pd.DataFrame({"factor_a": ["a", "a", "b"], "factor_b": ["b", "c", "c"], "r": [0.45, 0.3, 0.62]})
    h = pd.DataFrame({"factor_a": ["a", "a", "b"], "factor_b": ["b", "c", "c"], "htmt": [0.5, 0.33, 0.88]})
    t = T.validity_table(conv, r, h)
    body = t.formatted()
    assert body.loc[0].tolist() == ["1. a", ".85", ".64", ".80", ".50", ".33"]
    assert body.loc[1].tolist() == ["2. b", ".80", ".49", ".45", ".70", ".88"]
    assert body.loc[2].tolist() == ["3. c", ".78", ".36", ".30", ".62", ".60"]
    assert "\\textbf{.70}" in t.to_latex()


def test_criterion_table():
    cors = pd.DataFrame(
        {
            "criterion": ["sales", "sales", "rating", "rating"],
            "competency": ["a", "b", "a", "b"],
            "r": [0.31, 0.05, 0.2, -0.12],
            "ci_lower": [0.22, -0.04, 0.11, -0.21],
            "ci_upper": [0.39, 0.14, 0.29, -0.03],
            "p_fdr": [0.0001, 0.3, 0.001, 0.04],
        }
    )
    t = T.criterion_table(cors)
    md = t.to_markdown()
    assert "| Competency | sales r | sales 95% CI | rating r | rating 95% CI |" in md
    assert "| a | **.31** | [.22, .39] | **.20** | [.11, .29] |" in md
    assert "| b | .05 | [-.04, .14] | **-.12** | [-.21, -.03] |" in md
    assert "Benjamini-Hochberg" in t.note


def test_invariance_table():
    inv = pd.DataFrame(
        {
            "step": ["configural", "metric"],
            "chisq": [115.85, 124.04],
            "df": [48, 54],
            "cfi": [0.923, 0.921],
            "rmsea": [0.097, 0.093],
            "srmr": [0.068, 0.072],
            "chisq_diff": [np.nan, 8.19],
            "df_diff": [np.nan, 6.0],
            "pvalue": [np.nan, 0.224],
            "delta_cfi": [np.nan, -0.002],
            "delta_rmsea": [np.nan, -0.004],
            "holds": [True, True],
        }
    )
    md = T.invariance_table(inv).to_markdown()
    assert "| Metric | 124.04 | 54 | .921 | .093 | .072 | 8.19 | 6 | .224 | -.002 | -.004 | yes |" in md
    assert "| Configural | 115.85 | 48 | .923 | .097 | .068 |  |  |  |  |  | yes |" in md


def test_a_boolean_is_not_a_number_but_a_boolean_column_still_says_yes_or_no():
    # the shared formatting.finite (formerly two _finite that disagreed): True/False are no finite numbers, so a
    # yes/no value is never printed or judged as 1.00 / 0.00 ...
    from compval.present.formatting import finite

    assert not finite(True) and not finite(np.bool_(False))
    assert finite(0) and finite(np.float64(0.5)) and not finite(np.nan) and not finite(None) and not finite("x")
    assert T.format_number(True) == "" and T.format_p(False) == "" and T.format_ci(True, 0.5) == ""
    # ... while a boolean column of a table still reads yes/no
    t = T.ApaTable("Flags", pd.DataFrame({"scale": ["a", "b"], "ok": [True, False], "x": [1.0, 0.0]}))
    assert t.formatted()["ok"].tolist() == ["yes", "no"]
    assert t.formatted()["x"].tolist() == ["1.00", "0.00"]
