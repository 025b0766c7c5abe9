"""The suggestions' ready codebooks: each suggestion of results/revision/suggestions.csv that has a codebook
(its ``codebook`` column) applied to the codebook file, and the short form without each competency's weakest
item, with the item wording of the file. Cheap on purpose: an edit of an item's wording reruns this rule, not the
refits of the suggestions rule (which depends on the codebook's structure only)."""

from pathlib import Path

import pandas as pd

from compval.codebook import load_codebook
from compval.io import atomic_path, read_json
from compval.pipeline import step
from compval.revision.suggest import apply_change, drop_items

with step(snakemake) as log:
    cb = load_codebook(snakemake.input.codebook)
    # every column as written (no NaN for an empty target, no numbers parsed from the evidence)
    suggestions = pd.read_csv(snakemake.input.suggestions, dtype=str, keep_default_na=False)
    out_dir = Path(snakemake.output.codebooks)
    out_dir.mkdir(parents=True, exist_ok=True)
    for s in suggestions.itertuples(index=False):
        if not s.codebook:
            continue
        revised = apply_change(cb, s.change, s.subject, s.target)
        header = (
            f"Suggestion {s.suggestion} applied to {snakemake.input.codebook}: {s.change} {s.subject}"
            + (f" -> {s.target}" if s.target else "")
            + f"\nEvidence (training part): {s.evidence}\n"
            + f"Use it as a variant: variants: {{{s.suggestion}: {out_dir / (s.suggestion + '.yaml')}}}"
        )
        with atomic_path(out_dir / s.codebook) as tmp:
            tmp.write_text(revised.to_yaml(header), encoding="utf-8")
    log.info("%d ready codebooks of %d suggestions", (suggestions["codebook"] != "").sum(), len(suggestions))
    weakest = read_json(snakemake.input.weakest)
    if weakest is not None:
        trimmed = drop_items(cb, weakest)
        header = (
            f"{snakemake.input.codebook} with the weakest item of each competency dropped (smallest standardized "
            f"loading on the training part): {', '.join(sorted(weakest))}\n"
            f"Use it as a variant: variants: {{trimmed: {out_dir / 'weakest_per_competency.yaml'}}}"
        )
        with atomic_path(out_dir / "weakest_per_competency.yaml") as tmp:
            tmp.write_text(trimmed.to_yaml(header), encoding="utf-8")
        log.info("weakest item per competency dropped: %s", ", ".join(sorted(weakest)))
