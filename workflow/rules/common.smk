# Shared set-up: config validation, the codebook, and helpers used by the rules.
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from compval.codebook import CodebookError, load_codebook
from compval.pipeline import module_digest, prepend_pythonpath


validate(config, schema="../schemas/config.schema.yaml")

# Jobs find the compval library in src/ even without an installed package (e.g. under --use-conda).
prepend_pythonpath(Path(workflow.basedir) / "src")

try:
    CODEBOOK = load_codebook(config["codebook"])
except CodebookError as exc:
    raise WorkflowError(str(exc)) from None

# Structure without wording: analyses rerun when it changes (Snakemake's params rerun trigger), not when an
# item's text is edited.
STRUCTURE = CODEBOOK.structure()
INGEST_SPEC = CODEBOOK.ingest_spec()


def code_version(*modules):
    """Digest of the library modules a rule's script calls: a params value, so that changing the statistics
    code reruns the affected rules (Snakemake's code trigger only sees the script file itself)."""
    return module_digest(modules)


def performance_inputs():
    perf = config.get("performance")
    return [perf["path"]] if perf else []


def cleaning_options():
    """The cleaning policies from config, with schema defaults filled in."""
    return {
        "out_of_range": config.get("out_of_range", "missing"),
        "duplicates": config.get("duplicates", "keep_first"),
        "missing": config["missing"],
        "max_missing": config.get("max_missing", 0.2),
        "careless": config["careless"],
        "careless_thresholds": config.get("careless_thresholds", {}),
        "unknown_columns": config.get("unknown_columns", "drop"),
    }


def privacy_options():
    p = config.get("privacy") or {}
    return {
        "strict": p.get("strict", False),
        "key_env": p.get("key_env", "COMPVAL_PSEUDONYM_KEY"),
        "key_file": p.get("key_file", "~/.config/compval/pseudonym.key"),
    }


def final_outputs():
    return [
        "results/summary.json",
        "results/codebook/items.csv",
        "results/descriptives/items.csv",
        *presentation_outputs(),
    ]


def criterion_settings():
    c = config.get("criterion") or {}
    perf = config.get("performance") or {}
    return {
        "controls": c.get("controls", []),
        "log_criteria": perf.get("log_criteria", []),
        "top_quantile": c.get("top_quantile", 0.25),
        "n_boot": c.get("n_boot", 1000),
        "reliability": c.get("reliability", "alpha"),
        "latent": bool(c.get("latent", False)),
    }


def efa_settings():
    e = config.get("efa") or {}
    return {
        "method": e.get("method", "minres"),
        "rotation": e.get("rotation", "oblimin"),
        "cor": e.get("cor", "pearson"),
        "n_factors": e.get("n_factors"),
        "n_iter": e.get("n_iter", 20),
        "min_loading": e.get("min_loading", 0.40),
        "cross_loading": e.get("cross_loading", 0.30),
        "split_half": e.get("split_half", False),
    }


def cfa_settings():
    c = config.get("cfa") or {}
    return {
        "estimator": c.get("estimator", "ML"),
        "identification": c.get("identification", "marker"),
        "rivals": c.get("rivals", ["one_factor", "modules", "second_order", "orthogonal", "parcels"]),
        "user_models": c.get("user_models", {}),
        "cutoffs": c.get("cutoffs", {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08}),
        "modindices_top": c.get("modindices_top", 20),
        "sample": c.get("sample", "all"),
        # lavaan's ML needs complete rows or FIML: listwise stays listwise, pairwise/fiml use FIML;
        # the ordinal estimator (WLSMV) uses pairwise-present polychoric correlations instead of FIML
        "missing": missing_for(c.get("estimator", "ML")),
        # analyses that stay continuous under WLSMV (parcels, latent regression on the criteria) use MLR
        "continuous_estimator": "MLR" if c.get("estimator", "ML") == "WLSMV" else c.get("estimator", "ML"),
        "continuous_missing": missing_for("ML"),
    }


def missing_for(estimator):
    """lavaan's missing-data option for the configured missing policy and a CFA estimator."""
    if config["missing"] == "listwise":
        return "listwise"
    return "pairwise" if estimator == "WLSMV" else "ml"


def validity_settings():
    v = config.get("validity") or {}
    return {
        "htmt_boot": v.get("htmt_boot", 1000),
        "invariance_group": v.get("invariance_group"),
        "delta_cfi": v.get("delta_cfi", 0.010),
        "delta_rmsea": v.get("delta_rmsea", 0.015),
    }


def summary_fragments():
    """Per-stage summary fragments merged into results/summary.json (each a dict keyed by its section)."""
    frags = ["results/reliability/summary.json", "results/efa/summary.json", "results/cfa/summary.json",
             "results/validity/summary.json"]
    if config.get("performance"):
        frags += ["results/criterion/summary.json", "results/criterion/factor_scores/summary.json"]
    return frags
