# Sample-size planning by Monte Carlo (`snakemake power`; not part of the default target): a population model,
# one job per sample size and chunk of replications (results/power/chunks/), and the tables, figure and report
# section aggregated from them (results/power/). Every replication is seeded from config seed, N and its number,
# so results are identical on 1 core, 2 cores or a cluster. The benchmark files (logs/power/benchmark/) give the
# time and memory of each job, from which the threads/resources below were set.


rule power_population:
    """The population model (from config, or the hypothesised model fitted to the current data) and the
    estimator's population values of the loadings and factor covariances."""
    input:
        unpack(power_population_inputs),
    output:
        population="results/power/population.json",
        truth="results/power/population_values.csv",
    log:
        "logs/power/population.log",
    benchmark:
        "logs/power/benchmark/population.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 167 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 17 s wall (x3, at least 5)
    params:
        code=code_version("workflow/scripts/power_population.py"),
        structure=STRUCTURE,
        settings=power_settings(),
        run=power_run_settings(),
    script:
        "../scripts/power_population.py"


rule power_chunk:
    """One chunk of replications at one sample size: simulate, screen, fit the hypothesised model and the
    nested rivals, test, record estimates."""
    input:
        population=rules.power_population.output.population,
    output:
        outcomes="results/power/chunks/n{n}_c{chunk}_outcomes.csv",
        estimates="results/power/chunks/n{n}_c{chunk}_estimates.csv",
    log:
        "logs/power/n{n}_c{chunk}.log",
    benchmark:
        "logs/power/benchmark/n{n}_c{chunk}.tsv"
    wildcard_constraints:
        n=r"\d+",
        chunk=r"\d+",
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 313 MB (x2, at least 1000)
        runtime=power_chunk_runtime,  # minutes; scales with power.chunk_size (see the helper)
    params:
        code=code_version("workflow/scripts/power_chunk.py"),
        structure=STRUCTURE,
        settings=power_settings(),
        run=power_run_settings(),
        seed=config["seed"],
    script:
        "../scripts/power_chunk.py"


rule power_tables:
    """Power, cut-off attainment, bias/coverage and convergence by N; the smallest N reaching each target;
    the figure and the report section."""
    input:
        outcomes=expand("results/power/chunks/n{n}_c{chunk}_outcomes.csv", n=config["power"]["n"], chunk=power_chunks()),
        estimates=expand(
            "results/power/chunks/n{n}_c{chunk}_estimates.csv", n=config["power"]["n"], chunk=power_chunks()
        ),
        truth=rules.power_population.output.truth,
    output:
        **{name: f"results/power/{name}.csv" for name in POWER_TABLES},
        replications="results/power/replications.csv",
        summary="results/power/summary.json",
        png=report("results/power/power.png", caption="../report/power.rst", category="Sample size"),
        svg="results/power/power.svg",
        section="results/power/report_section.html",
    log:
        "logs/power/tables.log",
    benchmark:
        "logs/power/benchmark/tables.tsv"
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=1000,  # demo benchmark: max RSS 205 MB (x2, at least 1000)
        runtime=5,  # minutes; demo benchmark: 9 s wall (x3, at least 5)
    params:
        code=code_version("workflow/scripts/power_tables.py"),
        settings=power_settings(),
        run=power_run_settings(),
    script:
        "../scripts/power_tables.py"


rule power:
    """Target: sample-size planning (results/power/)."""
    input:
        rules.power_tables.output,
    localrule: True
