rule criterion:
    """Criterion validity of the competency scores against the performance records: correlations (BH-adjusted,
    attenuation-corrected), hierarchical regression with HC3 SEs, dominance weights, known groups."""
    input:
        **({"items_scored": rules.score.output.items_scored} if criterion_settings()["latent"] else {}),
        scores=rules.score.output.competency,
        performance=rules.screen.output.performance,
        respondents=rules.screen.output.respondents,
        reliability=rules.reliability.output.table,
    output:
        **(
            {"latent_regression": "results/{v}criterion/latent_regression.csv"}
            if criterion_settings()["latent"]
            else {}
        ),
        correlations="results/{v}criterion/correlations.csv",
        regression="results/{v}criterion/regression.csv",
        coefficients="results/{v}criterion/coefficients.csv",
        vif="results/{v}criterion/vif.csv",
        dominance="results/{v}criterion/dominance.csv",
        known_groups="results/{v}criterion/known_groups.csv",
        missing="results/{v}criterion/missing.csv",
        summary="results/{v}criterion/summary.json",
        # criterion.latent: structural regression on the latent competencies (mean-score variant only)
    log:
        "logs/{v}criterion.log",
    benchmark:
        "logs/benchmarks/{v}criterion.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 21),  # max RSS x2: demo 414 MB; 10^6 benchmark 2789 MB for 272 MB of input
        runtime=scaled(5, 0.03),  # minutes, wall x3: demo 69 s; 10^6: 156 s for the input above
    params:
        code=code_version("workflow/scripts/criterion.py"),
        settings=criterion_settings(),
        seed=config["seed"],
        score_type="mean_scores",
        structure=variant_structure,
        cfa=cfa_settings(),
    script:
        "../scripts/criterion.py"


use rule criterion as criterion_factor_scores with:
    input:
        scores=rules.cfa.output.factor_scores,
        performance=rules.screen.output.performance,
        respondents=rules.screen.output.respondents,
        reliability=rules.reliability.output.table,
    output:
        correlations="results/{v}criterion/factor_scores/correlations.csv",
        regression="results/{v}criterion/factor_scores/regression.csv",
        coefficients="results/{v}criterion/factor_scores/coefficients.csv",
        vif="results/{v}criterion/factor_scores/vif.csv",
        dominance="results/{v}criterion/factor_scores/dominance.csv",
        known_groups="results/{v}criterion/factor_scores/known_groups.csv",
        missing="results/{v}criterion/factor_scores/missing.csv",
        summary="results/{v}criterion/factor_scores/summary.json",
    log:
        "logs/{v}criterion_factor_scores.log",
    benchmark:
        "logs/benchmarks/{v}criterion_factor_scores.tsv"
    params:
        code=code_version("workflow/scripts/criterion.py"),
        settings=criterion_settings(),
        seed=config["seed"],
        score_type="factor_scores",
