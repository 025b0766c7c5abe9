"""Glue for the Snakemake scripts: logging to the rule's log file and one readable message per failure.

Scripts in ``workflow/scripts/`` wrap their body in :func:`step`. A known input problem
(:class:`compval.io.InputError`, :class:`compval.codebook.CodebookError`) or a broken invariant (RuntimeError) ends
the job with exit status 1 and a single message naming file, row and column; Snakemake then deletes the job's
outputs, so no partial result is left behind. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import Iterator

from .codebook import CodebookError
from .io import InputError

__all__ = ["step", "prepend_pythonpath", "module_digest"]


def module_digest(modules) -> str:
    """SHA-256 (first 16 hex digits) over the source of the named compval modules or subpackages."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in sorted(modules):
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [root / f"{name}.py"]
        for f in files:
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def prepend_pythonpath(path) -> None:
    """Put ``path`` first on PYTHONPATH (for the Snakemake jobs this process starts), once."""
    import os

    path = str(path)
    current = os.environ.get("PYTHONPATH", "")
    if path not in current.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (path, current) if p)


@contextmanager
def step(smk) -> Iterator[logging.Logger]:
    """Configure logging for a Snakemake script job and translate expected failures into one message."""
    log_file = smk.log[0] if len(smk.log) else None
    logger = logging.getLogger(f"compval.{smk.rule}")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_file:
        fh = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        fh.setFormatter(fmt)
        logger.addHandler(fh)
    sh = logging.StreamHandler(sys.stderr)
    sh.setFormatter(logging.Formatter("%(message)s"))
    sh.setLevel(logging.WARNING)
    logger.addHandler(sh)
    from threadpoolctl import threadpool_limits

    try:
        # BLAS threads = the rule's declared threads (oversubscription slows bootstraps several-fold)
        with threadpool_limits(limits=max(1, int(getattr(smk, "threads", 1) or 1))):
            yield logger
    except (InputError, CodebookError, RuntimeError) as exc:
        logger.error("ERROR in rule %s: %s", smk.rule, exc)
        sys.exit(1)
