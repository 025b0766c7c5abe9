"""Rules the test suite keeps about itself."""

from __future__ import annotations

import re

from conftest import ROOT

# the repository's own outputs: results/ and data/processed/ (ROOT / "results", root / "data" / "processed", ...)
REPO_RESULTS = re.compile(
    r"""\b(?:ROOT|root)\s*/\s*["'](?:results|data/processed)["'/]|\b(?:ROOT|root)\s*/\s*["']data["']\s*/\s*["']processed"""
)


def test_no_test_reads_or_writes_the_repository_outputs():
    """Tests build what they check (the session's shared run, ``e2e_project`` in conftest.py, or a project of their
    own under tmp): a test that read the repository's ``results/`` or ``data/processed/`` would pass or skip
    depending on what the last ``make run`` left there."""
    offenders = [
        f"{p.name}:{i}: {line.strip()}"
        for p in sorted((ROOT / "tests").rglob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if REPO_RESULTS.search(line) and p.name != "test_suite_hygiene.py"
    ]
    assert not offenders, "\n".join(offenders)
