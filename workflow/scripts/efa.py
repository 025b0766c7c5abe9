import pandas as pd

from compval.codebook import Codebook
from compval.efa import run_efa, split_half
from compval.io import read_items, write_json, write_table
from compval.pipeline import step

with step(snakemake) as log:
    s = snakemake.params.settings
    seed = snakemake.params.seed
    cb = Codebook.from_structure(snakemake.params.structure)
    items = read_items(snakemake.input.scored, cb.item_ids)
    if s["split_half"]:
        explore, confirm = split_half(items, seed=seed, fraction=0.5)
        halves = pd.Series("confirm", index=items.index, name="half")
        halves.loc[explore] = "explore"
        items = items.loc[explore]
        log.info("split half: EFA on %d of %d respondents", len(explore), len(halves))
    else:
        halves = pd.Series("all", index=items.index, name="half")
    res = run_efa(
        items,
        cb.groups("competency"),
        n_factors=s["n_factors"],
        method=s["method"],
        rotation=s["rotation"],
        cor=s["cor"],
        seed=seed,
        n_iter=s["n_iter"],
        min_loading=s["min_loading"],
        cross_loading=s["cross_loading"],
    )
    for name, table in res.tables().items():
        write_table(table, snakemake.output[name])
    write_table(halves.to_frame(), snakemake.output.split, index=True)
    write_json(
        {
            "efa": {
                **res.headline,
                "n": len(items),
                "method": s["method"],
                "rotation": s["rotation"],
                "cor": s["cor"],
                "split_half": s["split_half"],
            }
        },
        snakemake.output.summary,
    )
    log.info("EFA headline: %s", res.headline)
