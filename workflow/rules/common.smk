# Shared set-up: config validation, the codebook, and helpers used by the rules.
import json

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from compval.codebook import CodebookError, load_codebook


validate(config, schema="../schemas/config.schema.yaml")

try:
    CODEBOOK = load_codebook(config["codebook"])
except CodebookError as exc:
    raise WorkflowError(str(exc)) from None

# Structure without wording: analyses rerun when it changes (Snakemake's params rerun trigger), not when an
# item's text is edited.
STRUCTURE = CODEBOOK.structure()
INGEST_SPEC = CODEBOOK.ingest_spec()


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
    ]


def summary_fragments():
    """Per-stage summary fragments merged into results/summary.json (each a dict keyed by its section)."""
    return ["results/reliability/summary.json"]
