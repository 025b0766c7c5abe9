rule reliability:
    """Alpha (Feldt and bootstrap CIs), lambda-6, omega total/hierarchical per competency, module and dimension
    (>= 3 items); item analysis."""
    input:
        scored=rules.score.output.items_scored,
    output:
        table="results/{v}reliability/reliability.csv",
        item_table="results/{v}reliability/item_analysis.csv",
        summary="results/{v}reliability/summary.json",
    log:
        "logs/{v}reliability.log",
    benchmark:
        "logs/benchmarks/{v}reliability.tsv"
    priority: feeders_first
    conda:
        "../envs/compval.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 24),  # max RSS x2: demo 171 MB; 10^6 benchmark 1275 MB for 110 MB of input
        runtime=scaled(5, 0.07),  # minutes, wall x3: demo 35 s; 10^6: 149 s for the input above
    params:
        code=code_version("workflow/scripts/reliability.py"),
        structure=variant_structure,
        missing=config["missing"],
        n_boot=config["reliability"]["n_boot"],
        ci=config["reliability"]["ci"],
        omega_h_boot=config["reliability"]["omega_h_boot"],
        bootstrap_max_n=config["bootstrap_max_n"],
        seed=config["seed"],
    script:
        "../scripts/reliability.py"
