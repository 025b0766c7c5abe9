"""Assembling ``results/summary.json`` and the provenance record.

``summary.json`` is a stable contract: top-level ``n_raw``, ``n_analyzed``, ``excluded`` (reason -> count), then one
section per stage (``reliability``, later ``efa``, ``cfa``, ``validity``, ``criterion``), then ``provenance``.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib import metadata
from pathlib import Path

__all__ = [
    "build_summary",
    "provenance",
    "file_sha256",
    "reliability_section",
    "summary_schema",
    "check_summary",
    "SummaryContractError",
    "PACKAGES",
]


class SummaryContractError(ValueError):
    """``summary.json`` does not satisfy its schema: a stage wrote (or a reader expects) something else. A bug of
    the pipeline, not of the input; the message names every key path."""


def summary_schema() -> dict:
    """The JSON schema of ``results/summary.json`` (``schemas/summary.schema.yaml`` in the package)."""
    from importlib import resources

    from .codebook import load_yaml

    text = resources.files("compval").joinpath("schemas/summary.schema.yaml").read_text(encoding="utf-8")
    return load_yaml(text)


def check_summary(summary: dict, source: str = "summary.json") -> dict:
    """Check ``summary`` against its schema and return it; raise :class:`SummaryContractError` naming each problem
    by its key path (e.g. ``cfa.hypothesized: 'cfi' is a required property``)."""
    from .jsonschemas import Draft202012Validator

    from .codebook import key_path

    errors = sorted(
        Draft202012Validator(summary_schema()).iter_errors(summary),
        key=lambda e: (list(map(str, e.absolute_path)), e.message),
    )
    if errors:
        lines = "; ".join(f"{key_path(e.absolute_path)}: {e.message}" for e in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise SummaryContractError(f"{source} breaks its contract (schemas/summary.schema.yaml): {lines}{more}")
    return summary


PACKAGES = [
    "compval",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "factor_analyzer",
    "pingouin",
    "snakemake",
    "matplotlib",
]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def provenance(*, config: dict, codebook_sha256: str, inputs: dict[str, str]) -> dict:
    """Software versions, seed, config, codebook hash and SHA-256 of each raw input (no run date: the summary
    must be byte-identical between runs; the report adds the run date)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.machine(),
        "packages": versions,
        "seed": config.get("seed"),
        "config": config,
        "codebook_sha256": codebook_sha256,
        "inputs_sha256": {k: file_sha256(v) for k, v in inputs.items()},
    }


def build_summary(cleaning_report: dict, fragments: list[dict], prov: dict) -> dict:
    """Merge the cleaning counts, the stage fragments and the provenance into the summary dict."""
    out = {
        "n_raw": cleaning_report["n_raw"],
        "n_analyzed": cleaning_report["n_analyzed"],
        "excluded": cleaning_report["excluded"],
        "performance": cleaning_report.get("performance"),
        "little_mcar": cleaning_report.get("little_mcar"),
    }
    for frag in fragments:
        for key, value in frag.items():
            if key in out:
                raise ValueError(f"summary section '{key}' produced twice")
            out[key] = value
    out["provenance"] = prov
    return out


def reliability_section(table) -> dict:
    """``summary.json`` -> ``reliability``: key -> alpha, alpha_ci [lo, hi] (Feldt), alpha_std, lambda6,
    omega_total, omega_hierarchical, omega_hierarchical_ci [lo, hi] (bootstrap; NaN if not computed), n_items, from
    a :func:`compval.reliability.reliability_table`."""
    out = {}
    for _, r in table.iterrows():
        out[r["key"]] = {
            "alpha": r["alpha"],
            "alpha_ci": [r["alpha_ci_lower"], r["alpha_ci_upper"]],
            "alpha_std": r["alpha_std"],
            "lambda6": r["lambda6"],
            "omega_total": r["omega_total"],
            "omega_hierarchical": r["omega_hierarchical"],
            "omega_hierarchical_ci": [
                r.get("omega_hierarchical_boot_lower", float("nan")),
                r.get("omega_hierarchical_boot_upper", float("nan")),
            ],
            "n_items": int(r["n_items"]),
        }
    return out
