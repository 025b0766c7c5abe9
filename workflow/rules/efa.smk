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
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 46),  # max RSS x2: demo 172 MB; 10^6 benchmark 2482 MB for 110 MB of input
        runtime=scaled(5, 0.075),  # minutes, wall x3: demo 16 s; 10^6: 163 s for the input above
    params:
        code=code_version("workflow/scripts/efa.py"),
        structure=variant_structure,
        settings=efa_settings(),
        seed=config["seed"],
    script:
        "../scripts/efa.py"
