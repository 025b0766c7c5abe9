"""APA tables (results/tables/<name>.{csv,md,tex,docx}) from the result tables, built by
compval.htmlreport.build_tables (the same objects the HTML report renders)."""
import zipfile
from pathlib import Path

import pandas as pd

from compval.codebook import Codebook
from compval.htmlreport import build_tables
from compval.pipeline import step

# input name -> key of build_tables
KEYS = {"descriptives": "descriptives", "reliability": "reliability", "loadings": "efa_loadings",
        "communalities": "efa_communalities", "matching": "efa_matching", "fit": "cfa_fit",
        "parameters": "cfa_parameters", "convergent": "convergent", "factor_correlations": "factor_correlations",
        "htmt": "htmt", "invariance": "invariance", "correlations": "criterion_correlations",
        "regression": "regression"}


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


with step(snakemake) as log:
    cb = Codebook.from_structure(snakemake.params.structure)
    frames = {"codebook": cb.items}
    for name, key in KEYS.items():
        if name in snakemake.input.keys():
            path = snakemake.input[name]
            frames[key] = pd.read_csv(path) if Path(path).stat().st_size else pd.DataFrame()
    apa = build_tables(frames)
    stems = {Path(f).stem: Path(f).with_suffix("") for f in snakemake.output.csv}
    for stem in snakemake.params.names:
        if stem not in apa:
            raise RuntimeError(f"table {stem!r} cannot be built: its result table is missing or empty")
        paths = apa[stem].write(stems[stem])
        for p in paths:
            if p.suffix == ".docx":
                normalize_docx(p)
        log.info("table %d %s: %d rows -> %s", apa[stem].number, stem, len(apa[stem].df),
                 ", ".join(p.name for p in paths))
