"""The table of named tolerances (tests/tolerances.py) is sound: every tolerance is its measured agreement with R
times a margin of at most 10, every one is used by a test, and every name a test uses is in the table."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from tolerances import TOLERANCES, assert_close

TESTS = Path(__file__).parent
SOURCES = {p.name: p.read_text(encoding="utf-8") for p in sorted(TESTS.glob("*.py")) if p.name not in {"tolerances.py"}}


def _names_used() -> dict[str, set[str]]:
    """Tolerance names in the test sources: the third argument of ``assert_close(...)`` and the values of the
    ``*_TOLS`` dicts, by file."""
    out: dict[str, set[str]] = {}
    for file, text in SOURCES.items():
        names = set()
        tree = ast.parse(text)
        bound = {  # the local name(s) of tolerances.assert_close (a test module may have a helper of its own)
            a.asname or a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "tolerances"
            for a in n.names
            if a.name == "assert_close"
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in bound:
                arg = node.args[2] if len(node.args) > 2 else next(k.value for k in node.keywords if k.arg == "name")
                # a literal, or the literals of an expression choosing between names (a name looked up in a dict
                # or passed through a variable is checked where the literal stands)
                if not isinstance(arg, (ast.Subscript, ast.Name)):
                    names |= {
                        n.value for n in ast.walk(arg) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    }
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                if any(isinstance(t, ast.Name) and t.id.endswith("TOLS") for t in node.targets):
                    names |= {v.value for v in node.value.values if isinstance(v, ast.Constant)}
        out[file] = names
    return out


@pytest.mark.parametrize("name", sorted(TOLERANCES))
def test_each_tolerance_is_measured_agreement_times_a_margin_of_at_most_10(name):
    t = TOLERANCES[name]
    assert t.kind in {"abs", "rel", "logp"}, name
    assert 0 < t.measured < math.inf and 1 <= t.margin <= 10, name
    assert float(f"{t.measured:.0e}") == t.measured, f"{name}: measured is rounded up to one significant digit"
    assert t.tol == t.measured * t.margin and t.what


def _string_literals() -> set[str]:
    return {
        n.value
        for file, text in SOURCES.items()
        if file != "test_tolerances.py"
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def test_every_tolerance_is_used_by_a_test():
    """Each name stands as a literal in a test (an assert_close call, a ``*_TOLS`` dict or a helper's argument)."""
    used = set().union(*_names_used().values()) | (_string_literals() & set(TOLERANCES))
    unused = sorted(set(TOLERANCES) - used)
    assert not unused, f"named tolerances no test uses: {unused}"


def test_every_name_a_test_uses_is_in_the_table():
    for file, names in _names_used().items():
        unknown = sorted(n for n in names - set(TOLERANCES) if not n.startswith("_test."))
        assert not unknown, f"{file}: {unknown}"


def test_assert_close_kinds():
    from tolerances import P_FLOOR, Tol

    TOLERANCES["_test.abs"] = Tol(1e-3, 1, "abs", "")
    TOLERANCES["_test.rel"] = Tol(1e-3, 1, "rel", "")
    TOLERANCES["_test.logp"] = Tol(1e-3, 1, "logp", "")
    try:
        assert_close([1.0, np.nan], [1.0009, np.nan], "_test.abs")
        with pytest.raises(AssertionError, match="NaN at different places"):
            assert_close([1.0, 2.0], [1.0, np.nan], "_test.abs")
        with pytest.raises(AssertionError, match="largest difference"):
            assert_close(1.0, 1.0011, "_test.abs")
        assert_close(1000.0, 1000.9, "_test.rel")
        with pytest.raises(AssertionError):
            assert_close(1e-9, 0.0, "_test.rel")  # a relative comparison with an exact zero fails
        assert_close(1.0e-8, 1.002e-8, "_test.logp")
        with pytest.raises(AssertionError):
            assert_close(1.0e-8, 1.01e-8, "_test.logp")
        assert_close(P_FLOOR / 10, 0.0, "_test.logp")  # both below the floor
        with pytest.raises(AssertionError):
            assert_close(P_FLOOR * 10, 0.0, "_test.logp")
    finally:
        for k in ("_test.abs", "_test.rel", "_test.logp"):
            TOLERANCES.pop(k)
