# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # How the headline numbers were made
#
# This notebook reads the results of the `compval` pipeline and walks through every stage: it loads the tidy
# tables the stages wrote, shows the headline numbers of `results/summary.json` (the one source of truth the HTML
# report quotes), and **recomputes some of them from the processed data with the `compval` library** to show that
# they equal the stored values. It is executed by the pipeline (`rule notebook`) with the parameters below; the
# executed copy and its HTML export are kept under `results/notebooks/`.

# %% tags=["parameters"]
results_dir = "results"
processed_dir = "data/processed"

# %%
import json
from pathlib import Path

import numpy as np
import pandas as pd

from compval.codebook import load_codebook
from compval.efa import correlation_matrix, kmo
from compval.io import read_items
from compval.reliability import cronbach_alpha
from compval.report import check_summary
from compval.present.formatting import format_ci, format_number
from compval.validity import htmt

pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 20)
pd.set_option("display.precision", 3)

results = Path(results_dir)
processed = Path(processed_dir)
summary = check_summary(json.loads((results / "summary.json").read_text(encoding="utf-8")))
config = summary["provenance"]["config"]
codebook = load_codebook(config["codebook"])
groups = codebook.groups("competency")
names = codebook.names("competency")
print(f"Instrument: {codebook.instrument}")
print(f"{len(codebook.item_ids)} items, {len(groups)} competencies: {', '.join(names.values())}")


def r2(x):
    """APA style for a number bounded by 1 (no leading zero)."""
    return format_number(x, 2, leading_zero=False)


def check(label, recomputed, stored, tol=1e-8, what=("recomputed", "stored")):
    """Print a recomputed number beside the stored one and fail loudly if they differ."""
    ok = abs(float(recomputed) - float(stored)) <= tol
    print(f"{label}: {what[0]} {recomputed:.10f}, {what[1]} {stored:.10f} -> {'equal' if ok else 'DIFFERENT'}")
    assert ok, f"{label}: {what[0]} {recomputed} != {what[1]} {stored}"


# %% [markdown]
# ## 1. Sample and cleaning
#
# Every respondent is either analysed or listed in `data/processed/exclusions.csv` with a reason. The
# conservation law `n_raw = n_analyzed + sum(excluded)` is checked here from the summary and the exclusion log.

# %%
excluded = summary["excluded"]
print(f"received {summary['n_raw']}, analysed {summary['n_analyzed']}, excluded {sum(excluded.values())}: {excluded}")
assert summary["n_raw"] == summary["n_analyzed"] + sum(excluded.values())
exclusions = pd.read_csv(processed / "exclusions.csv")
counts = exclusions["reason"].value_counts().to_dict()
print("exclusion log:", counts)
assert counts == excluded
summary.get("performance")

# %% [markdown]
# ## 2. Reliability
#
# Cronbach's alpha per competency (`psych::alpha`), with the Feldt confidence interval. We recompute alpha of
# every competency from the reverse-scored items with `compval.reliability.cronbach_alpha` and compare it with
# `summary.json`.

# %%
rel = pd.read_csv(results / "reliability" / "reliability.csv")
display_cols = ["level", "key", "n_items", "alpha", "alpha_ci_lower", "alpha_ci_upper", "omega_total"]
rel[display_cols]

# %%
# the items as pandas.read_csv(...)[item_ids].astype(float) gives them, read without pandas' copies
items = read_items(processed / "items_scored.csv", codebook.item_ids)
missing = "listwise" if config["missing"] == "listwise" else "pairwise"
for key, its in groups.items():
    res = cronbach_alpha(items[its], missing=missing)
    check(f"alpha {key}", res.alpha, summary["reliability"][key]["alpha"])
for key, r in summary["reliability"].items():
    lo, hi = r["alpha_ci"]
    print(f"{names[key]}: alpha = {r2(r['alpha'])}, 95% CI {format_ci(lo, hi)}, omega = {r2(r['omega_total'])}")

# %% [markdown]
# ## 3. Exploratory factor analysis
#
# Sampling adequacy (KMO; `psych::KMO`), the number of factors (parallel analysis, MAP) and the congruence of
# each hypothesised competency with its best-matching EFA factor. The overall KMO is recomputed from the item
# correlation matrix.

