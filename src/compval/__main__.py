"""Command line of the compval library.

``python -m compval init --survey export.xlsx --out studies/my_study/`` drafts ``codebook.yaml`` and
``config.yaml`` for a questionnaire export (CSV/TSV/TXT in UTF-8 or GBK/GB18030, XLSX, SPSS SAV) with every guess
commented (:mod:`compval.scaffold`); it never overwrites a file.
``python -m compval diff A.yaml B.yaml`` lists what changed between two codebooks (:mod:`compval.revision`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path


def _init(args) -> int:
    from .codebook import CodebookError, load_codebook
    from .io import InputError, read_table
    from .scaffold import draft_study

    out = Path(args.out)
    targets = [out / "codebook.yaml", out / "config.yaml"]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        print(
            f"compval init: not overwriting {', '.join(existing)} (move it away or choose another --out)",
            file=sys.stderr,
        )
        return 2
    try:
        raw, meta = read_table(args.survey, sheet=args.sheet, encoding=args.encoding)
    except InputError as exc:
        print(f"compval init: {exc}", file=sys.stderr)
        return 2
    survey = Path(os.path.relpath(Path(args.survey).resolve(), out.resolve())).as_posix()
    seed = int(hashlib.sha256(Path(args.survey).read_bytes()).hexdigest()[:7], 16)
    try:
        draft = draft_study(raw, meta, survey=survey, instrument=args.instrument or Path(args.survey).stem, seed=seed)
    except ValueError as exc:
        print(f"compval init: {args.survey}: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for path, text in zip(targets, (draft.codebook_yaml, draft.config_yaml)):
        with open(path, "x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
            fh.write(text)
    try:
        load_codebook(targets[0])
    except CodebookError as exc:  # a draft that does not validate is a bug of the scaffold: say so loudly
        raise RuntimeError(f"compval init drafted an invalid codebook: {exc}") from exc
    roles: dict[str, int] = {}
    for g in draft.columns:
        roles[g.role] = roles.get(g.role, 0) + 1
    n_comp = len(draft.codebook["modules"][0]["competencies"])
    print(
        f"drafted {targets[0]} and {targets[1]} from {args.survey}: "
        + ", ".join(f"{v} {k}" for k, v in roles.items())
        + f"; {n_comp} competencies by prefix"
    )
    print(
        f"check the comments in {targets[0]}, then run:\n"
        f"  snakemake --cores all --directory {out} --configfile {targets[1]}"
    )
    return 0


def _diff(args) -> int:
    from .codebook import CodebookError, load_codebook
    from .revision import diff_codebooks

    try:
        old, new = load_codebook(args.old), load_codebook(args.new)
    except CodebookError as exc:
        print(f"compval diff: {exc}", file=sys.stderr)
        return 2
    diff = diff_codebooks(old, new)
    if diff.empty:
        print(f"{args.old} and {args.new} define the same instrument")
        return 0
    print(diff.to_markdown(index=False) if args.format == "md" else diff.to_csv(index=False), end="")
    print()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compval", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="draft codebook.yaml and config.yaml from a questionnaire export")
    p.add_argument("--survey", required=True, help="the export: .csv/.tsv/.txt, .xlsx or .sav")
    p.add_argument("--out", required=True, help="the study folder to write codebook.yaml and config.yaml into")
    p.add_argument("--instrument", help="the instrument's title (default: the export's file name)")
    p.add_argument("--sheet", help="XLSX sheet (default: the first)")
    p.add_argument("--encoding", help="CSV encoding (default: detected; UTF-8, GBK/GB18030)")
    d = sub.add_parser(
        "diff",
        help="what changed between two codebooks (items added, dropped, moved, reverse-keying; "
        "competencies and dimensions renamed, split or merged)",
    )
    d.add_argument("old", help="the codebook before the revision")
    d.add_argument("new", help="the codebook after it")
    d.add_argument("--format", choices=["md", "csv"], default="md")
    args = parser.parse_args(argv)
    if args.command == "init":
        return _init(args)
    if args.command == "diff":
        return _diff(args)
    return 2  # argparse rejects unknown commands before this


if __name__ == "__main__":
    sys.exit(main())
