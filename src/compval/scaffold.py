"""Draft a codebook and a config from a bare questionnaire export (``python -m compval init``).

Reads what an export shows — column names, the values in each column, SPSS value and variable labels — and
guesses what each column is, writing every guess down as a YAML comment so that the researcher checks it:

* **items**: numeric columns whose name is a valid item id and which share a prefix with at least one other such
  column (``ACH_1, ACH_2``, ``Q1_1, Q1_2``, ``sat.1, sat.2``), with values on a bounded scale (at most 11 distinct
  whole-number points, or decimals within a common range, which makes the scale ``continuous``);
* **scale**: min and max of the items' values, or of their SPSS value labels when the file has them (the labels
  then become the scale's labels);
* **competencies**: one per prefix, each with one dimension holding its items (a comment where an item-like
  column shares no prefix: it is left out of the model);
* **reverse-keyed items**: an item whose correlation with the rest of its competency is negative is drafted as
  ``reverse: true`` (a guess from the data, commented);
* **other columns**: the id column (unique, non-empty, named like an id where possible), direct identifiers
  (``pii``: names, e-mail addresses, phone numbers, by header or by content), completion time (``duration``),
  categorical columns with few values (``group``), other numeric columns (``covariate``), the rest ``ignore``.

The functions here are pure (a DataFrame of text cells in, YAML text out); the command line in
:mod:`compval.__main__` reads the file and writes the drafts, never overwriting an existing file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from .clean import PII_HEADER_PATTERN, looks_like_pii
from .io import TableMeta

__all__ = ["ColumnGuess", "Draft", "draft_study", "item_prefix"]

ITEM_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
ID_HEADER = re.compile(
    r"(^|[_\s.-])(id|code|no|nr|number|key)$|^(id|uid|respondent|employee|staff)|工号|编号|员工号|序号|学号",
    re.IGNORECASE,
)
DURATION_HEADER = re.compile(r"duration|seconds|secs?\b|time_?taken|completion_?time|用时|时长|秒", re.IGNORECASE)
MAX_LIKERT_POINTS = 11


def item_prefix(name: str) -> str | None:
    """The stem an item column shares with its siblings: the name without its trailing number (and the
    separator before it), e.g. ``ACH_EXC_1 -> ACH_EXC``, ``Q3.2 -> Q3``, ``sat4 -> sat``; None without one."""
    m = re.match(r"^(.*?[A-Za-z][A-Za-z0-9]*?)[_.]?(\d+)$", name)
    if not m or not ITEM_ID.match(name):
        return None
    return m.group(1).rstrip("_.")


@dataclass
class ColumnGuess:
    name: str
    role: str  # item | id | pii | duration | group | covariate | ignore
    why: str
    prefix: str | None = None
    type: str | None = None


@dataclass
class Draft:
    """The drafted codebook and config (as data and as commented YAML) and the guess for every column."""

    codebook: dict
    config: dict
    codebook_yaml: str
    config_yaml: str
    columns: list[ColumnGuess] = field(default_factory=list)


def _numbers(col: pd.Series) -> tuple[pd.Series, float]:
    text = col.astype(str).str.strip()
    given = text[text != ""]
    num = pd.to_numeric(given, errors="coerce")
    share = float(num.notna().mean()) if len(given) else 0.0
    return num.dropna().astype(float), share


def _guess_columns(raw: pd.DataFrame, meta: TableMeta) -> list[ColumnGuess]:
    n = len(raw)
    guesses: list[ColumnGuess] = []
    stats = {}
    for c in raw.columns:
        num, share = _numbers(raw[c])
        text = raw[c].astype(str).str.strip()
        stats[c] = {"num": num, "share": share, "given": int((text != "").sum()), "unique": text[text != ""].nunique()}

    # the id column: every row filled and unique; a name that says "id" first, else the first such column
    unique_full = [c for c in raw.columns if stats[c]["given"] == n and stats[c]["unique"] == n]
    named = [c for c in unique_full if ID_HEADER.search(str(c))]
    id_col = (named or unique_full or [None])[0]

    # candidate items: numeric, bounded, a valid id with a prefix shared by another candidate
    cand: dict[str, str] = {}
    for c in raw.columns:
        st = stats[c]
        if c == id_col or st["share"] < 0.95 or st["given"] == 0 or PII_HEADER_PATTERN.search(str(c)):
            continue
        prefix = item_prefix(str(c))
        if prefix is None:
            continue
        num = st["num"]
        whole = bool((num == np.round(num)).all())
        points = num.nunique()
        if (whole and points <= MAX_LIKERT_POINTS) or (not whole and num.max() - num.min() <= 100):
            cand[c] = prefix
    counts = pd.Series(list(cand.values())).value_counts() if cand else pd.Series(dtype=int)

    for c in raw.columns:
        st = stats[c]
        if c == id_col:
            why = "unique in every row" + (
                ", named like an id" if ID_HEADER.search(str(c)) else " (no column is named like an id: check)"
            )
            guesses.append(ColumnGuess(c, "id", why))
            continue
        pii_why = "header looks like a direct identifier" if PII_HEADER_PATTERN.search(str(c)) else None
        if pii_why is None:
            found = looks_like_pii(raw[c], share=0.5)
            pii_why = f"cells look like {found}" if found else None
        if pii_why:
            guesses.append(ColumnGuess(c, "pii", pii_why))
            continue
        if c in cand:
            if counts[cand[c]] >= 2:
                guesses.append(ColumnGuess(c, "item", f"numeric and bounded, prefix {cand[c]!r}", prefix=cand[c]))
                continue
            guesses.append(
                ColumnGuess(
                    c,
                    "ignore",
                    "numeric and bounded like an item, but no other column shares "
                    f"its prefix {cand[c]!r}: could not tell its competency; "
                    "add it to one if it is an item",
                )
            )
            continue
        if st["given"] == 0:
            guesses.append(ColumnGuess(c, "ignore", "empty column"))
        elif st["share"] >= 0.95 and DURATION_HEADER.search(str(c)):
            guesses.append(
                ColumnGuess(c, "duration", "numeric, named like a completion time (seconds?)", type="numeric")
            )
        elif st["unique"] <= max(2, min(20, n // 10)):
            guesses.append(ColumnGuess(c, "group", f"{st['unique']} distinct values", type="categorical"))
        elif st["share"] >= 0.95:
            guesses.append(ColumnGuess(c, "covariate", "numeric", type="numeric"))
        else:
            guesses.append(ColumnGuess(c, "ignore", f"text with {st['unique']} distinct values (free text?)"))
    return guesses


def _scale(raw: pd.DataFrame, items: list[str], meta: TableMeta) -> tuple[dict, list[str]]:
    """The scale from the items' values (or their SPSS value labels) and the comments explaining it."""
    values = pd.concat([_numbers(raw[c])[0] for c in items]) if items else pd.Series(dtype=float)
    lo, hi = float(values.min()), float(values.max())
    whole = bool((values == np.round(values)).all())
    notes: list[str] = []
    labelled = [meta.value_labels.get(c) for c in items if meta.value_labels.get(c)]
    if whole and labelled:
        codes = sorted({float(k) for lab in labelled for k in lab})
        label_of = {float(k): str(v) for k, v in labelled[0].items()}
        lo, hi = min(codes[0], lo), max(codes[-1], hi)
        scale = {"min": int(lo), "max": int(hi)}
        if codes == [float(k) for k in range(int(lo), int(hi) + 1)] and all(k in label_of for k in codes):
            scale["labels"] = [label_of[k] for k in codes]
            notes.append(f"scale from the SPSS value labels: {int(lo)}-{int(hi)}, labelled")
        else:
            notes.append(
                f"scale {int(lo)}-{int(hi)} from the value labels and the answers (labels do not cover "
                "every point: left out)"
            )
        return scale, notes
    if whole:
        notes.append(
            f"scale {int(lo)}-{int(hi)}: the smallest and largest answer seen; if the instrument's scale is "
            "wider (no one chose an end point), widen it"
        )
        return {"min": int(lo), "max": int(hi)}, notes
    lo_r, hi_r = float(np.floor(lo)), float(np.ceil(hi))
    notes.append(
        f"answers have decimals: continuous scale {lo_r:g}-{hi_r:g} (smallest and largest answer, rounded "
        "outwards); set the instrument's true range"
    )
    return {"type": "continuous", "min": int(lo_r), "max": int(hi_r)}, notes


