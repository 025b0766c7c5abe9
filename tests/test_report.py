"""The HTML report (compval.present.html): sections, APA numbers and plain-language verdicts from a small synthetic
summary, one source of truth (a changed summary value shows up in the report), self-containment; and, marked
e2e, the figure/table/report/notebook rules on the tiny end-to-end project."""

from __future__ import annotations

import copy
import io
import json
import re
import struct
import zipfile

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from compval.present import html as H

COMPS = {"drive": ["D1", "D2", "D3"], "care": ["C1", "C2", "C3"]}
NAMES = {"drive": "Drive & ambition", "care": "Customer care"}
ITEMS = [i for v in COMPS.values() for i in v]


# ---------------------------------------------------------------------------- synthetic inputs
def synthetic_summary() -> dict:
    return {
        "n_raw": 212,
        "n_analyzed": 200,
        "excluded": {"duplicate_id": 2, "careless_responding": 10},
        "performance": {
            "n_performance_records": 205,
            "matched": 195,
            "survey_only": 5,
            "performance_only": 10,
            "performance_of_excluded": 8,
        },
        "reliability": {
            "drive": {
                "alpha": 0.8443455,
                "alpha_ci": [0.8242747, 0.8629297],
                "alpha_std": 0.84,
                "lambda6": 0.83,
                "omega_total": 0.8476717,
                "omega_hierarchical": 0.8229039,
                "n_items": 3,
            },
            "care": {
                "alpha": 0.6612,
                "alpha_ci": [0.6011, 0.7152],
                "alpha_std": 0.66,
                "lambda6": 0.62,
                "omega_total": 0.6801,
                "omega_hierarchical": None,
                "n_items": 3,
            },
        },
        "efa": {
            "kmo": 0.8213,
            "bartlett_chi2": 572.7999,
            "bartlett_df": 15,
            "bartlett_p": 0.0,
            "n_factors_parallel": 2,
            "n_factors_parallel_resampled": 2,
            "n_factors_map": 1,
            "n_factors_map4": 2,
            "n_factors_extracted": 2,
            "congruence": {"drive": 0.978, "care": 0.901},
            "n": 200,
            "method": "minres",
        },
        "cfa": {
            "hypothesized": {
                "chisq": 10.5432,
                "df": 8,
                "pvalue": 0.2289,
                "cfi": 0.9681,
                "tli": 0.9402,
                "rmsea": 0.0712,
                "rmsea_ci_lower": 0.0,
                "rmsea_ci_upper": 0.1101,
                "srmr": 0.0423,
                "aic": 3210.1,
                "bic": 3280.4,
                "converged": True,
                "status": "ok",
                "meets_cutoffs": False,
                "loadings_std": {
                    "drive": {"D1": 0.71, "D2": 0.68, "D3": 0.45},
                    "care": {"C1": 0.62, "C2": 0.77, "C3": 0.59},
                },
                "factor_correlations": {"drive~~care": 0.41},
            },
            "one_factor": {
                "chisq": 80.1,
                "df": 9,
                "pvalue": 1e-12,
                "cfi": 0.71,
                "tli": 0.52,
                "rmsea": 0.199,
                "srmr": 0.11,
                "aic": 3290.3,
                "bic": 3357.3,
                "converged": True,
                "status": "ok",
                "meets_cutoffs": False,
            },
            "comparison": {
                "reference": "hypothesized",
                "best_bic": "hypothesized",
                "reference_meets_cutoffs": False,
                "reference_preferred_over_all_rivals": True,
                "verdict": "partly supported",
                "cutoffs": {"cfi": [">=", 0.95], "tli": [">=", 0.95], "rmsea": ["<=", 0.06], "srmr": ["<=", 0.08]},
            },
        },
        "validity": {
            "drive": {"cr": 0.7312, "ave": 0.4811},
            "care": {"cr": 0.7012, "ave": 0.5123},
            "htmt": {"drive~~care": 0.5234},
            "invariance": {
                "configural": {
                    "chisq": 20.1,
                    "df": 16,
                    "cfi": 0.975,
                    "rmsea": 0.05,
                    "srmr": 0.05,
                    "chisq_diff": None,
                    "df_diff": None,
                    "pvalue": None,
                    "delta_cfi": None,
                    "delta_rmsea": None,
                    "holds": True,
                    "status": "ok",
                },
                "metric": {
                    "chisq": 25.3,
                    "df": 20,
                    "cfi": 0.971,
                    "rmsea": 0.052,
                    "srmr": 0.055,
                    "chisq_diff": 5.2,
                    "df_diff": 4,
                    "pvalue": 0.267,
                    "delta_cfi": -0.004,
                    "delta_rmsea": 0.002,
                    "holds": True,
                    "status": "ok",
                },
                "scalar": {
                    "chisq": 45.3,
                    "df": 24,
                    "cfi": 0.941,
                    "rmsea": 0.07,
                    "srmr": 0.06,
                    "chisq_diff": 20.0,
                    "df_diff": 4,
                    "pvalue": 0.0005,
                    "delta_cfi": -0.030,
                    "delta_rmsea": 0.018,
                    "holds": False,
                    "status": "ok",
                },
                "group": "role_level",
                "first_failing_step": "scalar",
            },
        },
        "criterion": {
            "sales": {
                "drive": {"r": 0.3544, "ci_lower": 0.2795, "ci_upper": 0.425, "p": 1e-10, "p_fdr": 2e-10},
                "care": {"r": 0.0412, "ci_lower": -0.098, "ci_upper": 0.179, "p": 0.56, "p_fdr": 0.56},
            },
            "regression": {"sales": {"r2_controls": 0.0299, "r2_full": 0.2559, "delta_r2": 0.2259, "p_delta": 1.2e-28}},
            "dominance": {"sales": {"drive": 0.1604, "care": 0.0015}},
            "missing": {"sales": {"n_missing": 5, "n_valid": 195}},
        },
        "provenance": {
            "python": "3.11.7",
            "platform": "x86_64",
            "packages": {"numpy": "2.3.5", "pandas": "2.3.3"},
            "seed": 424242,
            "config": {"seed": 424242, "missing": "pairwise", "codebook": "cb.yaml"},
            "codebook_sha256": "ab" * 32,
            "inputs_sha256": {"survey": "cd" * 32, "performance": "ef" * 32},
        },
    }


