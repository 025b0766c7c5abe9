"""Execute the narrative notebook (jupytext percent .py) with papermill-style parameters, log progress per
cell, and write the executed .ipynb and its HTML export under results/notebooks/; one copy per output language
(params.languages) with the markdown cells translated by compval.i18n (the code and its output are the same
in every language, so the notebook is executed once).

Execution timestamps (nbclient's per-cell timing) are not recorded, so the outputs depend only on the inputs;
the HTML export loads nothing from the network (the template's CDN scripts for require.js/MathJax/mermaid,
unused by this notebook, are removed)."""

import copy
import re
from pathlib import Path

import compval.jsonschemas  # noqa: F401  # first: jsonschema (nbformat's validator) without its slow optional import
import jupytext
import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from compval.i18n import language, translate_markdown
from compval.pipeline import step


def execute(log):
    """The notebook executed with the injected parameters."""
    nb = jupytext.read(snakemake.input.notebook)
    params = dict(snakemake.params.parameters)
    # papermill convention: an "injected-parameters" cell right after the cell tagged "parameters"
    tagged = [k for k, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if not tagged:
        raise RuntimeError(f"{snakemake.input.notebook} has no cell tagged 'parameters'")
    source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(tagged[0] + 1, cell)
    for k, c in enumerate(nb.cells):
        c["id"] = f"cell-{k:03d}"  # stable ids (nbformat would draw random ones)
    code = [c for c in nb.cells if c.cell_type == "code"]
    done = {"n": 0}

    def on_cell_executed(cell, cell_index, execute_reply, **_):
        if cell.cell_type == "code":
            done["n"] += 1
            log.info("executed cell %d/%d (notebook cell %d)", done["n"], len(code), cell_index)

    log.info(
        "executing %s with %s on kernel %s: %d code cells",
        snakemake.input.notebook,
        params,
        snakemake.params.kernel,
        len(code),
    )
    # no per-cell timestamps, and stream chunks merged (their split depends on flush timing): reproducible
    client = NotebookClient(
        nb,
        kernel_name=snakemake.params.kernel,
        timeout=snakemake.params.timeout,
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(Path.cwd())}},
        on_cell_executed=on_cell_executed,
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    return nb


def write(nb, lang, sfx, exporter, log):
    """Write the executed notebook with its markdown in ``lang`` as results/notebooks/validation_report<sfx>.*
    (``exporter``: one HTMLExporter for every language, so that its templates are compiled once)"""
    nb = copy.deepcopy(nb)
    with language(lang):
        n_translated = translate_markdown(nb)
    log.info("language %s: %d markdown cells translated", lang, n_translated)
    ipynb, html = (Path(snakemake.output[k]) for k in ("ipynb", "html"))
    ipynb, html = (p.with_name(f"{p.stem}{sfx}{p.suffix}") for p in (ipynb, html))
    nbformat.write(nb, ipynb)
    body, _ = exporter.from_notebook_node(nb)
    body, n_cdn = re.subn(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>', "", body)
    log.info("removed %d CDN script tags from the HTML export", n_cdn)
    html.write_text(body, encoding="utf-8")
    log.info("wrote %s and %s", ipynb, html)


with step(snakemake) as log:
    executed = execute(log)
    exporter = HTMLExporter(template_name="lab")
    for lang, sfx in snakemake.params.languages:
        write(executed, lang, sfx, exporter, log)
