"""APA tables (results/tables/<name>.{csv,md,tex,docx}, or for rule tables_variants the comparison of the variants,
results/variants/comparison.{md,tex,docx}) from the result tables, built by compval.present.html.build_tables (the
same objects the HTML report renders)."""

import zipfile
from pathlib import Path

from compval.codebook import Codebook
from compval.present.html import build_tables, read_result_tables
from compval.i18n import display_labels, language
from compval.pipeline import step


def normalize_docx(path: Path) -> None:
    """Rewrite a .docx (a zip) with fixed entry timestamps so the same table gives the same bytes."""
    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            z.writestr(fixed, data)


with step(snakemake) as log, display_labels(snakemake.params.labels):
    codebook = Codebook.from_structure(snakemake.params.structure)
    results = read_result_tables({k: snakemake.input[k] for k in snakemake.input.keys()})
    # rule tables: the tables of params.names; rule tables_variants: the comparison of the variants alone
    stems = {Path(f).stem: Path(f).with_suffix("") for f in snakemake.output.get("csv", [])}
    variants = snakemake.output.get("variants", [])
    variants_stem = Path(variants[0]).with_suffix("") if variants else None
    for lang, sfx in snakemake.params.languages:
        with language(lang):
            apa = build_tables({"codebook": codebook.localized(lang).items, **results})
        for stem in snakemake.params.names:
            if stem not in apa:
                raise RuntimeError(f"table {stem!r} cannot be built: its result table is missing or empty")
            with language(lang):
                paths = apa[stem].write(stems[stem].with_name(stems[stem].name + sfx))
            for p in paths:
                if p.suffix == ".docx":
                    normalize_docx(p)
            log.info(
                "table %d %s (%s): %d rows -> %s",
                apa[stem].number,
                stem,
                lang,
                len(apa[stem].df),
                ", ".join(p.name for p in paths),
            )
        if variants:  # results/variants/comparison.md first: its stem names the set
            if "variants" not in apa:
                raise RuntimeError("the comparison of the variants cannot be built: results/variants/comparison.csv")
            with language(lang):
                paths = apa["variants"].write(str(variants_stem) + sfx, formats=("md", "tex", "docx"))
            for p in paths:
                if p.suffix == ".docx":
                    normalize_docx(p)
            log.info("variants table (%s) -> %s", lang, ", ".join(p.name for p in paths))
