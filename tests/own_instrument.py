"""Exports of instruments that are not the demo, as a new user brings them: any number of factors, any scale,
Likert or continuous scores, CSV (also GBK with Chinese headers), XLSX or SPSS SAV with value labels.

Answers come from a correlated-factor model (loadings .6-.8, factor correlations .3) drawn with a fixed seed, cut
into the scale's points (Likert) or rounded to two decimals (continuous).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from conftest import ROOT

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def factor_scores(n: int, n_factors: int, items_per_factor: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Latent-response values (n x items) and the latent factors (n x factors)."""
    rng = np.random.default_rng(seed)
    phi = np.full((n_factors, n_factors), 0.3) + 0.7 * np.eye(n_factors)
    eta = rng.multivariate_normal(np.zeros(n_factors), phi, size=n)
    lam = rng.uniform(0.6, 0.8, size=(n_factors, items_per_factor))
    cols = []
    for f in range(n_factors):
        for j in range(items_per_factor):
            cols.append(lam[f, j] * eta[:, f] + np.sqrt(1 - lam[f, j] ** 2) * rng.standard_normal(n))
    return np.column_stack(cols), eta


def item_names(prefixes: list[str], items_per_factor: int) -> list[str]:
    return [f"{p}{j}" for p in prefixes for j in range(1, items_per_factor + 1)]


def likert(y: np.ndarray, lo: int, hi: int, reverse: list[int] = ()) -> np.ndarray:
    k = hi - lo + 1
    cuts = np.quantile(np.random.default_rng(0).standard_normal(100_000), np.linspace(0, 1, k + 1)[1:-1])
    x = lo + np.searchsorted(cuts, y)
    for j in reverse:
        x[:, j] = lo + hi - x[:, j]
    return x.astype(int)


def export(
    n: int = 240,
    prefixes=("A", "B", "C", "D"),
    items_per_factor: int = 4,
    scale=(1, 7),
    seed: int = 7,
    reverse=(0,),
    continuous: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """An export with an id column ``rid`` and the items; returns (frame, latent factors)."""
    y, eta = factor_scores(n, len(prefixes), items_per_factor, seed)
    names = item_names(list(prefixes), items_per_factor)
    if continuous:
        lo, hi = scale
        x = np.clip(np.round(lo + (hi - lo) * (0.5 + y / 5.0), 2), lo, hi)
        values = pd.DataFrame(x, columns=names)
    else:
        values = pd.DataFrame(likert(y, *scale, reverse=list(reverse)), columns=names)
    ids = [f"R{k:04d}" for k in range(1, n + 1)]
    return pd.concat([pd.DataFrame({"rid": ids}), values], axis=1), eta


def codebook(
    prefixes, items_per_factor: int, scale: dict, id_column: str = "rid", reverse=(0,), columns: list | None = None
) -> dict:
    """One module, one competency per prefix, two dimensions of the items each."""
    comps, k = [], 0
    for p in prefixes:
        its = []
        for j in range(1, items_per_factor + 1):
            its.append({"id": f"{p}{j}", "text": f"item {p}{j}", "reverse": k in reverse})
            k += 1
        half = max(1, len(its) // 2)
        comps.append(
            {
                "key": f"c_{p}",
                "name": f"Competency {p}",
                "dimensions": [{"name": f"{p} one", "items": its[:half]}, {"name": f"{p} two", "items": its[half:]}],
            }
        )
    cb = {
        "instrument": "Another instrument",
        "scale": scale,
        "id_column": id_column,
        "modules": [{"name": "All", "competencies": comps}],
    }
    if columns:
        cb["columns"] = columns
    return cb


def performance(ids: list[str], eta: np.ndarray, id_column: str = "rid", seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sales = np.exp(6 + 0.3 * eta[:, 0] + 0.4 * rng.standard_normal(len(ids)))
    rating = np.round(3 + 0.5 * eta[:, 1] + 0.7 * rng.standard_normal(len(ids)), 2)
    return pd.DataFrame({id_column: ids, "sales": np.round(sales), "rating": rating})


def write_study(
    folder: Path,
    survey: pd.DataFrame,
    cb: dict,
    config: dict,
    survey_name: str = "survey.csv",
    perf: pd.DataFrame | None = None,
) -> Path:
    """Write export, codebook and config (paths relative to ``folder``); return the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    survey.to_csv(folder / survey_name, index=False)
    (folder / "codebook.yaml").write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if perf is not None:
        perf.to_csv(folder / "perf.csv", index=False)
    cfg = folder / "config.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return cfg


def run_study(folder: Path, config: Path | None = None, *args: str, key: str = "own-instrument-test-key"):
    """``snakemake --directory <folder> --configfile <config>`` from the repository root, as the README says."""
    import os

    env = dict(os.environ, COMPVAL_PSEUDONYM_KEY=key, SOURCE_DATE_EPOCH="0")
    cmd = [
        SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(folder),
        "--configfile",
        str(config or folder / "config.yaml"),
        "--cores",
        "2",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
