"""Throughput of the Monte Carlo sample-size planning (:mod:`compval.power`) against a simsem-style lavaan loop
(run on demand by ``make benchmark``, not by pytest).

The grid is the one of ``tests/reference/power/``: continuous answers, two factors of four items (loadings .6,
factor correlation .7), the hypothesised two-factor model and the one-factor rival, N = 60 and 120. compval runs its
replications in chunks on two worker processes (as ``snakemake power --cores 2`` runs its chunk jobs; each
replication also screens the sample as the pipeline does); R runs ``tests/reference/power/simsem_style.R``
(simulateData, two cfa() fits, lavTestLRT per replication) on one core in the same run. Prints one row:
replications per second of each and their ratio. Skipped, with a message, where Rscript or lavaan is absent.

    .venv/bin/python benchmarks/bench_power.py [--replications 40] [--r-replications 40]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference" / "power"
sys.path.insert(0, str(REF))
sys.path.insert(0, str(ROOT / "tests"))

NS = (60, 120)


def _chunk(args):
    n, reps = args
    from threadpoolctl import threadpool_limits

    from compval import power
    from make_estimates import DESIGN, RUN, design_codebook

    cb = design_codebook()
    pop = power.population_from_config(cb, DESIGN)
    models = power.power_models(cb, ["one_factor"])
    with threadpool_limits(limits=1):
        out, _ = power.run_chunk(pop, cb, models, RUN, n=n, replications=reps, seed=1)
    return len(out[out["model"] == "hypothesized"])


def python_rate(replications: int, chunk: int = 10, workers: int = 2) -> tuple[int, float]:
    jobs = [(n, range(s, min(s + chunk, replications))) for n in NS for s in range(0, replications, chunk)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as ex:
        done = sum(ex.map(_chunk, jobs))
    return done, time.perf_counter() - t0


def r_rate(replications: int) -> tuple[int, float] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("bench_power: Rscript not found - the lavaan comparison is skipped (apt-get install r-cran-lavaan)")
        return None
    if subprocess.run([rscript, "-e", "library(lavaan)"], capture_output=True).returncode != 0:
        print("bench_power: R package lavaan not installed - the lavaan comparison is skipped")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [rscript, str(REF / "simsem_style.R"), str(replications), tmp, ",".join(map(str, NS))],
            check=True,
            capture_output=True,
        )
        t = json.loads((Path(tmp) / "lavaan_timing.json").read_text())
    return t["replications"], t["seconds"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=40, help="compval replications per N")
    ap.add_argument("--r-replications", type=int, default=40, help="lavaan replications per N")
    a = ap.parse_args()
    k, s = python_rate(a.replications)
    py = k / s
    print(f"{'grid':<44} {'replications':>12} {'seconds':>9} {'rep/s':>8}")
    print(f"{'compval.power, 2 worker processes':<44} {k:>12d} {s:>9.1f} {py:>8.2f}")
    r = r_rate(a.r_replications)
    if r is not None:
        rk, rs = r
        print(f"{'R lavaan simsem-style loop, 1 core':<44} {rk:>12d} {rs:>9.1f} {rk / rs:>8.2f}")
        print(f"ratio compval (2 cores) / lavaan (1 core): {py / (rk / rs):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
