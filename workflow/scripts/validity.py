import time

import pandas as pd

from compval import cfa
from compval.codebook import Codebook
from compval.io import read_items, write_json, write_table
from compval.pipeline import step
from compval.present.rules import AVE_MIN, CR_MIN
from compval.validity import (
    average_variance_extracted,
    composite_reliability,
    factor_correlations,
    fornell_larcker,
    htmt,
)

with step(snakemake) as log:
    p = snakemake.params
    cb = Codebook.from_structure(p.structure)
    factors = cb.groups("competency")
    items = read_items(snakemake.input.scored, cb.item_ids)
    if p.cfa["sample"] == "confirm":
        half = pd.read_csv(snakemake.input.split, index_col="pid")["half"]
        items = items.loc[half[half == "confirm"].index]
    params = pd.read_csv(snakemake.input.parameters)
    params = params[params["model"] == "hypothesized"].drop(columns="model")
    sample_cov = pd.read_csv(snakemake.input.sample_cov, index_col=0)
    cr = composite_reliability(params, sample_cov)
    ave = average_variance_extracted(params, sample_cov)
    convergent = cr.merge(ave[["factor", "ave"]], on="factor")
    convergent["sqrt_ave"] = convergent["ave"] ** 0.5
    convergent["cr_ok"] = convergent["cr"] >= CR_MIN
    convergent["ave_ok"] = convergent["ave"] >= AVE_MIN
    fl = fornell_larcker(params, sample_cov)
    log.info("HTMT: %d bootstrap resamples of %d respondents ...", p.settings["htmt_boot"], len(items))
    t0 = time.perf_counter()
    ht = htmt(items, factors, B=p.settings["htmt_boot"], seed=p.seed, max_n=p.settings["bootstrap_max_n"])
    log.info(
        "HTMT done in %.1f s (%d of %d resamples valid; %s)", time.perf_counter() - t0, ht.n_boot_valid, ht.B, ht.method
    )
    fc = factor_correlations(params, n=len(items))
    write_table(convergent, snakemake.output.convergent)
    write_table(fl.table, snakemake.output.fornell_larcker)
    write_table(ht.table, snakemake.output.htmt)
    write_table(fc, snakemake.output.factor_correlations)
    summary = {k: {"cr": r["cr"], "ave": r["ave"]} for k, r in convergent.set_index("factor").iterrows()}
    summary["htmt"] = dict(zip(ht.table["pair"], ht.table["htmt"]))
    group = p.settings["invariance_group"]
    inv_summary = {}
    if group:
        # the grouping column only (the file's other columns and its frame, about 80 MB at a million respondents,
        # are not kept), added to the item frame (a join would copy every item column: 380 MB at 10^6 rows); the
        # codebook check refuses a column named as an item, the config check a group that is not such a column
        respondents = pd.read_csv(snakemake.input.respondents, index_col="pid", usecols=["pid", group])
        data = items
        data[group] = respondents[group].reindex(items.index)
        del respondents
        # aligned: the invariance steps use the values only, so the million id strings (76 MB) are released
        data.index = pd.RangeIndex(len(data))
        log.info("measurement invariance across %s: configural -> metric -> scalar -> strict ...", group)
        table, _, first_fail = cfa.measurement_invariance(
            data,
            cfa.hypothesized(factors),
            group,
            estimator=p.cfa["estimator"],
            missing=p.cfa["missing"],
            fallback=(p.cfa["continuous_estimator"], p.cfa["continuous_missing"]),
            std_lv=p.cfa["identification"] == "unit_variance",
            delta_cfi=p.settings["delta_cfi"],
            delta_rmsea=p.settings["delta_rmsea"],
            workers=snakemake.threads,  # the steps share the job's processes
        )
        table.insert(0, "group", group)
        inv_summary = {
            r["step"]: {
                k: r[k]
                for k in (
                    "chisq",
                    "df",
                    "cfi",
                    "rmsea",
                    "srmr",
                    "chisq_diff",
                    "df_diff",
                    "pvalue",
                    "delta_cfi",
                    "delta_rmsea",
                    "holds",
                    "status",
                )
            }
            for _, r in table.iterrows()
        }
        inv_summary["group"] = group
        inv_summary["estimator"] = str(table["estimator"].iloc[0])
        inv_summary["note"] = str(table["note"].iloc[0])
        inv_summary["first_failing_step"] = first_fail
        log.info("invariance across %s: first failing step %s", group, first_fail)
    else:
        table = pd.DataFrame(columns=["group", "step"])
    write_table(table, snakemake.output.invariance)
    summary["invariance"] = inv_summary
    write_json({"validity": summary}, snakemake.output.summary)
