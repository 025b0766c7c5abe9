"""Timing benchmark of the resampling hot spots on the demo data, in CPU seconds (on demand, not by pytest).

Times, on tests/reference/demo/items_scored.csv with the pipeline's settings (1000 resamples for alpha, omega
total, HTMT and dominance weights, 200 for omega hierarchical):

* ``reliability_table`` of one competency (8 items), one module (18 items) and one dimension (3 items);
* ``htmt`` of the six competencies (50 items);
* ``dominance_analysis`` of one criterion on the six competency scores (tests/reference/demo/criterion data).

CPU time of this process (``time.process_time``) is reported next to wall time: on a machine shared with
other jobs the wall time mostly measures the others. BLAS runs on one thread inside the bootstrap loops.
To compare two versions of the library, run the script with ``PYTHONPATH=<other checkout>/src``. Usage::

    .venv/bin/python benchmarks/bench_resampling.py [--n-boot 1000] [--omega-h-boot 200] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

import compval
from compval.criterion import dominance_analysis
from compval.reliability import reliability_table
from compval.validity import htmt

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "tests" / "reference" / "demo"
RESULTS = ROOT / "benchmarks" / "results"


def timed(label: str, fun) -> dict:
    c, w = time.process_time(), time.perf_counter()
    fun()
    row = {"case": label, "cpu_s": time.process_time() - c, "wall_s": time.perf_counter() - w}
    print(f"  {label}: {row['cpu_s']:.2f} s CPU ({row['wall_s']:.2f} s wall)", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--omega-h-boot", type=int, default=200)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args()
    groups = json.loads((DEMO / "groups.json").read_text(encoding="utf-8"))
    items = pd.read_csv(DEMO / "items_scored.csv")
    scores = pd.read_csv(DEMO / "scores_competency.csv")
    perf = pd.read_csv(DEMO / "performance.csv")
    print(f"compval from {Path(compval.__file__).parent}")
    comp = "achievement"
    module = max(groups["module"], key=lambda k: len(groups["module"][k]))
    dim = next(k for k, v in groups["dimension"].items() if len(v) >= 3)
    rows = []
    for level, key in (("competency", comp), ("module", module), ("dimension", dim)):
        cols = groups[level][key]
        rows.append(
            timed(
                f"reliability {level} {key} ({len(cols)} items)",
                lambda: reliability_table(
                    items,
                    {key: cols},
                    n_boot=a.n_boot,
                    seed=1,
                    level=level,
                    n_boot_omega_h=a.omega_h_boot if level != "dimension" else 0,
                ),
            )
        )
    rows.append(timed("htmt 6 competencies (50 items)", lambda: htmt(items, groups["competency"], B=a.n_boot, seed=1)))
    comps = [c for c in groups["competency"] if c in scores.columns]
    crit = next(c for c in perf.columns if c not in ("pid", "employee_id") and pd.api.types.is_numeric_dtype(perf[c]))
    data = pd.concat([scores[comps], perf[[crit]]], axis=1).dropna()
    rows.append(
        timed(
            f"dominance {crit} on {len(comps)} competencies",
            lambda: dominance_analysis(data[crit], data[comps], n_boot=a.n_boot, seed=1),
        )
    )
    out = pd.DataFrame(rows)
    a.out.mkdir(parents=True, exist_ok=True)
    out.to_csv(a.out / "resampling.csv", index=False, float_format="%.4g")
    print(out.to_string(index=False))


if __name__ == "__main__":
    main()
