"""Data preparation and the checks before estimation (lavaan's ``lav_data`` / ``lav_samplestats`` checks):
the indicators of each group as arrays, the sample statistics ML needs, and the reasons a model cannot be
estimated or identified (too few rows, a covariance matrix that is not positive definite, negative df)."""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import pandas as pd

from . import samplestats
from .samplestats import GroupData, column_group_data_sets, from_source, group_data_sets, make_room

__all__ = ["prepare_groups", "positive_definite", "group_name", "df_status", "ml_group_data", "ml_groups", "source_key"]


def prepare_groups(data: pd.DataFrame, ov: list[str], group: str | None, missing: str):
    """(group labels, one array of the indicators per group): numeric, rows with any missing value dropped
    under ``missing="listwise"``, else only rows with every value missing; labels ``[None]`` without ``group``."""
    missing_cols = [c for c in ov if c not in data.columns]
    if missing_cols:
        raise KeyError(f"indicators not in data: {missing_cols}")
    labels, rows = _group_rows(data, group)
    out = []
    for r in rows:
        y = _rows(data, ov, r)
        nan = np.isnan(y)
        drop = nan.any(axis=1) if missing == "listwise" else nan.all(axis=1)
        del nan
        out.append(y[~drop] if drop.any() else y)  # no copy when every row stays
    return labels, out


def _group_rows(data: pd.DataFrame, group: str | None) -> tuple[list, list[np.ndarray | None]]:
    """(group labels, each group's row positions in the data's order); ``[None], [None]`` without ``group``."""
    if group is None:
        return [None], [None]
    g = data[group]
    labels = list(pd.unique(g[g.notna()]))
    return labels, [np.flatnonzero((g == lab).to_numpy()) for lab in labels]


def _rows(frame: pd.DataFrame, cols: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    """The columns at the row positions ``rows`` (None: every row) as one C-ordered float array (rows x columns;
    non-numeric values NaN), filled column by column: one array of the data's size, where
    ``frame.iloc[rows][cols].to_numpy()`` makes two copies (the rows, then a column-ordered array) that the
    sample statistics would copy again."""
    coerce = not all(pd.api.types.is_numeric_dtype(frame[c]) for c in cols)
    y = np.empty((len(frame) if rows is None else len(rows), len(cols)))
    for j, c in enumerate(cols):
        col = pd.to_numeric(frame[c], errors="coerce") if coerce else frame[c]
        values = col.to_numpy(dtype=float, na_value=np.nan)
        y[:, j] = values if rows is None else values[rows]
    return y


def positive_definite(cov: np.ndarray) -> bool:
    """Whether a covariance matrix is numerically positive definite (eigenvalues above p * eps * largest)."""
    if not np.all(np.isfinite(cov)):
        return False
    ev = np.linalg.eigvalsh(cov)
    return bool(ev.min() > cov.shape[0] * np.finfo(float).eps * max(ev.max(), 0.0) and ev.min() > 0)


def group_name(labels: list, g: int) -> str:
    """How a group is named in a status: its label, or its 1-based number when there is no grouping column."""
    return str(g + 1 if labels[g] is None else labels[g])


def df_status(df: int, status: list, warnings: list) -> None:
    """A model with more free parameters than sample statistics is not identified: said in ``status`` and
    ``warnings`` (in place)."""
    if df < 0:
        status.append(f"not identified (df = {df} < 0)")
        warnings.append(f"model has more free parameters than sample moments (df = {df})")


def source_key(data: pd.DataFrame, ov: list[str], group: str | None, missing: str) -> bytes | None:
    """A digest of what :func:`prepare_groups` makes its arrays from: the values of the indicator columns ``ov``
    and of the grouping column, and the missing-data rule (None when a column is absent, or an indicator is not
    numeric: its text would be parsed first). Equal digests give equal arrays, so their sample statistics can be
    found without making the arrays (:func:`.samplestats.from_source`): a million rows x 50 indicators are a
    400 MB copy per fit otherwise. Each column is read where it lies (a float column of a float block is not copied)."""
    if any(c not in data.columns for c in ov) or (group is not None and group not in data.columns):
        return None  # prepare_groups says which
    cols = [data[c] for c in ov]
    if not all(pd.api.types.is_numeric_dtype(c) for c in cols):
        return None
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((len(data), list(ov), group, missing)).encode())
    for c in cols:
        values = c.to_numpy() if c.dtype == np.float64 else c.to_numpy(float, na_value=np.nan)
        h.update(np.ascontiguousarray(values).data)
    if group is not None:
        h.update(np.ascontiguousarray(pd.util.hash_pandas_object(data[group], index=False).to_numpy()).data)
    return h.digest()