def synthetic_tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    codebook = pd.DataFrame(
        [
            {"item": i, "competency": c, "competency_name": NAMES[c], "module": "m", "module_name": "Module M"}
            for c, its in COMPS.items()
            for i in its
        ]
    )
    descriptives = pd.DataFrame(
        {
            "item": ITEMS,
            "n": 200,
            "mean": rng.uniform(2.5, 4, 6),
            "sd": rng.uniform(0.8, 1.2, 6),
            "median": 4.0,
            "skew": rng.normal(0, 0.3, 6),
            "kurtosis": rng.normal(0, 0.3, 6),
            "floor": 0.02,
            "ceiling": 0.21,
            "share_missing": 0.015,
        }
    )
    reliability = pd.DataFrame(
        {
            "level": ["competency", "competency"],
            "key": ["drive", "care"],
            "n_items": [3, 3],
            "alpha": [0.8443455, 0.6612],
            "alpha_ci_lower": [0.8242747, 0.6011],
            "alpha_ci_upper": [0.8629297, 0.7152],
            "omega_total": [0.8476717, 0.6801],
            "omega_total_boot_lower": [0.82, 0.62],
            "omega_total_boot_upper": [0.87, 0.73],
            "omega_hierarchical": [0.8229039, np.nan],
            "average_r": [0.64, 0.39],
        }
    )
    load = []
    for c, its in COMPS.items():
        for i in its:
            for f in ("F1", "F2"):
                load.append(
                    {
                        "item": i,
                        "factor": f,
                        "loading": (0.7 if (f == "F1") == (c == "drive") else 0.05),
                        "structure": 0.5,
                    }
                )
    matching = pd.DataFrame(
        {"factor": ["drive", "care"], "efa_factor": ["F1", "F2"], "sign": 1, "congruence": [0.978, 0.901]}
    )
    communalities = pd.DataFrame({"item": ITEMS, "communality": 0.49, "uniqueness": 0.51})
    fit = pd.DataFrame(
        {
            "model": ["hypothesized", "one_factor"],
            "chisq": [10.5432, 80.1],
            "df": [8, 9],
            "pvalue": [0.2289, 1e-12],
            "cfi": [0.9681, 0.71],
            "tli": [0.9402, 0.52],
            "rmsea": [0.0712, 0.199],
            "rmsea.ci.lower": [0, 0.16],
            "rmsea.ci.upper": [0.1101, 0.24],
            "srmr": [0.0423, 0.11],
            "aic": [3210.1, 3290.3],
            "bic": [3280.4, 3357.3],
        }
    )
    params = []
    for c, its in COMPS.items():
        for k, i in enumerate(its):
            params.append(
                {
                    "model": "hypothesized",
                    "lhs": c,
                    "op": "=~",
                    "rhs": i,
                    "est": 1.0 if k == 0 else 1.1,
                    "se": 0.0 if k == 0 else 0.1,
                    "pvalue": np.nan if k == 0 else 1e-6,
                    "std_all": 0.6 + 0.05 * k,
                }
            )
    params.append(
        {
            "model": "hypothesized",
            "lhs": "drive",
            "op": "~~",
            "rhs": "care",
            "est": 0.2,
            "se": 0.05,
            "pvalue": 1e-4,
            "std_all": 0.41,
        }
    )
    params.append(
        {
            "model": "one_factor",
            "lhs": "g",
            "op": "=~",
            "rhs": "D1",
            "est": 1.0,
            "se": 0,
            "pvalue": np.nan,
            "std_all": 0.5,
        }
    )
    convergent = pd.DataFrame(
        {
            "factor": ["drive", "care"],
            "cr": [0.7312, 0.7012],
            "ave": [0.4811, 0.5123],
            "sqrt_ave": np.sqrt([0.4811, 0.5123]),
        }
    )
    fc = pd.DataFrame({"pair": ["drive~~care"], "factor_a": ["drive"], "factor_b": ["care"], "r": [0.41]})
    htmt = pd.DataFrame(
        {
            "pair": ["drive~~care"],
            "factor_a": ["drive"],
            "factor_b": ["care"],
            "htmt": [0.5234],
            "ci_lower": [0.41],
            "ci_upper": [0.63],
        }
    )
    inv = pd.DataFrame(
        {
            "group": "role_level",
            "step": ["configural", "metric", "scalar"],
            "df": [16, 20, 24],
            "chisq": [20.1, 25.3, 45.3],
            "cfi": [0.975, 0.971, 0.941],
            "rmsea": [0.05, 0.052, 0.07],
            "srmr": [0.05, 0.055, 0.06],
            "chisq_diff": [np.nan, 5.2, 20.0],
            "df_diff": [np.nan, 4, 4],
            "pvalue": [np.nan, 0.267, 0.0005],
            "delta_cfi": [np.nan, -0.004, -0.03],
            "delta_rmsea": [np.nan, 0.002, 0.018],
            "holds": [True, True, False],
            "status": "ok",
        }
    )
    cor = pd.DataFrame(
        {
            "criterion": "sales",
            "competency": ["drive", "care"],
            "r": [0.3544, 0.0412],
            "ci_lower": [0.2795, -0.098],
            "ci_upper": [0.425, 0.179],
            "p_fdr": [2e-10, 0.56],
        }
    )
    reg = pd.DataFrame(
        {
            "criterion": ["sales"],
            "n": [195],
            "r2_controls": [0.0299],
            "r2_full": [0.2559],
            "delta_r2": [0.2259],
            "f_change": [27.43],
            "df1": [2],
            "df2": [190],
            "p_delta": [1.2e-28],
        }
    )
    miss = pd.DataFrame(
        {"item": ITEMS, "n": 210, "n_missing": [0, 1, 2, 3, 4, 5], "share_missing": np.array([0, 1, 2, 3, 4, 5]) / 210}
    )
    return {
        "codebook": codebook,
        "descriptives": descriptives,
        "reliability": reliability,
        "efa_loadings": pd.DataFrame(load),
        "efa_matching": matching,
        "efa_communalities": communalities,
        "cfa_fit": fit,
        "cfa_parameters": pd.DataFrame(params),
        "convergent": convergent,
        "factor_correlations": fc,
        "htmt": htmt,
        "invariance": inv,
        "criterion_correlations": cor,
        "regression": reg,
        "item_missingness": miss,
        **synthetic_revision_tables(),
    }


