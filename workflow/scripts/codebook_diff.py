import pandas as pd

from compval.codebook import load_codebook
from compval.io import write_table
from compval.pipeline import step
from compval.revision import DIFF_COLUMNS, diff_codebooks

with step(snakemake) as log:
    names = list(snakemake.params.variants)
    codebooks = {n: load_codebook(snakemake.input[f"codebook_{n}"]) for n in names}
    diffs = [diff_codebooks(codebooks["original"], codebooks[n]).assign(variant=n) for n in names[1:]]
    for d, n in zip(diffs, names[1:]):
        log.info("%s: %d change(s) against the original", n, len(d))
    diff = pd.concat(diffs, ignore_index=True) if diffs else pd.DataFrame(columns=["variant", *DIFF_COLUMNS])
    write_table(diff[["variant", *DIFF_COLUMNS]], snakemake.output.diff)
