"""Languages: the message catalogue (complete, placeholders intact, compiled .mo up to date), bilingual
codebooks (language maps, fall-back with a note), and Chinese outputs: every figure without a missing glyph and
with a CJK font embedded in its PDF, APA tables with an East Asian font in Word, and the HTML report."""

from __future__ import annotations

import io
import re
import shutil
import string
import subprocess
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from compval.present import figures as F
from compval.present import html as H
from compval.present import tables as T
from compval.codebook import Codebook, CodebookError, load_codebook
from compval.i18n import (
    LANGUAGES,
    N_,
    SOURCE_LANGUAGE,
    active_language,
    catalogue_path,
    compile_catalogue,
    extract_notebook,
    gettext,
    language,
    output_suffix,
    resolve,
    translate_markdown,
)

from conftest import ROOT
from test_figures import (
    CRITERIA,
    GROUPS,
    ITEMS,
    cfa_params,
    correlations,
    factor_pairs,
    known_groups_table,
    reliability_table,
    response_dist,
)
from test_report import synthetic_figures, synthetic_summary, synthetic_tables

CJK = re.compile(r"[\u4e00-\u9fff]")
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]


# ============================================================================ the catalogue
def _source_messages() -> set[str]:
    """Every message ``make i18n`` extracts (babel.cfg: _() / N_() in the library and the workflow scripts,
    the notebook's markdown cells)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    msgs = {
        msg if isinstance(msg, str) else msg[0]
        for _file, _line, msg, _comments, _ctx in extract_from_dir(str(ROOT), method_map, options_map)
    }
    assert "Reliability" in msgs and "## 7. Provenance" in {m[:16] for m in msgs}
    return msgs


def _catalogue(lang: str):
    return read_po(io.BytesIO(Path(catalogue_path(lang, "po")).read_bytes()))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated(lang):
    cat = _catalogue(lang)
    translated = {m.id for m in cat if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(_source_messages() - translated)
    assert not missing, f"untranslated in {catalogue_path(lang)} (run make i18n and translate): {missing[:10]}"


def _fields(text: str) -> set[str]:
    return {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f is not None}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_placeholders_and_line_breaks(lang):
    for m in _catalogue(lang):
        if not m.id:
            continue
        assert _fields(m.string) == _fields(m.id), f"placeholders differ: {m.id!r} -> {m.string!r}"
        assert m.string.count("\n") == m.id.count("\n"), f"line breaks differ: {m.id!r}"
        assert re.findall(r"</?\w+", m.string) == re.findall(r"</?\w+", m.id), f"HTML tags differ: {m.id!r}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_compiled_catalogue_is_up_to_date(lang):
    po = Path(catalogue_path(lang, "po")).read_bytes()
    assert Path(catalogue_path(lang, "mo")).read_bytes() == compile_catalogue(po), "run: make i18n"


def test_catalogue_digest_follows_translations_not_header_dates(tmp_path, monkeypatch):
    import compval.i18n as I

    po = Path(catalogue_path("zh", "po")).read_text(encoding="utf-8")
    copy = tmp_path / "compval.po"
    monkeypatch.setattr(I, "catalogue_path", lambda lang, ext="po": str(copy))
    copy.write_text(po, encoding="utf-8")
    base = I.catalogue_digest()
    redated = re.sub(r"POT-Creation-Date: [^\\]*", "POT-Creation-Date: 1999-01-01 00:00+0000", po)
    assert redated != po
    copy.write_text(redated, encoding="utf-8")
    assert I.catalogue_digest() == base
    copy.write_text(po.replace('msgstr "信度"', 'msgstr "可靠性"'), encoding="utf-8")
    assert I.catalogue_digest() != base


def test_language_context_and_english_identity():
    assert active_language() == "en"
    assert gettext("Reliability") == "Reliability"
    with language("zh"):
        assert active_language() == "zh"
        assert gettext("Reliability") == "信度"
        assert gettext("a text the catalogue does not have") == "a text the catalogue does not have"
        with language("en"):
            assert gettext("Reliability") == "Reliability"
        assert gettext("Reliability") == "信度"
    assert active_language() == "en"
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        with language("fr"):
            pass
    assert N_("Reliability") == "Reliability"
    assert output_suffix("en", "en") == "" and output_suffix("zh", "en") == ".zh"


def test_verdict_sentence_in_chinese():
    """The issue's example: "CFI = .96 达到 .95 的标准"."""
    with language("zh"):
        text, ok = H.index_verdict("cfi", 0.9612, (">=", 0.95), digits=2)
        assert (text, ok) == ("CFI = .96 达到 ≥ .95 的标准", True)
        assert H.index_verdict("rmsea", 0.071, ("<=", 0.06))[0] == "RMSEA = .071 未达到 ≤ .06 的标准"
    assert H.index_verdict("cfi", 0.9612, (">=", 0.95), digits=2)[0] == "CFI = .96 meets the ≥ .95 criterion"