def synthetic_revision_tables() -> dict[str, pd.DataFrame]:
    """The revision workflow's tables: the original and one merged variant, their diff, two suggestions."""
    base = {"n_items": 6, "same_items": True, "status": "ok", "df": 8, "tli": 0.95, "srmr": 0.04, "min_ratio": 0.5}
    comparison = pd.DataFrame(
        [
            {
                **base,
                "variant": "original",
                "n_factors": 2,
                "nested": "",
                "chisq": 10.2,
                "cfi": 0.97,
                "rmsea": 0.03,
                "aic": 900.0,
                "bic": 950.0,
                "delta_cfi": 0.0,
                "delta_bic": 0.0,
                "cfi_training": 0.97,
                "cfi_holdout": 0.96,
                "holds": None,
                "alpha_mean": 0.8,
                "cr_mean": 0.81,
                "htmt_max": 0.6,
            },
            {
                **base,
                "variant": "merged",
                "n_factors": 1,
                "df": 9,
                "nested": "in_original",
                "chisq": 60.5,
                "cfi": 0.85,
                "rmsea": 0.09,
                "aic": 948.0,
                "bic": 995.0,
                "delta_cfi": -0.12,
                "delta_bic": 45.0,
                "chisq_diff": 50.3,
                "df_diff": 1,
                "p_diff": 1e-12,
                "cfi_training": 0.86,
                "cfi_holdout": 0.84,
                "delta_cfi_training": -0.11,
                "delta_cfi_holdout": -0.12,
                "holds": True,
                "alpha_mean": 0.82,
                "cr_mean": 0.83,
                "htmt_max": None,
            },
        ]
    )
    diff = pd.DataFrame(
        [
            {
                "variant": "merged",
                "level": "competency",
                "change": "merged",
                "name": "F1 and F2",
                "from": "f1, f2",
                "to": "f1_f2",
                "detail": "f1: 3 items (a1, a2, a3); f2: 3 items (b1, b2, b3)",
            }
        ]
    )
    suggestions = pd.DataFrame(
        [
            {
                "suggestion": "s01",
                "change": "drop",
                "subject": "a3",
                "target": "",
                "kind": "low_loading",
                "delta_cfi_training": 0.01,
                "delta_cfi_holdout": 0.004,
                "delta_alpha_training": -0.01,
                "holds": False,
            },
            {
                "suggestion": "s02",
                "change": "move",
                "subject": "b1",
                "target": "f1__d1",
                "kind": "mi_cross_loading",
                "delta_cfi_training": 0.02,
                "delta_cfi_holdout": 0.02,
                "delta_alpha_training": 0.01,
                "holds": True,
            },
        ]
    )
    return {"variants_comparison": comparison, "variants_diff": diff, "suggestions": suggestions}


