"""lavaan model syntax -> parameter table (the subset needed for confirmatory factor analysis).

Mirrors what ``lavaan::lavaanify()`` does for ``cfa()`` (lavaan 0.6.14, Rosseel 2012): user rows, then the
automatic rows -- residual variances of the observed variables, (residual) variances of the latent variables,
covariances among exogenous latent variables (unless ``orthogonal``), intercepts and latent means when a mean
structure is requested -- with marker-variable (first loading fixed to 1) or unit-variance (``std.lv``)
identification, and ``group.equal`` constraints across groups expressed by shared free-parameter numbers.

Supported syntax: ``=~`` (measured by; latent variables as indicators give a second-order factor), ``~~``
(variances/covariances), ``~`` (latent regressions), ``~ 1`` (intercepts/means), modifiers ``number*``
(fixed), ``NA*`` (free), ``label*`` (equality by label) and ``start(number)*``; ``#``/``!`` comments, lines or
``;`` separated statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ModelSyntaxError", "parse_syntax", "build_partable", "observed_names", "ModelStructure"]


class ModelSyntaxError(ValueError):
    """Raised for model syntax this parser does not understand."""


_OPS = ("=~", "~~", "~")


@dataclass
class _Term:
    name: str
    fixed: float | None = None  # fixed value (number*)
    free: bool = False  # NA*
    label: str = ""
    start: float | None = None


def _parse_term(term: str) -> _Term:
    parts = [p.strip() for p in term.split("*")]
    name = parts[-1]
    if not name:
        raise ModelSyntaxError(f"empty variable name in {term!r}")
    t = _Term(name=name)
    for mod in parts[:-1]:
        m = re.fullmatch(r"start\(\s*([-+0-9.eE]+)\s*\)", mod)
        if m:
            t.start = float(m.group(1))
            continue
        if mod.upper() == "NA":
            t.free = True
            continue
        try:
            t.fixed = float(mod)
            continue
        except ValueError:
            pass
        if re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", mod):
            t.label = mod
            continue
        raise ModelSyntaxError(f"unsupported modifier {mod!r} in {term!r}")
    return t


def parse_syntax(syntax: str) -> list[dict]:
    """Parse lavaan model syntax into a list of statements ``{lhs, op, rhs, fixed, free, label, start}``.

    One statement per right-hand-side term, in the order written. ``y ~ 1`` becomes op ``"~1"``. A parameter
    written twice (``f =~ NA*x1 + a*x1``: free and labelled) is one statement with the modifiers merged.
    """
    rows: list[dict] = []
    text = re.sub(r"[#!][^\n]*", "", syntax)
    for raw in re.split(r"[;\n]", text):
        line = raw.strip()
        if not line:
            continue
        op = next((o for o in _OPS if o in line), None)
        if op is None:
            raise ModelSyntaxError(f"no operator (=~, ~~, ~) in statement {line!r}")
        lhs, rhs = line.split(op, 1)
        lhs = lhs.strip()
        if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", lhs):
            raise ModelSyntaxError(f"invalid left-hand side {lhs!r} in {line!r}")
        for term in rhs.split("+"):
            term = term.strip()
            if not term:
                raise ModelSyntaxError(f"empty term in {line!r}")
            t = _parse_term(term)
            this_op = op
            rhs_name = t.name
            if op == "~" and t.name == "1":
                this_op, rhs_name = "~1", ""
            new = {
                "lhs": lhs,
                "op": this_op,
                "rhs": rhs_name,
                "fixed": t.fixed,
                "free": t.free,
                "label": t.label,
                "start": t.start,
            }
            prev = next(
                (
                    r
                    for r in rows
                    if (r["lhs"], r["op"], r["rhs"]) == (lhs, this_op, rhs_name)
                    or (this_op == "~~" and (r["lhs"], r["op"], r["rhs"]) == (rhs_name, "~~", lhs))
                ),
                None,
            )
            if prev is None:
                rows.append(new)
            else:  # the same parameter written twice (e.g. "f =~ NA*x1 + a*x1"): modifiers are merged, as lavaan
                prev["free"] = prev["free"] or t.free
                for k in ("fixed", "label", "start"):
                    if new[k] not in (None, ""):
                        prev[k] = new[k]
                if t.free and t.fixed is None:
                    prev["fixed"] = None
    if not rows:
        raise ModelSyntaxError("empty model")
    return rows


@dataclass
class ModelStructure:
    """What the estimator needs besides the parameter table."""

    ov_names: list[str]  # observed variables, in order of appearance
    lv_names: list[str]  # latent variables, in order of appearance
    ngroups: int
    meanstructure: bool


def _names(stmts: list[dict]) -> tuple[list[str], list[str]]:
    lv: list[str] = []
    for s in stmts:
        if s["op"] == "=~" and s["lhs"] not in lv:
            lv.append(s["lhs"])
    ov: list[str] = []

    def add(name):
        if name and name not in lv and name not in ov:
            ov.append(name)

    for s in stmts:
        if s["op"] == "=~":
            add(s["rhs"])
    for s in stmts:
        if s["op"] in ("~~", "~"):
            add(s["lhs"])
            add(s["rhs"])
        elif s["op"] == "~1":
            add(s["lhs"])
    return ov, lv


def model_names(syntax: str) -> tuple[list[str], list[str]]:
    """Observed and latent variable names of a model in lavaan syntax, in order of appearance
    (lavaan's ``lavNames(model, "ov")`` and ``lavNames(model, "lv")``)."""
    return _names(parse_syntax(syntax))


def observed_names(syntax: str) -> list[str]:
    """The observed variables of a model in lavaan's order (``build_partable(syntax)[1].ov_names``, without
    building the table; ``lavNames(lavaanify(model), "ov")`` in R). Raises ModelSyntaxError as
    :func:`build_partable` when the model defines no latent variable."""
    ov, lv = model_names(syntax)
    if not lv:
        raise ModelSyntaxError("the model defines no latent variable (=~)")
    return ov


def build_partable(
    syntax: str,
    *,
    ngroups: int = 1,
    std_lv: bool = False,
    orthogonal: bool = False,
    meanstructure: bool = False,
    group_equal: tuple[str, ...] | list[str] = (),
) -> tuple[pd.DataFrame, ModelStructure]:
    """Parameter table as ``lavaan::lavaanify(model, auto = TRUE)`` builds it for ``cfa()``.

    Returns a DataFrame with columns ``lhs, op, rhs, group, user, free, value, label, start`` where ``free``
    is the 1-based free-parameter number (0 = fixed; equal numbers = equality constraint) and ``value`` the
    fixed value of a fixed parameter; and a :class:`ModelStructure`.
    """
    stmts = parse_syntax(syntax)
    ov, lv = _names(stmts)
    if not lv:
        raise ModelSyntaxError("the model defines no latent variable (=~)")
    group_equal = tuple(group_equal)
    known_eq = {
        "loadings",
        "intercepts",
        "residuals",
        "lv.variances",
        "lv.covariances",
        "means",
        "residual.covariances",
    }
    bad = set(group_equal) - known_eq
    if bad:
        raise ValueError(f"unsupported group_equal value(s): {sorted(bad)}")
    # endogenous latent variables: indicators of another latent variable or regressed on something
    endo_lv = {s["rhs"] for s in stmts if s["op"] == "=~" and s["rhs"] in lv}
    endo_lv |= {s["lhs"] for s in stmts if s["op"] == "~" and s["lhs"] in lv}
    rows: list[dict] = []
    for g in range(1, ngroups + 1):
        seen_marker: set[str] = set()
        grows: list[dict] = []
        for s in stmts:
            r = {
                "lhs": s["lhs"],
                "op": s["op"],
                "rhs": s["rhs"],
                "group": g,
                "user": True,
                "fixed": s["fixed"],
                "freeflag": s["free"],
                "label": s["label"],
                "start": s["start"],
                "auto_fixed": None,
            }
            if s["op"] == "=~":
                if s["lhs"] not in seen_marker:
                    seen_marker.add(s["lhs"])
                    if not std_lv and s["fixed"] is None and not s["free"]:
                        r["auto_fixed"] = 1.0
            grows.append(r)
        have = {(r["lhs"], r["op"], r["rhs"]) for r in grows}
        have |= {(r["rhs"], r["op"], r["lhs"]) for r in grows if r["op"] == "~~"}

        def auto(lhs, op, rhs, fixed=None):
            if (lhs, op, rhs) in have:
                return
            have.add((lhs, op, rhs))
            grows.append(
                {
                    "lhs": lhs,
                    "op": op,
                    "rhs": rhs,
                    "group": g,
                    "user": False,
                    "fixed": None,
                    "freeflag": False,
                    "label": "",
                    "start": None,
                    "auto_fixed": fixed,
                }
            )

        for v in ov:
            auto(v, "~~", v)
        for f in lv:
            auto(f, "~~", f, 1.0 if std_lv else None)
        exo = [f for f in lv if f not in endo_lv]
        for i in range(len(exo)):
            for j in range(i + 1, len(exo)):
                auto(exo[i], "~~", exo[j], 0.0 if orthogonal else None)
        if meanstructure:
            for v in ov:
                auto(v, "~1", "")
            for f in lv:
                free_mean = g > 1 and "intercepts" in group_equal and "means" not in group_equal
                auto(f, "~1", "", None if free_mean else 0.0)
        rows.extend(grows)
    # fixed / free (plain lists: a DataFrame per step dominated the fit of small models)
    n = len(rows)
    value = np.full(n, np.nan)
    is_free = np.ones(n, dtype=bool)
    for k, r in enumerate(rows):
        if r["fixed"] is not None and not pd.isna(r["fixed"]):
            value[k], is_free[k] = float(r["fixed"]), False
        elif r["freeflag"]:
            is_free[k] = True
        elif r["auto_fixed"] is not None and not pd.isna(r["auto_fixed"]):
            value[k], is_free[k] = float(r["auto_fixed"]), False
    # group.equal labels (lavaan: .p<k>. of group 1 shared by the same row in the other groups)
    labels = ["" if r["label"] is None else str(r["label"]) for r in rows]
    if ngroups > 1 and group_equal:
        key_g1 = {}
        for k, r in enumerate(rows):
            if r["group"] == 1:
                key_g1[(r["lhs"], r["op"], r["rhs"])] = k
        for k, r in enumerate(rows):
            if not is_free[k] or labels[k]:
                continue
            cat = _eq_category(r["lhs"], r["op"], r["rhs"], ov, lv)
            if cat in group_equal:
                k1 = key_g1.get((r["lhs"], r["op"], r["rhs"]))
                if k1 is not None and is_free[k1]:
                    if not labels[k1]:
                        labels[k1] = f".p{k1 + 1}."
                    labels[k] = labels[k1]
    # a label shared with a fixed parameter fixes every parameter carrying it (as lavaan does)
    fixed_label = {labels[k]: value[k] for k in range(n) if labels[k] and not is_free[k]}
    for k in range(n):
        if labels[k] in fixed_label and is_free[k]:
            is_free[k], value[k] = False, fixed_label[labels[k]]
    free = np.zeros(n, dtype=int)
    lab_id: dict[str, int] = {}
    nxt = 0
    for k in range(n):
        if not is_free[k]:
            continue
        lab = labels[k]
        if lab and lab in lab_id:
            free[k] = lab_id[lab]
            continue
        nxt += 1
        free[k] = nxt
        if lab:
            lab_id[lab] = nxt
    out = pd.DataFrame(
        {
            "lhs": [r["lhs"] for r in rows],
            "op": [r["op"] for r in rows],
            "rhs": [r["rhs"] if r["rhs"] is not None else "" for r in rows],
            "group": np.array([r["group"] for r in rows], dtype=int),
            "user": np.array([r["user"] for r in rows], dtype=bool),
            "free": free,
            "value": value,
            "label": labels,
            "start": np.array([np.nan if r["start"] is None else float(r["start"]) for r in rows], dtype=float),
        }
    )
    for r in rows:
        if r["op"] == "~":
            for v in (r["lhs"], r["rhs"]):
                if v not in lv:
                    raise ModelSyntaxError(
                        f"regressions (~) are supported among latent variables only; {v!r} is observed"
                    )
    return out, ModelStructure(ov_names=ov, lv_names=lv, ngroups=ngroups, meanstructure=meanstructure)


def _eq_category(lhs, op, rhs, ov, lv) -> str:
    if op == "=~":
        return "loadings"
    if op == "~1":
        return "intercepts" if lhs in ov else "means"
    if op == "~":
        return "regressions"
    if op == "~~":
        if lhs == rhs:
            return "residuals" if lhs in ov else "lv.variances"
        return "residual.covariances" if lhs in ov else "lv.covariances"
    return ""