# %%
efa = summary["efa"]
{k: v for k, v in efa.items() if k != "congruence"}

# %%
efa_items = items
split = processed / "split_half.csv"
if config.get("efa", {}).get("split_half") and split.exists():
    half = pd.read_csv(split, index_col="pid")["half"]
    efa_items = items.loc[half[half == "explore"].index]
r = correlation_matrix(efa_items, cor=config.get("efa", {}).get("cor", "pearson"))
check("KMO", kmo(r).overall, efa["kmo"])

# %%
pd.read_csv(results / "efa" / "matching.csv")

# %% [markdown]
# ## 4. Confirmatory factor analysis and model comparison
#
# Fit of the hypothesised model and its rivals (lavaan-matching ML). Refitting the models takes a while, so here
# we only show that the headline indices in `summary.json` are the same numbers as the `fit.csv` table.

# %%
fit = pd.read_csv(results / "cfa" / "fit.csv")
fit[["model", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "meets_cutoffs"]]

# %%
hyp = fit.set_index("model").loc["hypothesized"]
for index in ("cfi", "tli", "rmsea", "srmr"):
    check(
        f"{index.upper()} (hypothesised)",
        hyp[index],
        summary["cfa"]["hypothesized"][index],
        tol=1e-9,
        what=("fit.csv", "summary.json"),
    )
summary["cfa"]["comparison"]

# %% [markdown]
# ## 5. Construct validity
#
# Composite reliability and AVE (`semTools::compRelSEM`, `semTools::AVE`), HTMT (`semTools::htmt`) and
# measurement invariance across the configured group. The HTMT ratios are recomputed from the items (point
# estimates; the bootstrap intervals are not redrawn here).

# %%
validity = summary.get("validity", {})
pd.DataFrame({k: v for k, v in validity.items() if k not in ("htmt", "invariance")}).T

# %%
pd.read_csv(results / "validity" / "htmt.csv")

# %%
cfa_items = items
if config.get("cfa", {}).get("sample") == "confirm":
    half = pd.read_csv(split, index_col="pid")["half"]
    cfa_items = items.loc[half[half == "confirm"].index]
if len(groups) > 1:
    recomputed = htmt(cfa_items, groups, B=0).table
    for pair, value in zip(recomputed["pair"], recomputed["htmt"]):
        check(f"HTMT {pair}", value, validity["htmt"][pair])

# %%
inv_path = results / "validity" / "invariance.csv"
pd.read_csv(inv_path) if inv_path.stat().st_size else "no invariance group configured"

# %% [markdown]
# ## 6. Criterion validity
#
# Correlations of the competency scores with the performance criteria (right-skewed criteria analysed as
# log(1 + x)). One correlation is recomputed from the processed scores and performance records with numpy.

# %%
if summary.get("criterion"):
    cor = pd.read_csv(results / "criterion" / "correlations.csv")
    print(cor[["criterion", "competency", "n", "r", "ci_lower", "ci_upper", "p_fdr"]].to_string(index=False))
    scores = pd.read_csv(processed / "scores_competency.csv", index_col="pid")
    perf = pd.read_csv(processed / "performance.csv", index_col="pid").reindex(scores.index)
    crit, comp = cor["criterion"].iloc[0], cor["competency"].iloc[0]
    y = perf[crit].astype(float)
    if crit in (config.get("performance") or {}).get("log_criteria", []):
        y = np.log1p(y)
    ok = y.notna() & scores[comp].notna()
    r = np.corrcoef(scores.loc[ok, comp], y[ok])[0, 1]
    check(f"r({comp}, {crit})", r, summary["criterion"][crit][comp]["r"], tol=1e-9)
else:
    print("no performance data configured")

# %% [markdown]
# ## 7. Provenance
#
# Software versions, seed and the SHA-256 of the codebook and of the raw data files, as recorded in
# `summary.json`.

# %%
prov = summary["provenance"]
{k: prov[k] for k in ("python", "platform", "seed", "codebook_sha256", "inputs_sha256", "packages")}