def ml_groups(
    data: pd.DataFrame,
    ov: list[str],
    group: str | None,
    missing: str,
    status: list,
    warnings: list,
    rows: bool = True,
) -> tuple[list, list[GroupData] | None]:
    """(group labels, :func:`ml_group_data` of :func:`prepare_groups`'s arrays): the sample statistics ML starts
    from, found without making the arrays when a fit to the same columns, grouping and missing-data rule has
    computed them and they are still kept (:func:`source_key`; the same objects, so the same numbers).
    ``rows=False``: the fit needs no casewise terms (ML, not MLR; :func:`.samplestats.group_data_sets`)."""
    source = source_key(data, ov, group, missing)
    hit = None if source is None else from_source(source, rows=rows)
    if hit is not None:
        labels = list(hit[0])  # type: ignore[call-overload]  # the payload ml_group_data stored: the labels
        return labels, _estimable(hit[1], labels, missing, status, warnings)
    make_room(len(data) * len(ov) * 8)  # the cache lets go of what these rows will push out before they are made
    columns = _float_columns(data, ov) if source is not None and not rows and missing == "ml" else None
    if columns is not None and len(data) * len(ov) * 8 > samplestats.LET_GO_BYTES:
        return _column_groups(data, columns, group, status, warnings, source)
    labels, ys = prepare_groups(data, ov, group, missing)
    return labels, ml_group_data(ys, labels, missing, status, warnings, source=source, rows=rows)


def _float_columns(data: pd.DataFrame, ov: list[str]) -> list[np.ndarray] | None:
    """The indicator columns as float64 arrays where they lie (no copy), or None when one is not float64."""
    if not all(data[c].dtype == np.float64 for c in ov):
        return None
    return [data[c].to_numpy() for c in ov]


def _column_groups(data, columns, group, status, warnings, source):
    """:func:`ml_groups` for an ML fit under FIML to a large table of float columns: the statistics from the
    columns (:func:`.samplestats.column_group_data_sets`: the same numbers without a copy of every row)."""
    labels, rows = _group_rows(data, group)
    observed = np.zeros(len(data), dtype=bool)  # rows with some value observed (the others are left out)
    for c in columns:
        observed |= ~np.isnan(c)
    sizes = [int(np.count_nonzero(observed if r is None else observed[r])) for r in rows]
    build = functools.partial(column_group_data_sets, columns, rows, source=source, payload=tuple(labels))
    return labels, _summarised(build, sizes, labels, "ml", status, warnings)


def ml_group_data(
    ys: list,
    labels: list,
    missing: str,
    status: list,
    warnings: list,
    source: bytes | None = None,
    rows: bool = True,
) -> list[GroupData] | None:
    """Sample statistics of each group for ML (:func:`.samplestats.group_data_sets`, which consumes the arrays ``ys``
    of :func:`prepare_groups`: the caller drops them), or None when the model cannot
    be estimated -- a group with fewer than 2 rows, an h1 model that cannot be estimated, a sample (or EM)
    covariance matrix that is not positive definite (lavaan stops there) -- with the reason in ``status``.
    ``source``: the :func:`source_key` the arrays were made from (remembered with the labels); ``rows``: as
    :func:`.samplestats.group_data_sets`."""
    sizes = [len(y) for y in ys]
    build = functools.partial(group_data_sets, ys, consume=True, source=source, payload=tuple(labels), rows=rows)
    return _summarised(build, sizes, labels, missing, status, warnings)


def _summarised(build, sizes: list[int], labels: list, missing: str, status: list, warnings: list):
    """``build()`` (the groups' sample statistics) when every group has at least 2 rows, or None with the reason
    in ``status`` (too few rows, an h1 model that cannot be estimated, :func:`_estimable`)."""
    too_small = [group_name(labels, g) for g, n in enumerate(sizes) if n <= 1]
    if too_small:
        status.append("not estimable: fewer than 2 complete rows in group(s) " + ", ".join(too_small))
        return None
    try:
        groups = build()
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        status.append(f"not estimable: the saturated (h1) model could not be estimated ({exc})")
        return None
    return _estimable(groups, labels, missing, status, warnings)


def _estimable(groups: list[GroupData], labels: list, missing: str, status: list, warnings: list):
    """``groups``, or None with the reason in ``status`` when a covariance matrix is not positive definite."""
    singular = [group_name(labels, g) for g, gd in enumerate(groups) if not positive_definite(gd.cov)]
    if singular:
        what = "sample" if missing == "listwise" else "EM-estimated (h1)"
        status.append(
            f"not estimable: {what} covariance matrix not positive definite in group(s) "
            + ", ".join(singular)
            + " (fewer cases than indicators, or linearly dependent indicators)"
        )
        warnings.append(status[-1])
        return None
    return groups
