"""One chunk of Monte Carlo replications at one sample size (results/power/chunks/n{n}_c{chunk}_*.csv)."""

from compval import power
from compval.codebook import Codebook
from compval.io import read_json, write_table
from compval.pipeline import step

with step(snakemake) as log:
    s = snakemake.params.settings
    cb = Codebook.from_structure(snakemake.params.structure)
    pop = power.Population.from_dict(read_json(snakemake.input.population))
    models = power.power_models(cb, s["rivals"])
    n, chunk = int(snakemake.wildcards.n), int(snakemake.wildcards.chunk)
    reps = power.chunk_replications(s["replications"], s["chunk_size"], chunk)
    outcomes, estimates = power.run_chunk(
        pop, cb, models, snakemake.params.run, n=n, replications=reps, seed=snakemake.params.seed
    )
    log.info(
        "N = %d, replications %d-%d: %d model fits, %d estimates",
        n,
        reps.start,
        reps.stop - 1,
        len(outcomes),
        len(estimates),
    )
    write_table(outcomes, snakemake.output.outcomes)
    write_table(estimates, snakemake.output.estimates)
