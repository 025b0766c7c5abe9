"""Numbers and labels as the tables, figures and report show them, written once.

Number formatting follows APA 7 (section 6.36): no leading zero for values that cannot exceed 1 in absolute
value (correlations, reliability coefficients, standardized loadings, proportions of variance, p values),
a leading zero otherwise; p values with three decimals and ``< .001`` below that.

Besides the numbers: pipeline keys as display text (:func:`pretty`), fit-index names, optional label maps,
item groups, loadings in wide form and factor-pair lookups - the small helpers every presentation module
needs to read the pipeline's tidy tables.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from compval.i18n import N_, display_label
from compval.i18n import gettext as _
from compval.resampling import BLB_METHOD, PERCENTILE_BOOTSTRAP, parse_method

__all__ = [
    "NA",
    "finite",
    "format_number",
    "format_p",
    "format_ci",
    "format_r",
    "fmt_r",
    "fmt_num",
    "pretty",
    "INDEX_LABELS",
    "index_label",
    "label",
    "groups_to_map",
    "wide_loadings",
    "pair_lookup",
    "require_columns",
    "CorrelationColumns",
    "interval_method",
    "interval_methods",
]

NA = ""  # how missing values are shown in tables


def finite(x) -> bool:
    """Whether ``x`` is a finite number. Booleans (Python or NumPy) are not numbers here: a yes/no value is
    never printed or judged as 1 or 0; None, NaN, ``pd.NA``, infinities and text are not finite either."""
    if isinstance(x, (bool, np.bool_)):
        return False
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def format_number(x, digits: int = 2, *, leading_zero: bool = True, na: str = NA) -> str:
    """Round ``x`` to ``digits`` decimals; drop the leading zero when ``leading_zero`` is False (APA for
    quantities bounded by 1: ``-0.32 -> "-.32"``). Negative zero prints as zero; NaN/None as ``na``."""
    if not finite(x):
        return na
    s = f"{float(x):.{digits}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    if not leading_zero:
        s = re.sub(r"^(-?)0\.", r"\1.", s)
    return s


def format_p(p, digits: int = 3, *, na: str = NA) -> str:
    """APA p value: three decimals without leading zero, ``< .001`` below .001 (``digits`` sets the floor)."""
    if not finite(p):
        return na
    floor = 10.0 ** (-digits)
    if float(p) < floor:
        return "< " + format_number(floor, digits, leading_zero=False)
    return format_number(p, digits, leading_zero=False)


def format_ci(lower, upper, digits: int = 2, *, leading_zero: bool = False, na: str = NA) -> str:
    """``[lo, hi]`` with APA number formatting; ``na`` when either bound is missing."""
    if not (finite(lower) and finite(upper)):
        return na
    return (
        f"[{format_number(lower, digits, leading_zero=leading_zero)}, "
        f"{format_number(upper, digits, leading_zero=leading_zero)}]"
    )


def format_r(x, digits: int = 2, *, na: str = NA) -> str:
    """A quantity bounded by 1, APA style (no leading zero): ``0.8443 -> ".84"``; ``na`` when missing."""
    return format_number(x, digits, leading_zero=False, na=na)


def fmt_r(x, digits: int = 2) -> str:
    """:func:`format_r` with "n/a" for a missing value (the report's text)."""
    return format_r(x, digits, na=_("n/a"))


def fmt_num(x, digits: int = 2) -> str:
    """Any other number with a leading zero; "n/a" when missing."""
    return format_number(x, digits, na=_("n/a"))


#: Pipeline keys shown through :func:`pretty` (exclusion reasons, CFA models, invariance steps, reliability
#: levels), marked for the catalogue.
_DISPLAY_KEYS = (
    N_("Missing id"),
    N_("Duplicate id"),
    N_("No responses"),
    N_("Careless responding"),
    N_("Too many missing"),
    N_("All missing"),
    N_("Incomplete"),
    N_("Hypothesized"),
    N_("One factor"),
    N_("Modules"),
    N_("Second order"),
    N_("Orthogonal"),
    N_("Parcels"),
    N_("Configural"),
    N_("Metric"),
    N_("Scalar"),
    N_("Strict"),
    N_("Competency"),
    N_("Module"),
)


def pretty(key) -> str:
    """A key as display text: its display name in the active language where the configuration gives one
    (config ``labels``, :func:`compval.i18n.display_labels`), else ``"card_sales_volume" -> "Card sales volume"``,
    translated when the catalogue has the text (model names, invariance steps, exclusion reasons); data keys
    without an entry stay as they are."""
    shown = display_label(key)
    if shown is not None:
        return shown
    s = str(key).replace("_", " ").strip()
    return _(s[:1].upper() + s[1:])


#: Display names of the fit indices (others are shown upper-cased).
INDEX_LABELS = {"cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "nnfi": "NNFI"}


def index_label(index: str) -> str:
    """``"cfi" -> "CFI"``; an index without a display name upper-cased."""
    return INDEX_LABELS.get(index, index.upper())


def label(mapping: Mapping | None, key) -> str:
    """``mapping[key]`` as text when the optional label map has it, else the key itself."""
    return str(mapping.get(key, key)) if mapping else str(key)


def groups_to_map(item_groups) -> dict[str, str]:
    """``{group: [items]}`` or ``{item: group}`` -> ``{item: group}`` (items as text, insertion order kept)."""
    item_groups = dict(item_groups or {})
    if item_groups and all(isinstance(v, (list, tuple)) for v in item_groups.values()):
        return {str(i): g for g, items in item_groups.items() for i in items}
    return {str(k): v for k, v in item_groups.items()}


def wide_loadings(
    loadings: pd.DataFrame, item: str = "item", factor: str = "factor", value: str = "loading"
) -> pd.DataFrame:
    """Loadings as a wide item x factor frame (accepts wide input - items as index or an ``item`` column - or
    long input: item, factor, loading)."""
    if {item, factor, value} <= set(loadings.columns):
        w = loadings.pivot(index=item, columns=factor, values=value)
        return w.reindex(index=pd.unique(loadings[item]), columns=pd.unique(loadings[factor]))
    w = loadings.set_index(item) if item in loadings.columns else loadings
    return w.apply(pd.to_numeric)


def require_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    """Raise ``ValueError`` naming ``what`` when ``df`` lacks any of ``cols``."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; got {list(df.columns)}")


def pair_lookup(df: pd.DataFrame | None, value: str, what: str = "factor pairs") -> dict[frozenset, float]:
    """``{frozenset({factor_a, factor_b}): value}`` from a table of factor pairs (empty without a table)."""
    if df is None:
        return {}
    require_columns(df, ["factor_a", "factor_b", value], what)
    return {frozenset((a, b)): float(v) for a, b, v in zip(df["factor_a"], df["factor_b"], df[value])}


class CorrelationColumns(NamedTuple):
    """Column names of a tidy table of correlations with confidence intervals (``criterion.correlate``)."""

    predictor: str = "competency"
    criterion: str = "criterion"
    r: str = "r"
    lower: str = "ci_lower"
    upper: str = "ci_upper"


def interval_method(method) -> str:
    """The name of a bootstrap interval's method (a result table's ``*ci_method`` value: "percentile bootstrap"
    or "bag of little bootstraps (b = ..., s = ..., r = ...)") in the active language."""
    blb = parse_method(method)
    return _(BLB_METHOD).format(**blb) if blb else _(PERCENTILE_BOOTSTRAP)


def interval_methods(df: pd.DataFrame | None, columns: Sequence[str], *, blb_only: bool = False) -> list[str]:
    """The distinct methods named in ``columns`` of ``df`` (in order of appearance; empty and missing values
    and absent columns skipped), untranslated; ``blb_only``: only bags of little bootstraps."""
    out: list[str] = []
    if df is None:
        return out
    for c in columns:
        if c not in df.columns:
            continue
        for v in df[c]:
            if isinstance(v, str) and v and v not in out and (parse_method(v) or not blb_only):
                out.append(v)
    return out
