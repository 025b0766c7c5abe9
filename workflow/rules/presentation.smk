# Helpers of the presentation rules (figures.smk, tables.smk, report.smk): which figures and tables this
# configuration produces, their inputs, and the final outputs added to rule all.
import re

from compval.i18n import catalogue_digest, output_suffix

# the translations' digest (a params value of every rule writing translated outputs), computed once per start
CATALOGUE = catalogue_digest()


def output_languages():
    """[(language, file-name infix)] of the outputs: config `language` first without an infix (report.html),
    then every other entry of config `languages` with one (report.zh.html)."""
    primary = config["language"]
    langs = [primary] + [lang for lang in config["languages"] if lang != primary]
    return [(lang, output_suffix(lang, primary)) for lang in langs]


def extra_languages():
    """The output languages other than the primary one."""
    return [(lang, sfx) for lang, sfx in output_languages() if sfx]


def figure_stems():
    """The figures this configuration produces (criterion figures need performance data, the invariance
    figure an invariance group)."""
    stems = [
        "fig01_sample_flow",
        "fig02_response_distribution",
        "fig03_reliability",
        "fig04_scree",
        "fig05_efa_loadings",
        "fig06_cfa_path",
        "fig07_model_comparison",
        "fig08_discriminant_validity",
    ]
    if config["performance"]:
        stems += ["fig09_criterion_validity", "fig10_known_groups", "fig11_dominance"]
    if validity_settings()["invariance_group"]:
        stems.append("fig12_invariance")
    if config["variants"]:
        stems.append("fig13_variants")
    return stems


#: The figure of the comparison of the codebook variants, drawn by a rule of its own, figures_variants, since it
#: waits for every variant's results: the other figures wait only for the main codebook's, and editing a variant
#: redraws this figure alone.
VARIANTS_FIGURE = "fig13_variants"


def main_figure_stems():
    """The figures of the main codebook's results (rule figures)."""
    return [stem for stem in figure_stems() if stem != VARIANTS_FIGURE]


def figure_outputs(stems, sfx=""):
    """Named outputs <stem>_<ext> of ``stems`` in one output language: the primary one (no file-name infix; the
    PNG marked for the Snakemake report with the figure's caption) or, with ``sfx="{sfx}"``, the other language of
    the job's wildcard (results/figures/fig01_sample_flow.zh.png)."""
    out = {}
    for stem in stems:
        png = f"results/figures/{stem}{sfx}.png"
        out[f"{stem}_png"] = (
            png if sfx else report(png, caption=f"../report/{stem}.rst", category="Figures", labels={"figure": stem})
        )
        out[f"{stem}_svg"] = f"results/figures/{stem}{sfx}.svg"
        out[f"{stem}_pdf"] = f"results/figures/{stem}{sfx}.pdf"
    return out


def figure_language(wildcards):
    """params: the output language of a figures job, from its {sfx} wildcard (none: the primary language)."""
    return {sfx: lang for lang, sfx in output_languages()}[wildcards.get("sfx", "")]


# {sfx} of the figures jobs in the other output languages: one of their file-name infixes, nothing else
wildcard_constraints:
    sfx="|".join(re.escape(sfx) for _lang, sfx in extra_languages()) or "x{0}",


def figure_inputs(wildcards):
    files = {
        "cleaning_report": rules.screen.output.report,
        "distribution": rules.descriptives.output.distribution,
        "reliability": of_variant(rules.reliability.output.table),
        "n_factors": of_variant(rules.efa.output.n_factors),
        "efa_summary": of_variant(rules.efa.output.summary),
        "loadings": of_variant(rules.efa.output.loadings),
        "matching": of_variant(rules.efa.output.matching),
        "parameters": of_variant(rules.cfa.output.parameters),
        "fit": of_variant(rules.cfa.output.fit),
        "convergent": of_variant(rules.validity.output.convergent),
        "factor_correlations": of_variant(rules.validity.output.factor_correlations),
        "htmt": of_variant(rules.validity.output.htmt),
        "invariance": of_variant(rules.validity.output.invariance),
    }
    if config["performance"]:
        files["correlations"] = of_variant(rules.criterion.output.correlations)
        files["known_groups"] = of_variant(rules.criterion.output.known_groups)
        files["dominance"] = of_variant(rules.criterion.output.dominance)
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
        "reliability": of_variant(rules.reliability.output.table),
        "loadings": of_variant(rules.efa.output.loadings),
        "communalities": of_variant(rules.efa.output.communalities),
        "matching": of_variant(rules.efa.output.matching),
        "fit": of_variant(rules.cfa.output.fit),
        "parameters": of_variant(rules.cfa.output.parameters),
        "convergent": of_variant(rules.validity.output.convergent),
        "factor_correlations": of_variant(rules.validity.output.factor_correlations),
        "htmt": of_variant(rules.validity.output.htmt),
        "invariance": of_variant(rules.validity.output.invariance),
    }
    if config["performance"]:
        files["correlations"] = of_variant(rules.criterion.output.correlations)
        files["regression"] = of_variant(rules.criterion.output.regression)
    return files


