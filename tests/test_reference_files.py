"""Every stored reference file is read by some test.

A data file under tests/reference/ (``.csv``, ``.json``, ``.txt``; not ``sessionInfo.txt``, not the R and Python
scripts that write them) counts as read when a test source names it: a string literal equal to its file name,
or an f-string whose literal parts match it with the placeholders as ``*`` (``f"{name}_params.csv"`` reads
``hs3_ml_params.csv``), in a source that also names the file's topic folder (``"cfa"``, ``"demo"``, ...).
Patterns must keep at least two consecutive letters or digits besides the extension, so that ``f"{x}.csv"``
or ``f"{a}_{b}.csv"`` read nothing. The check is static, so it stays true as tests change: a file that a
test stops reading, or a new file that no test reads, fails here by name.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from functools import lru_cache
from pathlib import Path

TESTS = Path(__file__).parent
REF = TESTS / "reference"
TOPICS = [
    "cfa",
    "ordinal",
    "efa",
    "validity",
    "demo",
    "data",
    "careless",
    "criterion",
    "descriptives",
    "missingness",
    "power",
    "reliability",
]
DATA_SUFFIXES = {".csv", ".json", ".txt"}
NOT_DATA = ("sessionInfo",)  # sessionInfo.txt, sessionInfo_<script>.txt: what R was, checked by test_reference_scripts

#: stored files that no test reads yet (tests of these topics are being strengthened separately, issue 12);
#: delete an entry as soon as a test reads the file -- test_known_unread_files_are_still_unread enforces it
KNOWN_UNREAD: set[str] = set()


def reference_files() -> list[str]:
    """Data files under tests/reference/, as ``topic/.../name``."""
    out = []
    for p in sorted(REF.rglob("*")):
        if p.is_file() and p.suffix in DATA_SUFFIXES and not p.name.startswith(NOT_DATA):
            out.append(p.relative_to(REF).as_posix())
    return out


def _pattern(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                parts.append(v.value.replace("*", "[*]"))
            else:
                parts.append("*")
        return "".join(parts)
    return None


def _specific(pattern: str) -> bool:
    stem = pattern.rsplit(".", 1)[0] if "." in pattern else pattern
    return re.search(r"[A-Za-z0-9]{2}", stem) is not None


@lru_cache(maxsize=None)
def source_patterns() -> dict[str, tuple[set[str], set[str]]]:
    """Per test source: (its string literals, its file-name patterns)."""
    out = {}
    for path in sorted(TESTS.rglob("*.py")):
        if path == Path(__file__) or REF in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        literals, patterns = set(), set()
        for node in ast.walk(tree):
            pat = _pattern(node)
            if pat is None:
                continue
            if isinstance(node, ast.Constant):
                literals.add(pat)
            if "." in pat and _specific(pat) and "/" not in pat and "\n" not in pat:
                patterns.add(pat)
        out[path.relative_to(TESTS).as_posix()] = (literals, patterns)
    return out


@lru_cache(maxsize=None)
def unread_files() -> tuple[str, ...]:
    sources = source_patterns()
    unread = []
    for rel in reference_files():
        topic, name = rel.split("/")[0], rel.rsplit("/", 1)[-1]
        read = any(
            topic in literals and any(fnmatch.fnmatchcase(name, p) for p in patterns)
            for literals, patterns in sources.values()
        )
        if not read:
            unread.append(rel)
    return tuple(unread)


def test_every_topic_is_covered():
    topics = sorted(p.name for p in REF.iterdir() if p.is_dir())
    assert set(TOPICS) <= set(topics), set(TOPICS) - set(topics)
    files = reference_files()
    for t in topics:
        assert any(f.startswith(f"{t}/") for f in files), f"no data files under tests/reference/{t}"


def test_every_reference_file_is_read_by_a_test():
    unread = sorted(set(unread_files()) - KNOWN_UNREAD)
    assert not unread, "stored reference files that no test reads:\n" + "\n".join(unread)


def test_known_unread_files_are_still_unread():
    stale = sorted(KNOWN_UNREAD - set(unread_files()))
    assert not stale, "now read by a test (or gone): remove from KNOWN_UNREAD:\n" + "\n".join(stale)


def test_the_pattern_rules():
    tree = ast.parse('x = f"{name}_params.csv"; y = f"{a}.csv"; z = f"{a}_{b}.json"; w = "bfi.json"')
    pats = [_pattern(stmt.value) for stmt in tree.body]
    assert [p for p in pats if _specific(p)] == ["*_params.csv", "bfi.json"]
    assert fnmatch.fnmatchcase("hs3_ml_params.csv", "*_params.csv")