# ============================================================================ bilingual codebooks
def _codebook(**overrides) -> dict:
    data = {
        "instrument": {"en": "Test instrument", "zh": "测试问卷"},
        "language": "en",
        "scale": {"min": 1, "max": 3, "labels": [{"en": "No", "zh": "否"}, "?", {"en": "Yes", "zh": "是"}]},
        "id_column": "id",
        "modules": [
            {
                "name": {"en": "Managing self", "zh": "管理自我"},
                "competencies": [
                    {
                        "key": "ach",
                        "name": {"en": "Achievement", "zh": "成就导向"},
                        "dimensions": [
                            {
                                "name": {"en": "Pursuit of excellence", "zh": "追求卓越"},
                                "items": [
                                    {"id": "A1", "text": {"en": "I aim high.", "zh": "我追求高标准。"}},
                                    {"id": "A2", "text": {"en": "I persist."}},
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    data.update(overrides)
    return data


def test_language_maps_resolve_with_fallback_listed():
    cb = Codebook.from_dict(_codebook())
    assert cb.language == "en" and cb.languages() == ["en", "zh"]
    assert cb.instrument == "Test instrument" and cb.scale_labels == ["No", "?", "Yes"]
    assert cb.items["text"].tolist() == ["I aim high.", "I persist."]
    assert cb.items["competency_name"].tolist() == ["Achievement"] * 2
    # keys derived from the codebook language's name
    assert cb.modules == ["managing_self"] and cb.dimensions == ["ach__pursuit_of_excellence"]
    zh = cb.localized("zh")
    assert zh.instrument == "测试问卷" and zh.scale_labels == ["否", "?", "是"]
    assert zh.items["text"].tolist() == ["我追求高标准。", "I persist."]
    assert zh.names("competency") == {"ach": "成就导向"} and zh.names("module") == {"managing_self": "管理自我"}
    assert zh.fallbacks == ("modules[0].competencies[0].dimensions[0].items[1].text (en)",)
    assert cb.localized("en").fallbacks == ()
    # the structure, keys and item order do not depend on the language
    assert zh.item_ids == cb.item_ids and zh.groups("dimension") == cb.groups("dimension")
    assert cb.label({"en": "x", "zh": "甲"}, "zh") == "甲" and cb.label("plain", "zh") == "plain"
    assert resolve({"zh": "甲"}, "en") == ("甲", "zh")


def test_codebook_default_language_can_be_chinese():
    cb = Codebook.from_dict(_codebook(language="zh"))
    assert cb.items["text"].tolist() == ["我追求高标准。", "I persist."]
    assert cb.localized("en").items["text"].tolist() == ["I aim high.", "I persist."]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"instrument": {}}, "instrument"),
        ({"instrument": {"english": "x"}}, "instrument"),
        ({"instrument": {"en": ""}}, "instrument"),
        ({"instrument": {"en": 3}}, "instrument"),
    ],
)
def test_schema_rejects_malformed_language_maps(bad, message):
    with pytest.raises(CodebookError, match=message):
        Codebook.from_dict(_codebook(**bad))


def test_duplicate_module_names_found_through_language_maps():
    data = _codebook()
    data["modules"].append({**data["modules"][0], "key": "other"})
    with pytest.raises(CodebookError, match="module 'Managing self' already defined"):
        Codebook.from_dict(data)


def test_demo_codebook_is_bilingual():
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    assert cb.language == "en" and cb.languages() == ["en", "zh"]
    zh = cb.localized("zh")
    assert zh.fallbacks == ()  # every human-readable field has both languages
    assert list(zh.names("module").values()) == ["管理自我", "管理他人", "管理任务"]
    assert list(zh.names("competency").values()) == [
        "成就导向",
        "学习创新",
        "团队管理",
        "沟通协调",
        "客户导向",
        "计划管理",
    ]
    dims = list(zh.names("dimension").values())
    assert dims[:4] == ["自我愿景", "勇于挑战", "承受压力", "追求卓越"] and dims[-4:] == [
        "结果导向",
        "计划性",
        "时间管理",
        "执行力",
    ]
    assert len(dims) == 23
    assert all(CJK.search(t) for t in zh.items["text"])
    # the English codebook the analyses see is unchanged: English names and texts only
    assert not any(
        CJK.search(str(v))
        for col in ("text", "competency_name", "module_name", "dimension_name")
        for v in cb.items[col]
    )
    assert "reconstruction from the English text" in cb.data["notes"]


# ============================================================================ Chinese figures
def _zh_figures() -> dict:
    """Every figure of the pipeline drawn in Chinese (catalogue active, Chinese competency names)."""
    names = {"alpha": "成就导向", "beta": "学习创新", "gamma": "团队管理", "m1": "管理自我", "m2": "管理他人"}
    crit = {"sales": "信用卡销量", "rating": "绩效评级"}
    items = pd.DataFrame(
        [
            {"item": i, "reverse": k == 0, "competency": g, "competency_name": names[g]}
            for g, its in GROUPS.items()
            for k, i in enumerate(its)
        ]
    )
    rng = np.random.default_rng(2)
    loadings = pd.DataFrame(rng.uniform(-0.6, 0.6, (len(ITEMS), 3)), index=ITEMS, columns=["MR1", "MR2", "MR3"])
    flow = {
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
    fits = pd.DataFrame(
        {
            "model": [H.pretty(m) for m in ("hypothesized", "one_factor", "second_order")],
            "cfi": [0.96, 0.91, 0.80],
            "tli": [0.95, 0.9, 0.7],
            "rmsea": [0.05, 0.07, 0.12],
            "srmr": [0.04, 0.06, 0.11],
        }
    )
    dominance = pd.DataFrame(
        [
            {
                "criterion": c,
                "competency": k,
                "weight": 0.02 * (i + 1),
                "weight_ci_lower": 0.02 * i + 0.01,
                "weight_ci_upper": 0.02 * i + 0.04,
                "r2_total": 0.12,
            }
            for c in CRITERIA
            for i, k in enumerate(GROUPS)
        ]
    )
    invariance = pd.DataFrame(
        {
            "step": ["configural", "metric", "scalar", "strict"],
            "cfi": [0.96, 0.955, 0.93, 0.92],
            "rmsea": [0.05, 0.05, 0.07, 0.07],
            "delta_cfi": [np.nan, -0.005, -0.025, -0.01],
            "delta_rmsea": [np.nan, 0.0, 0.02, 0.0],
        }
    )
    scree = pd.DataFrame(
        {
            "number": [1, 2, 3, 4],
            "observed": [3.0, 1.2, 0.3, 0.1],
            "simulated_quantile": [0.5, 0.3, 0.2, 0.1],
            "resampled_quantile": [0.55, 0.3, 0.2, 0.1],
        }
    )
    return {
        "fig01_sample_flow": lambda: F.sample_flow(flow),
        "fig02_response_distribution": lambda: F.response_distribution(
            response_dist(5), items, category_labels=["非常不同意", "不同意", "不确定", "同意", "非常同意"]
        ),
        "fig03_reliability": lambda: F.reliability_forest(reliability_table(), names=names),
        "fig04_scree": lambda: F.scree_plot(scree, {"parallel": 2, "map": 2, "map4": 3}),
        "fig05_efa_loadings": lambda: F.loading_heatmap(loadings, GROUPS, group_labels=names),
        "fig07_model_comparison": lambda: F.model_comparison(
            fits, {"cfi": 0.95, "rmsea": 0.06}, acceptable={"cfi": 0.90}
        ),
        "fig08_discriminant_validity": lambda: F.discriminant_matrix(
            factor_pairs("r", [0.45, 0.30, 0.62]), factor_pairs("htmt", [0.50, 0.33, 0.88]), labels=names
        ),
        "fig09_criterion_validity": lambda: F.criterion_forest(
            correlations(), predictor_labels=names, criterion_labels=crit
        ),
        "fig10_known_groups": lambda: F.known_groups_profile(
            known_groups_table(), predictor_labels=names, criterion_labels=crit, scale=(1, 5)
        ),
        "fig11_dominance": lambda: F.dominance_plot(dominance, predictor_labels=names, criterion_labels=crit),
        "fig12_invariance": lambda: F.invariance_plot(invariance),
    }, names


def _pdf_fonts(path: Path) -> str:
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


needs_pdffonts = pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils (pdffonts) not installed")


@pytest.mark.slow
@needs_pdffonts
def test_every_figure_in_chinese_has_all_glyphs_and_embeds_a_cjk_font(tmp_path):
    builders, names = _zh_figures()
    assert len(builders) == 11  # + the Graphviz path diagram below: the twelve figures
    with language("zh"), warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*Glyph .* missing")
        for stem, build in builders.items():
            fig = build()
            text = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
            assert CJK.search(text), f"{stem}: no Chinese text"
            paths = F.save_figure(fig, tmp_path / stem)  # draws PNG, SVG and PDF: a missing glyph raises
            assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
            fonts = _pdf_fonts(tmp_path / f"{stem}.pdf")
            assert re.search(r"NotoSansCJK\S*\s+CID", fonts), f"{stem}: no embedded CJK font\n{fonts}"
            assert not re.search(r"\bType 3\b", fonts), f"{stem}: Type 3 font in the PDF\n{fonts}"
            svg = (tmp_path / f"{stem}.svg").read_text(encoding="utf-8")
            assert "<text" not in svg  # glyphs kept as paths: the SVG does not need the font to display


@pytest.mark.slow
@needs_pdffonts
@pytest.mark.parametrize("lang, family", [("en", "LiberationSans"), ("zh", "NotoSansCJK")])
def test_the_lean_fonts_draw_the_same_figure(tmp_path, lang, family):
    # the figures rule draws with copies of the fonts without their layout tables (faster PDFs): PNG and SVG must be
    # byte-identical, the PDF embed the same fonts and render the same; leaving the block restores the fonts
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    from compval.present import figures_style as S

    if lang == "zh" and not any(f.name == "Noto Sans CJK SC" for f in font_manager.fontManager.ttflist):
        pytest.skip("Noto Sans CJK SC (fonts-noto-cjk) not installed")
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftoppm) not installed")
    builders, _ = _zh_figures()
    before = list(font_manager.fontManager.ttflist)
    with language(lang):
        F.save_figure(builders["fig12_invariance"](), tmp_path / "plain")
        with S.lean_fonts([lang]) as copies:
            # the families this language's figures name are copied, no other (English needs no CJK font)
            copied = {f.name for f in font_manager.fontManager.ttflist} & set(S.LEAN_FAMILIES.values())
            named = set(S.named_families([lang]))
            assert copies and copied == {lean for f, lean in S.LEAN_FAMILIES.items() if f in named}
            assert copied == ({"Liberation Sans (figures)"} if lang == "en" else set(S.LEAN_FAMILIES.values()))
            F.save_figure(builders["fig12_invariance"](), tmp_path / "lean")
            # the copies keep the installed fonts' dates (else each run would embed a new time in every PDF)
            originals = [f for f in before if f.name in S.LEAN_FAMILIES]
            installed = {TTFont(f.fname, fontNumber=f.index)["head"].modified for f in originals}
            assert {TTFont(p, fontNumber=0)["head"].modified for p in copies} <= installed
        F.save_figure(builders["fig12_invariance"](), tmp_path / "after")
    assert font_manager.fontManager.ttflist == before and not any(p.exists() for p in copies)
    for ext in ("png", "svg", "pdf"):
        assert (tmp_path / f"plain.{ext}").read_bytes() == (tmp_path / f"after.{ext}").read_bytes(), ext
    for ext in ("png", "svg"):
        assert (tmp_path / f"plain.{ext}").read_bytes() == (tmp_path / f"lean.{ext}").read_bytes(), ext
    assert (tmp_path / "plain.pdf").read_bytes() != (tmp_path / "lean.pdf").read_bytes()  # the fonts were used
    names = [sorted(re.findall(r"\+(\S+)", _pdf_fonts(tmp_path / f"{v}.pdf"))) for v in ("plain", "lean")]
    assert names[0] == names[1] and any(family in n for n in names[0])
    for v in ("plain", "lean"):
        subprocess.run(
            ["pdftoppm", "-r", "100", "-png", str(tmp_path / f"{v}.pdf"), str(tmp_path / f"r{v}")], check=True
        )
    assert (tmp_path / "rplain-1.png").read_bytes() == (tmp_path / "rlean-1.png").read_bytes()


def test_missing_glyph_check_works_without_the_cjk_font(tmp_path):
    """The negative control: the English style has no CJK font, and a Chinese label then fails."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*Glyph .* missing")
        with pytest.raises(UserWarning, match="Glyph"):
            F.save_figure(F.reliability_forest(reliability_table(), names={"alpha": "成就导向"}), tmp_path / "x")


@needs_pdffonts
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_cfa_path_diagram_in_chinese_embeds_a_cjk_font(tmp_path):
    names = {"alpha": "成就导向", "beta": "学习创新", "gamma": "团队管理"}
    with language("zh"):
        dot = F.cfa_path_dot(cfa_params(), labels=names)
        assert "因子相关" in dot and "Noto Sans CJK SC" in dot
        F.render_dot(dot, tmp_path / "fig06_cfa_path")
    assert re.search(r"NotoSansCJK", _pdf_fonts(tmp_path / "fig06_cfa_path.pdf"))
    assert 'fontname="Liberation Sans"' in F.cfa_path_dot(cfa_params())  # English unchanged


# ============================================================================ Chinese tables
def test_chinese_tables_and_docx_east_asian_font(tmp_path):
    rel = reliability_table()
    with language("zh"):
        t = T.reliability_table(rel, names={"alpha": "成就导向"})
        t.number = 2
        md = t.to_markdown()
        tex = t.to_latex()
        t.to_docx(tmp_path / "zh.docx")
    assert md.startswith("**表 2**\n\n*内部一致性信度*") and "*注：*" in md and "| 量表 |" in md
    assert "成就导向" in md and "*胜任力*" in md
    assert "xeCJK" in tex.splitlines()[0] and "\\textit{注：}" in tex
    with zipfile.ZipFile(tmp_path / "zh.docx") as z:
        styles = z.read("word/styles.xml").decode("utf-8")
        document = z.read("word/document.xml").decode("utf-8")
    assert 'w:eastAsia="SimSun"' in styles and "内部一致性信度" in document
    # English: the same table as before, no East Asian font set
    t_en = T.reliability_table(rel)
    t_en.number = 2
    assert t_en.to_markdown().startswith("**Table 2**\n\n*Internal Consistency Reliability*")
    t_en.to_docx(tmp_path / "en.docx")
    with zipfile.ZipFile(tmp_path / "en.docx") as z:
        assert 'w:eastAsia="SimSun"' not in z.read("word/styles.xml").decode("utf-8")


# ============================================================================ Chinese report
def zh_report(fallbacks=()) -> str:
    tables = synthetic_tables()
    with language("zh"):
        return H.render_report(
            synthetic_summary(), tables, synthetic_figures(), title=H.report_title("测试问卷"), fallbacks=fallbacks
        )


def test_chinese_report_headings_verdicts_and_lang():
    html = zh_report()
    assert '<html lang="zh-Hans">' in html
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html)
    assert headings[:3] == ["目录", "结果概览", "1. 样本与数据清理"]
    for heading in (
        "2. 题目描述统计",
        "3. 信度",
        "4. 探索性因子分析",
        "5. 验证性因子分析与模型比较",
        "6. 结构效度",
        "7. 效标效度",
        "8. 模型修订：变体与建议",
        "9. 附录：数据来源与运行信息",
    ):
        assert heading in headings
    assert "<title>验证报告：测试问卷</title>" in html
    assert "达到 ≥ .95 的标准" in html and "<b>表 1</b>" not in html and ">表 1</p>" in html
    assert "<b>图 1</b>" in html
    # no English section heading or verdict left
    for english in ("Sample and data cleaning", "meets the", "does not meet", "At a glance", "Figure 1.", "Note."):
        assert english not in html, english
    assert "Noto Sans CJK SC" in html  # CSS font fall-back for CJK


def test_chinese_report_notes_codebook_fallbacks():
    html = zh_report(fallbacks=("modules[0].competencies[0].name (en)",))
    assert "编码手册中缺少本语言文本的字段以原语言显示：modules[0].competencies[0].name (en)。" in html


def test_english_report_is_unchanged_by_the_catalogue():
    """With English active the catalogue is the identity: the report has no Chinese and the usual headings."""
    html = H.render_report(synthetic_summary(), synthetic_tables(), synthetic_figures())
    assert '<html lang="en">' in html and not CJK.search(html)
    assert "<h2>At a glance</h2>" in html and "<b>Figure 1.</b>" in html


# ============================================================================ Chinese notebook
def test_notebook_markdown_is_translated_and_code_kept():
    import jupytext

    nb = jupytext.read(ROOT / "notebooks" / "validation_report.py")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert translate_markdown(nb) == 0  # English: the notebook as written
    with language("zh"):
        assert translate_markdown(nb) == len(markdown) == 8
    assert [c.source for c in nb.cells if c.cell_type == "code"] == code
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    assert headings[0] == "# 关键数字是如何得出的" and headings[-1] == "## 7. 数据来源与运行信息"
    assert all(CJK.search(h) for h in headings)
    with open(ROOT / "notebooks" / "validation_report.py", "rb") as f:
        extracted = [msg for _line, _fn, msg, _c in extract_notebook(f, (), (), {})]
    assert extracted == markdown


def test_configured_labels_name_data_keys_in_each_output_language():
    """config `labels`: a text for every language or a language map; a map without the output's language, or a
    key without a label, is shown prettified (never another language's text)."""
    from compval.i18n import display_labels, language
    from compval.present.formatting import pretty
    from compval.present.tables import regression_table

    labels = {
        "card_sales_volume": {"en": "Card sales", "zh": "信用卡销售额"},
        "trimmed": "Trimmed",
        "original": {"zh": "原始"},
    }
    reg = pd.DataFrame({"criterion": ["card_sales_volume", "new_accounts"], "n": [548, 548], "delta_r2": [0.2, 0.1]})
    with display_labels(labels):
        assert pretty("card_sales_volume") == "Card sales" and pretty("trimmed") == "Trimmed"
        assert pretty("original") == "Original" and pretty("new_accounts") == "New accounts"
        with language("zh"):
            assert pretty("card_sales_volume") == "信用卡销售额" and pretty("trimmed") == "Trimmed"
            assert pretty("original") == "原始"
            assert list(regression_table(reg).df["criterion"]) == ["信用卡销售额", "New accounts"]
    assert pretty("card_sales_volume") == "Card sales volume"  # outside the block: no labels