def _reversed(raw: pd.DataFrame, groups: dict[str, list[str]]) -> dict[str, float]:
    """Items whose correlation with the sum of the rest of their group is negative (reverse-keying guess)."""
    out: dict[str, float] = {}
    for items in groups.values():
        if len(items) < 3:
            continue
        x = pd.DataFrame({c: pd.to_numeric(raw[c].astype(str).str.strip(), errors="coerce") for c in items})
        for c in items:
            rest = x.drop(columns=c).sum(axis=1, min_count=1)
            r = x[c].corr(rest)
            if np.isfinite(r) and r < 0:
                out[c] = float(r)
    return out


def _key(prefix: str, used: set[str]) -> str:
    key = re.sub(r"[^A-Za-z0-9_]", "_", prefix)
    if not re.match(r"^[A-Za-z]", key):
        key = "c_" + key
    base, k = key, 2
    while key in used:
        key, k = f"{base}_{k}", k + 1
    used.add(key)
    return key


def _yaml_value(v) -> str:
    """One value as inline YAML: flow style for mappings and lists, a JSON scalar otherwise (valid YAML, and
    without the document-end marker PyYAML adds after a bare scalar)."""
    if isinstance(v, (dict, list)):
        return yaml.safe_dump(v, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False).strip()
    return json.dumps(v, ensure_ascii=False)


