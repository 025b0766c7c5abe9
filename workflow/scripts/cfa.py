import functools

import pandas as pd

from compval import cfa
from compval.comparison import build_models, comparison_tables, model_estimator
from compval.codebook import Codebook
from compval.io import read_ids, read_items, write_json, write_table
from compval.pipeline import step

with step(snakemake) as log:
    s = snakemake.params.settings
    cb = Codebook.from_structure(snakemake.params.structure)
    items = read_items(snakemake.input.scored, cb.item_ids)
    rows = slice(None)  # the analysed rows of the scored items, by position
    if s["sample"] == "confirm":
        half = pd.read_csv(snakemake.input.split, index_col="pid")["half"]
        if not (half == "confirm").any():
            raise RuntimeError("cfa.sample is 'confirm' but efa.split_half is false: no confirmation half")
        confirm = half[half == "confirm"].index
        rows = items.index.get_indexer(confirm)  # in the split file's order, as items.loc[confirm]
        if (rows < 0).any():
            absent = list(confirm[rows < 0][:3])
            raise KeyError(f"{snakemake.input.split}: ids not in {snakemake.input.scored}: {absent}")
        items = items.iloc[rows]
    # the fits need the answers only: the id strings (75 MB at a million respondents) go, and are read again for
    # the factor scores' labels
    items.index = pd.RangeIndex(len(items))
    models = build_models(
        cb.groups("competency"),
        cb.competency_module(),
        cb.groups("dimension"),
        cb.dimension_competency(),
        rivals=s["rivals"],
        user_models=s["user_models"],
    )
    # a derived data set (the parcels: 166 MB at a million respondents) is built by the process that fits it,
    # when it fits it, and dropped after
    jobs = {
        name: (
            items if derive is None else functools.partial(derive, items),
            spec,
            cfa.fit_options(s, model_estimator(name, s["estimator"])),
        )
        for name, (spec, derive) in models.items()
    }
    # the rival models are fitted in snakemake.threads processes; the hypothesised one here (its modification
    # indices and factor scores need its data)
    fits = cfa.fit_models(jobs, workers=snakemake.threads, keep_data=["hypothesized"])
    for name, f in fits.items():
        log.info("%s: status %s, chisq %s, df %s", name, f.status, f.fit.get("chisq"), f.fit.get("df"))
    tables = comparison_tables(fits, reference="hypothesized", cutoffs=s["cutoffs"], modindices_top=s["modindices_top"])
    for name in ("fit", "comparison", "parameters", "r2", "modindices", "verdicts"):
        write_table(tables[name], snakemake.output[name])
    with open(snakemake.output.syntax, "w", encoding="utf-8") as f:
        for name, (spec, _) in models.items():
            f.write(f"# {name}\n{spec.syntax}\n\n")
    write_table(fits["hypothesized"].sample_cov, snakemake.output.sample_cov, index=True)
    scores = cfa.factor_scores(fits["hypothesized"], items)
    scores.index = read_ids(snakemake.input.scored)[rows]
    write_table(scores, snakemake.output.factor_scores, index=True)
    write_json({"cfa": tables["summary"]}, snakemake.output.summary)