def _figure(fmt: str):
    fig = Figure(figsize=(3.5, 2.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 0.5, 0.8])
    ax.set_xlabel("x (units)")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=100 if fmt == "png" else None, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue() if fmt == "png" else buf.getvalue().decode("utf-8")


def synthetic_figures() -> dict[str, bytes | str]:
    png, svg = _figure("png"), _figure("svg")
    return {stem: (png if k % 2 == 0 else svg) for k, stem in enumerate(H.FIGURES)}


@pytest.fixture(scope="module")
def inputs():
    return synthetic_summary(), synthetic_tables(), synthetic_figures()


@pytest.fixture(scope="module")
def page(inputs):
    return H.render_report(*inputs, run_date="2026-01-02 03:04 UTC")


def _text(html: str) -> str:
    """Visible text with tags stripped and whitespace collapsed."""
    t = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    t = re.sub(r"<[^>]+>", " ", t)
    t = t.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&#x27;", "'")
    return re.sub(r"\s+", " ", t)


# ---------------------------------------------------------------------------- structure
def test_the_revision_section_says_which_variant_is_preferred_and_is_absent_without_revision_results(inputs):
    summary, tables, figures = inputs
    page = H.render_report({**summary, "holdout": {"training": {"n": 140}, "holdout": {"n": 60}}}, tables, figures)
    section = _text(page[page.index('<section id="revision">') : page.index('<section id="appendix">')])
    assert "training part (n = 140) and a holdout part (n = 60)" in section
    assert "Merged (6 items, 1 factors)" in section and "not preferred over the original" in section
    assert "nested in the original: Δχ²(1) = 50.30, p < .001" in section
    assert "f1: 3 items (a1, a2, a3)" in section and "s02" in section
    bare = {k: v for k, v in tables.items() if k not in H.REVISION_TABLES}
    assert '<section id="revision">' not in H.render_report(summary, bare, figures)


