rule efa:
    """Exploratory factor analysis: KMO/Bartlett, parallel analysis and MAP, extraction and rotation, matching to
    the hypothesised competencies (Tucker congruence), problem items; optional seeded split half."""
    input:
        scored=rules.score.output.items_scored,
    output:
        suitability="results/efa/suitability.csv",
        n_factors="results/efa/n_factors.csv",
        loadings="results/efa/loadings.csv",
        factor_correlations="results/efa/factor_correlations.csv",
        variance="results/efa/variance.csv",
        communalities="results/efa/communalities.csv",
        matching="results/efa/matching.csv",
        problems="results/efa/problems.csv",
        split="data/processed/split_half.csv",
        summary="results/efa/summary.json",
    log:
        "logs/efa.log",
    benchmark:
        "logs/benchmarks/efa.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 172 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 16 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/efa.py"),
        structure=STRUCTURE,
        settings=efa_settings(),
        seed=config["seed"],
    script:
        "../scripts/efa.py"
