rule score:
    """Reverse-score items and compute mean scores per dimension, competency and module."""
    input:
        analysed=rules.screen.output.analysed,
    output:
        items_scored="data/processed/items_scored.csv",
        competency="data/processed/scores_competency.csv",
        dimension="data/processed/scores_dimension.csv",
        module="data/processed/scores_module.csv",
        descriptives="results/scores/score_descriptives.csv",
    log:
        "logs/score.log",
    benchmark:
        "logs/benchmarks/score.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 101 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 12 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/score.py"),
        structure=STRUCTURE,
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
