"""Every R reference script is self-describing: it asserts the version of each package it uses and writes the
sessionInfo() it ran with beside the values it stores (issue 12, item 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REF = Path(__file__).parent / "reference"
SCRIPTS = sorted(REF.glob("*/*.R"))
BASE = {"base", "stats", "utils", "methods", "graphics", "grDevices", "tools", "parallel", "grid"}


def _code(path: Path) -> str:
    """The script without its comments (a '#' that starts a comment, not one inside a string)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        out, quote = [], None
        for ch in line:
            if quote is None and ch == "#":
                break
            if ch in "\"'":
                quote = None if quote == ch else (ch if quote is None else quote)
            out.append(ch)
        lines.append("".join(out))
    return "\n".join(lines)


def test_there_are_reference_scripts():
    assert len(SCRIPTS) >= 14 and all(p.parent.parent == REF for p in SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_asserts_the_versions_of_the_packages_it_uses(script):
    code = _code(script)
    used = set(re.findall(r"library\((\w+)\)", code)) | set(re.findall(r"\b(\w+):::?\w", code))
    asserted = set(re.findall(r'packageVersion\("(\w+)"\)\s*==\s*"[0-9.]+"', code))
    assert "stopifnot(" in code
    missing = sorted(used - BASE - asserted)
    assert not missing, f"{script.name} uses {missing} without asserting their versions"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_writes_its_session_info(script):
    code = _code(script)
    m = re.search(r"writeLines\(capture\.output\(sessionInfo\(\)\),\s*([^\n]*sessionInfo[\w]*\.txt)", code)
    assert m, f"{script.name} does not write sessionInfo()"
    name = re.search(r"(sessionInfo\w*\.txt)", m.group(1)).group(1)
    assert (script.parent / name).is_file(), f"{script.parent.name}/{name} is not stored"
