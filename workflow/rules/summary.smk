rule summary:
    """results/summary.json: the one source of truth for headline numbers, with provenance."""
    input:
        cleaning=rules.screen.output.report,
        fragments=summary_fragments(),
        codebook=config["codebook"],
        survey=config["survey"],
        performance=performance_inputs(),
    output:
        "results/summary.json",
    params:
        code=code_version("report", "codebook"),
        config=config,
    conda:
        "../envs/compval.yaml"
    benchmark:
        "logs/benchmarks/summary.tsv"
    log:
        "logs/summary.log",
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/summary.py"
