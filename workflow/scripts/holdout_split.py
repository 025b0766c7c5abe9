import pandas as pd

from compval.io import read_ids, write_table
from compval.pipeline import step
from compval.revision import holdout_split

with step(snakemake) as log:
    p = snakemake.params
    ids = read_ids(snakemake.input.scored)
    strata = None
    if p.group:
        respondents = pd.read_csv(snakemake.input.respondents, index_col="pid", dtype={p.group: str})
        strata = respondents[p.group].reindex(ids)
    split = holdout_split(ids, p.fraction, p.seed, strata=strata)
    counts = split.value_counts()
    log.info(
        "holdout split of %d analysed respondents (fraction %.2f%s): %d training, %d holdout",
        len(split),
        p.fraction,
        f", stratified on {p.group}" if p.group else "",
        counts.get("training", 0),
        counts.get("holdout", 0),
    )
    write_table(split.rename("part").rename_axis("pid").reset_index(), snakemake.output.split)
