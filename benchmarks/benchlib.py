"""Helpers shared by the benchmark scripts (benchmarks/bench_*.py): headless plotting."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (benchmarks run without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> None:
    """Lay out, write (150 dpi) and close a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    fig.clear()
    pyplot().close(fig)