def test_every_section_figure_and_table_is_present(page):
    for sid, heading in H.SECTIONS:
        assert f'<section id="{sid}">' in page
        assert heading in _text(page)
    imgs = re.findall(r"<img [^>]*src=\"([^\"]+)\"", page)
    assert len(imgs) == len(H.FIGURES)
    assert all(s.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for s in imgs)
    text = _text(page)
    for k in range(1, len(H.FIGURES) + 1):
        assert f"Figure {k}." in text
    for title in (
        "Item Descriptive Statistics",
        "Internal Consistency Reliability",
        "Exploratory Factor Analysis: Pattern Loadings",
        "Fit of the Competing Measurement Models",
        "Confirmatory Factor Analysis: Factor Loadings",
        "Convergent and Discriminant Validity",
        "Measurement Invariance Across Groups (Role level)",
        "Correlations of Competency Scores With Performance Criteria",
        "Incremental Validity of the Competency Scores",
        "Items With the Most Missing Answers",
        "Codebook Variants Side by Side",
    ):
        assert title in text, title
    # figures sit in their sections, in FIGURES order
    sec_of = {sid: page.index(f'<section id="{sid}">') for sid, _ in H.SECTIONS}
    for stem, (sid, _) in H.FIGURES.items():
        pos = page.index(f'<figure id="{stem}">')
        later = [p for p in sec_of.values() if p > sec_of[sid]]
        assert sec_of[sid] < pos < (min(later) if later else len(page))


def test_headline_numbers_are_apa_formatted_with_verdicts(page):
    text = _text(page)
    # sample and cleaning
    assert "Of 212 survey records received, 200 (94.3%) were analysed and 12 were excluded" in text
    assert "duplicate id (n = 2), careless responding (n = 10)" in text
    assert "(212 = 200 + 12)" in text
    assert "195 analysed respondents were matched to one of 205 performance records" in text
    # reliability: no leading zero, Feldt CI, verdict beside the number
    assert "α = .84, 95% CI [.82, .86]" in text
    assert "meets the .80 criterion (good)" in text
    assert "Customer care (3 items): α = .66, 95% CI [.60, .72]" in text
    assert "does not meet the .70 criterion" in text
    assert "ω h = n/a" in text  # missing omega_h is shown as such, not invented
    # EFA
    assert "KMO = .82: meritorious (Kaiser, 1974)" in text
    assert "χ²(15) = 572.80, p < .001" in text
    assert "Velicer's MAP suggests 1 factors; the codebook hypothesises 2" in text
    assert "congruence = .90 — fair similarity" in text
    # CFA: three decimals for fit indices, direction of the cut-off
    assert "χ²(8) = 10.54, p = .229" in text
    assert "CFI = .968 meets the ≥ .95 criterion" in text
    assert "TLI = .940 does not meet the ≥ .95 criterion" in text
    assert "RMSEA = .071 does not meet the ≤ .06 criterion" in text
    assert "SRMR = .042 meets the ≤ .08 criterion" in text
    assert "RMSEA 90% CI [.000, .110]" in text
    assert "Standardized loadings range from .45 to .77; 5 of 6 reach .50" in text
    assert "overall verdict: partly supported" in text
    # validity
    assert "CR = .73 meets the ≥ .70 criterion; AVE = .48 does not meet the ≥ .50 criterion" in text
    assert "Fornell–Larcker: 1 of 1 factor pairs have both AVEs above the squared latent correlation" in text
    assert "HTMT = .52, below .85: discriminant" in text
    assert "ΔCFI = -.030" in text
    assert "invariance does not hold (Chen, 2007: ΔCFI ≥ −.010, ΔRMSEA ≤ .015)" in text
    assert "First failing step: Scalar" in text
    # criterion
    assert "strongest: Drive & ambition, r = .35, 95% CI [.28, .42], p < .001 (adjusted)" in text
    assert "ΔR² = .23 beyond the controls (R² from .03 to .26), p < .001" in text
    assert "(weight = .160)" in text
    # appendix: provenance and run date
    assert "Run date 2026-01-02 03:04 UTC" in text
    assert "ab" * 32 in text and "cd" * 32 in text and "424242" in text
    assert "numpy 2.3.5" in text


def test_changed_summary_value_appears_in_report(inputs):
    summary, tables, figures = inputs
    s = copy.deepcopy(summary)
    s["cfa"]["hypothesized"]["cfi"] = 0.9123
    s["n_analyzed"], s["n_raw"] = 199, 211
    s["reliability"]["drive"]["alpha"] = 0.7345
    s["provenance"]["inputs_sha256"]["survey"] = "0f" * 32
    text = _text(H.render_report(s, tables, figures))
    assert "CFI = .912 does not meet the ≥ .95 criterion" in text
    assert "CFI = .968" not in text
    assert "Of 211 survey records received, 199" in text
    assert "α = .73, 95% CI [.82, .86]" in text and "meets the .70 criterion (acceptable) but not .80" in text
    assert "0f" * 32 in text
    # the tables come from the CSVs, not from the summary: the fit table still shows the CSV value
    assert "Hypothesized 10.54 8 .229 .968" in text


