"""results/power/: power, cut-off attainment, parameter recovery and convergence by N, the smallest N reaching
each target, the figure and the report section, from the chunks of replications."""

from pathlib import Path

import pandas as pd

from compval import power
from compval.present.html import render_power_section
from compval.io import write_json, write_table
from compval.pipeline import step

with step(snakemake) as log:
    s, run = snakemake.params.settings, snakemake.params.run
    outcomes = pd.concat([pd.read_csv(f) for f in snakemake.input.outcomes], ignore_index=True)
    outcomes = outcomes.sort_values(["n", "replication"], kind="mergesort").reset_index(drop=True)
    frames = [pd.read_csv(f) for f in snakemake.input.estimates]
    estimates = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    truth = pd.read_csv(snakemake.input.truth)
    tables = power.summarise(outcomes, estimates, truth, cutoffs=run["cutoffs"])
    tables["smallest_n"] = power.smallest_n(
        tables, power_target=s["power_target"], coverage_target=s["coverage_target"], cutoff_target=s["cutoff_target"]
    )
    for name in ("power", "cutoffs", "parameters", "convergence", "smallest_n"):
        write_table(tables[name], snakemake.output[name])
    write_table(outcomes, snakemake.output.replications)
    fig = power.plot_power(tables, power_target=s["power_target"])
    fig.savefig(snakemake.output.png, dpi=300, metadata={"Software": None})
    fig.savefig(snakemake.output.svg, metadata={"Date": None})
    svg = Path(snakemake.output.svg).read_text(encoding="utf-8")
    meta = {
        "estimator": run["estimator"],
        "alpha": run["alpha"],
        "replications": s["replications"],
        "n": s["n"],
        "response": s["response"],
        "population": s["population"] if s["population"] == "fitted" else "config",
    }
    Path(snakemake.output.section).write_text(render_power_section(tables, svg, meta), encoding="utf-8")
    small = tables["smallest_n"]
    write_json(
        {
            "power": {
                **meta,
                "smallest_n": {
                    r.criterion: None if pd.isna(r.smallest_n) else int(r.smallest_n) for r in small.itertuples()
                },
                "targets": {
                    "power": s["power_target"],
                    "coverage": s["coverage_target"],
                    "cutoffs": s["cutoff_target"],
                },
            }
        },
        snakemake.output.summary,
    )
    log.info("power tables for N = %s from %d replications per N", s["n"], s["replications"])
