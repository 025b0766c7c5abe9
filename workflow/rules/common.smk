# Shared set-up: the config (validated, defaults filled in from the packaged schema, every name it uses checked
# against the codebook and the performance file), the codebook, and helpers used by the rules.
import math
from pathlib import Path

from snakemake.exceptions import WorkflowError

from compval.codebook import CodebookError, load_codebook
from compval.config import ConfigError, prepare_config, prepare_variants
from compval.pipeline import import_closure, module_digest, prepend_pythonpath

# Jobs find the compval library in src/ even without an installed package (e.g. under --use-conda).
prepend_pythonpath(Path(workflow.basedir) / "src")

try:
    # every problem at once, each naming its key path; nothing runs until the config is right
    SOURCE = " + ".join(map(str, workflow.configfiles)) or "config"
    CONFIG, CODEBOOK = prepare_config(config, source=SOURCE)
    # name -> Codebook: "original" (the main codebook) and every config variant, each checked against it
    VARIANTS = prepare_variants(CONFIG, CODEBOOK, source=SOURCE)
except (ConfigError, CodebookError) as exc:
    raise WorkflowError(str(exc)) from None
config.clear()
config.update(CONFIG)

# Structure without wording: analyses rerun when it changes (Snakemake's params rerun trigger), not when an
# item's text is edited.
STRUCTURE = CODEBOOK.structure()
INGEST_SPEC = CODEBOOK.ingest_spec()
VARIANT_STRUCTURES = {name: cb.structure() for name, cb in VARIANTS.items()}
VARIANT_FILES = {"original": config["codebook"], **{n: v["codebook"] for n, v in config["variants"].items()}}
# the model of each variant's CFA set that states its hypothesis (config variants.<name>.model)
VARIANT_MODELS = {"original": "hypothesized", **{n: v["model"] for n, v in config["variants"].items()}}


def scaled(least, per_input_mb):
    """A resource (mem_mb or runtime in minutes) that grows with the job's input files: at least ``least``, else
    ``per_input_mb`` per MB of input (Snakemake's ``input.size_mb``). The rules' factors come from the
    10^6-respondent benchmark (benchmarks/results/pipeline.csv): peak RSS x 2 and wall time x 3 per MB of input,
    so a cluster job of a large study asks for what it needs and the demo keeps the floor."""

    def resource(wildcards, input):
        return max(least, math.ceil(per_input_mb * input.size_mb))

    return resource


#: Input size (MB) from which the cfa and validity jobs fit their models in two processes (about 45,000 respondents
#: x 50 items). Below it a job's fits take seconds, the other jobs keep the cores busy and a second process would
#: hold a core through the job's serial parts (benchmark at 10^4 with four codebooks and two processes: validity
#: 47 s CPU against 37 s with one, measured before the workers inherited the shared sample statistics; at 10^6 two
#: processes took the cfa job from 513 to 94 s wall, with the factor-score fix).
FIT_PROCESSES_FROM_MB = 5


def fit_processes(wildcards, input):
    """``threads`` of the rules whose independent model fits share the job's processes (compval.parallel)."""
    return 2 if input.size_mb >= FIT_PROCESSES_FROM_MB else 1


#: Job priorities (Snakemake's ``priority``): the order in which jobs that are ready take cores as they free up;
#: it never changes a result. Every presentation job waits on the main codebook's analyses, while a variant's
#: analyses feed only the comparison of the variants, so a variant's job yields to every other job
#: (:func:`main_codebook_first`). The figures jobs, the longest jobs whose time does not depend on N, take a
#: core as soon as their inputs exist and draw while the variants are analysed. (Demo, 2 cores: without
#: priorities the main codebook's criterion job ran after most of the variants' jobs, and the figures, then one
#: job on both cores, waited for it and drew alone at the end.) Within those tiers, the analyses other analyses
#: wait on come first (:func:`feeders_first`).
PRIORITY_FIGURES = 20
PRIORITY_MAIN = 10


def main_codebook_first(wildcards):
    """``priority`` of a rule: the jobs of a variant's analyses ({v} = variants/<name>/) come after every
    other ready job (:data:`PRIORITY_MAIN`)."""
    return 0 if wildcards.get("v") else PRIORITY_MAIN