def test_factor_score_robustness_line(inputs):
    summary, tables, figures = inputs
    s = copy.deepcopy(summary)
    s["criterion_factor_scores"] = {
        "score_type": "factor_scores",
        "regression": {"sales": {"delta_r2": 0.2012, "p_delta": 1e-5}},
    }
    text = _text(H.render_report(s, tables, figures))
    assert (
        "Robustness with CFA factor scores instead of mean scores: Sales: ΔR² = .20, p < .001 "
        "(mean scores: .23)." in text
    )


def test_report_is_self_contained(page):
    assert not re.search(r"https?://", page), "network reference in the report"
    assert "<link" not in page
    assert not re.search(r"<script\b", page)
    assert not re.search(r"url\(", page)
    for src in re.findall(r"\b(?:src|href)=\"([^\"]*)\"", page):
        assert src.startswith(("data:", "#")), src


def test_render_is_pure_and_run_date_is_the_only_variable_element(inputs):
    a = H.render_report(*inputs, run_date="2026-01-01 00:00 UTC")
    b = H.render_report(*inputs, run_date="2026-01-01 00:00 UTC")
    c = H.render_report(*inputs, run_date="2027-12-31 23:59 UTC")
    assert a == b
    diff = [(x, y) for x, y in zip(a.splitlines(), c.splitlines()) if x != y]
    assert len(a.splitlines()) == len(c.splitlines())
    assert len(diff) == 1 and "2026-01-01 00:00 UTC" in diff[0][0] and "2027-12-31 23:59 UTC" in diff[0][1]
    assert "not recorded" in H.render_report(*inputs)


def test_text_from_inputs_is_escaped(inputs):
    summary, tables, figures = inputs
    t = copy.deepcopy(tables)
    t["codebook"]["competency_name"] = t["codebook"]["competency_name"].replace("Customer care", "<script>x</script>")
    page = H.render_report(summary, t, figures)
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_missing_stages_are_reported_not_invented(inputs):
    summary, tables, figures = inputs
    s = {k: v for k, v in summary.items() if k not in ("criterion", "validity", "efa")}
    t = {k: v for k, v in tables.items() if k not in ("criterion_correlations", "regression", "invariance")}
    f = {k: v for k, v in figures.items() if H.FIGURES[k][0] not in ("criterion",)}
    page = H.render_report(s, t, f)
    text = _text(page)
    assert "No criterion-validity results (no performance data configured)." in text
    assert "No construct-validity results." in text and "No EFA results." in text
    assert len(re.findall(r"<img ", page)) == len(f)
    assert "Incremental Validity" not in text


# ---------------------------------------------------------------------------- pieces
@pytest.mark.parametrize(
    "index,value,rule,expected,ok",
    [
        ("cfi", 0.95, (">=", 0.95), "CFI = .950 meets the ≥ .95 criterion", True),
        ("cfi", 0.9499, (">=", 0.95), "CFI = .950 does not meet the ≥ .95 criterion", False),
        ("rmsea", 0.06, ("<=", 0.06), "RMSEA = .060 meets the ≤ .06 criterion", True),
        ("srmr", 0.081, 0.08, "SRMR = .081 does not meet the ≤ .08 criterion", False),
        ("tli", 0.97, 0.95, "TLI = .970 meets the ≥ .95 criterion", True),
        ("cfi", None, 0.95, "CFI not available", None),
    ],
)
def test_index_verdict(index, value, rule, expected, ok):
    assert H.index_verdict(index, value, rule) == (expected, ok)


def test_threshold_verdicts():
    assert H.reliability_verdict(0.80)[1] is True and "good" in H.reliability_verdict(0.80)[0]
    assert H.reliability_verdict(0.6999)[1] is False
    assert H.kmo_verdict(0.91)[0].startswith("marvelous") and H.kmo_verdict(0.55)[1] is False
    assert H.kmo_verdict(0.45)[0].startswith("unacceptable")
    assert H.congruence_verdict(0.95)[1] is True and H.congruence_verdict(0.84)[1] is False
    assert H.htmt_verdict(0.8499)[1] is True and "questionable" in H.htmt_verdict(0.87)[0]
    assert "not discriminant" in H.htmt_verdict(0.90)[0]
    assert H.fmt_r(0.0449) == ".04" and H.fmt_r(-0.3) == "-.30" and H.fmt_r(None) == "n/a"
    assert H.pretty("card_sales_volume") == "Card sales volume"


