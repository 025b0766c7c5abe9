# The self-contained HTML report (results/report.html) and the executed narrative notebook
# (results/notebooks/validation_report.{ipynb,html}).


rule report_html:
    """results/report.html: one self-contained file (figures embedded, no network) with sample, cleaning,
    descriptives, reliability, EFA, CFA and comparison, construct and criterion validity, provenance appendix.
    Headline numbers come from summary.json; the run date is the only non-deterministic element."""
    input:
        unpack(report_inputs),
    output:
        html=report("results/report.html", caption="../report/report.rst", category="Report"),
        translated=expand("results/report{sfx}.html", sfx=[sfx for _lang, sfx in extra_languages()]),
    log:
        "logs/report_html.log",
    benchmark:
        "logs/benchmarks/report_html.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 94 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 80 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/report.py"),
        structure=STRUCTURE,
        languages=output_languages(),
        catalogue=CATALOGUE,
        labels=config["labels"],
    script:
        "../scripts/report.py"


rule notebook:
    """Execute notebooks/validation_report.py (jupytext) against the results and export it to HTML; it shows
    how each headline number was made and recomputes some of them from the processed data."""
    input:
        notebook=str(Path(workflow.basedir) / "notebooks" / "validation_report.py"),
        summary=of_variant(rules.summary.output[0]),
        exclusions=rules.screen.output.exclusions,
        scored=of_variant(rules.score.output.items_scored),
        split=of_variant(rules.efa.output.split),
        scores=of_variant(rules.score.output.competency),
        performance=rules.screen.output.performance,
        tables=list(result_tables().values()),
    output:
        ipynb="results/notebooks/validation_report.ipynb",
        html=report("results/notebooks/validation_report.html", caption="../report/notebook.rst", category="Report"),
        translated=expand(
            "results/notebooks/validation_report{sfx}.{ext}",
            sfx=[sfx for _lang, sfx in extra_languages()],
            ext=["ipynb", "html"],
        ),
    log:
        "logs/notebook.log",
    benchmark:
        "logs/benchmarks/notebook.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 144 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 62 s wall on 2 shared cores (x3, at least 5)
    params:
        code=code_version("workflow/scripts/notebook.py", "notebooks/validation_report.py"),
        parameters={"results_dir": "results", "processed_dir": "data/processed"},
        languages=output_languages(),
        catalogue=CATALOGUE,
        kernel="python3",
        timeout=600,
    script:
        "../scripts/notebook.py"
