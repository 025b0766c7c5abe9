"""Timing benchmark of the whole pipeline: wall time and peak memory per rule at several sample sizes (on demand).

For each size the pipeline runs from scratch in its own working directory (``benchmarks/work/n<N>/``, created
fresh: a copy of ``config/`` and the raw data) with this checkout's Snakefile::

    nice -n 10 snakemake --snakefile <repo>/Snakefile --directory benchmarks/work/n<N> --cores <cores>

* ``demo``: the bundled demo export (``data/raw/``, 602 rows);
* any other N: ``python -m compval.simulate --n N`` (the demo codebook and population model, with the
  simulator's defects: careless responders, non-response, out-of-range codes, duplicates).

Per job, Snakemake's ``benchmark:`` directive (``logs/benchmarks/[variants/<name>/]<rule>.tsv`` of every
rule) gives the wall time ``s``, the peak resident memory ``max_rss`` (MB) and the CPU time. Snakemake samples the
memory now and then and misses short peaks; ``peak_rss_mb`` is the exact one, the kernel's high-water mark of the
job's largest process (``getrusage``; the job's log ends with it, :func:`compval.pipeline.peak_memory`). For rules that
fork worker processes (threads > 1) Snakemake sums the RSS of the processes, counting the pages they share once
per process, so ``max_pss`` (proportional set size: shared pages split between the processes) is kept too. The
whole run's wall time is measured around the Snakemake call. Next to it, the bare cost of reading the export
and computing the pairwise covariance matrix of its items (numpy, three matrix products) sets the scale of what
is irreducible, and the in-memory size of the item matrix (rows x items x 8 bytes) the scale of the memory target.

For the demo, the pipeline is then rerun after a one-item codebook edit (the wording of the first item;
analyses do not depend on wording, so only the rules that show it rerun).

Writes ``benchmarks/results/pipeline.csv`` (one row per size and rule, plus ``(whole pipeline)``,
``(bare read + covariance)`` and, for the demo, ``(after one-item edit)`` rows) and ``pipeline.png``. Usage::

    .venv/bin/python benchmarks/bench_pipeline.py [--sizes demo,10000] [--large] [--cores 2] [--keep]
                                                  [--variants auto|all|none] [--merge]

``--large`` adds 10^5 and 10^6 respondents. ``--variants auto`` (default) runs the configuration's variants
(each runs every stage again) up to 10^4 respondents and analyses the main codebook alone above that, as the
``note`` of the ``(whole pipeline)`` row says; ``all``/``none`` for every size.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from benchlib import pyplot, save

from compval.codebook import load_codebook

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / "benchmarks" / "work"
BIN = Path(sys.executable).parent
# A fixed pseudonymisation key, so that runs do not depend on a per-machine key (benchmark data only).
BENCH_KEY = "0" * 64
LARGE = (100_000, 1_000_000)


def main_codebook_only(config: Path) -> None:
    """Turn off the variants and the revision suggestions in a working copy of the configuration (the main
    codebook is analysed alone: each variant would run every stage again)."""
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    cfg["variants"] = {}
    cfg.setdefault("revision", {})["suggestions"] = False
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")


def prepare(size: str, work: Path, variants: bool = True) -> Path:
    """A fresh working directory with config/ and data/raw/ for ``size`` ("demo" or a number of respondents);
    ``variants=False``: the main codebook only (:func:`main_codebook_only`)."""
    if work.exists():
        shutil.rmtree(work)
    (work / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "config", work / "config")
    if not variants:
        main_codebook_only(work / "config" / "config.yaml")
    raw = work / "data" / "raw"
    if size == "demo":
        shutil.copytree(ROOT / "data" / "raw", raw)
    else:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "compval.simulate",
                "--codebook",
                "config/codebook.yaml",
                "--params",
                "config/simulation.yaml",
                "--out",
                "data/raw",
                "--n",
                size,
            ],
            cwd=work,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return work


def run_snakemake(work: Path, cores: int) -> float:
    """Run the pipeline in ``work`` (nice 10) and return its wall time in seconds."""
    # this checkout's library for Snakemake itself too (its code-version params hash the modules it imports)
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, COMPVAL_PSEUDONYM_KEY=BENCH_KEY, PYTHONPATH=path)
    cmd = [
        "nice",
        "-n",
        "10",
        str(BIN / "snakemake"),
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        str(cores),
        "--quiet",
        "progress",
    ]
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-5000:] + r.stderr[-5000:])
        raise RuntimeError(f"snakemake failed in {work} (logs in {work / 'logs'})")
    return wall


def rule_benchmarks(work: Path, since: float = 0.0) -> pd.DataFrame:
    """One row per job from its ``benchmark:`` file (only files written after ``since``, a time stamp): the
    rule's name, prefixed by ``variants/<name>/`` for a variant's job."""
    rows = []
    root = work / "logs" / "benchmarks"
    for f in sorted(root.rglob("*.tsv")):
        if f.stat().st_mtime < since:
            continue
        b = pd.read_csv(f, sep="\t").iloc[-1]
        rule = f.relative_to(root).with_suffix("").as_posix()
        rows.append(
            {
                "rule": rule,
                "seconds": float(b["s"]),
                "peak_rss_mb": logged_peak(work / "logs" / f"{rule}.log"),
                "max_rss_mb": float(b["max_rss"]),
                "max_pss_mb": float(b["max_pss"]),
                "cpu_seconds": float(b["cpu_time"]),
            }
        )
    return pd.DataFrame(rows, columns=["rule", "seconds", "peak_rss_mb", "max_rss_mb", "max_pss_mb", "cpu_seconds"])


_PEAK = re.compile(r"peak memory: (\d+) MB \(largest worker (\d+) MB\)")


def logged_peak(log: Path) -> float:
    """The exact peak RSS (MB) of a job's largest process, from the line ``compval.pipeline.step`` ends its log
    with (``getrusage``: this process and its largest worker); NaN where the log has no such line."""
    found = _PEAK.findall(log.read_text(encoding="utf-8")) if log.exists() else []
    return float(max(map(int, found[-1]))) if found else float("nan")


def read_and_covariance(work: Path, repeats: int = 3) -> tuple[float, int, int]:
    """Median seconds to read the export's item columns and compute their pairwise covariance matrix."""
    items = load_codebook(work / "config" / "codebook.yaml").item_ids
    survey = work / "data" / "raw" / "survey.csv"

    def once() -> tuple[int, int]:
        x = pd.read_csv(survey, usecols=items).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        m = ~np.isnan(x)
        y = np.where(m, x, 0.0)
        mf = m.astype(float)
        n = mf.T @ mf
        s = y.T @ mf
        cov = (y.T @ y - s * s.T / n) / (n - 1.0)
        assert np.isfinite(np.diag(cov)).all()
        return x.shape

    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        shape = once()
        times.append(time.perf_counter() - t)
    return statistics.median(times), shape[0], shape[1]


