import pandas as pd

from compval import cfa
from compval.codebook import Codebook
from compval.io import read_items, read_json, write_table
from compval.pipeline import step
from compval.revision.compare import compare_variants, nesting
from compval.sem.compare import compare_models

with step(snakemake) as log:
    p = snakemake.params
    c = p.cfa
    # the nesting test reads the chi-squares only: no standard errors (lavaan's se = "none")
    options = dict(cfa.fit_options(c), se="none")
    names = list(p.structures)
    codebooks = {n: Codebook.from_structure(structure) for n, structure in p.structures.items()}
    # each variant's summary sections, merged from its stage fragments as the summary rule merges them
    summaries = {n: {} for n in names}
    for key in snakemake.input.keys():
        if key.startswith("fragment_"):
            name = key[len("fragment_") :].rsplit("_", 1)[0]
            summaries[name].update(read_json(snakemake.input[key]))
    base = codebooks["original"]
    nested = {}
    items = base_fit = None
    for name in names[1:]:
        if {p.models[name], p.models["original"]} != {"hypothesized"}:
            log.info("%s: model %s, not tested for nesting", name, p.models[name])
            continue
        kind = nesting(base, codebooks[name])
        if kind not in ("in_original", "contains_original"):
            log.info("%s: not nested in the original nor containing it (%s)", name, kind or "other items or keys")
            continue
        if items is None:  # the original's analysed items, read once (nested variants have the same items)
            items = read_items(snakemake.input.scored, base.item_ids)
            if c["sample"] == "confirm":
                half = pd.read_csv(snakemake.input.split, index_col="pid")["half"]
                items = items.loc[half[half == "confirm"].index]
        if base_fit is None:
            base_fit = cfa.fit_cfa(items, cfa.hypothesized(base.groups("competency")), **options)
        variant_fit = cfa.fit_cfa(items, cfa.hypothesized(codebooks[name].groups("competency")), **options)
        fits = {"original": base_fit, name: variant_fit}
        test = compare_models(fits).dropna(subset=["chisq_diff"])
        if len(test):
            row = test.iloc[0]
            nested[name] = {"chisq_diff": row["chisq_diff"], "df_diff": row["df_diff"], "pvalue": row["pvalue"]}
            log.info("%s (%s): chi-square difference %.3f on %g df, p = %.3g", name, kind, *nested[name].values())
    table = compare_variants(summaries, codebooks, nested, models=p.models, min_ratio=p.min_ratio)
    write_table(table, snakemake.output.table)