def feeders_first(wildcards):
    """``priority`` of the analysis rules whose outputs other analyses of the same codebook wait on (score,
    reliability, cfa): one above :func:`main_codebook_first`, so that every codebook's later analyses become
    ready early and the last jobs to run are short ones, not a chain started late."""
    return main_codebook_first(wildcards) + 1


def variant_dir(name):
    """Path infix of a variant's analysis outputs: none for the original (results/cfa/...), variants/<name>/ for
    the others (results/variants/<name>/cfa/...). The analysis rules take it as the wildcard {v}."""
    return "" if name == "original" else f"variants/{name}/"


# {v} matches the original's empty infix or a configured variant's, nothing else (so a typo'd variant in a
# target path is "no rule to produce", not an analysis of a codebook nobody configured)
wildcard_constraints:
    v="(?:variants/(?:" + "|".join(config["variants"]) + ")/)?" if config["variants"] else "x{0}",


def variant_name(wildcards):
    """The variant a job belongs to, from its {v} wildcard."""
    return {variant_dir(name): name for name in VARIANTS}[wildcards.v]


def variant_structure(wildcards):
    """params: the structure (without wording) of the job's variant's codebook; an edit of one variant's codebook
    reruns that variant's jobs only."""
    return VARIANT_STRUCTURES[variant_name(wildcards)]


def variant_codebook_file(wildcards):
    return VARIANT_FILES[variant_name(wildcards)]


def variant_model(wildcards):
    return VARIANT_MODELS[variant_name(wildcards)]


def of_variant(path, name="original"):
    """A {v}-templated output path of an analysis rule, for one variant (the original by default)."""
    return str(path).replace("{v}", variant_dir(name))


def original(paths):
    """The original's files of a rule's named outputs (dict name -> path)."""
    return {k: of_variant(p) for k, p in dict(paths.items()).items()}


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
        *revision_outputs(),
        *presentation_outputs(),
    ]


def criterion_settings():
    perf = config["performance"] or {}
    return {
        **config["criterion"],
        "log_criteria": perf.get("log_criteria", []),
        "bootstrap_max_n": config["bootstrap_max_n"],
    }


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


def confirmation_half():
    """The EFA's split-half file as an input of the CFA stages only when they analyse its confirmation half
    (``cfa.sample: confirm``); otherwise they do not wait for the EFA (at 10^6 rows it takes over a minute)."""
    return {"split": rules.efa.output.split} if cfa_settings()["sample"] == "confirm" else {}


def missing_for(estimator):
    """lavaan's missing-data option for the configured missing policy and a CFA estimator."""
    if config["missing"] == "listwise":
        return "listwise"
    return "pairwise" if estimator == "WLSMV" else "ml"


def validity_settings():
    return {**config["validity"], "bootstrap_max_n": config["bootstrap_max_n"]}


def summary_fragments():
    """Per-stage summary fragments merged into results/{v}summary.json (each a dict keyed by its section)."""
    frags = [
        "results/{v}reliability/summary.json",
        "results/{v}efa/summary.json",
        "results/{v}cfa/summary.json",
        "results/{v}validity/summary.json",
    ]
    if config["performance"]:
        frags += ["results/{v}criterion/summary.json", "results/{v}criterion/factor_scores/summary.json"]
    if revision_active() and config["revision"]["holdout"] > 0:
        frags.append("results/{v}revision/holdout.json")
    return frags


def revision_active():
    """Variants to compare or suggestions to make (config `variants`, `revision.suggestions`)."""
    return bool(config["variants"]) or config["revision"]["suggestions"]


def revision_outputs():
    """The revision workflow's final outputs: each variant's summary and the comparison, the suggestions and
    their ready codebooks."""
    out = []
    if config["variants"]:
        out += [of_variant("results/{v}summary.json", name) for name in config["variants"]]
        out += ["results/variants/comparison.csv", "results/variants/diff.csv"]
    if config["revision"]["suggestions"]:
        out += ["results/revision/suggestions.csv", "results/revision/codebooks"]
    return out


def comparison_inputs(wildcards):
    """Every variant's summary fragments (not summary.json, whose provenance changes with an item's wording), and
    the original's scored items (nested variants are refitted for the difference test)."""
    files = {"scored": of_variant(rules.score.output.items_scored), "split": of_variant(rules.efa.output.split)}
    for name in VARIANTS:
        for k, fragment in enumerate(summary_fragments()):
            files[f"fragment_{name}_{k}"] = of_variant(fragment, name)
    return files
