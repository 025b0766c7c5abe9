import time

import pandas as pd

from compval.codebook import Codebook
from compval.io import read_items, write_json, write_table
from compval.pipeline import step
from compval.reliability import item_analysis_table, reliability_table
from compval.resampling import SharedResamples
from compval.report import reliability_section

with step(snakemake) as log:
    p = snakemake.params
    cb = Codebook.from_structure(p.structure)
    items = read_items(snakemake.input.scored, cb.item_ids)
    missing = "listwise" if p.missing == "listwise" else "pairwise"
    levels = {
        "competency": cb.groups("competency"),
        "module": cb.groups("module"),
        "dimension": {k: v for k, v in cb.groups("dimension").items() if len(v) >= 3},
    }
    # every scale and statistic on the same resamples of the respondents, drawn once (SharedResamples)
    stream = SharedResamples(p.seed)
    tables = []
    for level, groups in levels.items():
        for j, (key, cols) in enumerate(groups.items()):
            t0 = time.perf_counter()
            # one call per group so the log shows the bootstrap's progress
            row = reliability_table(
                items,
                {key: cols},
                missing=missing,
                n_boot=p.n_boot,
                seed=stream,
                level=level,
                ci_level=p.ci,
                n_boot_omega_h=p.omega_h_boot if level != "dimension" else 0,
                bootstrap_max_n=p.bootstrap_max_n,
            )
            tables.append(row)
            log.info(
                "%s %d/%d %s: alpha %.3f, omega_total %.3f (%d resamples, %s, %.1f s)",
                level,
                j + 1,
                len(groups),
                key,
                row["alpha"].iloc[0],
                row["omega_total"].iloc[0],
                p.n_boot,
                row["boot_ci_method"].iloc[0] or "no bootstrap",
                time.perf_counter() - t0,
            )
    table = pd.concat(tables, ignore_index=True)
    write_table(table, snakemake.output.table)
    write_table(
        item_analysis_table(items, cb.groups("competency"), cb.scale_min, cb.scale_max), snakemake.output.item_table
    )
    write_json({"reliability": reliability_section(table[table["level"] == "competency"])}, snakemake.output.summary)
