rule codebook_table:
    """The codebook as a tidy table (items with wording, keys and reverse flags) for the report."""
    input:
        config["codebook"],
    output:
        table="results/codebook/items.csv",
    log:
        "logs/codebook_table.log",
    benchmark:
        "logs/benchmarks/codebook_table.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 99 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 12 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/codebook_table.py"),
    script:
        "../scripts/codebook_table.py"
