"""Glue for the Snakemake scripts: logging to the rule's log file and one readable message per failure.

Scripts in ``workflow/scripts/`` wrap their body in :func:`step`. Two kinds of failure end a job (exit status 1;
Snakemake then deletes the job's outputs, so no partial result is left behind):

* an input problem (:class:`compval.io.InputError`, :class:`compval.codebook.CodebookError`): one readable
  message naming file, row and column, no traceback (configuration problems stop the run earlier, when the
  workflow is parsed: :func:`compval.config.prepare_config`);
* anything else is a bug (a broken invariant, a violated summary contract, an unexpected exception): a one-line
  message on the console and the full traceback in the rule's log.
"""

from __future__ import annotations

import functools
import logging
import sys
from contextlib import contextmanager
from typing import Iterator

from .codebook import CodebookError
from .io import InputError

__all__ = ["step", "peak_memory", "prepend_pythonpath", "module_digest", "import_closure"]


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


def _compval_imports(path, dotted: str) -> set[str]:
    """The compval modules one source file imports (anywhere in it, lazy imports included), as dotted names."""
    from pathlib import Path

    source = Path(path).read_bytes()
    return set(_parsed_imports(source, dotted, str(path).endswith("__init__.py")))


@functools.lru_cache(maxsize=4096)
def _parsed_imports(source: bytes, dotted: str, is_package: bool) -> frozenset[str]:
    """:func:`_compval_imports` of one file's text, parsed once per process (the Snakefile asks for the closure
    of every rule, and the rules share most of their modules)."""
    import ast

    tree = ast.parse(source.decode("utf-8"))
    package = dotted if is_package else dotted.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "compval")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "compval":
                continue
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)  # kept below only when it is a module
    return frozenset(found)


def _statements(body):
    """Every statement of a block and of the blocks nested in it (function and class bodies, branches, loops,
    handlers, match cases): where an import can stand, without visiting the expressions that :func:`ast.walk`
    would (an import is a statement, and no expression contains a statement)."""
    import ast

    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                todo.extend(block)
        for part in getattr(node, "handlers", ()):  # try: except blocks
            todo.extend(part.body)
        if isinstance(node, ast.Match):
            for case in node.cases:
                todo.extend(case.body)


def import_closure(files) -> list[str]:
    """The compval modules that the given source files import, transitively within compval.

    Returns module paths relative to the package without ``.py`` (``cfa``, ``sem/engine``, ``__init__``), as
    :func:`module_digest` takes them; packages count with their ``__init__``. Lazy imports inside functions count
    too, so the set may be larger than what a run executes, never smaller.
    """
    from pathlib import Path

    root = Path(__file__).resolve().parent

    def file_of(dotted: str):
        rel = Path(*dotted.split(".")[1:])
        for cand in (root / rel / "__init__.py", (root / rel).with_suffix(".py")):
            if dotted != "compval" and cand.is_file():
                return cand
        return root / "__init__.py" if dotted == "compval" else None

    todo = set()
    for f in files:
        todo |= _compval_imports(f, "__main__")
    seen: dict[str, Path] = {}
    while todo:
        dotted = todo.pop()
        path = file_of(dotted)
        if path is None or dotted in seen:
            continue
        seen[dotted] = path
        parts = dotted.split(".")
        todo |= {".".join(parts[:k]) for k in range(1, len(parts))}  # importing a.b.c runs a and a.b first
        todo |= _compval_imports(path, dotted)
    return sorted({p.relative_to(root).with_suffix("").as_posix() for p in seen.values()})


def prepend_pythonpath(path) -> None:
    """Put ``path`` first on PYTHONPATH (for the Snakemake jobs this process starts), once."""
    import os

    path = str(path)
    current = os.environ.get("PYTHONPATH", "")
    if path not in current.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (path, current) if p)


def peak_memory() -> str:
    """The exact peak resident memory of this process and of its largest finished worker process, in MB, as
    :func:`step` logs it at the end of a job: ``"<self> MB (largest worker <children> MB)"``.

    This process: the kernel's high-water mark of its memory since it started the Python program (``VmHWM`` of
    ``/proc/self/status``; where that is missing, ``getrusage``'s ``ru_maxrss``, which on Linux also keeps the
    high-water mark of the process it was forked from before the ``exec``: Snakemake's own, 270 MB at a million
    respondents). Workers: ``ru_maxrss`` of the waited-for children (a forked worker counts the pages it shares
    with this process). Snakemake's ``benchmark:`` directive samples the memory of a job now and then, and misses
    peaks that last less than its interval; ``benchmarks/bench_pipeline.py`` reads this line instead."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            own = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError, IndexError):
        pass  # not Linux: ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return f"{own:.0f} MB (largest worker {workers:.0f} MB)"


@contextmanager
def step(smk) -> Iterator[logging.Logger]:
    """Configure logging for a Snakemake script job and translate expected failures into one message."""
    log_file = smk.log[0] if len(smk.log) else None
    logger = logging.getLogger(f"compval.{smk.rule}")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    fh = None
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
        # BLAS (and OpenMP) on one thread: a rule's threads are processes (compval.parallel, one per figure
        # language), and a multi-threaded BLAS would change the last digits with the number of cores and
        # oversubscribe them
        with threadpool_limits(limits=1):
            yield logger
        logger.info("peak memory: %s", peak_memory())
    except (InputError, CodebookError) as exc:
        logger.error("ERROR in rule %s: %s", smk.rule, exc)
        sys.exit(1)
    except Exception as exc:  # a bug: one line on the console, the traceback in the rule's log, the job fails
        logger.error(
            "BUG in rule %s: %s: %s%s",
            smk.rule,
            type(exc).__name__,
            exc,
            f" (traceback in {log_file})" if log_file else "",
        )
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, "traceback", None, sys.exc_info())
        (fh or sh).handle(record)
        sys.exit(1)
