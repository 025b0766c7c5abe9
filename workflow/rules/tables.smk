# APA tables (results/tables/<name>.{csv,md,tex,docx}) from the result tables: thin rules, built by
# compval.present.html.build_tables with compval.present.tables (the same tables the HTML report shows). The
# comparison of the variants (results/variants/comparison.{md,tex,docx}) has a rule of its own, tables_variants,
# since it waits for every variant's results: the other tables wait only for the main codebook's, and editing a
# variant rewrites that table alone.


rule tables:
    """APA-style tables (descriptives, reliability, EFA loadings, fit comparison, CFA loadings, validity,
    invariance, criterion correlations, incremental validity) as CSV, Markdown, LaTeX (booktabs) and DOCX."""
    input:
        unpack(table_inputs),
    output:
        csv=report(
            expand("results/tables/{name}.csv", name=table_names()), caption="../report/tables.rst", category="Tables"
        ),
        md=expand("results/tables/{name}.md", name=table_names()),
        tex=expand("results/tables/{name}.tex", name=table_names()),
        docx=expand("results/tables/{name}.docx", name=table_names()),
        translated=expand(
            "results/tables/{name}{sfx}.{ext}",
            name=table_names(),
            sfx=[sfx for _lang, sfx in extra_languages()],
            ext=["csv", "md", "tex", "docx"],
        ),
    log:
        "logs/tables.log",
    benchmark:
        "logs/benchmarks/tables.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 115 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 34 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/tables.py"),
        structure=STRUCTURE,
        names=table_names(),
        languages=output_languages(),
        catalogue=CATALOGUE,
        labels=config["labels"],
    script:
        "../scripts/tables.py"


if config["variants"]:

    use rule tables as tables_variants with:
        input:
            unpack(variants_table_inputs),
        output:
            variants=variants_table_outputs(),
        log:
            "logs/tables_variants.log",
        benchmark:
            "logs/benchmarks/tables_variants.tsv"
        params:
            names=[],  # the other params are the tables rule's (use rule merges keyword params)
