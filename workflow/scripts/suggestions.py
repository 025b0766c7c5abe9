import pandas as pd

from compval.cfa import fit_options
from compval.codebook import Codebook, CodebookError
from compval.criterion import transform_criteria
from compval.io import read_items, write_json, write_table
from compval.pipeline import step
from compval.revision.holdout import holds_out
from compval.revision.suggest import (
    apply_change,
    evaluate_suggestions,
    revision_evidence,
    suggest_revisions,
    weakest_items,
)

with step(snakemake) as log:
    p = snakemake.params
    c, rev = p.cfa, p.settings
    # the codebook's structure, not its file: an edit of an item's wording does not rerun the refits (the ready
    # codebooks, which carry the wording, are written by the suggestion_codebooks rule)
    cb = Codebook.from_structure(p.structure)
    items = read_items(snakemake.input.scored, cb.item_ids)
    if snakemake.input.split:
        part = pd.read_csv(snakemake.input.split, index_col="pid")["part"].reindex(items.index)
        parts = {"training": items.loc[part == "training"], "holdout": items.loc[part == "holdout"]}
    else:
        parts = {"training": items}  # revision.holdout: 0 - suggestions from and evaluated on every respondent
    options = fit_options(c)
    item_missing = "listwise" if p.missing == "listwise" else "pairwise"  # as the reliability stage
    train = parts["training"]
    log.info("evidence on the training part (%d of %d respondents) ...", len(train), len(items))
    evidence = revision_evidence(
        cb,
        train,
        efa_method=p.efa["method"],
        efa_rotation=p.efa["rotation"],
        cor=p.efa["cor"],
        item_missing=item_missing,
        **options,
    )
    found = suggest_revisions(cb, train, **evidence)
    suggestions = found.head(rev["max_suggestions"])
    log.info("%d suggestions (%d kept, the strongest evidence first)", len(found), len(suggestions))
    criteria = None
    if snakemake.input.performance:
        raw = pd.read_csv(snakemake.input.performance, index_col="pid").reindex(items.index)
        criteria, _ = transform_criteria(raw, p.log_criteria)
    table = suggestions
    for name, data in parts.items():
        ev = evaluate_suggestions(
            cb,
            data,
            suggestions,
            criterion=None if criteria is None else criteria.loc[data.index],
            item_missing=item_missing,
            **options,
        )
        ev = ev[ev["suggestion"] != "baseline"].drop(columns="status").set_index("suggestion")
        table = table.join(ev.add_suffix(f"_{name}"), on="suggestion")
        log.info("applied alone on the %s part: %d refits", name, len(ev))
    if "holdout" in parts:
        table["holds"] = [
            holds_out(t, h, rev["min_ratio"]) if pd.notna(t) and pd.notna(h) else None
            for t, h in zip(table["delta_cfi_training"], table["delta_cfi_holdout"])
        ]
    files = []
    for s in suggestions.itertuples(index=False):
        try:
            apply_change(cb, s.change, s.subject, s.target)
        except (CodebookError, ValueError) as exc:
            files.append("")
            log.info("%s: no codebook (%s)", s.suggestion, exc)
            continue
        files.append(f"{s.suggestion}.yaml")
    table["codebook"] = files
    weakest = None
    if evidence["fit"] is not None:
        # the short form: each competency's weakest item (training-part loading) dropped
        weakest = weakest_items(cb, evidence["fit"])
        log.info("weakest item per competency: %s", ", ".join(sorted(weakest)))
    write_json(weakest, snakemake.output.weakest)
    write_table(table, snakemake.output.suggestions)
