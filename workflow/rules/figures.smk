# Publication figures (results/figures/<stem>.{png,svg,pdf}; PNG at 300 dpi) drawn by thin rules with
# compval.present.figures (one Python start-up for all figures of a language); the CFA path diagram is rendered by
# Graphviz. One job per output language: `figures` draws the primary language's files (each PNG marked for
# `snakemake --report` with its caption in workflow/report/<stem>.rst), `figures_translated` those of each other
# language (results/figures/<stem>.zh.png; wildcard {sfx}), so the languages draw side by side on free cores and a
# job never holds two cores while waiting for them. The variants' figure has rules of its own (figures_variants,
# figures_variants_translated): editing a variant redraws that figure alone, and the others need not wait for
# every variant's analyses.


rule figures:
    """The publication figures: sample flow, response distributions, reliability forest, scree, EFA loadings,
    CFA path diagram, model comparison, discriminant validity, criterion forest, known groups, dominance,
    invariance - each as PNG (300 dpi), SVG and PDF."""
    input:
        unpack(figure_inputs),
    output:
        **figure_outputs(main_figure_stems()),
    log:
        "logs/figures.log",
    benchmark:
        "logs/benchmarks/figures.tsv"
    priority: PRIORITY_FIGURES
    conda:
        "../envs/compval.yaml"
    threads: 1  # more (e.g. --set-threads figures=2) draw the language's figures in parallel processes
    resources:
        mem_mb=1000,  # demo: peak 201 MB in English, 296 MB in Chinese (x2, at least 1000)
        runtime=5,  # minutes; demo: 7.5 s wall in English, 13.4 s in Chinese (x3, at least 5)
    params:
        code=code_version("workflow/scripts/figures.py"),
        structure=STRUCTURE,
        stems=main_figure_stems(),
        language=figure_language,
        catalogue=CATALOGUE,
        labels=config["labels"],
        cutoffs=cfa_settings()["cutoffs"],
        delta_cfi=validity_settings()["delta_cfi"],
        delta_rmsea=validity_settings()["delta_rmsea"],
    script:
        "../scripts/figures.py"


if extra_languages():

    use rule figures as figures_translated with:
        output:
            **figure_outputs(main_figure_stems(), "{sfx}"),
        log:
            "logs/figures{sfx}.log",
        benchmark:
            "logs/benchmarks/figures{sfx}.tsv"


if config["variants"]:

    use rule figures as figures_variants with:
        input:
            variants_comparison=rules.compare_variants.output.table,
        output:
            **figure_outputs([VARIANTS_FIGURE]),
        log:
            "logs/figures_variants.log",
        benchmark:
            "logs/benchmarks/figures_variants.tsv"
        resources:
            mem_mb=1000,  # demo: peak 137 MB in English, 230 MB in Chinese (x2, at least 1000)
            runtime=5,  # minutes; demo: 1.3 s wall in English, 2.5 s in Chinese (x3, at least 5)
        params:
            stems=[VARIANTS_FIGURE],  # the other params are the figures rule's (use rule merges keyword params)

    if extra_languages():

        use rule figures_variants as figures_variants_translated with:
            output:
                **figure_outputs([VARIANTS_FIGURE], "{sfx}"),
            log:
                "logs/figures_variants{sfx}.log",
            benchmark:
                "logs/benchmarks/figures_variants{sfx}.tsv"
