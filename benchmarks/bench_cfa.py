"""Timing benchmark of :mod:`compval.cfa`: side by side with lavaan, and on a simulated questionnaire (on demand).

**Against lavaan** (default; ``make benchmark``): the same data and model are fitted by :func:`compval.cfa.fit_cfa`
in this process and by ``lavaan::cfa()`` through ``Rscript benchmarks/lavaan_time.R`` in the same run, each
once as a warm-up and then ``--repeats`` times; the median seconds per fit, the ratio ours / lavaan and both
chi-squares (and scaled chi-squares) are written to ``benchmarks/results/cfa_vs_lavaan.csv`` with a plot
``cfa_vs_lavaan.png``. Cases: HolzingerSwineford1939 (3 factors; ML, MLR), bfi (25 items, 5 factors; ML and
MLR listwise, FIML, WLSMV) and the bundled demo (tests/reference/demo/items_scored.csv, 6 competencies x 8 items)
under ML, MLR (listwise), FIML (``missing = "ml"``) and WLSMV (ordered items, pairwise). Where ``Rscript`` or
lavaan is absent, a message says so and compval's times alone go to ``cfa_compval_only.csv``: the stored comparison
is kept. lavaan's time is measured inside R (R start-up
and ``library(lavaan)`` excluded); ours includes everything ``fit_cfa`` does.

**Simulated** (``--simulated``): simulates a 6-factor, 50-item, 5-point Likert data set (correlated factors,
standardized loadings .5-.8) with 3% of the responses missing completely at random and three groups of equal
size, then times

* ML and MLR fits with listwise deletion,
* FIML fits (``missing="ml"``) under ML and MLR, with and without the FIML-corrected robust indices
  (``robust_fiml``),
* a configural -> metric -> scalar -> strict FIML invariance sequence across the three groups,

and prints one row per case (seconds, status, chi-square, df, CFI). Usage::

    .venv/bin/python benchmarks/bench_cfa.py [--repeats 5] [--cases hs_ml,demo_fiml] [--blas-threads 1]
    .venv/bin/python benchmarks/bench_cfa.py --simulated [--n 600] [--seed 1] [--missing 0.03]
                                               [--skip-invariance]

``--blas-threads`` limits the BLAS thread pool (threadpoolctl; default 1, as R's single-threaded reference
BLAS, 0 = no limit); on a machine shared by several processes one thread is also often faster than
oversubscribed multi-threaded BLAS (bfi ML: 0.70 s with 2 threads vs 0.17 s with 1 on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from benchlib import pyplot, save

from compval import cfa

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "reference" / "data"
DEMO = ROOT / "tests" / "reference" / "demo"
RESULTS = ROOT / "benchmarks" / "results"
LAVAAN_SCRIPT = ROOT / "benchmarks" / "lavaan_time.R"

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
        ystar[:, i] = lam * eta[:, f] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
    cuts = np.array([-1.5, -0.5, 0.5, 1.5])
    y = 1.0 + (ystar[:, :, None] > cuts[None, None, :]).sum(axis=2)
    y[rng.random(y.shape) < missing] = np.nan
    cols = [c for v in factors.values() for c in v]
    data = pd.DataFrame(y, columns=cols)
    data["group"] = np.resize([f"g{g + 1}" for g in range(n_groups)], n)
    return data, factors


def _row(case: str, seconds: float, res) -> dict:
    fit = res.fit if res is not None else {}
    return {
        "case": case,
        "seconds": round(seconds, 2),
        "status": res.status if res is not None else "",
        "chisq": fit.get("chisq", np.nan),
        "df": fit.get("df", np.nan),
        "cfi": fit.get("cfi", np.nan),
        "cfi.robust": fit.get("cfi.robust", np.nan),
    }


def run(n: int = 600, seed: int = 1, missing: float = 0.03, invariance: bool = True) -> pd.DataFrame:
    data, factors = simulate(n, seed, missing)
    spec = cfa.hypothesized(factors)
    items = data.drop(columns="group")
    rows = []
    n_complete = int(items.notna().all(axis=1).sum())
    n_patterns = len(items.isna().drop_duplicates())
    print(
        f"simulated: n = {n}, p = {items.shape[1]}, {len(factors)} factors, {missing:.0%} missing "
        f"-> {n_complete} complete rows, {n_patterns} missing-data patterns"
    )
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
        rows.append(
            {
                "case": "FIML invariance, 3 groups, 4 steps (ML; robust_fiml skipped)",
                "seconds": round(el, 2),
                "status": f"first failing step: {first_fail}",
                "chisq": np.nan,
                "df": np.nan,
                "cfi": np.nan,
                "cfi.robust": np.nan,
            }
        )
        print(f"  invariance: {el:.2f} s", flush=True)
        print(tab[["step", "chisq", "df", "cfi", "rmsea", "delta_cfi", "holds", "status"]].to_string(index=False))
    return pd.DataFrame(rows)


# ================================================================================== side by side with lavaan
@dataclass(frozen=True)
class LavaanCase:
    """One benchmark case: data, model and the estimator/missing options of both programs."""

    name: str
    label: str
    data: Callable[[], pd.DataFrame]
    factors: Callable[[], dict]
    estimator: str = "ML"
    missing: str = "listwise"  # ours and lavaan's (WLSMV: "pairwise")


def _hs() -> pd.DataFrame:
    return pd.read_csv(DATA / "HolzingerSwineford1939.csv")


def _bfi() -> pd.DataFrame:
    return pd.read_csv(DATA / "bfi.csv")


def _demo() -> pd.DataFrame:
    return pd.read_csv(DEMO / "items_scored.csv")


def _demo_factors() -> dict:
    return json.loads((DEMO / "groups.json").read_text(encoding="utf-8"))["competency"]


HS3 = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
BFI5 = {f: [f"{f}{i}" for i in range(1, 6)] for f in "ACENO"}

LAVAAN_CASES = (
    LavaanCase("hs_ml", "HolzingerSwineford1939, 3 factors, ML", _hs, lambda: HS3),
    LavaanCase("hs_mlr", "HolzingerSwineford1939, MLR", _hs, lambda: HS3, estimator="MLR"),
    LavaanCase("bfi_ml", "bfi, 25 items, 5 factors, ML (listwise)", _bfi, lambda: BFI5),
    LavaanCase("bfi_mlr", "bfi, MLR (listwise)", _bfi, lambda: BFI5, estimator="MLR"),
    LavaanCase("bfi_fiml", "bfi, FIML (ML, missing = ml)", _bfi, lambda: BFI5, missing="ml"),
    LavaanCase(
        "bfi_wlsmv", "bfi, WLSMV (ordered, pairwise)", _bfi, lambda: BFI5, estimator="WLSMV", missing="pairwise"
    ),
    LavaanCase("demo_ml", "demo, 50 items, 6 factors, ML (listwise)", _demo, _demo_factors),
    LavaanCase("demo_mlr", "demo, MLR (listwise)", _demo, _demo_factors, estimator="MLR"),
    LavaanCase("demo_fiml", "demo, FIML (ML, missing = ml)", _demo, _demo_factors, missing="ml"),
    LavaanCase(
        "demo_wlsmv", "demo, WLSMV (ordered, pairwise)", _demo, _demo_factors, estimator="WLSMV", missing="pairwise"
    ),
)


def median_seconds(fun: Callable[[], object], repeats: int, budget: float) -> tuple[float, object, int]:
    """Median wall time of up to ``repeats`` calls of ``fun`` after one warm-up call (fewer when the warm-up
    shows that they would take more than ``budget`` seconds, at least one); returns (seconds, result, repeats).
    The same rule as benchmarks/lavaan_time.R."""
    t = time.perf_counter()
    res = fun()
    repeats = max(1, min(repeats, int(budget // max(time.perf_counter() - t, 1e-9))))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        res = fun()
        times.append(time.perf_counter() - t)
    return statistics.median(times), res, repeats


def lavaan_available() -> str | None:
    """None when ``Rscript`` with lavaan can be called, else the reason why not."""
    if shutil.which("Rscript") is None:
        return "Rscript not found on PATH"
    r = subprocess.run(
        ["Rscript", "-e", "suppressPackageStartupMessages(library(lavaan))"], capture_output=True, text=True
    )
    if r.returncode != 0:
        return "R package lavaan cannot be loaded: " + r.stderr.strip().splitlines()[-1]
    return None


def time_lavaan(data: pd.DataFrame, syntax: str, case: LavaanCase, repeats: int, budget: float) -> dict:
    """Median seconds per ``lavaan::cfa()`` fit and its chi-squares (benchmarks/lavaan_time.R)."""
    with tempfile.TemporaryDirectory() as tmp:
        csv, lav = Path(tmp) / "data.csv", Path(tmp) / "model.lav"
        data.to_csv(csv, index=False, na_rep="NA")
        lav.write_text(syntax, encoding="utf-8")
        ordered = "1" if case.estimator == "WLSMV" else "0"
        r = subprocess.run(
            [
                "Rscript",
                str(LAVAAN_SCRIPT),
                str(csv),
                str(lav),
                case.estimator,
                case.missing,
                ordered,
                str(repeats),
                str(budget),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    sec, chisq, scaled, version, converged, reps = r.stdout.strip().splitlines()[-1].split(",")
    return {
        "lavaan_s": float(sec),
        "chisq_lavaan": float(chisq),
        "chisq_scaled_lavaan": float(scaled) if scaled != "NA" else np.nan,
        "lavaan_version": version,
        "lavaan_converged": converged == "TRUE",
        "lavaan_repeats": int(reps),
    }


def compare_lavaan(repeats: int = 5, names: list[str] | None = None, budget: float = 30.0) -> pd.DataFrame:
    """Time every case of :data:`LAVAAN_CASES` (or those in ``names``) with compval and with lavaan."""
    why_not = lavaan_available()
    if why_not:
        print(f"lavaan comparison skipped ({why_not}); only compval's times are measured")
    rows = []
    for case in LAVAAN_CASES:
        if names and case.name not in names:
            continue
        factors = case.factors()
        spec = cfa.hypothesized(factors)
        data = case.data()[[i for v in factors.values() for i in v]]
        sec, res, reps = median_seconds(
            lambda: cfa.fit_cfa(data, spec, estimator=case.estimator, missing=case.missing), repeats, budget
        )
        row = {
            "case": case.name,
            "label": case.label,
            "n": len(data),
            "p": data.shape[1],
            "estimator": case.estimator,
            "missing": case.missing,
            "repeats": reps,
            "ours_s": sec,
            "chisq_ours": res.fit.get("chisq", np.nan),
            "chisq_scaled_ours": res.fit.get("chisq.scaled", np.nan),
            "status": res.status,
        }
        if not why_not:
            row.update(time_lavaan(data, spec.syntax, case, repeats, budget))
            row["ratio"] = row["ours_s"] / row["lavaan_s"]
            row["chisq_abs_diff"] = abs(row["chisq_ours"] - row["chisq_lavaan"])
        rows.append(row)
        print(
            f"  {case.name}: ours {sec:.3f} s"
            + (
                f", lavaan {row['lavaan_s']:.3f} s, ratio {row['ratio']:.2f}, "
                f"chisq {row['chisq_ours']:.4f} / {row['chisq_lavaan']:.4f}"
                if not why_not
                else ""
            ),
            flush=True,
        )
    return pd.DataFrame(rows)


def plot_ratios(table: pd.DataFrame, path: Path) -> None:
    """Bar chart of the time ratio ours / lavaan per case, with the 0.5 target and parity marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.2))
    ax.barh(table["label"], table["ratio"], color="#4c72b0")
    ax.axvline(1.0, color="grey", lw=1, label="parity")
    ax.axvline(0.5, color="#c44e52", ls="--", lw=1, label="target 0.5")
    for y, (r, o, l_) in enumerate(zip(table["ratio"], table["ours_s"], table["lavaan_s"])):
        ax.text(r, y, f" {r:.2f}  ({o * 1e3:.0f} / {l_ * 1e3:.0f} ms)", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time per fit, compval / lavaan (median)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlim(0, max(1.2, float(table["ratio"].max()) * 1.6))
    save(fig, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simulated", action="store_true", help="time the simulated cases instead of lavaan's")
    ap.add_argument("--repeats", type=int, default=5, help="timed fits per case (after one warm-up)")
    ap.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help="seconds per case and program: fewer repeats (at least one) when the warm-up is slow",
    )
    ap.add_argument("--cases", default=None, help="comma-separated subset of " + ",".join(c.name for c in LAVAAN_CASES))
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--missing", type=float, default=0.03)
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads of this process (default 1, as R's reference BLAS; 0 = no limit)",
    )
    ap.add_argument("--skip-invariance", action="store_true")
    a = ap.parse_args()
    if a.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(a.blas_threads)
    if a.simulated:
        out = run(a.n, a.seed, a.missing, invariance=not a.skip_invariance)
    else:
        out = compare_lavaan(a.repeats, a.cases.split(",") if a.cases else None, a.budget)
        out.insert(out.columns.get_loc("ours_s"), "blas_threads", a.blas_threads)
        a.out.mkdir(parents=True, exist_ok=True)
        # without lavaan, compval's times alone: the stored comparison (and its plot) is kept, not overwritten
        target = a.out / ("cfa_vs_lavaan.csv" if "ratio" in out else "cfa_compval_only.csv")
        out.to_csv(target, index=False, float_format="%.6g")
        if "ratio" in out:
            plot_ratios(out, a.out / "cfa_vs_lavaan.png")
        elif (a.out / "cfa_vs_lavaan.csv").exists():
            print(f"kept: {a.out / 'cfa_vs_lavaan.csv'} (the last comparison with lavaan)")
        print(f"written: {target}")
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(out.drop(columns=["label"], errors="ignore").to_string(index=False))


if __name__ == "__main__":
    main()
