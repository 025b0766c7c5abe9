"""Timing benchmark of :mod:`compval.cfa` on a simulated questionnaire (run on demand, not by pytest).

Simulates a 6-factor, 50-item, 5-point Likert data set (correlated factors, standardized loadings .5-.8) with
3% of the responses missing completely at random and three groups of equal size, then times

* ML and MLR fits with listwise deletion,
* FIML fits (``missing="ml"``) under ML and MLR, with and without the FIML-corrected robust indices
  (``robust_fiml``),
* a configural -> metric -> scalar -> strict FIML invariance sequence across the three groups,

and prints one row per case (seconds, status, chi-square, df, CFI). Usage::

    .venv/bin/python benchmarks/bench_cfa.py [--n 600] [--seed 1] [--missing 0.03] [--blas-threads 1]
                                               [--skip-invariance]

``--blas-threads`` limits the BLAS thread pool (threadpoolctl); on a machine shared by several processes
one thread is often faster than oversubscribed multi-threaded BLAS.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from compval import cfa

ITEMS_PER_FACTOR = (9, 9, 8, 8, 8, 8)


def simulate(n: int, seed: int, missing: float, n_groups: int = 3) -> tuple[pd.DataFrame, dict]:
    """Likert responses from a correlated-factor model, MCAR missing values and a ``group`` column."""
    rng = np.random.default_rng(seed)
    k = len(ITEMS_PER_FACTOR)
    factors, load = {}, []
    j = 0
    for f, m in enumerate(ITEMS_PER_FACTOR):
        names = [f"i{j + t + 1:02d}" for t in range(m)]
        factors[f"F{f + 1}"] = names
        load += [(f, rng.uniform(0.5, 0.8)) for _ in names]
        j += m
    phi = np.full((k, k), 0.0)
    for a in range(k):
        for b in range(a + 1, k):
            phi[a, b] = phi[b, a] = rng.uniform(0.3, 0.5)
    np.fill_diagonal(phi, 1.0)
    eta = rng.multivariate_normal(np.zeros(k), phi, size=n)
    p = len(load)
    ystar = np.empty((n, p))
    for i, (f, lam) in enumerate(load):
        ystar[:, i] = lam * eta[:, f] + np.sqrt(1 - lam ** 2) * rng.standard_normal(n)
    cuts = np.array([-1.5, -0.5, 0.5, 1.5])
    y = 1.0 + (ystar[:, :, None] > cuts[None, None, :]).sum(axis=2)
    y[rng.random(y.shape) < missing] = np.nan
    cols = [c for v in factors.values() for c in v]
    data = pd.DataFrame(y, columns=cols)
    data["group"] = np.resize([f"g{g + 1}" for g in range(n_groups)], n)
    return data, factors


def _row(case: str, seconds: float, res) -> dict:
    fit = res.fit if res is not None else {}
    return {"case": case, "seconds": round(seconds, 2), "status": res.status if res is not None else "",
            "chisq": fit.get("chisq", np.nan), "df": fit.get("df", np.nan), "cfi": fit.get("cfi", np.nan),
            "cfi.robust": fit.get("cfi.robust", np.nan)}


def run(n: int = 600, seed: int = 1, missing: float = 0.03, invariance: bool = True) -> pd.DataFrame:
    data, factors = simulate(n, seed, missing)
    spec = cfa.hypothesized(factors)
    items = data.drop(columns="group")
    rows = []
    n_complete = int(items.notna().all(axis=1).sum())
    n_patterns = len(items.isna().drop_duplicates())
    print(f"simulated: n = {n}, p = {items.shape[1]}, {len(factors)} factors, {missing:.0%} missing "
          f"-> {n_complete} complete rows, {n_patterns} missing-data patterns")
    cases = [
        ("ML listwise", dict(estimator="ML")),
        ("MLR listwise", dict(estimator="MLR")),
        ("FIML ML", dict(estimator="ML", missing="ml")),
        ("FIML ML robust_fiml=False", dict(estimator="ML", missing="ml", robust_fiml=False)),
        ("FIML MLR", dict(estimator="MLR", missing="ml")),
    ]
    for name, kw in cases:
        t = time.perf_counter()
        res = cfa.fit_cfa(items, spec, **kw)
        rows.append(_row(name, time.perf_counter() - t, res))
        print(f"  {name}: {rows[-1]['seconds']} s", flush=True)
    if invariance:
        t = time.perf_counter()
        tab, fits, first_fail = cfa.measurement_invariance(data, spec, "group", missing="ml")
        el = time.perf_counter() - t
        rows.append({"case": "FIML invariance, 3 groups, 4 steps (ML; robust_fiml skipped)", "seconds": round(el, 2),
                     "status": f"first failing step: {first_fail}", "chisq": np.nan, "df": np.nan,
                     "cfi": np.nan, "cfi.robust": np.nan})
        print(f"  invariance: {el:.2f} s", flush=True)
        print(tab[["step", "chisq", "df", "cfi", "rmsea", "delta_cfi", "holds", "status"]].to_string(index=False))
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--missing", type=float, default=0.03)
    ap.add_argument("--blas-threads", type=int, default=None)
    ap.add_argument("--skip-invariance", action="store_true")
    a = ap.parse_args()
    if a.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(a.blas_threads)
    out = run(a.n, a.seed, a.missing, invariance=not a.skip_invariance)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(out.to_string(index=False))


if __name__ == "__main__":
    main()