def test_figure_src_and_width():
    png, svg = _figure("png"), _figure("svg")
    assert H.figure_src(png).startswith("data:image/png;base64,")
    assert H.figure_src(svg).startswith("data:image/svg+xml;base64,")
    with pytest.raises(ValueError):
        H.figure_src(b"GIF89a")
    # 3.5 in at 96 px/in times the screen scale, from the SVG's pt width and from the PNG without pHYs (300 dpi)
    assert H.figure_width_px(svg) == round(3.5 * 96 * 1.35)
    w_px = struct.unpack(">I", png[16:20])[0]
    assert w_px == 350
    assert H.figure_width_px(png) == round(350 / 100 * 96 * 1.35)  # matplotlib writes pHYs at 100 dpi


def test_build_tables_numbers_consecutively_in_report_order(inputs):
    _, tables, _ = inputs
    apa = H.build_tables(tables)
    assert list(apa) == list(H.TABLES)
    assert [t.number for t in apa.values()] == list(range(1, len(apa) + 1))
    # the hypothesised model's loadings only, EFA factors labelled with the matched competency
    assert set(apa["cfa_loadings"].df["item"]) == set(ITEMS)
    assert "F1 (Drive & ambition)" in apa["efa_loadings"].df.columns
    assert "Customer care" in apa["descriptives"].to_markdown()
    html = H.apa_table_html(apa["reliability"])
    assert html.count("<tr") == 1 + 1 + 2  # header, group row, two scales
    assert "<b>" not in html


# ---------------------------------------------------------------------------- end to end
TABLE_NAMES = [
    "descriptives",
    "reliability",
    "efa_loadings",
    "model_fit",
    "cfa_loadings",
    "validity",
    "invariance",
    "criterion",
    "regression",
]


