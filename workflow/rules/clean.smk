rule ingest:
    """Read the export, check it against the codebook, drop direct identifiers, pseudonymise ids, set invalid
    cells to missing and resolve duplicate ids; pseudonymise the performance file."""
    input:
        survey=config["survey"],
        performance=performance_inputs(),
    output:
        responses="data/processed/responses.csv",
        performance="data/processed/performance_all.csv",
        exclusions="data/processed/ingest_exclusions.csv",
        log_table="results/cleaning/ingest_log.csv",
        report="results/cleaning/ingest_report.json",
    log:
        "logs/ingest.log",
    benchmark:
        "logs/benchmarks/ingest.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 10),  # max RSS x2: demo 103 MB; 10^6 benchmark 1136 MB for 245 MB of input
        runtime=scaled(5, 0.01),  # minutes, wall x3: demo 13 s; 10^6: 32 s for the input above
    params:
        code=code_version("workflow/scripts/ingest.py"),
        spec=INGEST_SPEC,
        options=cleaning_options(),
        privacy=privacy_options(),
        survey_options=config["survey_options"],
        performance=config["performance"],
    script:
        "../scripts/ingest.py"


rule screen:
    """Careless-responding screen, missing-data policy and item checks; conservation law; join with performance
    (matched / survey-only / performance-only counts); item and respondent missingness and Little's MCAR test."""
    input:
        responses=rules.ingest.output.responses,
        exclusions=rules.ingest.output.exclusions,
        ingest_report=rules.ingest.output.report,
        performance=rules.ingest.output.performance,
    output:
        analysed="data/processed/items.csv",
        respondents="data/processed/respondents.csv",
        careless="data/processed/careless_indices.csv",
        exclusions="data/processed/exclusions.csv",
        performance="data/processed/performance.csv",
        log_table="results/cleaning/screen_log.csv",
        missingness="results/cleaning/item_missingness.csv",
        respondent_missingness="results/cleaning/respondent_missingness.csv",
        report="results/cleaning_report.json",
    log:
        "logs/screen.log",
    benchmark:
        "logs/benchmarks/screen.tsv"
    priority: main_codebook_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 18),  # max RSS x2: demo 166 MB; 10^6 benchmark 1631 MB for 189 MB of input
        runtime=scaled(5, 0.02),  # minutes, wall x3: demo 10 s; 10^6: 59 s for the input above
    params:
        code=code_version("workflow/scripts/screen.py"),
        structure=STRUCTURE,
        options=cleaning_options(),
    script:
        "../scripts/screen.py"
