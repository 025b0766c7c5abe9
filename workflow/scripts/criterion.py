import pandas as pd

from compval.criterion import run_criterion
from compval.io import write_json, write_table
from compval.pipeline import step

with step(snakemake) as log:
    s = snakemake.params.settings
    scores = pd.read_csv(snakemake.input.scores, index_col="pid")
    criteria = pd.read_csv(snakemake.input.performance, index_col="pid").reindex(scores.index)
    respondents = pd.read_csv(snakemake.input.respondents, index_col="pid")
    controls = respondents.loc[scores.index, s["controls"]] if s["controls"] else None
    if snakemake.params.score_type == "mean_scores":
        rel = pd.read_csv(snakemake.input.reliability)
        rel = rel[rel["level"] == "competency"].set_index("key")[s["reliability"]].to_dict()
    else:
        rel = None  # factor scores are not corrected for attenuation (their reliability is not alpha)
    res = run_criterion(scores, criteria, controls, reliabilities=rel, log_criteria=s["log_criteria"],
                        top_quantile=s["top_quantile"], n_boot=s["n_boot"], seed=snakemake.params.seed)
    for name in ("correlations", "regression", "coefficients", "vif", "dominance", "known_groups", "missing"):
        write_table(getattr(res, name), snakemake.output[name])
    key = "criterion" if snakemake.params.score_type == "mean_scores" else "criterion_factor_scores"
    section = res.summary_dict()
    section["score_type"] = snakemake.params.score_type
    write_json({key: section}, snakemake.output.summary)
    log.info("criterion validity: %d respondents, criteria %s", len(scores), list(criteria.columns))