def check_presentation_outputs(project) -> None:
    """Every figure as PNG (300 dpi, not blank), SVG and PDF; every table in four formats; the report and the
    executed notebook - in a project run with performance data and an invariance group; the same set again for
    every further output language of the project's config (``languages``, e.g. report.zh.html)."""
    import yaml
    from PIL import Image

    res = project / "results"
    cfg = yaml.safe_load((project / "config" / "config.yaml").read_text(encoding="utf-8"))
    suffixes = [""] + [f".{lang}" for lang in cfg.get("languages") or [] if lang != cfg.get("language", "en")]
    stems = [f"{stem}{sfx}" for stem in H.FIGURES for sfx in suffixes]  # all twelve figures per language
    assert sorted(p.stem for p in (res / "figures").glob("*.png")) == sorted(stems)
    for stem in stems:
        png = res / "figures" / f"{stem}.png"
        with Image.open(png) as im:
            assert im.format == "PNG"
            assert im.size[0] >= 600 and im.size[1] >= 300, (stem, im.size)
            assert round(im.info["dpi"][0]) == 300, (stem, im.info.get("dpi"))
            assert np.unique(np.asarray(im.convert("L"))).size > 2, f"{stem}.png is blank"
        svg = (res / "figures" / f"{stem}.svg").read_text(encoding="utf-8")
        assert "<svg" in svg and (svg.count("<text") + svg.count("<path")) > 5, stem
        pdf = (res / "figures" / f"{stem}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 3000, stem
    for name in [f"{name}{sfx}" for name in TABLE_NAMES for sfx in suffixes]:
        csv = pd.read_csv(res / "tables" / f"{name}.csv")
        assert len(csv) > 0
        assert (res / "tables" / f"{name}.md").read_text(encoding="utf-8").count("|") > 10
        tex = (res / "tables" / f"{name}.tex").read_text(encoding="utf-8")
        assert "\\toprule" in tex and "\\bottomrule" in tex
        with zipfile.ZipFile(res / "tables" / f"{name}.docx") as z:
            assert "<w:tbl>" in z.read("word/document.xml").decode("utf-8")
            assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}  # reproducible bytes
    summary = json.loads((res / "summary.json").read_text())
    for sfx in suffixes:
        html = (res / f"report{sfx}.html").read_text(encoding="utf-8")
        assert len(re.findall(r"<img ", html)) == len(H.FIGURES)
        assert not re.search(r"https?://", html)
    assert f"Of {summary['n_raw']} survey records received, {summary['n_analyzed']}" in _text(
        (res / "report.html").read_text(encoding="utf-8")
    )
    if ".zh" in suffixes:
        assert f"共收到 {summary['n_raw']} 份问卷记录，其中 {summary['n_analyzed']} 份" in _text(
            (res / "report.zh.html").read_text(encoding="utf-8")
        )
        assert "关键数字是如何得出的" in (res / "notebooks" / "validation_report.zh.html").read_text(encoding="utf-8")
    nb = json.loads((res / "notebooks" / "validation_report.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    outputs = "".join("".join(o.get("text", "")) for c in code for o in c["outputs"])
    assert "DIFFERENT" not in outputs
    n_alpha = len(summary["reliability"])
    assert outputs.count("-> equal") >= n_alpha + 1 + 4 + 1  # alphas, KMO, fit indices, one criterion r
    assert not any("execution" in c.get("metadata", {}) for c in code)  # no timestamps
    assert "How the headline numbers were made" in (res / "notebooks" / "validation_report.html").read_text(
        encoding="utf-8"
    )


@pytest.mark.e2e
def test_figures_tables_report_and_notebook_rules_on_the_tiny_project(e2e_project):
    """The presentation rules on the tiny 5-factor project (tests/pipeline_fixtures.py, the session's shared run)."""
    check_presentation_outputs(e2e_project)


def test_summary_contract_names_each_missing_key_and_allows_sections_absent_by_design():
    from compval.report import SummaryContractError, check_summary

    base = {
        "n_raw": 3,
        "n_analyzed": 2,
        "excluded": {"careless_responding": 1},
        "performance": {"matched": 0, "survey_only": 0, "performance_only": 0, "performance_of_excluded": 0},
        "little_mcar": {"chi2": None, "df": None, "p": None, "n_patterns": None, "n": 2},
        "reliability": {
            "f1": {
                "alpha": 0.8,
                "alpha_ci": [0.7, 0.9],
                "alpha_std": 0.8,
                "lambda6": 0.8,
                "omega_total": 0.8,
                "omega_hierarchical": None,
                "omega_hierarchical_ci": [None, None],
                "n_items": 4,
            }
        },
        "efa": {
            "kmo": 0.8,
            "bartlett_chi2": 1.0,
            "bartlett_df": 6,
            "bartlett_p": 0.1,
            "n_factors_parallel": 1,
            "n_factors_map": 1,
            "n_factors_extracted": 1,
            "congruence": {"f1": 0.9},
            "n": 2,
            "method": "minres",
            "rotation": "oblimin",
            "cor": "pearson",
            "split_half": False,
        },
        "cfa": {
            "hypothesized": {
                k: None
                for k in (
                    "chisq",
                    "df",
                    "pvalue",
                    "cfi",
                    "tli",
                    "rmsea",
                    "rmsea_ci_lower",
                    "rmsea_ci_upper",
                    "srmr",
                    "aic",
                    "bic",
                    "loglik",
                )
            }
            | {
                "converged": True,
                "status": "ok",
                "meets_cutoffs": False,
                "cutoff_keys": {},
                "cutoff_values": {},
                "loadings_std": {},
                "factor_correlations": {},
            },
            "comparison": {
                "reference": "hypothesized",
                "selection_criterion": "bic",
                "best_model": None,
                "best_model_including_higher_order": None,
                "reference_meets_cutoffs": False,
                "reference_preferred_over_all_rivals": True,
                "verdict": "not supported",
                "higher_order": {},
                "cutoffs": {},
            },
        },
        "validity": {"f1": {"cr": 0.8, "ave": 0.5}, "htmt": {}, "invariance": {}},
        "provenance": {
            "python": "3",
            "platform": "x",
            "packages": {},
            "seed": 1,
            "config": {},
            "codebook_sha256": "0",
            "inputs_sha256": {},
        },
    }
    assert check_summary(base) is base  # no criterion sections: absent by design without performance data
    broken = json.loads(json.dumps(base))
    del broken["cfa"]["hypothesized"]["cfi"]
    broken["validity"]["f1"].pop("ave")
    with pytest.raises(SummaryContractError) as info:
        check_summary(broken, "x/summary.json")
    assert str(info.value) == (
        "x/summary.json breaks its contract (schemas/summary.schema.yaml): cfa.hypothesized: "
        "'cfi' is a required property; validity.f1: 'ave' is a required property"
    )
