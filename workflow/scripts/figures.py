"""The publication figures of one output language (params.language): read the result tables, draw each figure with
compval.present.figures and write PNG (300 dpi), SVG and PDF to the job's outputs (their names carry the language's
file-name infix); the CFA path diagram is rendered by Graphviz. Progress is logged per figure. The figures are drawn
with the codebook localized to the language and the message catalogue of compval.i18n active."""

import functools
import multiprocessing
from pathlib import Path

import pandas as pd

from compval.present import figures as F
from compval.present.figures_style import lean_fonts, missing_fonts
from compval.codebook import Codebook
from compval.present.formatting import pretty
from compval.present.rules import ACCEPTABLE_FIT
from compval.i18n import gettext as _
from compval.i18n import display_labels, language
from compval.io import read_json
from compval.pipeline import step


def names(cb):
    return {**cb.names("competency"), **cb.names("module")}


def sample_flow(i, p, cb):
    return F.sample_flow(read_json(i.cleaning_report))


def response_distribution(i, p, cb):
    labels = cb.scale_labels
    cats = {cb.scale_min + k: lab for k, lab in enumerate(labels)} if labels else None
    return F.response_distribution(pd.read_csv(i.distribution), cb.items, category_labels=cats)


def reliability(i, p, cb):
    return F.reliability_forest(pd.read_csv(i.reliability), names=names(cb))


def scree(i, p, cb):
    s = read_json(i.efa_summary)["efa"]
    suggested = {k: s.get(f"n_factors_{k}") for k in ("parallel", "map")}
    return F.scree_plot(pd.read_csv(i.n_factors), suggested)


def efa_loadings(i, p, cb):
    lo = pd.read_csv(i.loadings)
    m = pd.read_csv(i.matching)
    order = [f for f in m["efa_factor"] if isinstance(f, str)]
    order += [f for f in pd.unique(lo["factor"]) if f not in order]
    return F.loading_heatmap(
        lo[["item", "factor", "loading"]], cb.groups("competency"), factor_order=order, group_labels=names(cb)
    )


def model_comparison(i, p, cb):
    fits = pd.read_csv(i.fit)
    return F.model_comparison(
        fits,
        p.cutoffs,
        acceptable=ACCEPTABLE_FIT,
        model_labels={m: pretty(m) for m in fits["model"]},
    )


def discriminant(i, p, cb):
    conv = pd.read_csv(i.convergent)
    return F.discriminant_matrix(
        pd.read_csv(i.factor_correlations),
        pd.read_csv(i.htmt),
        factors=list(conv["factor"]),
        diagonal=dict(zip(conv["factor"], conv["sqrt_ave"])),
        labels=names(cb),
    )


def criterion_forest(i, p, cb):
    c = pd.read_csv(i.correlations)
    return F.criterion_forest(c, predictor_labels=names(cb), criterion_labels={k: pretty(k) for k in c["criterion"]})


def known_groups(i, p, cb):
    k = pd.read_csv(i.known_groups)
    return F.known_groups_profile(
        k,
        predictor_labels=names(cb),
        scale=(cb.scale_min, cb.scale_max),
        criterion_labels={c: _("Top vs rest: {criterion}").format(criterion=pretty(c)) for c in k["criterion"]},
    )


def dominance(i, p, cb):
    d = pd.read_csv(i.dominance)
    return F.dominance_plot(d, predictor_labels=names(cb), criterion_labels={k: pretty(k) for k in d["criterion"]})


def invariance(i, p, cb):
    inv = pd.read_csv(i.invariance)
    if inv.empty:
        raise RuntimeError(f"{i.invariance} is empty: set validity.invariance_group to draw the invariance figure")
    cut = {k: v for k, v in p.cutoffs.items() if k in ("cfi", "rmsea")}
    return F.invariance_plot(inv, delta_cfi=p.delta_cfi, delta_rmsea=p.delta_rmsea, cutoffs=cut)


def variants(i, p, cb):
    comparison = pd.read_csv(i.variants_comparison)
    return F.variants_plot(
        comparison,
        cutoffs={k: v for k, v in p.cutoffs.items() if k == "cfi"},
        variant_labels={v: pretty(v) for v in comparison["variant"]},
    )


BUILDERS = {
    "fig01_sample_flow": sample_flow,
    "fig02_response_distribution": response_distribution,
    "fig03_reliability": reliability,
    "fig04_scree": scree,
    "fig05_efa_loadings": efa_loadings,
    "fig07_model_comparison": model_comparison,
    "fig08_discriminant_validity": discriminant,
    "fig09_criterion_validity": criterion_forest,
    "fig10_known_groups": known_groups,
    "fig11_dominance": dominance,
    "fig12_invariance": invariance,
    "fig13_variants": variants,
}


def cfa_path(i, p, cb, stem):
    params = pd.read_csv(i.parameters)
    params = params[params["model"] == "hypothesized"].drop(columns="model")
    return F.render_dot(F.cfa_path_dot(params, labels=names(cb)), stem)


@functools.cache
def localized_codebook(lang):
    return Codebook.from_structure(snakemake.params.structure).localized(lang)


def draw(lang, name):
    """One figure; returns its log line (drawn in a worker process when the rule has more than one thread: the
    figures are independent, and each writes its own files)."""
    stem = Path(snakemake.output[f"{name}_png"]).with_suffix("")
    with language(lang):
        cb = localized_codebook(lang)
        if name == "fig06_cfa_path":
            paths = cfa_path(snakemake.input, snakemake.params, cb, stem)
        else:
            paths = F.save_figure(BUILDERS[name](snakemake.input, snakemake.params, cb), stem)
    sizes = ", ".join(f"{q.name} ({q.stat().st_size} bytes)" for q in paths)
    return f"{name} ({lang}): {sizes}"


with step(snakemake) as log, display_labels(snakemake.params.labels):
    lang = snakemake.params.language
    missing = missing_fonts([lang])
    if missing:
        raise RuntimeError(
            "figures: font not installed, so the figures would be drawn with another font: "
            + "; ".join(missing)
            + " (`make setup` installs it)"
        )
    with lean_fonts([lang]) as copies:
        log.info("%d font faces copied without their layout tables (faster PDFs)", len(copies))
        tasks = [(lang, name) for name in snakemake.params.stems]
        workers = min(snakemake.threads, len(tasks))
        if workers > 1:
            # fork: the workers share this script's inputs and the font copies; one figure per task, in order
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                lines = pool.starmap(draw, tasks, chunksize=1)
        else:
            lines = [draw(*task) for task in tasks]
        for k, line in enumerate(lines, start=1):
            log.info("figure %d/%d %s", k, len(tasks), line)
