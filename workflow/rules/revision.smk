# Revising the instrument: the holdout split, each variant's fit on both parts, evidence-backed suggestions and
# the side-by-side comparison of the variants (config `variants`, `revision`).


rule holdout_split:
    """Split the analysed respondents once into training and holdout parts (seeded, stratified on the invariance
    group when set): suggestions are made on the training part, every variant is also evaluated on the holdout."""
    input:
        scored=of_variant(rules.score.output.items_scored),
        respondents=rules.screen.output.respondents,
    output:
        split="data/processed/holdout_split.csv",
    log:
        "logs/holdout_split.log",
    benchmark:
        "logs/benchmarks/holdout_split.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=code_version("workflow/scripts/holdout_split.py"),
        fraction=config["revision"]["holdout"],
        group=validity_settings()["invariance_group"],
        seed=config["seed"],
    script:
        "../scripts/holdout_split.py"


rule holdout_fit:
    """The model stating a variant's hypothesis (config variants.<name>.model) fitted on the training and on the
    holdout part."""
    input:
        scored=rules.score.output.items_scored,
        split=rules.holdout_split.output.split,
    output:
        table="results/{v}revision/holdout_fit.csv",
        summary="results/{v}revision/holdout.json",
    log:
        "logs/{v}holdout_fit.log",
    benchmark:
        "logs/benchmarks/{v}holdout_fit.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=code_version("workflow/scripts/holdout_fit.py"),
        structure=variant_structure,
        model=variant_model,
        cfa=cfa_settings(),
    script:
        "../scripts/holdout_fit.py"


rule suggestions:
    """Revision suggestions with their evidence, found on the training part; each applied alone and refitted on
    the training and the holdout part. Depends on the codebook's structure (params), not on its file: an edit of
    an item's wording reruns only suggestion_codebooks."""
    input:
        scored=of_variant(rules.score.output.items_scored),
        split=rules.holdout_split.output.split if config["revision"]["holdout"] > 0 else [],
        performance=rules.screen.output.performance if config["performance"] else [],
    output:
        suggestions="results/revision/suggestions.csv",
        weakest="data/processed/weakest_per_competency.json",
    log:
        "logs/suggestions.log",
    benchmark:
        "logs/benchmarks/suggestions.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=code_version("workflow/scripts/suggestions.py"),
        structure=STRUCTURE,
        cfa=cfa_settings(),
        missing=config["missing"],
        settings=config["revision"],
        efa=efa_settings(),
        log_criteria=criterion_settings()["log_criteria"],
    script:
        "../scripts/suggestions.py"


rule suggestion_codebooks:
    """Each suggestion with a codebook written as a ready codebook (the codebook file with the change applied,
    its wording kept), and the short form without each competency's weakest item."""
    input:
        codebook=config["codebook"],
        suggestions=rules.suggestions.output.suggestions,
        weakest=rules.suggestions.output.weakest,
    output:
        codebooks=directory("results/revision/codebooks"),
    log:
        "logs/suggestion_codebooks.log",
    benchmark:
        "logs/benchmarks/suggestion_codebooks.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=code_version("workflow/scripts/suggestion_codebooks.py"),
    script:
        "../scripts/suggestion_codebooks.py"


rule compare_variants:
    """The variants side by side: fit, nested tests, holdout guard, reliability, validity, criterion validity."""
    input:
        unpack(comparison_inputs),
    output:
        table="results/variants/comparison.csv",
    log:
        "logs/compare_variants.log",
    benchmark:
        "logs/benchmarks/compare_variants.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=code_version("workflow/scripts/compare_variants.py"),
        structures=VARIANT_STRUCTURES,
        models=VARIANT_MODELS,
        cfa=cfa_settings(),
        min_ratio=config["revision"]["min_ratio"],
    script:
        "../scripts/compare_variants.py"


rule codebook_diff:
    """What changed in each variant's codebook against the original (items added, dropped, moved, re-keyed or
    reworded; competencies and dimensions renamed, split or merged), from item membership."""
    input:
        **{f"codebook_{name}": path for name, path in VARIANT_FILES.items()},
    output:
        diff="results/variants/diff.csv",
    log:
        "logs/codebook_diff.log",
    benchmark:
        "logs/benchmarks/codebook_diff.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=code_version("workflow/scripts/codebook_diff.py"),
        variants=list(VARIANTS),
    script:
        "../scripts/codebook_diff.py"
