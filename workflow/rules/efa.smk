rule efa:
    """Exploratory factor analysis: KMO/Bartlett, parallel analysis and MAP, extraction and rotation, matching to
    the hypothesised competencies (Tucker congruence), problem items; optional seeded split half."""
    input:
        scored=rules.score.output.items_scored,
    output:
        suitability="results/{v}efa/suitability.csv",
        n_factors="results/{v}efa/n_factors.csv",
        loadings="results/{v}efa/loadings.csv",
        factor_correlations="results/{v}efa/factor_correlations.csv",
        variance="results/{v}efa/variance.csv",
        communalities="results/{v}efa/communalities.csv",
        matching="results/{v}efa/matching.csv",
        problems="results/{v}efa/problems.csv",
        split="data/processed/{v}split_half.csv",
        summary="results/{v}efa/summary.json",
    log:
        "logs/{v}efa.log",
    benchmark:
        "logs/benchmarks/{v}efa.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 172 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 16 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/efa.py"),
        structure=variant_structure,
        settings=efa_settings(),
        seed=config["seed"],
    script:
        "../scripts/efa.py"
