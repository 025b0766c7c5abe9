rule cfa:
    """Confirmatory factor analysis of the codebook's structure against rival models (lavaan-matching ML/MLR,
    FIML), model comparison with Hu & Bentler verdicts, modification indices, factor scores."""
    input:
        scored=rules.score.output.items_scored,
        split=rules.efa.output.split,
    output:
        fit="results/cfa/fit.csv",
        comparison="results/cfa/comparison.csv",
        parameters="results/cfa/parameters.csv",
        r2="results/cfa/r2.csv",
        modindices="results/cfa/modification_indices.csv",
        verdicts="results/cfa/verdicts.csv",
        syntax="results/cfa/models.txt",
        sample_cov="results/cfa/sample_covariance.csv",
        factor_scores="data/processed/factor_scores.csv",
        summary="results/cfa/summary.json",
    log:
        "logs/cfa.log",
    benchmark:
        "logs/benchmarks/cfa.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 274 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 44 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/cfa.py"),
        structure=STRUCTURE,
        settings=cfa_settings(),
    script:
        "../scripts/cfa.py"


rule validity:
    """Construct validity of the hypothesised model: composite reliability and AVE (semTools), Fornell-Larcker,
    HTMT with bootstrap CIs, factor correlations with CIs, measurement invariance across a grouping column."""
    input:
        scored=rules.score.output.items_scored,
        split=rules.efa.output.split,
        respondents=rules.screen.output.respondents,
        parameters=rules.cfa.output.parameters,
        sample_cov=rules.cfa.output.sample_cov,
    output:
        convergent="results/validity/convergent.csv",
        fornell_larcker="results/validity/fornell_larcker.csv",
        htmt="results/validity/htmt.csv",
        factor_correlations="results/validity/factor_correlations.csv",
        invariance="results/validity/invariance.csv",
        summary="results/validity/summary.json",
    log:
        "logs/validity.log",
    benchmark:
        "logs/benchmarks/validity.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 368 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 88 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/validity.py"),
        structure=STRUCTURE,
        cfa=cfa_settings(),
        settings=validity_settings(),
        seed=config["seed"],
    script:
        "../scripts/validity.py"
