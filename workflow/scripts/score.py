import pandas as pd

from compval.codebook import Codebook
from compval.io import read_items, write_table
from compval.pipeline import step
from compval.scoring import mean_scores, score_descriptives

with step(snakemake) as log:
    cb = Codebook.from_structure(snakemake.params.structure)
    items = read_items(snakemake.input.analysed, cb.item_ids)
    # reverse-scored in the answers' own array, not in a copy (400 MB at a million respondents x 50 items, which
    # took this job's peak memory above three times the item matrix); the answers as read are not used again
    scored = cb.reverse_score(items, in_place=True)
    del items
    write_table(scored, snakemake.output.items_scored, index=True)
    tables = []
    for level in ("competency", "dimension", "module"):
        scores = mean_scores(scored, cb.groups(level))
        write_table(scores, snakemake.output[level], index=True)
        tables.append(score_descriptives(scores, level))
        del scores
    write_table(pd.concat(tables, ignore_index=True), snakemake.output.descriptives)
    log.info("scored %d respondents on %d competencies", len(scored), len(cb.competencies))
