import pandas as pd

from compval.descriptives import item_descriptives, response_distribution
from compval.io import write_table
from compval.pipeline import step

with step(snakemake) as log:
    lo, hi = snakemake.params.scale["min"], snakemake.params.scale["max"]
    items = pd.read_csv(snakemake.input.analysed, index_col="pid")
    write_table(item_descriptives(items, lo, hi), snakemake.output.table)
    write_table(response_distribution(items, lo, hi, snakemake.params.scale["type"]), snakemake.output.distribution)
    log.info("described %d items", items.shape[1])
