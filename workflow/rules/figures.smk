# Publication figures (results/figures/<stem>.{png,svg,pdf}; PNG at 300 dpi) drawn by one thin rule with
# compval.present.figures (one Python start-up for all figures); the CFA path diagram is rendered by Graphviz. Each PNG
# is marked for `snakemake --report` with its caption in workflow/report/<stem>.rst. The variants' figure has a rule
# of its own (figures_variants): editing a variant redraws that figure alone, and the others need not wait for
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
    conda:
        "../envs/compval.yaml"
    threads: 2  # figures drawn in parallel processes, one figure per task
    resources:
        mem_mb=1600,  # demo benchmark: max RSS 686 MB, summed over the job's processes (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 7.9 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/figures.py"),
        structure=STRUCTURE,
        stems=main_figure_stems(),
        languages=output_languages(),
        catalogue=CATALOGUE,
        labels=config["labels"],
        cutoffs=cfa_settings()["cutoffs"],
        delta_cfi=validity_settings()["delta_cfi"],
        delta_rmsea=validity_settings()["delta_rmsea"],
    script:
        "../scripts/figures.py"


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
        threads: 1
        resources:
            mem_mb=1000,  # demo benchmark: max RSS 225 MB (x2, at least 1000)
            runtime=5,  # minutes; demo benchmark: 2.4 s wall (x3, at least 5)
        params:
            stems=[VARIANTS_FIGURE],  # the other params are the figures rule's (use rule merges keyword params)
