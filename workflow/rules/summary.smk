rule summary:
    """results/summary.json (and results/variants/<name>/summary.json per variant): the one source of truth for
    headline numbers, with provenance."""
    input:
        cleaning=rules.screen.output.report,
        fragments=summary_fragments(),
        codebook=variant_codebook_file,
        survey=config["survey"],
        performance=performance_inputs(),
    output:
        "results/{v}summary.json",
    log:
        "logs/{v}summary.log",
    benchmark:
        "logs/benchmarks/{v}summary.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 100 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 19 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/summary.py"),
        config=config,
    script:
        "../scripts/summary.py"
