"""Exports the bootstrap resamples of compval's percentile intervals, for make_reference.R to recompute in R.

Run from the repository root (writes beside this script; the output is byte-identical on every run):

    PYTHONPATH=src python tests/reference/bootstrap/export_indices.py

compval draws resample b of n rows as ``rng.integers(0, n, size=n)`` and turns it into row counts
(:func:`compval.resampling.resample_counts`; HTMT draws the same numbers row by row). This script draws the
resamples of each case through that public function, with the seeds and in the order the library's public
functions consume them, and writes

* ``counts_<stream>.csv.gz`` -- one line per resample, the count of each row of the analysed data (n
  comma-separated integers, rows in data order; R rebuilds resample b as ``x[rep(seq_len(n), counts[b, ]), ]``);
* ``streams.csv`` -- one row per stream: what it resamples and which statistic R computes on it.

The analysed data (R builds the same rows from the same files):

* ``bfi400``: the first 400 rows of ``tests/reference/data/bfi.csv`` (psych::bfi), reverse-keyed items A1, C4,
  C5, E1, E2, O2, O5 recoded 7 - x; with missing answers;
* ``bfi400_complete``: its rows with all 25 items answered (HTMT uses the listwise-complete rows);
* ``satact_complete``: the rows of ``tests/reference/data/sat_act.csv`` (psych::sat.act) with ACT, SATV and
  SATQ answered.

Cases (tests/test_bootstrap_reference.py checks that the library still draws exactly these resamples):

* ``rel_pw``: ``compval.reliability.reliability_table(bfi400, {"A": A1-A5, "ACE": A1-E5}, missing="pairwise",
  n_boot=B, n_boot_omega_h=B, omega_h_nfactors={"ACE": 3}, seed=SEED)``. Every group and statistic is computed
  on the same resamples, the first B of ``default_rng(SEED)`` (:class:`compval.resampling.SharedResamples`;
  before 5 December 2026 group i drew from ``default_rng([SEED, i])``, statistic after statistic). Each stream
  below is still written on its own, so the R script recomputes every statistic on its own stored counts.
* ``rel_lw``: the same with ``missing="listwise"`` for group C (C1-C5), seed SEED + 1: the resampled rows are
  the complete rows of the group.
* ``htmt``: ``compval.validity.htmt(bfi400, five factors A, C, E, N, O, B=B, seed=SEED + 2)`` (and with
  ``htmt2=False``: same resamples).
* ``dominance``: ``compval.criterion.dominance_analysis(education, [ACT, SATV, SATQ], always=[age, gender 2],
  n_boot=B, seed=SEED + 3)`` on satact_complete.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from compval.resampling import resample_counts

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"

SEED = 20261202
B = 200
N_ROWS = 400
BFI_REVERSED = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
BFI_FACTORS = {k: [f"{k}{i}" for i in range(1, 6)] for k in "ACENO"}

# case -> (missing, groups, omega_h_nfactors, seed) of reliability_table
RELIABILITY = {
    "rel_pw": ("pairwise", {"A": BFI_FACTORS["A"], "ACE": BFI_FACTORS["A"] + BFI_FACTORS["C"] + BFI_FACTORS["E"]},
               {"ACE": 3}, SEED),
    "rel_lw": ("listwise", {"C": BFI_FACTORS["C"]}, None, SEED + 1),
}  # fmt: skip
HTMT_SEED = SEED + 2
DOMINANCE_SEED = SEED + 3
DOMINANCE_PREDICTORS = ["ACT", "SATV", "SATQ"]
DOMINANCE_ALWAYS = ["age", "gender2"]


def bfi400() -> pd.DataFrame:
    """The first 400 rows of bfi.csv, reverse-keyed items recoded 7 - x."""
    d = pd.read_csv(DATA / "bfi.csv").iloc[:N_ROWS].copy()
    d[BFI_REVERSED] = 7 - d[BFI_REVERSED]
    return d


def satact_complete() -> pd.DataFrame:
    """sat.act rows with ACT, SATV and SATQ answered; ``gender2`` = 1 for gender 2 (the treatment dummy)."""
    d = pd.read_csv(DATA / "sat_act.csv")
    d = d[d[DOMINANCE_PREDICTORS].notna().all(axis=1)].reset_index(drop=True)
    d["gender2"] = (d["gender"] == 2).astype(float)
    return d


def _counts(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    return np.concatenate(list(resample_counts(rng, n, b))).astype(np.int64)


def streams() -> Iterator[dict]:
    """Every stream of resamples: a dict of its description (``streams.csv``) and its ``counts``."""
    bfi = bfi400()
    for case, (missing, groups, nf_h, seed) in RELIABILITY.items():
        for key, cols in groups.items():
            x = bfi[cols].astype(float)
            if missing == "listwise":
                x = x.dropna(how="any")
            nf = nf_h.get(key) if nf_h else None
            stats = [("alpha", 1), ("omega_total", 1)] + ([("omega_hierarchical", nf)] if nf else [])
            for stat, nfactors in stats:
                yield dict(
                    stream=f"{case}_{key}_{stat}", case=case, key=key, statistic=stat, missing=missing,
                    nfactors=nfactors, data="bfi400", items=" ".join(cols), n=len(x), B=B, seed=seed,
                    counts=_counts(np.random.default_rng(seed), len(x), B),
                )  # fmt: skip
    items = [i for v in BFI_FACTORS.values() for i in v]
    x = bfi[items].dropna()
    yield dict(
        stream="htmt", case="htmt", key="ACENO", statistic="htmt", missing="listwise", nfactors=5,
        data="bfi400_complete", items=" ".join(items), n=len(x), B=B, seed=HTMT_SEED,
        counts=_counts(np.random.default_rng(HTMT_SEED), len(x), B),
    )  # fmt: skip
    sa = satact_complete()
    yield dict(
        stream="dominance", case="dominance", key="education", statistic="general_dominance", missing="complete",
        nfactors=0, data="satact_complete", items=" ".join(DOMINANCE_PREDICTORS + DOMINANCE_ALWAYS), n=len(sa),
        B=B, seed=DOMINANCE_SEED, counts=_counts(np.random.default_rng(DOMINANCE_SEED), len(sa), B),
    )  # fmt: skip


def counts_bytes(counts: np.ndarray) -> bytes:
    """``counts_<stream>.csv.gz`` content: gzip without a time stamp or file name, so reruns are identical."""
    text = "\n".join(",".join(map(str, row)) for row in counts) + "\n"
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as fh:
        fh.write(text.encode("ascii"))
    return buf.getvalue()


def read_counts(stream: str) -> np.ndarray:
    """The stored counts of a stream (resamples x rows)."""
    with gzip.open(HERE / f"counts_{stream}.csv.gz", "rt", encoding="ascii") as fh:
        return np.loadtxt(fh, delimiter=",", dtype=np.int64, ndmin=2)


def main() -> None:
    rows = []
    for s in streams():
        (HERE / f"counts_{s['stream']}.csv.gz").write_bytes(counts_bytes(s.pop("counts")))
        rows.append(s)
    pd.DataFrame(rows).to_csv(HERE / "streams.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
