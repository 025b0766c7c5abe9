# Helpers of the sample-size planning rules (power.smk): settings, chunks and inputs.
import math


def power_settings():
    """The power section of the config (defaults from the schema) with the rivals resolved."""
    p = dict(config["power"])
    if p["rivals"] is None:
        p["rivals"] = [
            r for r in cfa_settings()["rivals"] if r in ("one_factor", "modules", "second_order", "orthogonal")
        ]
    return p


def power_run_settings():
    """What one replication needs: the pipeline's CFA settings, cleaning policies and the test level."""
    c = cfa_settings()
    return {
        "estimator": c["estimator"],
        "identification": c["identification"],
        "missing": c["missing"],
        "continuous_missing": c["continuous_missing"],
        "cutoffs": c["cutoffs"],
        "alpha": config["power"]["alpha"],
        "cleaning": cleaning_options(),
    }


def power_chunks():
    p = config["power"]
    return range(math.ceil(p["replications"] / p["chunk_size"]))


def power_population_inputs(wildcards):
    if config["power"]["population"] == "fitted":
        return {
            "parameters": of_variant(rules.cfa.output.parameters),
            "scored": of_variant(rules.score.output.items_scored),
        }
    return {}


POWER_TABLES = ["power", "cutoffs", "parameters", "convergence", "smallest_n"]


def power_chunk_runtime(wildcards):
    """Minutes for one chunk job: demo benchmark (logs/power/benchmark/) 126 s wall for 5 replications at N = 100
    (50 items, FIML, 3 models; 2 shared cores), i.e. 25 s a replication; x3, at least 5."""
    return max(5, math.ceil(3 * 25.3 * config["power"]["chunk_size"] / 60))
