rule codebook_table:
    """The codebook as a tidy table (items with wording, keys and reverse flags) for the report."""
    input:
        config["codebook"],
    output:
        table="results/codebook/items.csv",
    params:
        code=code_version("codebook"),
    conda:
        "../envs/compval.yaml"
    benchmark:
        "logs/benchmarks/codebook_table.tsv"
    log:
        "logs/codebook_table.log",
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/codebook_table.py"
