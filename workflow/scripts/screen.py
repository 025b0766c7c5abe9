import pandas as pd

from compval.clean import CleaningOptions, match_performance, screen_respondents
from compval.codebook import Codebook
from compval.io import read_json, write_json, write_table
from compval.missingness import item_missingness, little_mcar
from compval.pipeline import step

with step(snakemake) as log:
    cb = Codebook.from_structure(snakemake.params.structure)
    options = CleaningOptions(**snakemake.params.options)
    ingest_report = read_json(snakemake.input.ingest_report)
    responses = pd.read_csv(snakemake.input.responses, index_col="pid")
    prior = pd.read_csv(snakemake.input.exclusions, dtype=str, keep_default_na=False)
    res = screen_respondents(responses, cb, options, prior_exclusions=prior, n_raw=ingest_report["n_raw"],
                             source=ingest_report["source"])
    perf_all = pd.read_csv(snakemake.input.performance, index_col="pid")
    perf, counts = match_performance(perf_all, analysed=res.items.index, surveyed=responses.index)
    miss = item_missingness(responses[cb.item_ids])
    mcar = little_mcar(responses[cb.item_ids])
    report = {**res.report, "ingest": ingest_report, "performance": counts,
              "little_mcar": {"chi2": mcar.chi2, "df": mcar.df, "p": mcar.p, "n_patterns": mcar.n_patterns,
                              "n": mcar.n}}
    write_table(res.items, snakemake.output.analysed, index=True)
    write_table(res.respondents, snakemake.output.respondents, index=True)
    write_table(res.careless, snakemake.output.careless, index=True)
    write_table(res.exclusions, snakemake.output.exclusions)
    write_table(perf, snakemake.output.performance, index=True)
    write_table(res.log, snakemake.output.log_table)
    write_table(miss, snakemake.output.missingness)
    write_json(report, snakemake.output.report)
    log.info("analysed %d of %d respondents; excluded %s", res.report["n_analyzed"], res.report["n_raw"],
             res.report["excluded"])
