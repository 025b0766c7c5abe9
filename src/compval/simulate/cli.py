"""Demo data from a stated truth: a simulated survey export, an HR/CRM criterion file and the population model.

The command line of :mod:`compval.simulate` (``python -m compval.simulate``) and the files it writes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..codebook import load_codebook
from .survey import SimulationResult, simulate

__all__ = ["write_outputs", "main"]


def write_outputs(result: SimulationResult, out_dir: str | Path) -> list[Path]:
    """Write ``survey.csv``, ``sales.csv``, ``truth.csv`` and ``population_model.json`` to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "survey.csv", out / "sales.csv", out / "truth.csv", out / "population_model.json"]
    result.survey.to_csv(paths[0], index=False, lineterminator="\n")
    result.sales.to_csv(paths[1], index=False, lineterminator="\n")
    result.truth.to_csv(paths[2], index=False, lineterminator="\n", float_format="%.6f")
    paths[3].write_text(json.dumps(result.population, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m compval.simulate --codebook C --params P --out DIR [--seed S] [--n N]``."""
    import yaml

    ap = argparse.ArgumentParser(prog="python -m compval.simulate", description=__doc__.splitlines()[0])
    ap.add_argument("--codebook", required=True, help="codebook YAML")
    ap.add_argument("--params", required=True, help="population parameters YAML (config/simulation.yaml)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=None, help="override the seed in --params")
    ap.add_argument("--n", type=int, default=None, help="override n_respondents in --params")
    args = ap.parse_args(argv)
    cb = load_codebook(args.codebook)
    params = yaml.safe_load(Path(args.params).read_text(encoding="utf-8"))
    if args.seed is not None:
        params["seed"] = args.seed
    if args.n is not None:
        params["n_respondents"] = args.n
    res = simulate(cb, params)
    for path in write_outputs(res, args.out):
        print(path)
    return 0
