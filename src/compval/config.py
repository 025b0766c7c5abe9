"""The pipeline's configuration: one schema with every default, shorthands, and the names a config uses.

Three steps turn what a user wrote into what the rules read, all before any analysis runs
(``workflow/rules/common.smk`` calls them at parse time):

1. :func:`validate_config` checks the config against ``schemas/config.schema.yaml`` (shipped in the package), one
   problem per line with its key path, then fills in every default the schema declares. The schema is the only
   place a default lives, and no default names a column of the demo: a config naming only ``survey`` and
   ``codebook`` is complete.
2. :func:`expand_shorthands` turns what people type first into the full form (``performance: sales.csv`` ->
   ``{path: sales.csv, id_column: <the codebook's id_column>}``).
3. :func:`check_names` checks every name the config uses against the codebook and the performance file's
   header: criterion controls, the invariance group, the performance id column and criteria, ``log_criteria``,
   the items of ``cfa.user_models``, ``efa.n_factors`` against the number of items, options that need ordinal
   items. Each problem names the key path, the wrong name and the names that exist (closest match first).

:class:`ConfigError` carries all problems at once, so that one run shows everything to fix.
"""

from __future__ import annotations

import copy
import difflib
from importlib import resources
from typing import Any, Iterable, Mapping, Sequence

from .jsonschemas import Draft202012Validator, validators

from .codebook import ProblemsError, key_path, load_yaml

__all__ = [
    "ConfigError",
    "config_schema",
    "config_defaults",
    "validate_config",
    "expand_shorthands",
    "check_names",
    "closest_first",
    "prepare_config",
    "prepare_variants",
]


class ConfigError(ProblemsError):
    """A configuration that cannot run: every problem, one per line, each naming its key path."""

    what = "configuration"


def config_schema() -> dict:
    """The JSON schema of the pipeline's configuration (shipped inside the package)."""
    text = resources.files("compval").joinpath("schemas/config.schema.yaml").read_text(encoding="utf-8")
    return load_yaml(text)


