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
    params:
        code=code_version("htmlreport", "figures", "tables", "report"),
        structure=STRUCTURE,
    benchmark:
        "logs/benchmarks/report_html.tsv"
    log:
        "logs/report_html.log",
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/report.py"


rule notebook:
    """Execute notebooks/validation_report.py (jupytext) against the results and export it to HTML; it shows
    how each headline number was made and recomputes some of them from the processed data."""
    input:
        notebook=str(Path(workflow.basedir) / "notebooks" / "validation_report.py"),
        summary=rules.summary.output[0],
        exclusions=rules.screen.output.exclusions,
        scored=rules.score.output.items_scored,
        split=rules.efa.output.split,
        scores=rules.score.output.competency,
        performance=rules.screen.output.performance,
        tables=list(result_tables().values()),
    output:
        ipynb="results/notebooks/validation_report.ipynb",
        html=report("results/notebooks/validation_report.html", caption="../report/notebook.rst",
                    category="Report"),
    params:
        code=code_version("htmlreport", "reliability", "efa", "validity", "criterion"),
        parameters={"results_dir": "results", "processed_dir": "data/processed"},
        kernel="python3",
        timeout=600,
    benchmark:
        "logs/benchmarks/notebook.tsv"
    log:
        "logs/notebook.log",
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/notebook.py"
