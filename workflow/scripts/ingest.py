import pandas as pd

from compval.clean import (
    CleaningOptions,
    ingest_survey,
    load_pseudonym_key,
    make_pseudonymizer,
    pseudonymize_performance,
)
from compval.io import read_table, write_json, write_table
from compval.pipeline import step

with step(snakemake) as log:
    p = snakemake.params
    spec = p.spec
    options = CleaningOptions(**p.options)
    key, origin = load_pseudonym_key(p.privacy["key_env"], p.privacy["key_file"], p.privacy["strict"])
    log.info("pseudonymisation key from %s", origin)
    if origin == "generated":
        log.warning("no pseudonymisation key found: using a per-run key (pseudonyms differ between runs)")
    pseudo = make_pseudonymizer(key)
    raw, meta = read_table(snakemake.input.survey, **p.survey_options)
    log.info(
        "read %s: %d rows, format %s, encoding %s, delimiter %r",
        meta.path,
        len(raw),
        meta.format,
        meta.encoding,
        meta.delimiter,
    )
    # consume: the columns that are not kept (identifiers, unknown columns) leave raw as soon as they are logged
    res = ingest_survey(raw, spec, options, source=snakemake.input.survey, pseudonymize=pseudo, consume=True)
    del raw  # the text cells (the largest object of the rule) are not needed any more
    res.report["file"] = {
        "format": meta.format,
        "encoding": meta.encoding,
        "delimiter": meta.delimiter,
        "sheet": meta.sheet,
        "repairs": meta.repairs,
    }
    # the answers are written first and let go (at a million respondents 400 MB, which would otherwise stand beside
    # the performance file's read and pseudonyms); if the performance file fails below, Snakemake removes them
    write_table(res.responses, snakemake.output.responses, index=True)
    res.responses = res.responses.iloc[:0].copy()  # the columns only (a slice would keep the answers' block)
    if p.performance:
        perf_raw, perf_meta = read_table(p.performance["path"], sheet=p.performance.get("sheet"))
        perf = pseudonymize_performance(
            perf_raw,
            id_column=p.performance["id_column"],
            criteria=p.performance.get("criteria"),
            source=p.performance["path"],
            pseudonymize=pseudo,
            known=res.id_map,  # the survey's pseudonyms, not hashed again
        )
    else:
        perf = pd.DataFrame(index=pd.Index([], name="pid"))
    write_table(perf, snakemake.output.performance, index=True)
    write_table(res.exclusions, snakemake.output.exclusions)
    # file-level repairs made while reading (BOM, CRLF, blank lines, ...) head the audit log
    read_log = pd.DataFrame(
        [
            {"step": "read", "column": "", "issue": r, "count": 0, "rows": "", "action": "repaired"}
            for r in meta.repairs
        ],
        columns=res.log.columns,
    )
    write_table(pd.concat([read_log, res.log], ignore_index=True), snakemake.output.log_table)
    write_json(res.report, snakemake.output.report)
    log.info("ingested %d of %d rows", res.report["n_ingested"], res.report["n_raw"])