def _with_defaults(validator_class):
    """A validator that fills in each property's ``default`` before validating it (the jsonschema FAQ recipe,
    as Snakemake's ``validate(set_default=True)``), so nested objects with ``default: {}`` get their own
    defaults too."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


_FillingValidator = _with_defaults(Draft202012Validator)


def _message(error) -> str:
    """One readable line for a schema error: what is wrong and what is expected."""
    path = key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
        return "; ".join(
            f"{key_path([*error.absolute_path, k])}: unknown key; known keys: {', '.join(closest_first(k, allowed))}"
            for k in extra
        )
    if error.validator == "enum":
        return f"{path}: {error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator in ("oneOf", "anyOf"):
        hint = error.schema.get("description", "")
        return f"{path}: {error.instance!r} is not valid here" + (f"; expected {hint}" if hint else "")
    return f"{path}: {error.message}"


def validate_config(config: Mapping[str, Any], source: str = "config") -> dict:
    """Check a configuration against the schema and return a copy with every default filled in.

    Raises
    ------
    ConfigError
        With one line per problem (key path, what is wrong, what is expected).
    """
    if not isinstance(config, Mapping):
        raise ConfigError(source, [f"<root>: expected a mapping of settings, got {type(config).__name__}"])
    data = copy.deepcopy(dict(config))
    schema = config_schema()
    errors = sorted(
        Draft202012Validator(schema).iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    )
    if errors:
        raise ConfigError(source, [_message(e) for e in errors])
    for _ in _FillingValidator(schema).iter_errors(data):  # fills defaults; the config is already valid
        pass
    return data


def config_defaults() -> dict:
    """Every optional key with its default (the schema's ``default:`` values), e.g. for library callers."""
    data: dict = {}
    for _ in _FillingValidator(config_schema()).iter_errors(data):
        pass
    return data


def closest_first(name: str, candidates: Iterable[str]) -> list[str]:
    """``candidates`` ordered by similarity to ``name`` (difflib ratio, case-insensitive), then as given."""
    cands = list(dict.fromkeys(str(c) for c in candidates))
    return sorted(cands, key=lambda c: -difflib.SequenceMatcher(None, name.lower(), c.lower()).ratio())


def _listing(names: Sequence[str], limit: int = 12) -> str:
    if not names:
        return "(none)"
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _unknown(key: str, name: str, what: str, available: Sequence[str]) -> str:
    return f"{key}: {name!r} is not {what}; available: {_listing(closest_first(name, available))}"


def expand_shorthands(config: Mapping[str, Any], codebook) -> dict:
    """Turn shorthands into the full form the rules read.

    ``performance: file.csv`` means ``{path: file.csv}``; a performance mapping without ``id_column`` takes the
    codebook's ``id_column`` (whether the file has that column is checked by :func:`check_names`). A variant given
    as a path means ``{codebook: path, model: hypothesized}``.
    """
    data = copy.deepcopy(dict(config))
    data["variants"] = {
        name: {"codebook": v, "model": "hypothesized"} if isinstance(v, str) else {"model": "hypothesized", **v}
        for name, v in (data.get("variants") or {}).items()
    }
    perf = data.get("performance")
    if isinstance(perf, str):
        perf = {"path": perf}
    if isinstance(perf, dict):
        perf = {"criteria": None, "log_criteria": [], **perf}
        perf.setdefault("id_column", None)
        if perf["id_column"] is None:
            perf["id_column"] = codebook.id_column
            perf["id_column_from"] = "codebook"
        else:
            perf["id_column_from"] = "config"
        data["performance"] = perf
    return data


def check_names(config: Mapping[str, Any], codebook, performance_columns: Sequence[str] | None = None) -> list[str]:
    """Every name the configuration uses, checked against the codebook and the performance file's header.

    Parameters
    ----------
    config : dict
        A validated configuration with shorthands expanded (:func:`validate_config`, :func:`expand_shorthands`).
    codebook : compval.codebook.Codebook
    performance_columns : list of str, optional
        The header of the performance file (``None`` when there is no performance file).

    Returns
    -------
    list of str
        One problem per line, naming the key path, the wrong name and the names that exist (closest first);
        empty when every name is known.
    """
    from .sem.partable import ModelSyntaxError, model_names

    problems: list[str] = []
    items = list(codebook.item_ids)
    groups = codebook.columns_with_role("group")
    respondent_cols = groups + codebook.columns_with_role("covariate")

    for i, c in enumerate(config["criterion"]["controls"]):
        if c not in respondent_cols:
            problems.append(
                _unknown(
                    f"criterion.controls[{i}]", c, "a codebook column with role covariate or group", respondent_cols
                )
            )
    group = config["validity"]["invariance_group"]
    if group is not None and group not in groups:
        problems.append(_unknown("validity.invariance_group", group, "a codebook column with role group", groups))

    perf = config.get("performance")
    if perf and performance_columns is not None:
        cols = [str(c) for c in performance_columns]
        idc = perf["id_column"]
        if idc not in cols:
            if perf.get("id_column_from") == "codebook":
                problems.append(
                    f"performance: the file {perf['path']} has no column {idc!r} (the codebook's id_column), so "
                    f"its records cannot be matched to respondents; name its id column: "
                    f"performance: {{path: {perf['path']}, id_column: <one of: {_listing(closest_first(idc, cols))}>}}"
                )
            else:
                problems.append(_unknown("performance.id_column", idc, f"a column of {perf['path']}", cols))
        criteria_cols = [c for c in cols if c != idc]
        for i, c in enumerate(perf.get("criteria") or []):
            if c not in criteria_cols:
                problems.append(_unknown(f"performance.criteria[{i}]", c, f"a column of {perf['path']}", criteria_cols))
        chosen = perf.get("criteria") or criteria_cols
        for i, c in enumerate(perf.get("log_criteria") or []):
            if c not in chosen:
                problems.append(_unknown(f"performance.log_criteria[{i}]", c, "one of the criteria", chosen))

    for name, syntax in (config["cfa"]["user_models"] or {}).items():
        key = f"cfa.user_models.{name}"
        try:
            ov, _lv = model_names(syntax)
        except ModelSyntaxError as exc:
            problems.append(f"{key}: not valid lavaan syntax: {exc}")
            continue
        for v in ov:
            if v not in items:
                problems.append(_unknown(key, v, "an item of the codebook", items))

    n_factors = config["efa"]["n_factors"]
    if n_factors is not None:
        # an EFA needs positive degrees of freedom: ((p - k)^2 - (p + k)) / 2 > 0 (psych::fa warns below)
        p = len(items)
        k_max = max((k for k in range(1, p + 1) if ((p - k) ** 2 - (p + k)) / 2 > 0), default=0)
        if n_factors > k_max:
            problems.append(
                f"efa.n_factors: {n_factors} factors cannot be extracted from {p} items (at most "
                f"{k_max} leave positive degrees of freedom)"
            )

    if codebook.scale_type == "continuous":
        if config["cfa"]["estimator"] == "WLSMV":
            problems.append(
                "cfa.estimator: WLSMV treats items as ordinal categories, but the codebook declares "
                "scale type continuous; use ML or MLR"
            )
        if config["efa"]["cor"] == "polychoric":
            problems.append(
                "efa.cor: polychoric correlations need ordinal categories, but the codebook declares "
                "scale type continuous; use pearson"
            )
    return problems


def prepare_config(config, source: str = "config"):
    """The configuration the rules read, and the codebook, checked before anything runs.

    Validates ``config`` against the packaged schema (filling in every default), expands shorthands, loads the
    codebook and checks every name the config uses against it and against the performance file's header
    (:mod:`compval.config`).

    Returns
    -------
    (dict, Codebook)

    Raises
    ------
    compval.config.ConfigError
        All problems at once, one line each, naming the key path, the wrong name and the available names.
    compval.codebook.CodebookError
        The codebook itself is invalid.
    """
    from pathlib import Path

    from .codebook import load_codebook
    from .io import InputError, read_table

    cfg = validate_config(config, source)
    problems = [f"{key}: file not found: {cfg[key]}" for key in ("survey", "codebook") if not Path(cfg[key]).is_file()]
    if problems:
        raise ConfigError(source, problems)
    codebook = load_codebook(cfg["codebook"])
    cfg = expand_shorthands(cfg, codebook)
    perf = cfg["performance"]
    header = None
    if perf:
        if not Path(perf["path"]).is_file():
            raise ConfigError(source, [f"performance.path: file not found: {perf['path']}"])
        try:
            table, _ = read_table(perf["path"], sheet=perf.get("sheet"))
        except InputError as exc:
            raise ConfigError(source, [f"performance.path: {exc}"]) from None
        header = list(table.columns)
    problems = check_names(cfg, codebook, header)
    if problems:
        raise ConfigError(source, problems)
    return cfg, codebook


def prepare_variants(config: Mapping[str, Any], codebook, source: str = "config") -> dict:
    """The codebooks of config ``variants``, checked against the main codebook before anything runs.

    A variant is analysed on the main codebook's cleaned data, so it must name the same id column and answer
    scale, and its items must be items of the main codebook (a revision may drop, move or re-key items, not add
    columns the cleaning did not screen). Every name the config uses is checked against each variant as well
    (:func:`check_names`).

    Parameters
    ----------
    config : dict
        The prepared configuration (:func:`prepare_config`).
    codebook : compval.codebook.Codebook
        The main codebook (the variant ``original``).
    source : str
        Where the config came from, for the error message.

    Returns
    -------
    dict
        ``{"original": codebook, name: Codebook, ...}`` in config order.

    Raises
    ------
    ConfigError
        Every problem at once, each starting with ``variants.<name>``.
    compval.codebook.CodebookError
        A variant's codebook is itself invalid (the message names its file).
    """
    from pathlib import Path

    from .codebook import load_codebook

    out = {"original": codebook}
    problems: list[str] = []
    main_items = list(codebook.item_ids)
    for name, spec in (config.get("variants") or {}).items():
        key = f"variants.{name}"
        path = spec["codebook"]
        if not Path(path).is_file():
            problems.append(f"{key}: file not found: {path}")
            continue
        cb = load_codebook(path)
        if cb.id_column != codebook.id_column:
            problems.append(
                f"{key} ({path}): id_column {cb.id_column!r} differs from the main codebook's "
                f"{codebook.id_column!r}; a variant is analysed on the same cleaned data"
            )
        scale, main_scale = (
            (cb.scale_min, cb.scale_max, cb.scale_type),
            (
                codebook.scale_min,
                codebook.scale_max,
                codebook.scale_type,
            ),
        )
        if scale != main_scale:
            problems.append(
                f"{key} ({path}): scale {scale[0]}-{scale[1]} {scale[2]} differs from the main codebook's "
                f"{main_scale[0]}-{main_scale[1]} {main_scale[2]}; a variant is analysed on the same cleaned data"
            )
        foreign = [i for i in cb.item_ids if i not in main_items]
        if foreign:
            problems.append(
                f"{key} ({path}): {len(foreign)} item(s) not in the main codebook ({config['codebook']}): "
                f"{_listing(foreign)}; a variant may drop, move or re-key the main codebook's items, whose answers "
                f"the cleaning screened (add new items to the main codebook instead)"
            )
        problems += [f"{key} ({path}): {p}" for p in check_names(config, cb)]
        out[name] = cb
    if problems:
        raise ConfigError(source, problems)
    return out