def one_item_edit(work: Path) -> str:
    """Edit the wording of the codebook's first item (analyses do not depend on wording); returns its id."""
    path = work / "config" / "codebook.yaml"
    first = load_codebook(path).item_ids[0]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() == f"- id: {first}":
            j = next(k for k in range(i + 1, len(lines)) if lines[k].strip().startswith("text:"))
            if lines[j].strip() == "text:":  # a language map (en:, zh:, ...): edit its first wording
                j += 1
            lines[j] = lines[j].rstrip("\n") + " (edited)\n"
            path.write_text("".join(lines), encoding="utf-8")
            return first
    raise RuntimeError(f"item {first} not found in {path}")


def commit_of_checkout() -> str:
    """The short commit of this checkout (with ``+`` when it has uncommitted changes), or "" outside git.

    The benchmarks' own outputs (``benchmarks/results/``) do not count: ``make benchmark`` writes the CFA comparison
    before this script runs, and the pipeline's rows of a clean checkout would otherwise all carry the ``+``."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)benchmarks/results"],
            cwd=ROOT,
            capture_output=True,
        )
    except OSError:
        return ""
    if head.returncode != 0:
        return ""
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def with_variants(size: str, mode: str) -> bool:
    """Whether ``size`` runs the configuration's variants: ``all``, ``none`` or ``auto`` (up to 10^4
    respondents; larger sizes analyse the main codebook only)."""
    if mode in ("all", "none"):
        return mode == "all"
    return size == "demo" or int(size) <= 10_000


def bench_size(size: str, cores: int, keep: bool, variants: str = "auto") -> pd.DataFrame:
    full = with_variants(size, variants)
    work = prepare(size, WORK / f"n{size}", variants=full)
    bare, n_rows, p = read_and_covariance(work)
    scope = "with the configuration's variants" if full else "main codebook only (variants and suggestions off)"
    print(
        f"== {size}: {n_rows} rows x {p} items, {scope}; read + covariance {bare:.3f} s; running the pipeline ...",
        flush=True,
    )
    wall = run_snakemake(work, cores)
    rules = rule_benchmarks(work)
    extra = [
        {
            "rule": "(whole pipeline)",
            "seconds": wall,
            "peak_rss_mb": rules["peak_rss_mb"].max(),
            "max_rss_mb": rules["max_rss_mb"].max(),
            "max_pss_mb": rules["max_pss_mb"].max(),
            "cpu_seconds": rules["cpu_seconds"].sum(),
        },
        {"rule": "(bare read + covariance)", "seconds": bare, "max_rss_mb": np.nan, "cpu_seconds": np.nan},
    ]
    print(
        f"   whole pipeline {wall:.1f} s; slowest rules: "
        + ", ".join(
            f"{r} {s:.1f} s" for r, s in rules.nlargest(4, "seconds")[["rule", "seconds"]].itertuples(index=False)
        )
    )
    if size == "demo":
        item = one_item_edit(work)
        stamp = time.time()
        wall_edit = run_snakemake(work, cores)
        rerun = rule_benchmarks(work, since=stamp)
        extra.append(
            {
                "rule": "(after one-item edit)",
                "seconds": wall_edit,
                "peak_rss_mb": rerun["peak_rss_mb"].max(),
                "max_rss_mb": rerun["max_rss_mb"].max(),
                "cpu_seconds": rerun["cpu_seconds"].sum(),
                "note": f"wording of {item} edited; reran: {', '.join(rerun['rule'])}",
            }
        )
        print(f"   after editing the wording of {item}: {wall_edit:.1f} s (reran {', '.join(rerun['rule'])})")
    out = pd.concat([rules, pd.DataFrame(extra)], ignore_index=True)
    if not full:
        out.loc[out["rule"] == "(whole pipeline)", "note"] = scope
    out.insert(0, "size", size)
    out.insert(1, "n_rows", n_rows)
    out.insert(2, "n_items", p)
    out["item_matrix_mb"] = n_rows * p * 8 / 2**20
    if not keep:
        shutil.rmtree(work)
    return out


def plot(table: pd.DataFrame, path: Path) -> None:
    """Seconds and peak RSS per rule, one bar per size (log scale)."""
    plt = pyplot()
    sizes = list(dict.fromkeys(table["size"]))
    rules = [r for r in dict.fromkeys(table["rule"]) if r != "(after one-item edit)"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.32 * len(rules) * max(1, len(sizes)) / 2 + 2), sharey=True)
    h = 0.8 / len(sizes)
    y = np.arange(len(rules))
    for k, s in enumerate(sizes):
        t = table[table["size"] == s].set_index("rule").reindex(rules)
        lab = f"{s} ({int(t['n_rows'].dropna().iloc[0])} rows)"
        axes[0].barh(y + k * h, t["seconds"], height=h, label=lab)
        # the exact peak where the rows have it (runs before it was logged: Snakemake's sampled peak)
        peak = t["peak_rss_mb"].fillna(t["max_rss_mb"]) if "peak_rss_mb" in t else t["max_rss_mb"]
        axes[1].barh(y + k * h, peak, height=h, label=lab)
    axes[0].set_yticks(y + h * (len(sizes) - 1) / 2, rules, fontsize=8)
    axes[0].invert_yaxis()
    axes[0].set_xscale("log")
    axes[0].set_xlabel("wall time (s)")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("peak RSS (MB)")
    axes[0].legend(fontsize=8)
    save(fig, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="demo,10000", help="comma-separated: demo and/or numbers of respondents")
    ap.add_argument("--large", action="store_true", help="add 10^5 and 10^6 respondents (slow)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the working directories under benchmarks/work/")
    ap.add_argument(
        "--variants",
        choices=["auto", "all", "none"],
        default="auto",
        help="run the configuration's variants: auto = up to 10^4 respondents, the main codebook only above",
    )
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument(
        "--merge",
        action="store_true",
        help="replace only these sizes' rows in an existing pipeline.csv (each row keeps its commit and date)",
    )
    a = ap.parse_args()
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    if a.large:
        sizes += [str(n) for n in LARGE if str(n) not in sizes]
    table = pd.concat([bench_size(s, a.cores, a.keep, a.variants) for s in sizes], ignore_index=True)
    table["commit"] = commit_of_checkout()
    table["measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    table["load_average"] = round(os.getloadavg()[0], 1)  # other work on the machine inflates wall times
    a.out.mkdir(parents=True, exist_ok=True)
    previous = a.out / "pipeline.csv"
    if a.merge and previous.exists():  # keep the other sizes' rows of an earlier run (their commit and date say so)
        old = pd.read_csv(previous, dtype={"size": str})
        table = pd.concat([old[~old["size"].isin(sizes)], table], ignore_index=True)
    table.to_csv(a.out / "pipeline.csv", index=False, float_format="%.4g")
    plot(table, a.out / "pipeline.png")
    print(f"written: {a.out / 'pipeline.csv'}, {a.out / 'pipeline.png'}")
    with pd.option_context("display.width", 200, "display.max_colwidth", 80, "display.max_rows", 200):
        print(table.drop(columns=["note"], errors="ignore").to_string(index=False))


if __name__ == "__main__":
    main()
