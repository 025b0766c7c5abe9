rule reliability:
    """Alpha (Feldt and bootstrap CIs), lambda-6, omega total/hierarchical per competency, module and dimension
    (>= 3 items); item analysis."""
    input:
        scored=rules.score.output.items_scored,
    output:
        table="results/reliability/reliability.csv",
        item_table="results/reliability/item_analysis.csv",
        summary="results/reliability/summary.json",
    params:
        code=code_version("reliability", "efa", "descriptives", "report"),
        structure=STRUCTURE,
        missing=config["missing"],
        n_boot=config.get("reliability", {}).get("n_boot", 1000),
        ci=config.get("reliability", {}).get("ci", 0.95),
        omega_h_boot=config.get("reliability", {}).get("omega_h_boot", 0),
        seed=config["seed"],
    conda:
        "../envs/compval.yaml"
    benchmark:
        "logs/benchmarks/reliability.tsv"
    log:
        "logs/reliability.log",
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/reliability.py"
