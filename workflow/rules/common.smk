# Shared set-up: the config (validated, defaults filled in from the packaged schema, every name it uses checked
# against the codebook and the performance file), the codebook, and helpers used by the rules.
from pathlib import Path

from snakemake.exceptions import WorkflowError

from compval.codebook import CodebookError, load_codebook
from compval.config import ConfigError, prepare_config
from compval.pipeline import import_closure, module_digest, prepend_pythonpath

# Jobs find the compval library in src/ even without an installed package (e.g. under --use-conda).
prepend_pythonpath(Path(workflow.basedir) / "src")

try:
    # every problem at once, each naming its key path; nothing runs until the config is right
    CONFIG, CODEBOOK = prepare_config(config, source=" + ".join(map(str, workflow.configfiles)) or "config")
except (ConfigError, CodebookError) as exc:
    raise WorkflowError(str(exc)) from None
config.clear()
config.update(CONFIG)

# Structure without wording: analyses rerun when it changes (Snakemake's params rerun trigger), not when an
# item's text is edited.
STRUCTURE = CODEBOOK.structure()
INGEST_SPEC = CODEBOOK.ingest_spec()


def code_version(*sources):
    """Digest of the compval modules that a rule's script (and any other source it runs, e.g. a notebook)
    imports, transitively within compval (compval.pipeline.import_closure): a params value, so that changing the
    library code reruns exactly the rules that use it (Snakemake's code trigger only sees the script itself)."""
    return module_digest(import_closure([Path(workflow.basedir) / s for s in sources]))


def performance_inputs():
    perf = config["performance"]
    return [perf["path"]] if perf else []


def cleaning_options():
    """The cleaning policies from config (defaults filled in from the schema)."""
    keys = (
        "out_of_range",
        "duplicates",
        "missing",
        "max_missing",
        "careless",
        "careless_thresholds",
        "unknown_columns",
        "loss_guard",
    )
    return {k: config[k] for k in keys}


def privacy_options():
    return config["privacy"]


def final_outputs():
    return [
        "results/summary.json",
        "results/codebook/items.csv",
        "results/descriptives/items.csv",
        *presentation_outputs(),
    ]


def criterion_settings():
    perf = config["performance"] or {}
    return {**config["criterion"], "log_criteria": perf.get("log_criteria", [])}


def efa_settings():
    return config["efa"]


def cfa_settings():
    c = config["cfa"]
    return {
        **c,
        # lavaan's ML needs complete rows or FIML: listwise stays listwise, pairwise/fiml use FIML;
        # the ordinal estimator (WLSMV) uses pairwise-present polychoric correlations instead of FIML
        "missing": missing_for(c["estimator"]),
        # analyses that stay continuous under WLSMV (parcels, latent regression on the criteria) use MLR
        "continuous_estimator": "MLR" if c["estimator"] == "WLSMV" else c["estimator"],
        "continuous_missing": missing_for("ML"),
    }


def missing_for(estimator):
    """lavaan's missing-data option for the configured missing policy and a CFA estimator."""
    if config["missing"] == "listwise":
        return "listwise"
    return "pairwise" if estimator == "WLSMV" else "ml"


def validity_settings():
    return config["validity"]


def summary_fragments():
    """Per-stage summary fragments merged into results/summary.json (each a dict keyed by its section)."""
    frags = [
        "results/reliability/summary.json",
        "results/efa/summary.json",
        "results/cfa/summary.json",
        "results/validity/summary.json",
    ]
    if config["performance"]:
        frags += ["results/criterion/summary.json", "results/criterion/factor_scores/summary.json"]
    return frags
