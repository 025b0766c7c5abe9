from compval.codebook import load_codebook
from compval.io import read_json, to_jsonable, write_json
from compval.pipeline import step
from compval.report import build_summary, check_summary, provenance

with step(snakemake) as log:
    inputs = {"survey": snakemake.input.survey}
    if snakemake.input.performance:
        inputs["performance"] = snakemake.input.performance[0]
    prov = provenance(
        config=snakemake.params.config, codebook_sha256=load_codebook(snakemake.input.codebook).sha256(), inputs=inputs
    )
    summary = build_summary(
        read_json(snakemake.input.cleaning), [read_json(f) for f in snakemake.input.fragments], prov
    )
    write_json(check_summary(to_jsonable(summary), snakemake.output[0]), snakemake.output[0])
    log.info("wrote %s", snakemake.output[0])
