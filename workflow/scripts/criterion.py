import time

import pandas as pd

from compval.codebook import Codebook
from compval.criterion import latent_regression, latent_summary, run_criterion, transform_criteria
from compval.io import read_ids, read_items, write_json, write_table
from compval.pipeline import step

with step(snakemake) as log:
    s = snakemake.params.settings
    scores = pd.read_csv(snakemake.input.scores, index_col="pid")
    criteria = pd.read_csv(snakemake.input.performance, index_col="pid").reindex(scores.index)
    controls = None
    if s["controls"]:
        # the control columns only, aligned on the scores' ids (the file's own copy of the ids and its other
        # columns, about 130 MB at a million respondents, are not kept)
        respondents = pd.read_csv(snakemake.input.respondents, index_col="pid", usecols=["pid", *s["controls"]])
        controls = respondents.loc[scores.index, s["controls"]]
        controls.index = scores.index  # the same labels; the file's own id strings (80 MB at 10^6) are not kept
        del respondents
        for c in controls.columns:
            if pd.api.types.is_object_dtype(controls[c]):
                # text as categories: a code per row instead of a string object (about 30 MB at 10^6); the levels
                # are the sorted distinct texts, as control_design takes them from text, so the same dummies
                controls[c] = controls[c].astype("category")
    # every frame is aligned on the scores' ids now: from here on the rows are matched by position, through one
    # integer index (the id strings, about 80 MB at a million respondents, and the hash tables pandas builds on
    # them for its checks and look-ups, 30-70 MB each, are not kept)
    if not scores.index.is_unique:  # (run_criterion's own check would not see them through the positions)
        raise ValueError(f"{snakemake.input.scores}: duplicated pid values; rows are aligned on the ids")
    n_respondents = len(scores)
    positions = pd.RangeIndex(n_respondents)
    for frame in (scores, criteria) if controls is None else (scores, criteria, controls):
        frame.index = positions
    if snakemake.params.score_type == "mean_scores":
        rel = pd.read_csv(snakemake.input.reliability)
        rel = rel[rel["level"] == "competency"].set_index("key")[s["reliability"]].to_dict()
    else:
        rel = None  # factor scores are not corrected for attenuation (their reliability is not alpha)
    log.info(
        "criterion validity of %s on %s (%d dominance bootstrap resamples per criterion) ...",
        snakemake.params.score_type,
        list(criteria.columns),
        s["n_boot"],
    )
    t0 = time.perf_counter()
    res = run_criterion(
        scores,
        criteria,
        controls,
        reliabilities=rel,
        log_criteria=s["log_criteria"],
        top_quantile=s["top_quantile"],
        n_boot=s["n_boot"],
        seed=snakemake.params.seed,
        bootstrap_max_n=s["bootstrap_max_n"],
    )
    log.info("done in %.1f s", time.perf_counter() - t0)
    names = list(criteria.columns)
    del scores  # not needed below (50 MB at a million respondents)
    for name in ("correlations", "regression", "coefficients", "vif", "dominance", "known_groups", "missing"):
        write_table(getattr(res, name), snakemake.output[name])
    key = "criterion" if snakemake.params.score_type == "mean_scores" else "criterion_factor_scores"
    section = res.summary_dict()
    section["score_type"] = snakemake.params.score_type
    if snakemake.params.score_type == "mean_scores" and s["latent"]:
        # structural regression on the latent competencies (hypothesised CFA model, criteria one at a time),
        # estimator and missing-data treatment as the CFA stage (MLR/FIML when the CFA is ordinal: the
        # structural regression with continuous criteria is fitted by ML)
        c = snakemake.params.cfa
        cb = Codebook.from_structure(snakemake.params.structure)
        items = read_items(snakemake.input.items_scored, cb.item_ids)
        ids = read_ids(snakemake.input.scores)  # the scores' ids again
        if not items.index.equals(ids):  # the same rows in the same order: no copy (400 MB at 10^6)
            items = items.reindex(ids)
        items.index = positions  # aligned on the scores' rows, as the criteria and controls
        del ids
        crit, _ = transform_criteria(criteria, s["log_criteria"])
        del criteria  # the untransformed criteria (30 MB at 10^6) beside the latent regressions' fits
        t0 = time.perf_counter()
        latent = latent_regression(
            items,
            cb.groups("competency"),
            crit,
            controls=controls,
            estimator=c["continuous_estimator"],
            missing=c["continuous_missing"],
        )
        log.info(
            "latent regression (%s, missing=%s) done in %.1f s; status %s",
            c["continuous_estimator"],
            c["continuous_missing"],
            time.perf_counter() - t0,
            latent.groupby("criterion", sort=False)["status"].first().to_dict(),
        )
        write_table(latent, snakemake.output.latent_regression)
        if "latent_regression" in section:
            raise ValueError("a criterion named 'latent_regression' clashes with the summary section")
        section["latent_regression"] = latent_summary(latent)
    write_json({key: section}, snakemake.output.summary)
    log.info("criterion validity: %d respondents, criteria %s", n_respondents, names)
