rule score:
    """Reverse-score items and compute mean scores per dimension, competency and module."""
    input:
        analysed=rules.screen.output.analysed,
    output:
        items_scored="data/processed/{v}items_scored.csv",
        competency="data/processed/{v}scores_competency.csv",
        dimension="data/processed/{v}scores_dimension.csv",
        module="data/processed/{v}scores_module.csv",
        descriptives="results/{v}scores/score_descriptives.csv",
    log:
        "logs/{v}score.log",
    benchmark:
        "logs/benchmarks/{v}score.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 101 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 12 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/score.py"),
        structure=variant_structure,
    script:
        "../scripts/score.py"


rule descriptives:
    """Item descriptives (psych::describe moments, floor/ceiling) and response distributions of analysed items."""
    input:
        analysed=rules.screen.output.analysed,
    output:
        table="results/descriptives/items.csv",
        distribution="results/descriptives/response_distribution.csv",
    log:
        "logs/descriptives.log",
    benchmark:
        "logs/benchmarks/descriptives.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 100 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 12 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/descriptives.py"),
        scale=INGEST_SPEC["scale"],
    script:
        "../scripts/descriptives.py"
