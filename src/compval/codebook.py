"""The codebook: an instrument's measurement model as data.

A codebook (YAML) declares the response scale, the respondent id column, optional non-item columns
(identifiers, covariates, grouping variables) and the hierarchy module -> competency -> dimension -> item.
Every stage of the pipeline derives its models from this object; no stage knows item names or the number
of factors in advance.

The codebook is validated against ``schemas/codebook.schema.yaml`` (JSON Schema, draft 2020-12) and then
against the rules a schema cannot express (unique ids and keys, a scale with at least two points, ...).
All problems are collected and reported together, each with its key path, e.g.
``modules[0].competencies[1].dimensions[2].items[0].id: 'ACH 1' does not match ...``.

Every human-readable field (instrument, notes, scale labels, column descriptions, module / competency /
dimension names and descriptions, item texts) is either a plain string or a language map
``{zh: 成就导向, en: Achievement orientation}``. The codebook's ``language`` (default ``en``) is the language
of :attr:`Codebook.items` and :meth:`Codebook.names`; :meth:`Codebook.localized` resolves every field to another
language, falling back to the codebook's language (listed in :attr:`Codebook.fallbacks`) where a map lacks it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import yaml
from compval.i18n import SOURCE_LANGUAGE, resolve

__all__ = [
    "Codebook",
    "CodebookError",
    "ProblemsError",
    "load_codebook",
    "codebook_schema",
    "slugify",
    "IngestSpec",
    "key_path",
    "load_yaml",
]


class ProblemsError(ValueError):
    """An invalid input file: ``source`` names it, ``problems`` lists every problem, each with its key path.

    The message is ``"invalid <what> <source>: <n> problem(s)"`` and one ``"  - <problem>"`` line per problem;
    subclasses set ``what`` (:class:`CodebookError`, :class:`compval.config.ConfigError`).
    """

    what = "input"

    def __init__(self, source: str, problems: Sequence[str]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {self.what} {source}: {len(self.problems)} problem(s)\n{lines}")


class CodebookError(ProblemsError):
    """Raised when a codebook is invalid; ``problems`` lists every problem with its key path."""

    what = "codebook"


def slugify(text: str) -> str:
    """Lower-case identifier made of ``[a-z0-9_]`` from free text (used for module and dimension keys)."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", text.strip().lower()).strip("_")
    if not s or not s[0].isalpha():
        s = "k_" + s
    return s


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, parsed by libyaml when PyYAML has it (about 7 times faster: the Snakefile reads the
    codebook, every variant and the schemas at each start). A text libyaml rejects is parsed again by the
    pure-Python parser, so an error names the same problem and position as ``yaml.safe_load``'s would."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def codebook_schema() -> dict:
    """The JSON schema a codebook must satisfy (shipped inside the package)."""
    text = resources.files("compval").joinpath("schemas/codebook.schema.yaml").read_text(encoding="utf-8")
    return load_yaml(text)


