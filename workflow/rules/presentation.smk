# Helpers of the presentation rules (figures.smk, tables.smk, report.smk): which figures and tables this
# configuration produces, their inputs, and the final outputs added to rule all.


def figure_stems():
    """The figures this configuration produces (criterion figures need performance data, the invariance
    figure an invariance group)."""
    stems = ["fig01_sample_flow", "fig02_response_distribution", "fig03_reliability", "fig04_scree",
             "fig05_efa_loadings", "fig06_cfa_path", "fig07_model_comparison", "fig08_discriminant_validity"]
    if config["performance"]:
        stems += ["fig09_criterion_validity", "fig10_known_groups", "fig11_dominance"]
    if validity_settings()["invariance_group"]:
        stems.append("fig12_invariance")
    return stems


def figure_outputs():
    """Named outputs <stem>_<ext>; the PNG is marked for the Snakemake report with the figure's caption."""
    out = {}
    for stem in figure_stems():
        out[f"{stem}_png"] = report(f"results/figures/{stem}.png", caption=f"../report/{stem}.rst",
                                    category="Figures", labels={"figure": stem})
        out[f"{stem}_svg"] = f"results/figures/{stem}.svg"
        out[f"{stem}_pdf"] = f"results/figures/{stem}.pdf"
    return out


def figure_inputs(wildcards):
    files = {
        "cleaning_report": rules.screen.output.report,
        "distribution": rules.descriptives.output.distribution,
        "reliability": rules.reliability.output.table,
        "n_factors": rules.efa.output.n_factors,
        "efa_summary": rules.efa.output.summary,
        "loadings": rules.efa.output.loadings,
        "matching": rules.efa.output.matching,
        "parameters": rules.cfa.output.parameters,
        "fit": rules.cfa.output.fit,
        "convergent": rules.validity.output.convergent,
        "factor_correlations": rules.validity.output.factor_correlations,
        "htmt": rules.validity.output.htmt,
        "invariance": rules.validity.output.invariance,
    }
    if config["performance"]:
        files["correlations"] = rules.criterion.output.correlations
        files["known_groups"] = rules.criterion.output.known_groups
        files["dominance"] = rules.criterion.output.dominance
    return files


def table_names():
    """The tables this configuration produces, in report order."""
    names = ["descriptives", "reliability", "efa_loadings", "model_fit", "cfa_loadings", "validity"]
    if validity_settings()["invariance_group"]:
        names.append("invariance")
    if config["performance"]:
        names += ["criterion", "regression"]
    return names


def table_inputs(wildcards):
    files = {
        "descriptives": rules.descriptives.output.table,
        "reliability": rules.reliability.output.table,
        "loadings": rules.efa.output.loadings,
        "communalities": rules.efa.output.communalities,
        "matching": rules.efa.output.matching,
        "fit": rules.cfa.output.fit,
        "parameters": rules.cfa.output.parameters,
        "convergent": rules.validity.output.convergent,
        "factor_correlations": rules.validity.output.factor_correlations,
        "htmt": rules.validity.output.htmt,
        "invariance": rules.validity.output.invariance,
    }
    if config["performance"]:
        files["correlations"] = rules.criterion.output.correlations
        files["regression"] = rules.criterion.output.regression
    return files


def result_tables():
    """The result tables the report renders (criterion tables only with performance data)."""
    files = {
        "item_missingness": rules.screen.output.missingness,
        "descriptives": rules.descriptives.output.table,
        "reliability": rules.reliability.output.table,
        "loadings": rules.efa.output.loadings,
        "communalities": rules.efa.output.communalities,
        "matching": rules.efa.output.matching,
        "fit": rules.cfa.output.fit,
        "parameters": rules.cfa.output.parameters,
        "convergent": rules.validity.output.convergent,
        "factor_correlations": rules.validity.output.factor_correlations,
        "htmt": rules.validity.output.htmt,
        "invariance": rules.validity.output.invariance,
    }
    if config["performance"]:
        files["correlations"] = rules.criterion.output.correlations
        files["regression"] = rules.criterion.output.regression
    return files


def report_inputs(wildcards):
    return {
        "summary": rules.summary.output[0],
        "figures": expand("results/figures/{stem}.svg", stem=figure_stems()),
        **result_tables(),
    }


def presentation_outputs():
    """Figures, tables, the HTML report and the executed notebook (added to the pipeline's final outputs)."""
    return [
        *expand("results/figures/{stem}.{ext}", stem=figure_stems(), ext=["png", "svg", "pdf"]),
        *expand("results/tables/{name}.{ext}", name=table_names(), ext=["csv", "md", "tex", "docx"]),
        "results/report.html",
        "results/notebooks/validation_report.ipynb",
        "results/notebooks/validation_report.html",
    ]
