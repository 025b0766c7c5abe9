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
    priority: feeders_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 25),  # max RSS x2: demo 101 MB; 10^6 benchmark 1351 MB for 110 MB of input
        runtime=scaled(5, 0.01),  # minutes, wall x3: demo 12 s; 10^6: 16 s for the input above
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
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 16),  # max RSS x2: demo 100 MB; 10^6 benchmark 838 MB for 110 MB of input
        runtime=scaled(5, 0.01),  # minutes, wall x3: demo 12 s; 10^6: 10 s for the input above
    params:
        code=code_version("workflow/scripts/descriptives.py"),
        scale=INGEST_SPEC["scale"],
    script:
        "../scripts/descriptives.py"