def key_path(path) -> str:
    """A JSON-schema error path as a config or codebook key path: ``modules[0].competencies[2].key``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<root>"


@dataclass(frozen=True)
class Codebook:
    """A validated codebook.

    Attributes
    ----------
    data : dict
        The codebook as parsed from YAML (with defaults filled in: ``reverse: false``, module and
        dimension ``key`` derived from their names when absent).
    source : str
        Where it came from (file path or ``<dict>``), used in messages.
    """

    data: dict
    source: str = "<dict>"
    fallbacks: tuple = field(default=(), compare=False)
    _items: pd.DataFrame = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        rows = []
        t = self.label
        for m in self.data["modules"]:
            for c in m["competencies"]:
                for d in c["dimensions"]:
                    for it in d["items"]:
                        rows.append(
                            {
                                "item": it["id"],
                                "text": t(it["text"]),
                                "reverse": bool(it.get("reverse", False)),
                                "dimension": d["key"],
                                "dimension_name": t(d["name"]),
                                "competency": c["key"],
                                "competency_name": t(c["name"]),
                                "module": m["key"],
                                "module_name": t(m["name"]),
                            }
                        )
        object.__setattr__(self, "_items", pd.DataFrame(rows))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> "Codebook":
        """Validate ``data`` and build a Codebook; raises :class:`CodebookError` listing all problems."""
        data = copy.deepcopy(data)
        problems = _validate(data)
        if problems:
            raise CodebookError(source, problems)
        return cls._completed(data, source)

    @classmethod
    def _completed(cls, data: dict, source: str) -> "Codebook":
        """A Codebook of ``data`` (valid against the codebook schema; modified in place): the derived keys and
        defaults filled in and checked."""
        lang = _default_language(data)
        for m in data["modules"]:
            m.setdefault("key", slugify(resolve(m["name"], lang)[0]))
            for c in m["competencies"]:
                for d in c["dimensions"]:
                    d.setdefault("key", f"{c['key']}__{slugify(resolve(d['name'], lang)[0])}")
                    for it in d["items"]:
                        it.setdefault("reverse", False)
        problems = _validate_derived_keys(data)
        if problems:
            raise CodebookError(source, problems)
        return cls(data=data, source=source)

    @classmethod
    def from_structure(cls, structure: dict) -> "Codebook":
        """Rebuild a Codebook from :meth:`structure` (item wording is not carried: each text is set to its id).

        ``structure`` is what :meth:`structure` returned for a codebook that :meth:`from_dict` validated (the
        pipeline's jobs get it from the Snakefile, which loaded and validated the codebook), so it is not checked
        against the JSON schema again: that would cost every job about 0.1 s (importing jsonschema and running it).
        Its derived keys are checked, as in :meth:`from_dict`. A dict of any other origin goes to :meth:`from_dict`.
        """
        data = copy.deepcopy(structure)
        for m in data["modules"]:
            for c in m["competencies"]:
                for d in c["dimensions"]:
                    for it in d["items"]:
                        it.setdefault("text", it["id"])
        return cls._completed(data, "<structure>")

    # ------------------------------------------------------------------ languages
    @property
    def language(self) -> str:
        """The codebook's own language (its ``language`` field, English when absent): the language of
        :attr:`items`, :meth:`names`, :attr:`instrument` and :attr:`scale_labels`."""
        return _default_language(self.data)

    def label(self, value, lang: str | None = None) -> str:
        """The text of a codebook field (plain string or language map) in ``lang`` (default: the codebook's
        language); a map without ``lang`` falls back to the codebook's language, then to its first entry."""
        return resolve(value, lang or self.language, self.language)[0]

    def languages(self) -> list[str]:
        """Languages used by the language maps of the codebook, in order of first appearance."""
        out: list[str] = []
        for _path, value in _text_fields(self.data):
            if isinstance(value, dict):
                out += [k for k in value if k not in out]
        return out

    def localized(self, lang: str) -> "Codebook":
        """This codebook with every human-readable field resolved to ``lang`` (plain strings throughout).

        Where a language map lacks ``lang`` the codebook's language is used instead and the field is listed
        in the result's :attr:`fallbacks` as ``"<key path> (<language used>)"``, e.g.
        ``"modules[0].competencies[1].dimensions[0].items[1].text (en)"``, for the report to mention.
        Keys, ids and the structure are unchanged, so analyses give the same results in every language.
        """
        data = copy.deepcopy(self.data)
        fallbacks = []
        for path, value in _text_fields(data):
            text, used = resolve(value, lang, self.language)
            if used is not None and used != lang:
                fallbacks.append(f"{key_path(path)} ({used})")
            _set_path(data, path, text)
        data["language"] = lang
        return Codebook(data=data, source=self.source, fallbacks=tuple(fallbacks))

    # ------------------------------------------------------------------ basic facts
    @property
    def instrument(self) -> str:
        return self.label(self.data["instrument"])

    @property
    def scale_min(self) -> int | float:
        return _scale_number(self.data["scale"]["min"])

    @property
    def scale_max(self) -> int | float:
        return _scale_number(self.data["scale"]["max"])

    @property
    def scale_type(self) -> str:
        """``likert`` (whole numbers from min to max, the default) or ``continuous`` (any number in [min, max])."""
        return self.data["scale"].get("type", "likert")

    @property
    def scale_labels(self) -> list[str]:
        return [self.label(x) for x in self.data["scale"].get("labels", [])]

    @property
    def id_column(self) -> str:
        return self.data["id_column"]

    @property
    def items(self) -> pd.DataFrame:
        """Tidy item table in codebook order: item, text, reverse, dimension(_name), competency(_name),
        module(_name)."""
        return self._items.copy()

    @property
    def item_ids(self) -> list[str]:
        return self._items["item"].tolist()

    @property
    def reverse_items(self) -> list[str]:
        return self._items.loc[self._items["reverse"], "item"].tolist()

    @property
    def competencies(self) -> list[str]:
        return list(dict.fromkeys(self._items["competency"]))

    @property
    def modules(self) -> list[str]:
        return list(dict.fromkeys(self._items["module"]))

    @property
    def dimensions(self) -> list[str]:
        return list(dict.fromkeys(self._items["dimension"]))

    def names(self, level: str) -> dict[str, str]:
        """Key -> display name for ``level`` in {'competency', 'module', 'dimension'}."""
        t = self._items.drop_duplicates(level)
        return dict(zip(t[level], t[f"{level}_name"]))

    def groups(self, level: str = "competency") -> dict[str, list[str]]:
        """Key -> item ids, for ``level`` in {'competency', 'module', 'dimension'}, in codebook order."""
        if level not in ("competency", "module", "dimension"):
            raise ValueError(f"unknown level {level!r}")
        out: dict[str, list[str]] = {}
        for key, item in zip(self._items[level], self._items["item"]):
            out.setdefault(key, []).append(item)
        return out

    def competency_module(self) -> dict[str, str]:
        """Competency key -> module key."""
        t = self._items.drop_duplicates("competency")
        return dict(zip(t["competency"], t["module"]))

    def dimension_competency(self) -> dict[str, str]:
        """Dimension key -> competency key."""
        t = self._items.drop_duplicates("dimension")
        return dict(zip(t["dimension"], t["competency"]))

    # ------------------------------------------------------------------ non-item columns
    @property
    def columns(self) -> list[dict]:
        return list(self.data.get("columns", []))

    def pii_columns(self) -> list[str]:
        """Columns declared as direct identifiers (``pii: true`` or ``role: pii``)."""
        return [c["name"] for c in self.columns if c.get("pii") or c.get("role") == "pii"]

    def columns_with_role(self, role: str) -> list[str]:
        return [c["name"] for c in self.columns if c.get("role") == role]

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        return copy.deepcopy(self.data)

    def to_yaml(self, header: str = "") -> str:
        """The codebook as YAML text that :func:`load_codebook` reads back to an equal codebook (keys in the
        codebook's order, Unicode kept, long texts folded); ``header`` lines are written first as comments."""
        lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
        return lines + yaml.dump(self.data, Dumper=_CodebookDumper, allow_unicode=True, sort_keys=False, width=110)

    def structure(self) -> dict:
        """The measurement structure without item wording: what analyses depend on.

        Used as a Snakemake ``params`` value so that editing an item's text does not rerun the analyses,
        while moving an item, reversing it or changing the scale does.
        """
        d = self.to_dict()
        for key in ("notes", "source", "version", "language"):
            d.pop(key, None)
        for m in d["modules"]:
            m.pop("description", None)
            for c in m["competencies"]:
                c.pop("definition", None)
                for dim in c["dimensions"]:
                    dim.pop("description", None)
                    for it in dim["items"]:
                        it.pop("text", None)
                        it.pop("source", None)
        return d

    def ingest_spec(self) -> dict:
        """What reading and cleaning the export depends on: ids, item ids, scale, non-item columns."""
        return {
            "id_column": self.id_column,
            "scale": {"min": self.scale_min, "max": self.scale_max, "type": self.scale_type},
            "items": sorted(self.item_ids),  # order-free: moving an item must not change it
            "columns": self.columns,
        }

    def sha256(self) -> str:
        """Hash of the canonical JSON form (provenance)."""
        return hashlib.sha256(json.dumps(self.data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def reverse_in_array(self, values: np.ndarray, columns) -> None:
        """Recode the columns ``columns`` (positions) of the float array ``values`` as ``min + max - x``, in the
        array itself, column by column (no temporary of the columns): the recoding of :meth:`reverse_score`.
        Applied twice it gives every whole-number answer back to the bit."""
        c = self.scale_min + self.scale_max
        for j in columns:
            np.subtract(c, values[:, j], out=values[:, j])

    def reverse_score(self, items: pd.DataFrame, *, in_place: bool = False) -> pd.DataFrame:
        """``items`` with reverse-keyed items recoded as ``min + max - x`` (a copy unless ``in_place``, below).

        An all-float64 table comes back as one float block (recoded in a copy of the array): assigning the recoded
        columns to a frame would split it into blocks, and every later ``to_numpy`` would copy it whole.

        ``in_place``: the caller gives ``items`` away. When they are one writeable float64 block, the reverse-keyed
        columns are recoded in that array (the same arithmetic) and the returned frame shares it: no copy, 400 MB
        less at a million respondents x 50 items. ``items`` must not be used afterwards. Otherwise a copy, as
        without it.
        """
        rev = [c for c in self.reverse_items if c in items.columns]
        if items.shape[1] and all(isinstance(t, np.dtype) and t == np.float64 for t in items.dtypes):
            values = items.to_numpy(copy=not in_place)  # one block: a view; several blocks: a new array anyway
            if not values.flags.writeable:
                values = values.copy()
            self.reverse_in_array(values, items.columns.get_indexer(rev))
            return pd.DataFrame(values, index=items.index.copy(), columns=items.columns.copy(), copy=False)
        out = items.copy()
        out[rev] = (self.scale_min + self.scale_max) - out[rev]
        return out


@dataclass(frozen=True)
class IngestSpec:
    """The part of a codebook that reading and checking an export depends on (see :meth:`Codebook.ingest_spec`).

    It offers the same attributes as :class:`Codebook` for these facts, so cleaning code accepts either.
    """

    id_column: str
    item_ids: list
    scale_min: int | float
    scale_max: int | float
    columns: list
    scale_type: str = "likert"

    @classmethod
    def from_dict(cls, d: dict) -> "IngestSpec":
        return cls(
            id_column=d["id_column"],
            item_ids=list(d["items"]),
            scale_min=_scale_number(d["scale"]["min"]),
            scale_max=_scale_number(d["scale"]["max"]),
            columns=list(d.get("columns", [])),
            scale_type=d["scale"].get("type", "likert"),
        )

    def pii_columns(self) -> list[str]:
        return [c["name"] for c in self.columns if c.get("pii") or c.get("role") == "pii"]

    def columns_with_role(self, role: str) -> list[str]:
        return [c["name"] for c in self.columns if c.get("role") == role]


def _scale_number(v) -> int | float:
    """A scale bound as written: whole numbers as int (Likert points), others as float."""
    return int(v) if float(v).is_integer() else float(v)


def _default_language(data: dict) -> str:
    lang = data.get("language")
    return lang if isinstance(lang, str) and lang else SOURCE_LANGUAGE


#: Key paths of the human-readable fields under a module (relative), a competency and a dimension.
_MODULE_TEXT = ("name", "description")
_COMPETENCY_TEXT = ("name", "definition")
_DIMENSION_TEXT = ("name", "description")


def _text_fields(data: dict) -> Iterator[tuple[tuple, Any]]:
    """(key path, value) of every human-readable field present in a codebook dict."""
    for key in ("instrument", "notes"):
        if key in data:
            yield (key,), data[key]
    for i, lab in enumerate((data.get("scale") or {}).get("labels", [])):
        yield ("scale", "labels", i), lab
    for i, col in enumerate(data.get("columns", [])):
        if "description" in col:
            yield ("columns", i, "description"), col["description"]
    for i, m in enumerate(data.get("modules", [])):
        mp = ("modules", i)
        yield from (((*mp, k), m[k]) for k in _MODULE_TEXT if k in m)
        for j, c in enumerate(m.get("competencies", [])):
            cp = (*mp, "competencies", j)
            yield from (((*cp, k), c[k]) for k in _COMPETENCY_TEXT if k in c)
            for k, d in enumerate(c.get("dimensions", [])):
                dp = (*cp, "dimensions", k)
                yield from (((*dp, f), d[f]) for f in _DIMENSION_TEXT if f in d)
                for n, it in enumerate(d.get("items", [])):
                    if "text" in it:
                        yield (*dp, "items", n, "text"), it["text"]


def _set_path(data, path: tuple, value) -> None:
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = value


def _dimensions_of(competency: dict, cpath: str) -> Iterator[tuple[str, dict]]:
    """(key path, dimension) of each dimension of a validated competency whose key path is ``cpath``."""
    for k, d in enumerate(competency["dimensions"]):
        yield f"{cpath}.dimensions[{k}]", d


def _items_of(competency: dict, cpath: str) -> Iterator[tuple[str, dict]]:
    """(key path, item) of each item of a validated competency, dimension by dimension."""
    for dpath, d in _dimensions_of(competency, cpath):
        for n, it in enumerate(d["items"]):
            yield f"{dpath}.items[{n}]", it


def _validate(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return [f"<root>: expected a mapping, got {type(data).__name__}"]
    from compval.jsonschemas import Draft202012Validator  # here: Codebook.from_structure does not need it

    validator = Draft202012Validator(codebook_schema())
    problems = [
        f"{key_path(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    ]
    if problems:
        return problems
    scale = data["scale"]
    if scale["max"] <= scale["min"]:
        problems.append(f"scale: max ({scale['max']}) must be greater than min ({scale['min']})")
    labels = scale.get("labels")
    if scale.get("type", "likert") == "likert":
        for bound in ("min", "max"):
            if not float(scale[bound]).is_integer():
                problems.append(
                    f"scale.{bound}: {scale[bound]} is not a whole number, but a likert scale has "
                    "whole-number points; declare `scale: {type: continuous}` for scores with decimals"
                )
        if problems:
            return problems
    elif labels is not None:
        problems.append("scale.labels: labels name the points of a likert scale; a continuous scale has none")
    if labels is not None and len(labels) != scale["max"] - scale["min"] + 1:
        problems.append(f"scale.labels: {len(labels)} labels given for a {scale['max'] - scale['min'] + 1}-point scale")
    seen_items: dict[str, str] = {}
    seen_comp: dict[str, str] = {}
    seen_mod: dict[str, str] = {}
    lang = _default_language(data)
    for i, m in enumerate(data["modules"]):
        mpath = f"modules[{i}]"
        mname = resolve(m["name"], lang)[0]
        if mname in seen_mod:
            problems.append(f"{mpath}.name: module '{mname}' already defined at {seen_mod[mname]}")
        seen_mod[mname] = mpath
        for j, c in enumerate(m["competencies"]):
            cpath = f"{mpath}.competencies[{j}]"
            if c["key"] in seen_comp:
                problems.append(f"{cpath}.key: competency key '{c['key']}' already used at {seen_comp[c['key']]}")
            seen_comp[c["key"]] = cpath
            for path, it in _items_of(c, cpath):
                ipath = f"{path}.id"
                if it["id"] in seen_items:
                    problems.append(f"{ipath}: item id '{it['id']}' already used at {seen_items[it['id']]}")
                seen_items[it["id"]] = ipath
    if data["id_column"] in seen_items:
        problems.append(f"id_column: '{data['id_column']}' is also an item id")
    col_names = [c["name"] for c in data.get("columns", [])]
    for i, name in enumerate(col_names):
        if name in seen_items:
            problems.append(f"columns[{i}].name: '{name}' is also an item id")
        if col_names.index(name) != i:
            problems.append(f"columns[{i}].name: column '{name}' listed twice")
    for i, c in enumerate(data.get("columns", [])):
        if c.get("role") == "pii" and c.get("pii") is False:
            problems.append(f"columns[{i}]: role 'pii' contradicts pii: false")
    for i, m in enumerate(data["modules"]):
        for j, c in enumerate(m["competencies"]):
            for ipath, it in _items_of(c, f"modules[{i}].competencies[{j}]"):
                syn = it.get("synonym_of")
                if syn is not None and syn not in seen_items:
                    problems.append(f"{ipath}.synonym_of: unknown item '{syn}'")
    return problems


def _validate_derived_keys(data: dict) -> list[str]:
    problems = []
    seen_mod: dict[str, str] = {}
    seen_dim: dict[str, str] = {}
    for i, m in enumerate(data["modules"]):
        if m["key"] in seen_mod:
            problems.append(f"modules[{i}].key: module key '{m['key']}' already used at {seen_mod[m['key']]}")
        seen_mod[m["key"]] = f"modules[{i}]"
        for j, c in enumerate(m["competencies"]):
            for path, d in _dimensions_of(c, f"modules[{i}].competencies[{j}]"):
                if d["key"] in seen_dim:
                    problems.append(f"{path}.key: dimension key '{d['key']}' already used at {seen_dim[d['key']]}")
                seen_dim[d["key"]] = path
    return problems


class _CodebookDumper(yaml.SafeDumper):
    """YAML for people: long strings folded (``>``), short ones plain."""


_CodebookDumper.add_representer(
    str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style=">" if len(s) > 100 else None)
)


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file.

    Raises
    ------
    CodebookError
        With every problem found, each prefixed by its key path, and the file name.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CodebookError(str(path), ["file not found"]) from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise CodebookError(str(path), [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return Codebook.from_dict(data, source=str(path))
