"""CPU cost of the bootstrap intervals at large n: the full percentile bootstrap against the bag of little
bootstraps (on demand, not by pytest).

Simulated Likert answers (1-5) of ``n`` respondents to 50 items in six competencies (8, 8, 8, 9, 9, 8 items; one
factor each, factor correlations .5), and a criterion on the six mean scores. Cases, with the pipeline's
numbers of resamples:

* ``reliability_table`` of one competency (8 items: alpha and omega total, 1000 resamples each; omega
  hierarchical with 1 group factor, 200) and of one 17-item "module" (two competencies: alpha and omega total);
* ``htmt`` of the six competencies (50 items, 1000 resamples);
* ``dominance_analysis`` of the criterion on the six scores (1000 resamples).

"after" runs each case with ``bootstrap_max_n`` below n (the bag of little bootstraps, all resamples). The full
bootstrap's cost is linear in the number of resamples, so "before" runs ``--before-share`` of them (default 5%)
and reports the CPU seconds scaled up to all of them (the scaled figure is marked). BLAS on one thread, as the
pipeline's rules (threads: 1). Usage::

    PYTHONPATH=src python benchmarks/bench_blb.py --n 100000 1000000 [--before-share 0.05] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from compval.criterion import dominance_analysis
from compval.reliability import reliability_table
from compval.validity import htmt

SIZES = (8, 8, 8, 9, 9, 8)
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def simulate(n: int, seed: int = 1) -> tuple[pd.DataFrame, dict[str, list[str]], pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    k = len(SIZES)
    phi = np.full((k, k), 0.5) + 0.5 * np.eye(k)
    f = rng.standard_normal((n, k)) @ np.linalg.cholesky(phi).T
    groups, cols = {}, []
    for j, m in enumerate(SIZES):
        latent = 0.7 * f[:, [j]] + np.sqrt(0.51) * rng.standard_normal((n, m))
        cols.append(np.clip(np.round(3 + 1.2 * latent), 1, 5))
        groups[f"c{j + 1}"] = [f"c{j + 1}_{i + 1}" for i in range(m)]
    items = pd.DataFrame(np.hstack(cols), columns=[c for g in groups.values() for c in g])
    scores = pd.DataFrame({g: items[c].mean(axis=1) for g, c in groups.items()})
    y = pd.Series(scores.to_numpy() @ np.linspace(0.3, 0.05, k) + rng.standard_normal(n), name="criterion")
    return items, groups, y, scores


def cpu(fun) -> float:
    t = time.process_time()
    fun()
    return time.process_time() - t


def cases(items, groups, y, scores, share: float, max_n):
    """(case, CPU seconds, scaled) of each case; ``share`` of the resamples (scaled up) when ``share < 1``."""
    nb, nh = max(1, round(1000 * share)), max(1, round(200 * share))
    comp = {"c1": groups["c1"]}
    module = {"m1": groups["c1"] + groups["c4"][:9]}
    out = []
    runs = {
        "reliability competency (8 items; alpha, omega 1000 + omega_h 200)": lambda: reliability_table(
            items, comp, n_boot=nb, n_boot_omega_h=nh, omega_h_nfactors=1, seed=1, bootstrap_max_n=max_n
        ),
        "reliability module (17 items; alpha, omega 1000)": lambda: reliability_table(
            items, module, n_boot=nb, omega_h_nfactors=None, seed=1, bootstrap_max_n=max_n
        ),
        "htmt 6 competencies (50 items, 1000)": lambda: htmt(items, groups, B=nb, seed=1, max_n=max_n),
        "dominance 6 competencies (1000)": lambda: dominance_analysis(y, scores, n_boot=nb, seed=1, max_n=max_n),
    }
    # the point estimates alone, to subtract before scaling the resamples' cost up
    base = {
        "reliability competency (8 items; alpha, omega 1000 + omega_h 200)": lambda: reliability_table(
            items, comp, n_boot=0, n_boot_omega_h=0, omega_h_nfactors=1, seed=1
        ),
        "reliability module (17 items; alpha, omega 1000)": lambda: reliability_table(
            items, module, n_boot=0, omega_h_nfactors=None, seed=1
        ),
        "htmt 6 competencies (50 items, 1000)": lambda: htmt(items, groups, B=0),
        "dominance 6 competencies (1000)": lambda: dominance_analysis(y, scores, n_boot=0),
    }
    for name, fun in runs.items():
        c = cpu(fun)
        if share < 1:
            b = cpu(base[name])
            c = b + (c - b) / share
        out.append((name, c, share < 1))
        print(f"    {name}: {c:.1f} s CPU{' (scaled)' if share < 1 else ''}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--before-share", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args()
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        for n in a.n:
            data = simulate(n)
            for label, share, max_n in (("before", a.before_share, None), ("after", 1.0, 20_000)):
                print(f"n = {n}, {label}:", flush=True)
                for case, c, scaled in cases(*data, share, max_n):
                    rows.append({"n": n, "method": label, "case": case, "cpu_s": c, "scaled": scaled})
    out = pd.DataFrame(rows)
    a.out.mkdir(parents=True, exist_ok=True)
    out.to_csv(a.out / "blb.csv", index=False, float_format="%.4g")
    print(out.pivot_table(index=["case"], columns=["n", "method"], values="cpu_s").round(1).to_string())


if __name__ == "__main__":
    main()