def variants_table_inputs(wildcards):
    """The inputs of the variants' table (tables_variants): the comparison of the variants, and the main
    tables' inputs, which number the tables (the variants' table comes last)."""
    return {**table_inputs(wildcards), "variants_comparison": rules.compare_variants.output.table}


def variants_table_stem():
    """The comparison of the variants as a publication table: results/variants/comparison.{md,tex,docx} (beside
    the tidy results/variants/comparison.csv), one set per output language."""
    return "results/variants/comparison"


def variants_table_outputs():
    if not config["variants"]:
        return []
    return expand(
        variants_table_stem() + "{sfx}.{ext}", sfx=[s for _lang, s in output_languages()], ext=["md", "tex", "docx"]
    )


def result_tables():
    """The result tables the report renders (criterion tables only with performance data)."""
    files = {
        "item_missingness": rules.screen.output.missingness,
        "descriptives": rules.descriptives.output.table,
        "reliability": of_variant(rules.reliability.output.table),
        "loadings": of_variant(rules.efa.output.loadings),
        "communalities": of_variant(rules.efa.output.communalities),
        "matching": of_variant(rules.efa.output.matching),
        "fit": of_variant(rules.cfa.output.fit),
        "parameters": of_variant(rules.cfa.output.parameters),
        "convergent": of_variant(rules.validity.output.convergent),
        "factor_correlations": of_variant(rules.validity.output.factor_correlations),
        "htmt": of_variant(rules.validity.output.htmt),
        "invariance": of_variant(rules.validity.output.invariance),
    }
    if config["performance"]:
        files["correlations"] = of_variant(rules.criterion.output.correlations)
        files["regression"] = of_variant(rules.criterion.output.regression)
    return files


def revision_tables():
    """The revision workflow's tables the report's revision section renders (not the notebook's business)."""
    files = {}
    if config["variants"]:
        files["variants_comparison"] = rules.compare_variants.output.table
        files["variants_diff"] = rules.codebook_diff.output.diff
    if config["revision"]["suggestions"]:
        files["suggestions"] = rules.suggestions.output.suggestions
    return files


def report_inputs(wildcards):
    return {
        **revision_tables(),
        "summary": of_variant(rules.summary.output[0]),
        "figures": expand("results/figures/{stem}.svg", stem=figure_stems()),
        **{
            f"figures_{lang}": expand("results/figures/{stem}{sfx}.svg", stem=figure_stems(), sfx=sfx)
            for lang, sfx in extra_languages()
        },
        **result_tables(),
        # the dominance weights' interval method, named in their figure's caption
        **({"dominance": of_variant(rules.criterion.output.dominance)} if config["performance"] else {}),
    }


def presentation_outputs():
    """Figures, tables, the HTML report and the executed notebook (added to the pipeline's final outputs)."""
    sfx = [s for _lang, s in output_languages()]
    return [
        *expand("results/figures/{stem}{sfx}.{ext}", stem=figure_stems(), sfx=sfx, ext=["png", "svg", "pdf"]),
        *expand("results/tables/{name}{sfx}.{ext}", name=table_names(), sfx=sfx, ext=["csv", "md", "tex", "docx"]),
        *variants_table_outputs(),
        *expand("results/report{sfx}.html", sfx=sfx),
        *expand("results/notebooks/validation_report{sfx}.{ext}", sfx=sfx, ext=["ipynb", "html"]),
    ]
