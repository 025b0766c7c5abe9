import numpy as np
import pandas as pd

from compval.clean import CleaningOptions, check_items, match_performance, screen_respondents
from compval.codebook import Codebook
from compval.io import read_frame_apart, read_json, read_rows, write_json, write_table
from compval.missingness import item_missingness, little_mcar, respondent_missingness
from compval.pipeline import step

with step(snakemake) as log:
    cb = Codebook.from_structure(snakemake.params.structure)
    options = CleaningOptions(**snakemake.params.options)
    ingest_report = read_json(snakemake.input.ingest_report)
    source = ingest_report["source"]
    # Little's test on every respondent's answers first, read as rows (row-major: the test sorts them in place,
    # instead of a sorted copy), after the check that every item has two different answers (the screening's
    # first check: such an item stops the run here with the screening's message, before Little's test could
    # fail on it). The screening below reads the answers again, as a column-major block: reading twice (a few
    # seconds at a million respondents) keeps the two tables of the items' size (400 MB each) apart.
    rows = pd.DataFrame(read_rows(snakemake.input.responses, cb.item_ids), columns=cb.item_ids, copy=False)
    check_items(rows, cb.item_ids, source)
    try:
        mcar = little_mcar(rows, consume=True)
        mcar_report = {"chi2": mcar.chi2, "df": mcar.df, "p": mcar.p, "n_patterns": mcar.n_patterns, "n": mcar.n}
        del mcar
    except np.linalg.LinAlgError as exc:  # a report statistic: record why it is missing, do not stop the run
        log.warning("Little's MCAR test not computable: %s", exc)
        mcar_report = {
            "chi2": None,
            "df": None,
            "p": None,
            "n_patterns": None,
            "n": int(len(rows)),
            "error": f"not computable ({exc})",
        }
    del rows
    # the items as one float block, the other columns apart (text cells stay text: "NA" is a region, not a
    # missing value; only empty cells are missing), on one index
    items, responses = read_frame_apart(snakemake.input.responses, index_col="pid", float_columns=cb.item_ids)
    miss = item_missingness(items)
    resp_miss = respondent_missingness(items)
    resp_miss.index.name = "pid"
    write_table(miss, snakemake.output.missingness)
    write_table(resp_miss, snakemake.output.respondent_missingness, index=True)
    del miss, resp_miss
    prior = pd.read_csv(snakemake.input.exclusions, dtype=str, keep_default_na=False)
    # the screening is given the items: the analysed rows are moved to the top of their block, not copied
    res = screen_respondents(
        responses,
        cb,
        options,
        prior_exclusions=prior,
        n_raw=ingest_report["n_raw"],
        source=source,
        items=items,
        consume=True,
    )
    del items
    analysed = res.items.index
    write_table(res.items, snakemake.output.analysed, index=True)
    write_table(res.respondents, snakemake.output.respondents, index=True)
    write_table(res.careless, snakemake.output.careless, index=True)
    write_table(res.exclusions, snakemake.output.exclusions)
    screen_log, screen_report = res.log, res.report
    del res
    perf_all = pd.read_csv(snakemake.input.performance, index_col="pid")
    perf, counts = match_performance(perf_all, analysed=analysed, surveyed=responses.index)
    perf_log = pd.DataFrame(
        [
            {"step": "performance", "column": "", "issue": issue, "count": counts[key], "rows": "", "action": action}
            for key, issue, action in [
                ("matched", "analysed respondent with a performance record", "joined"),
                ("survey_only", "analysed respondent without a performance record", "kept (no criterion data)"),
                ("performance_only", "performance record of nobody in the survey", "not used"),
                ("performance_of_excluded", "performance record of an excluded respondent", "not used"),
            ]
        ],
        columns=screen_log.columns,
    )
    log_table = pd.concat([screen_log, perf_log], ignore_index=True)
    write_table(perf, snakemake.output.performance, index=True)
    write_table(log_table, snakemake.output.log_table)
    report = {**screen_report, "ingest": ingest_report, "performance": counts, "little_mcar": mcar_report}
    write_json(report, snakemake.output.report)
    log.info(
        "analysed %d of %d respondents; excluded %s; performance %s",
        screen_report["n_analyzed"],
        screen_report["n_raw"],
        screen_report["excluded"],
        counts,
    )
