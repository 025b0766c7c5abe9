rule cfa:
    """Confirmatory factor analysis of the codebook's structure against rival models (lavaan-matching ML/MLR,
    FIML), model comparison with Hu & Bentler verdicts, modification indices, factor scores."""
    input:
        **confirmation_half(),
        scored=rules.score.output.items_scored,
    output:
        fit="results/{v}cfa/fit.csv",
        comparison="results/{v}cfa/comparison.csv",
        parameters="results/{v}cfa/parameters.csv",
        r2="results/{v}cfa/r2.csv",
        modindices="results/{v}cfa/modification_indices.csv",
        verdicts="results/{v}cfa/verdicts.csv",
        syntax="results/{v}cfa/models.txt",
        sample_cov="results/{v}cfa/sample_covariance.csv",
        factor_scores="data/processed/{v}factor_scores.csv",
        summary="results/{v}cfa/summary.json",
    log:
        "logs/{v}cfa.log",
    benchmark:
        "logs/benchmarks/{v}cfa.tsv"
    priority: feeders_first
    conda:
        "../envs/compval.yaml"
    threads: fit_processes  # two from 5 MB of input: the rival models share the job's processes (cfa.fit_models)
    resources:
        mem_mb=scaled(1000, 56),  # max RSS x2 (two processes): demo 274 MB; 10^6 benchmark 3609 MB for 131 MB of input
        runtime=scaled(5, 0.04),  # minutes, wall x3: demo 44 s; 10^6: 94 s for the input above
    params:
        code=code_version("workflow/scripts/cfa.py"),
        structure=variant_structure,
        settings=cfa_settings(),
    script:
        "../scripts/cfa.py"


rule validity:
    """Construct validity of the hypothesised model: composite reliability and AVE (semTools), Fornell-Larcker,
    HTMT with bootstrap CIs, factor correlations with CIs, measurement invariance across a grouping column."""
    input:
        **confirmation_half(),
        scored=rules.score.output.items_scored,
        respondents=rules.screen.output.respondents,
        parameters=rules.cfa.output.parameters,
        sample_cov=rules.cfa.output.sample_cov,
    output:
        convergent="results/{v}validity/convergent.csv",
        fornell_larcker="results/{v}validity/fornell_larcker.csv",
        htmt="results/{v}validity/htmt.csv",
        factor_correlations="results/{v}validity/factor_correlations.csv",
        invariance="results/{v}validity/invariance.csv",
        summary="results/{v}validity/summary.json",
    log:
        "logs/{v}validity.log",
    benchmark:
        "logs/benchmarks/{v}validity.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: fit_processes  # two from 5 MB of input: the invariance steps share them (cfa.measurement_invariance)
    resources:
        mem_mb=scaled(1000, 44),  # max RSS x2 (two processes): demo 368 MB; 10^6 benchmark 4525 MB for 206 MB of input
        runtime=scaled(5, 0.02),  # minutes, wall x3: demo 88 s; 10^6: 72 s for the input above
    params:
        code=code_version("workflow/scripts/validity.py"),
        structure=variant_structure,
        cfa=cfa_settings(),
        settings=validity_settings(),
        seed=config["seed"],
    script:
        "../scripts/validity.py"
