"""results/power/population.json and population_values.csv: the population model of the Monte Carlo study and
the estimator's population values of the hypothesised model's loadings and factor covariances."""

import pandas as pd

from compval import power
from compval.codebook import Codebook
from compval.io import read_items, write_json, write_table
from compval.pipeline import step

with step(snakemake) as log:
    s, run = snakemake.params.settings, snakemake.params.run
    cb = Codebook.from_structure(snakemake.params.structure)
    if s["population"] == "fitted":
        params = pd.read_csv(snakemake.input.parameters)
        items = read_items(snakemake.input.scored, cb.item_ids)
        pop = power.population_from_fit(cb, params, items, s)
    else:
        pop = power.population_from_config(cb, s)
    models = power.power_models(cb, s["rivals"])
    truth = power.population_values(
        pop, models["hypothesized"], estimator=run["estimator"], std_lv=run["identification"] == "unit_variance"
    )
    log.info(
        "population: %d items, %d factors, %s responses; %d parameters evaluated; models %s",
        len(pop.items),
        len(pop.factors),
        s["response"],
        len(truth),
        list(models),
    )
    write_json(pop.to_dict(), snakemake.output.population)
    write_table(truth, snakemake.output.truth)
