import pandas as pd

from compval.cfa import fit_options
from compval.codebook import Codebook
from compval.io import read_items, write_json, write_table
from compval.pipeline import step
from compval.revision import PART_FIT_KEYS, fit_by_part
from compval.revision.compare import variant_model

with step(snakemake) as log:
    s = snakemake.params.cfa
    cb = Codebook.from_structure(snakemake.params.structure)
    items = read_items(snakemake.input.scored, cb.item_ids)
    split = pd.read_csv(snakemake.input.split, index_col="pid")["part"]
    table = fit_by_part(
        items,
        variant_model(cb, snakemake.params.model),
        split,
        **fit_options(s),
    )
    for r in table.itertuples(index=False):
        log.info("%s part: n = %d, status %s, CFI %.4f, RMSEA %.4f", r.part, r.n, r.status, r.cfi, r.rmsea)
    write_table(table, snakemake.output.table)
    parts = {
        r["part"]: {"n": r["n"], "status": r["status"], **{k: r[k] for k in PART_FIT_KEYS}}
        for r in table.to_dict("records")
    }
    write_json({"holdout": parts}, snakemake.output.summary)