def draft_study(raw: pd.DataFrame, meta: TableMeta, *, survey: str, instrument: str, seed: int) -> Draft:
    """Draft ``codebook.yaml`` and ``config.yaml`` for an export (text cells, as :func:`compval.io.read_table`).

    Parameters
    ----------
    raw, meta
        The export as read by :func:`compval.io.read_table`.
    survey : str
        The export's path as the config should name it (relative to the study folder).
    instrument : str
        The instrument's title.
    seed : int
        The seed written into the config.

    Returns
    -------
    Draft
    """
    guesses = _guess_columns(raw, meta)
    id_guess = next((g for g in guesses if g.role == "id"), None)
    if id_guess is None:
        raise ValueError(
            "no column has a value in every row that is unique: add a respondent id column to the "
            "export (the pipeline matches and pseudonymises respondents by it)"
        )
    items = [g.name for g in guesses if g.role == "item"]
    if len(items) < 2:
        raise ValueError(
            "found fewer than two item columns (numeric, on a bounded scale, names with a shared prefix "
            "and a number, such as Q1_1, Q1_2); name the item columns so, or write the codebook by hand"
        )
    groups: dict[str, list[str]] = {}
    for g in guesses:
        if g.role == "item":
            groups.setdefault(g.prefix, []).append(g.name)
    scale, scale_notes = _scale(raw, items, meta)
    rev = _reversed(raw, groups)
    used: set[str] = set()
    competencies = []
    for prefix, its in groups.items():
        competencies.append(
            {
                "key": _key(prefix, used),
                "name": prefix,
                "dimensions": [
                    {
                        "name": prefix,
                        "items": [{"id": i, "text": meta.variable_labels.get(i, i), "reverse": i in rev} for i in its],
                    }
                ],
            }
        )
    columns = [
        {
            "name": g.name,
            "role": g.role,
            **({"pii": True} if g.role == "pii" else {}),
            **({"type": g.type} if g.type else {}),
        }
        for g in guesses
        if g.role not in ("item", "id")
    ]
    codebook = {
        "instrument": instrument,
        "notes": "Drafted by `python -m compval init` from the export; every guess is commented. Check the scale, "
        "the grouping of items into competencies and dimensions, and the reverse-keyed items.",
        "scale": scale,
        "id_column": id_guess.name,
        "columns": columns,
        "modules": [{"name": "Module 1", "competencies": competencies}],
    }
    config = {"survey": survey, "codebook": "codebook.yaml", "seed": seed}

    # ---- commented YAML: the same data, each guess explained
    lines = [
        f"# Codebook drafted by `python -m compval init` from {survey}.",
        "# Every guess below is commented: check each, then run the pipeline (README, 'Your own questionnaire').",
        f"instrument: {_yaml_value(instrument)}",
        f"notes: {_yaml_value(codebook['notes'])}",
    ]
    lines += [f"# {n}" for n in scale_notes]
    lines.append(f"scale: {_yaml_value(scale)}")
    lines.append(f"id_column: {_yaml_value(id_guess.name)}   # {id_guess.why}")
    lines.append("columns:                # the export's other columns and how the pipeline treats them")
    by_name = {g.name: g for g in guesses}
    for col in columns:
        lines.append(f"  - {_yaml_value(col)}   # {by_name[col['name']].why}")
    if not columns:
        lines[-1] = "columns: []"
    lines += [
        "modules:",
        "  # one module holding every competency: group competencies into modules if the model has them",
        "  - name: Module 1",
        "    competencies:",
    ]
    for comp in competencies:
        prefix = comp["name"]
        lines += [
            f"      # items with the prefix {prefix!r}: one competency with one dimension; rename it, split it "
            "into dimensions",
            f"      - key: {comp['key']}",
            f"        name: {_yaml_value(prefix)}",
            "        dimensions:",
            f"          - name: {_yaml_value(prefix)}",
            "            items:",
        ]
        for it in comp["dimensions"][0]["items"]:
            note = (
                f"   # reverse: guessed from its negative correlation ({rev[it['id']]:.2f}) with the rest of {prefix}"
                if it["reverse"]
                else ""
            )
            lines.append(f"              - {_yaml_value(it)}{note}")
    codebook_yaml = "\n".join(lines) + "\n"
    config_yaml = (
        "\n".join(
            [
                "# Study configuration drafted by `python -m compval init`. Paths are relative to this folder; "
                "every key",
                "# left out takes the tool's default (src/compval/schemas/config.schema.yaml).",
                f"survey: {_yaml_value(survey)}",
                "codebook: codebook.yaml",
                "# performance: sales.csv          # performance records: turns on the criterion stage",
                "# validity: {invariance_group: <a column with role group>}",
                "# criterion: {controls: [<covariate or group columns>]}",
                f"seed: {seed}                      # every random step derives from it; "
                "fix it before looking at results",
            ]
        )
        + "\n"
    )
    # the YAML must say what the data say
    if yaml.safe_load(codebook_yaml) != codebook or yaml.safe_load(config_yaml) != config:
        raise RuntimeError("scaffold: the commented YAML does not round-trip to the drafted codebook/config")
    return Draft(
        codebook=codebook, config=config, codebook_yaml=codebook_yaml, config_yaml=config_yaml, columns=guesses
    )
