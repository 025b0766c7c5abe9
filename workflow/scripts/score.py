import pandas as pd

from compval.clean import reverse_scored_in_place
from compval.codebook import Codebook
from compval.io import read_items, write_table
from compval.pipeline import step
from compval.scoring import mean_scores, score_descriptives

with step(snakemake) as log:
    cb = Codebook.from_structure(snakemake.params.structure)
    items = read_items(snakemake.input.analysed, cb.item_ids)
    # reverse-scored in the answers' own array (the numbers of cb.reverse_score, without its copy: 400 MB at a
    # million respondents x 50 items, which took this job's peak memory above three times the item matrix)
    with reverse_scored_in_place(items, cb) as scored:
        write_table(scored, snakemake.output.items_scored, index=True)
        tables = []
        for level in ("competency", "dimension", "module"):
            scores = mean_scores(scored, cb.groups(level))
            write_table(scores, snakemake.output[level], index=True)
            tables.append(score_descriptives(scores, level))
            del scores
        write_table(pd.concat(tables, ignore_index=True), snakemake.output.descriptives)
        log.info("scored %d respondents on %d competencies", len(scored), len(cb.competencies))
