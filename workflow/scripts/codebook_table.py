from compval.codebook import load_codebook
from compval.io import write_table
from compval.pipeline import step

with step(snakemake) as log:
    cb = load_codebook(snakemake.input[0])
    write_table(cb.items, snakemake.output.table)
    log.info("%d items, %d competencies, %d modules", len(cb.item_ids), len(cb.competencies), len(cb.modules))
