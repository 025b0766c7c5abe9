"""Cleaning a questionnaire export against its codebook, with a complete audit trail.

Every respondent (data row) that enters :func:`clean_survey` leaves it either in the analysed set or in the
exclusion table with a stage, a reason and a value; :func:`check_conservation` enforces
``n_raw = n_analyzed + sum(excluded)``. Direct identifiers never leave this module: declared PII columns, columns
whose header looks like a name/e-mail/phone field, and any non-item column whose cells look like e-mail addresses
or phone numbers are dropped before anything is returned, and respondent ids are replaced by a keyed hash
(HMAC-SHA256; :func:`make_pseudonymizer`). The audit log records column names, row numbers, counts and numeric
codes, never cell text.

Order of steps (each one logged):

1. header checks against the codebook (missing item or id column and duplicated columns stop the run; unknown
   columns are dropped and logged);
2. direct identifiers dropped; ids pseudonymised; rows without an id excluded (``missing_id``);
3. item cells parsed: empty -> missing; out-of-range codes (e.g. 0, 6, 9 "not applicable"), non-integer numbers
   and text become missing with one log entry per cell class, or stop the run (``out_of_range: stop``);
4. duplicate respondent ids: ``keep_first`` | ``keep_most_complete`` | ``stop``;
5. respondents with no item answered excluded (``no_responses``);
6. careless responding indices (:mod:`compval.careless`), flagged or excluded (``careless: flag|exclude``);
7. missing-data policy (:mod:`compval.missingness`): ``max_missing`` share, then ``listwise`` or ``pairwise``;
8. item checks (on everyone who answered anything before step 6, and again on the analysed set): an item nobody
   answered or with zero variance stops the run (an analysis of it, and the Mahalanobis distance of step 6, is
   undefined), naming the column; so does an empty analysed set.

Stray identifiers typed into a kept column (an e-mail address or phone number in a group or covariate column) are
blanked cell by cell and logged; a declared column absent from the file is logged and ignored.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from .codebook import Codebook, IngestSpec
from .io import InputError

__all__ = [
    "CleaningOptions",
    "IngestResult",
    "ScreenResult",
    "ingest_survey",
    "screen_respondents",
    "pseudonymize_performance",
    "match_performance",
    "check_conservation",
    "check_items",
    "reverse_scored_in_place",
    "careless_screen",
    "make_pseudonymizer",
    "load_pseudonym_key",
    "looks_like_pii",
    "PII_HEADER_PATTERN",
    "EMAIL_PATTERN",
    "PHONE_PATTERN",
]

PII_HEADER_PATTERN = re.compile(
    r"(^|[_\s.-])(name|first_?name|last_?name|surname|full_?name|e-?mail|mail|phone|mobile|tel|telephone|cell|"
    r"address|id_?card|ssn|passport)($|[_\s.-])|姓名|名字|邮箱|电话|手机|地址|身份证",
    re.IGNORECASE,
)
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE_PATTERN = re.compile(r"^\s*(\+?\d{1,3}[\s-]?)?(\(?\d{2,4}\)?[\s-]?)?\d{3,4}[\s-]?\d{4}\s*$|^\s*1[3-9]\d{9}\s*$")

_EXCLUSION_COLUMNS = ["pid", "stage", "reason", "value"]


def _schema_default(key: str):
    """A field whose default is the config schema's (the one place a default lives)."""
    from .config import config_defaults

    return field(default_factory=lambda: config_defaults()[key])


@dataclass(frozen=True)
class CleaningOptions:
    """Cleaning policies (all from config; defaults from ``schemas/config.schema.yaml``)."""

    out_of_range: str = _schema_default("out_of_range")  # missing | stop
    duplicates: str = _schema_default("duplicates")  # keep_first | keep_most_complete | stop
    missing: str = _schema_default("missing")  # listwise | pairwise | fiml (fiml: treated as pairwise here)
    max_missing: float = _schema_default("max_missing")
    careless: str = _schema_default("careless")  # flag | exclude
    careless_thresholds: dict = _schema_default("careless_thresholds")
    unknown_columns: str = _schema_default("unknown_columns")  # drop | stop
    loss_guard: dict = _schema_default("loss_guard")  # {item: share, total: share}; None switches one off


def load_pseudonym_key(
    env_var: str = "COMPVAL_PSEUDONYM_KEY", key_file: str | os.PathLike | None = None, strict: bool = False
) -> tuple[bytes, str]:
    """Find the key for pseudonymising respondent ids.

    Order: environment variable ``env_var``, then ``key_file`` (kept outside the repository). If neither exists, a
    random per-run key is generated (ids then differ between runs) unless ``strict`` is true, which is an error.

    Returns
    -------
    (key, origin) where origin is ``"env:<var>"``, ``"file:<path>"`` or ``"generated"``.
    """
    val = os.environ.get(env_var)
    if val:
        return val.encode("utf-8"), f"env:{env_var}"
    if key_file:
        p = Path(os.path.expanduser(str(key_file)))
        if p.exists():
            key = p.read_bytes().strip()
            if not key:
                raise InputError(p, "pseudonymisation key file is empty")
            return key, f"file:{p}"
    if strict:
        raise InputError(
            key_file,
            f"no pseudonymisation key: set ${env_var} or create the key file "
            "(privacy.strict is true, so a per-run key is not allowed)",
        )
    return secrets.token_hex(32).encode(), "generated"


def make_pseudonymizer(key: bytes, prefix: str = "P") -> Callable[[str], str]:
    """Keyed hash of a respondent id: ``prefix + hex(HMAC-SHA256(key, id))[:16]``."""

    def pseudo(raw_id: str) -> str:
        # hmac.digest: the one-shot HMAC of the hashlib backend, the same bytes as hmac.new(...).digest()
        return prefix + hmac.digest(key, str(raw_id).strip().encode("utf-8"), "sha256").hex()[:16]

    return pseudo


def _rows_text(rows: list[int], limit: int = 20) -> str:
    rows = sorted(rows)
    s = ";".join(str(r) for r in rows[:limit])
    return s + (f";...(+{len(rows) - limit})" if len(rows) > limit else "")


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(codes, distinct)`` with ``values == distinct[codes]`` cell by cell (``pandas.factorize``, missing values
    kept as a value of their own).

    Every check of a text cell here (trimming, number parsing, the identifier patterns) depends on the cell alone,
    so it is run once per distinct text and spread back through ``codes``: an item column of a million cells
    holds a handful of distinct answers, and even an id column costs no more than before.

    A categorical column (the plain CSV reader's) already is codes into its distinct texts: they are used as they
    are (a category no cell holds any more is a distinct text of no cell, and a missing cell, code -1, a distinct
    value of its own)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        distinct = values.cat.categories.to_numpy(dtype=object)
        if (codes < 0).any():
            codes = np.where(codes < 0, len(distinct), codes)
            distinct = np.append(distinct, np.array([np.nan], dtype=object))
        return codes, pd.Series(distinct, dtype=object)
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    return codes, pd.Series(uniques, dtype=object)


def _pii_masks(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """E-mail and phone masks of trimmed text cells (the definitions of :func:`_pii_cells`)."""
    email = text.str.contains(EMAIL_PATTERN) & (text != "")
    phone = text.str.match(PHONE_PATTERN) & (text != "") & ~email
    return email.fillna(False).astype(bool).to_numpy(), phone.fillna(False).astype(bool).to_numpy()


def _pii_cells(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Masks of cells that contain an e-mail address and of cells that are a phone number."""
    codes, distinct = _distinct(values)
    email, phone = _pii_masks(distinct.astype(str).str.strip())
    return pd.Series(email[codes], index=values.index), pd.Series(phone[codes], index=values.index)


def looks_like_pii(values: pd.Series, share: float = 0.5) -> str | None:
    """Why a whole column counts as a direct identifier: more than ``share`` of its non-empty cells are e-mail
    addresses or phone numbers (``share=0``: any such cell)."""
    codes, distinct = _distinct(values)
    text = distinct.astype(str).str.strip()
    filled = (text != "").to_numpy()
    counts = np.bincount(codes, minlength=len(distinct))
    n = int(counts[filled].sum())
    if n == 0:
        return None
    email, phone = _pii_masks(text[filled])
    if counts[filled][email].sum() / n > share:
        return "e-mail addresses"
    if counts[filled][phone].sum() / n > share:
        return "phone numbers"
    return None


def _count_by_class(classes: dict) -> dict:
    out: dict[str, int] = {}
    for (_, cls), rows in classes.items():
        out[cls] = out.get(cls, 0) + len(rows)
    return dict(sorted(out.items()))


def _nonempty(values: pd.Series) -> int:
    codes, distinct = _distinct(values)
    return int(np.bincount(codes, minlength=len(distinct))[(distinct.astype(str).str.strip() != "").to_numpy()].sum())


@dataclass
class IngestResult:
    """Outputs of :func:`ingest_survey`; none of them holds a direct identifier."""

    responses: pd.DataFrame  # index pid; declared non-PII columns then items as answered (range-checked)
    exclusions: pd.DataFrame  # pid, stage, reason, value
    log: pd.DataFrame  # step, column, issue, count, rows, action
    report: dict
    id_map: dict = field(repr=False, default_factory=dict)  # raw id -> pid, in memory only, never written


@dataclass
class ScreenResult:
    """Outputs of :func:`screen_respondents`."""

    items: pd.DataFrame  # index pid; analysed respondents; items as answered (not reverse-scored)
    respondents: pd.DataFrame  # index pid; every ingested respondent: non-PII covariates, flags, status
    exclusions: pd.DataFrame  # all exclusions (ingest + screening): pid, stage, reason, value
    log: pd.DataFrame
    careless: pd.DataFrame  # index pid; careless indices and flags
    report: dict


def _log_entry(step, issue, *, column="", count=0, rows=(), action=""):
    return {
        "step": step,
        "column": column,
        "issue": issue,
        "count": int(count),
        "rows": _rows_text(list(rows)),
        "action": action,
    }


_LOG_COLUMNS = ["step", "column", "issue", "count", "rows", "action"]


def ingest_survey(
    raw: pd.DataFrame,
    codebook: Codebook | IngestSpec | dict,
    options: CleaningOptions,
    *,
    source: str,
    pseudonymize: Callable[[str], str],
    consume: bool = False,
) -> IngestResult:
    """Check a survey export (text cells as returned by :func:`compval.io.read_table`) against the codebook.

    Steps 1-4 of the module description: header checks, removal of direct identifiers, pseudonymisation,
    item-cell parsing with out-of-range handling, duplicate ids.

    ``raw`` is not modified, unless ``consume`` is true: then the columns this function drops (direct identifiers,
    unknown and ignored columns) are dropped from ``raw`` itself, in place, as soon as they are logged, so that
    their cells (at a million rows, names, e-mail addresses and phone numbers are about 80 MB of text) are not
    held while the answers are parsed; for a caller that does not use ``raw`` afterwards.

    Raises
    ------
    InputError
        For problems that make the file unusable, naming file, row and column.
    """
    if isinstance(codebook, dict):
        codebook = IngestSpec.from_dict(codebook)
    log: list[dict] = []
    excl: list[dict] = []

    def note(*a, **k):
        log.append(_log_entry(*a, **k))

    n_raw = len(raw)
    cols = list(raw.columns)
    header = raw.attrs.get("header", cols)
    # ---- 1. header
    empty_names = [i + 1 for i, c in enumerate(header) if str(c).strip() == ""]
    if empty_names:
        raise InputError(source, f"header cell {empty_names[0]} is empty", row=1, expected="a name for every column")
    dups = [c for c in cols if ".__dup" in c]
    if dups:
        name = dups[0].split(".__dup")[0]
        positions = [i + 1 for i, h in enumerate(header) if h == name]
        raise InputError(
            source,
            f"column name appears {len(positions)} times (positions {positions})",
            row=1,
            column=name,
            expected="each column name once",
        )
    idc = codebook.id_column
    if idc not in cols:
        raise InputError(
            source,
            "id column missing from the header",
            row=1,
            column=idc,
            expected=f"a column '{idc}' (codebook id_column)",
        )
    missing_items = [c for c in codebook.item_ids if c not in cols]
    if missing_items:
        shown = ", ".join(missing_items[:10]) + (" ..." if len(missing_items) > 10 else "")
        raise InputError(
            source,
            f"{len(missing_items)} item column(s) of the codebook are missing: {shown}",
            row=1,
            column=missing_items[0],
            expected="every codebook item as a column",
        )
    declared = {c["name"]: c for c in codebook.columns}
    known = set(codebook.item_ids) | {idc} | set(declared)
    unknown = [c for c in cols if c not in known]
    if unknown and options.unknown_columns == "stop":
        raise InputError(
            source,
            "column not described by the codebook",
            row=1,
            column=unknown[0],
            expected="only the id, item and declared columns (unknown_columns: stop)",
        )
    for c in unknown:
        note("header", "column not in codebook", column=c, count=_nonempty(raw[c]), action="dropped")
    # ---- 2. direct identifiers
    dropped_pii = []
    for c in cols:
        if c in codebook.item_ids or c == idc:
            continue
        spec = declared.get(c, {})
        if spec.get("pii") or spec.get("role") == "pii":
            dropped_pii.append((c, "declared pii in codebook"))
        elif PII_HEADER_PATTERN.search(c):
            dropped_pii.append((c, "header looks like a direct identifier"))
        else:
            # an undeclared column goes anyway: any e-mail/phone cell marks it as an identifier in the audit log;
            # a declared one is dropped when mostly identifiers, else its stray identifier cells are blanked below
            why = looks_like_pii(raw[c], share=0.5 if c in declared else 0.0)
            if why:
                dropped_pii.append((c, f"cells look like {why}"))
    for c, why in dropped_pii:
        note("privacy", why, column=c, count=_nonempty(raw[c]), action="dropped")
    pii_cols = {c for c, _ in dropped_pii}
    # declared non-item columns that carry data: everything else (unknown, pii, role ignore) is dropped here
    keep_cols = [
        c
        for c in cols
        if c == idc
        or c in codebook.item_ids
        or (c in declared and c not in pii_cols and declared[c].get("role") not in ("pii", "ignore"))
    ]
    if consume:  # (before the views below are taken: a view of a dropped column's block would keep it)
        raw.drop(columns=[c for c in cols if c not in keep_cols], inplace=True)
    # the kept columns as views of raw's (no copy of a million rows of text cells); a column that changes is
    # replaced in this dict, so raw's cells are never modified
    cells = {c: raw[c] for c in keep_cols}
    index = raw.index
    # a stray identifier in a kept column (an e-mail or phone number typed into a free field) is blanked
    for c in keep_cols:
        if c == idc or c in codebook.item_ids:
            continue
        email, phone = _pii_cells(cells[c])
        if declared[c].get("type", "categorical" if declared[c].get("role") == "group" else "numeric") == "numeric":
            # a plain 7-10 digit number in a numeric column is a value, not a phone number
            codes, distinct = _distinct(cells[c])
            text = distinct.astype(str).str.strip()
            phone &= (text.str.match(r"^\s*1[3-9]\d{9}\s*$") | text.str.contains(r"[+()\s-]", regex=True)).to_numpy()[
                codes
            ]
        for mask, what in ((email, "an e-mail address"), (phone, "a phone number")):
            if mask.any():
                note(
                    "privacy",
                    f"cell looks like {what}",
                    column=c,
                    count=mask.sum(),
                    rows=index[mask],
                    action="set to missing",
                )
                cells[c] = cells[c].astype(object).mask(mask, "")  # a categorical column has no "" to set
    absent = [c for c in declared if c not in cols]
    for c in absent:
        note("header", "declared column not in file", column=c, action="ignored")

    ids = cells[idc].astype(str).str.strip()
    no_id = ids == ""
    if no_id.any():
        for r in index[no_id]:
            excl.append({"pid": f"row{r}", "stage": "ingest", "reason": "missing_id", "value": f"row {r}"})
        note("ids", "respondent id empty", column=idc, count=no_id.sum(), rows=index[no_id], action="excluded")
        cells = {c: v.loc[~no_id] for c, v in cells.items()}
        index = index[~no_id.to_numpy()]
        ids = ids.loc[~no_id]
        if len(index) == 0:
            raise InputError(
                source,
                f"no row has a respondent id ({n_raw} rows, all empty in this column)",
                column=idc,
                expected="an id in every row",
            )
    id_map = {rid: pseudonymize(rid) for rid in dict.fromkeys(ids)}
    pid = ids.map(id_map)
    if pid.nunique() != ids.nunique():
        raise RuntimeError("pseudonym collision: two distinct ids hash to the same pseudonym")

    # ---- 3. item cells
    lo, hi = codebook.scale_min, codebook.scale_max
    n_rows, n_items = len(index), len(codebook.item_ids)
    # one float block, filled column by column (no per-column frames); column-major, so that dropping rows below
    # moves each column within itself instead of copying the block
    values = np.empty((n_items, n_rows)).T
    lost_cells = np.zeros((n_rows, n_items), dtype=bool)
    classes: dict[tuple[str, str], list[int]] = {}
    whole = codebook.scale_type == "likert"
    for j, c in enumerate(codebook.item_ids):
        # each distinct text is parsed once (see _distinct); the per-cell results are those of the distinct texts
        codes, distinct = _distinct(cells[c])
        text = distinct.astype(str).str.strip()
        num_d = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(float)
        num_d = num_d.where(np.isfinite(num_d))  # 'inf', 'nan', 'NaN' typed into a cell are text, not numbers
        bad_text_d = ((text != "") & num_d.isna()).to_numpy()
        num_d = num_d.to_numpy()
        with np.errstate(invalid="ignore"):
            non_int_d = ~np.isnan(num_d) & (num_d != np.round(num_d)) if whole else np.zeros(len(num_d), bool)
            out_d = ~np.isnan(num_d) & ~non_int_d & ((num_d < lo) | (num_d > hi))
        num = num_d[codes]
        bad_text, non_int, out = bad_text_d[codes], non_int_d[codes], out_d[codes]
        for r in index[bad_text]:
            classes.setdefault((c, "non-numeric text"), []).append(r)
        for r in index[non_int]:
            classes.setdefault((c, "non-integer number"), []).append(r)
        for r, v in zip(index[out], num[out]):
            classes.setdefault((c, f"out-of-range code {int(v)}" if whole else "out-of-range number"), []).append(r)
        bad = bad_text | non_int | out
        if bad.any() and options.out_of_range == "stop":
            i = int(np.flatnonzero(bad)[0])
            r = index[i]
            kind = (
                "text"
                if bad_text[i]
                else ("a non-integer number" if non_int[i] else f"code {int(num[i])}" if whole else f"{num[i]:g}")
            )
            raise InputError(
                source,
                f"invalid response ({kind})",
                row=int(r),
                column=c,
                expected=f"{'an integer' if whole else 'a number'} from {lo} to {hi} or an empty cell",
            )
        lost_cells[:, j] = bad
        values[:, j] = np.where(bad, np.nan, num)
    lost = pd.DataFrame(lost_cells, index=index, columns=codebook.item_ids)
    for (c, cls), rows in sorted(classes.items(), key=lambda kv: (codebook.item_ids.index(kv[0][0]), kv[0][1])):
        note("ranges", cls, column=c, count=len(rows), rows=rows, action="set to missing")
    n_cells_repaired = sum(len(v) for v in classes.values())
    check_cell_loss(raw, lost, codebook, options.loss_guard, source)  # it looks at lost's rows and columns only
    del lost, lost_cells  # a bool per cell (50 MB at a million rows x 50 items) beside the frames built below

    # non-item declared columns
    other = pd.DataFrame(index=index)
    for c, spec in declared.items():
        if c not in cells or spec.get("role") in ("pii", "ignore") or c in pii_cols:
            continue
        role = spec.get("role", "covariate")
        typ = spec.get("type", "categorical" if role == "group" else "numeric")
        # each distinct text is trimmed and parsed once, as the items' are
        codes, distinct = _distinct(cells[c])
        text = distinct.astype(str).str.strip()
        if typ == "numeric":
            num = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(float)
            num = num.where(np.isfinite(num))
            bad = ((text != "") & num.isna()).to_numpy()[codes]
            if bad.any():
                note(
                    "covariates",
                    "non-numeric value",
                    column=c,
                    count=bad.sum(),
                    rows=index[bad],
                    action="set to missing",
                )
            other[c] = num.to_numpy()[codes]
        else:
            other[c] = text.where(text != "", None).to_numpy(dtype=object)[codes]

    # ---- 4. duplicates
    answered = np.zeros(len(index), dtype=np.int64)
    for j in range(n_items):  # column by column: no rows x items mask (50 MB at a million rows x 50 items)
        answered += ~np.isnan(values[:, j])
    n_answered = pd.Series(answered, index=index)
    dup_mask = pid.duplicated(keep=False)
    drop_rows: list[int] = []
    if dup_mask.any():
        if options.duplicates == "stop":
            r = index[pid.duplicated(keep="first")][0]
            first = index[(pid == pid.loc[r])][0]
            raise InputError(
                source,
                f"respondent id duplicates the one in row {first}",
                row=int(r),
                column=idc,
                expected="unique ids (duplicates: stop)",
            )
        for p, grp in pid[dup_mask].groupby(pid[dup_mask], sort=False):
            rows = list(grp.index)
            if options.duplicates == "keep_most_complete":
                keep = max(rows, key=lambda r: (n_answered.loc[r], -rows.index(r)))
            else:
                keep = rows[0]
            for r in rows:
                if r != keep:
                    drop_rows.append(r)
                    excl.append(
                        {
                            "pid": p,
                            "stage": "duplicates",
                            "reason": "duplicate_id",
                            "value": f"row {r} dropped, row {keep} kept ({options.duplicates})",
                        }
                    )
        note(
            "duplicates",
            f"duplicate respondent id ({options.duplicates})",
            column=idc,
            count=len(drop_rows),
            rows=drop_rows,
            action="excluded",
        )
    # the declared columns, then the items, indexed by pid: built from the float block without the copies of
    # drop / set_index / concat / reorder (each a copy of the whole block)
    kept = ~index.isin(drop_rows)
    n_kept = int(kept.sum())
    if drop_rows:
        for j in range(n_items):  # the kept rows to the top of each column, a column at a time
            column = values[:, j]
            column[:n_kept] = column[kept]
    responses = pd.DataFrame(
        values[:n_kept],
        index=pd.Index(pid.to_numpy()[kept], name="pid", dtype=object),  # (as the text columns below: no date reading)
        columns=codebook.item_ids,
    )
    for i, c in enumerate(other.columns):
        column = other[c].to_numpy()[kept]
        # a Series of the column's own dtype: pandas then takes a text column as it is, without trying to read its
        # objects as dates (a temporary of 40 MB per million rows, at this function's peak; the pids' index too)
        responses.insert(i, c, pd.Series(column, index=responses.index, dtype=column.dtype, copy=False))
    exclusions = pd.DataFrame(excl, columns=_EXCLUSION_COLUMNS)
    report = {
        "source": Path(source).name,
        "n_raw": n_raw,
        "n_ingested": int(len(responses)),
        "columns_dropped_pii": [c for c, _ in dropped_pii],
        "columns_dropped_unknown": unknown,
        "cells_set_missing": int(n_cells_repaired),
        "cells_set_missing_by_class": _count_by_class(classes),
        "duplicate_rows_dropped": len(drop_rows),
        "duplicates_policy": options.duplicates,
        "out_of_range_policy": options.out_of_range,
    }
    if report["n_ingested"] + len(exclusions) != n_raw:
        raise RuntimeError(f"ingest lost respondents: {n_raw} rows, {len(responses)} kept, {len(exclusions)} excluded")
    return IngestResult(
        responses=responses,
        exclusions=exclusions,
        log=pd.DataFrame(log, columns=_LOG_COLUMNS),
        report=report,
        id_map=id_map,
    )


def _share(x: float) -> str:
    return f"{100 * x:.0f}%" if x >= 0.01 else f"{100 * x:.1g}%"


def check_cell_loss(
    text: pd.DataFrame, lost: pd.DataFrame, codebook: Codebook | IngestSpec, guard: dict | None, source: str
) -> None:
    """Stop before analysis when cleaning would blank too many item cells (the loss guard).

    A cell is lost when it holds something (not empty) that is not a valid answer: text, a number with decimals on
    a likert scale, or a number outside [min, max]. When the lost share of one item's cells exceeds
    ``guard["item"]`` or the lost share of all item cells exceeds ``guard["total"]`` (``None`` switches a check
    off), the export and the codebook disagree about what the answers are, and analysing what is left would be
    silently wrong.

    Parameters
    ----------
    text : DataFrame
        The cells as read (text), rows = data rows; only the rows and columns of ``lost`` (the items) are looked
        at.
    lost : DataFrame of bool
        The cells cleaning sets to missing (given, but not a valid answer).

    Raises
    ------
    InputError
        One message naming the item(s) over the limit with their shares, the commonest rejected values and the
        likely fix (e.g. declare ``scale: {type: continuous}``, or the scale's real range).
    """
    guard = guard or {}
    n_cells = lost.shape[0] * lost.shape[1]
    if n_cells == 0 or not lost.to_numpy().any():
        return
    per_item = lost.sum() / max(lost.shape[0], 1)
    total = float(lost.to_numpy().sum()) / n_cells
    over_items = per_item[per_item > guard["item"]] if guard.get("item") is not None else per_item.iloc[:0]
    over_total = guard.get("total") is not None and total > guard["total"]
    if over_items.empty and not over_total:
        return
    text = text.loc[lost.index, list(lost.columns)].astype(object)  # the cells' texts, also of categorical columns
    values = pd.Series(text.to_numpy()[lost.to_numpy()]).astype(str).str.strip()
    common = values.value_counts().head(5)
    num = pd.to_numeric(values, errors="coerce")
    lo, hi = codebook.scale_min, codebook.scale_max
    n_text, n_frac = int(num.isna().sum()), int((num.notna() & (num != np.round(num))).sum())
    n_range = len(values) - n_text - n_frac
    valid_num = pd.to_numeric(text.stack(), errors="coerce").dropna()
    obs_lo, obs_hi = float(valid_num.min()) if len(valid_num) else lo, float(valid_num.max()) if len(valid_num) else hi
    fmt = "{:g}".format
    if n_frac >= max(n_text, n_range) and codebook.scale_type == "likert":
        fix = (
            f"the answers are numbers with decimals: if that is what the items are (sliders, test scores, averaged "
            f"ratings), declare `scale: {{type: continuous, min: {fmt(min(lo, np.floor(obs_lo)))}, "
            f"max: {fmt(max(hi, np.ceil(obs_hi)))}}}` in the codebook"
        )
    elif n_range >= max(n_text, n_frac):
        fix = (
            f"the answers run from {fmt(obs_lo)} to {fmt(obs_hi)}: if the scale is {fmt(obs_lo)}-{fmt(obs_hi)}, "
            f"not {fmt(lo)}-{fmt(hi)}, set `scale: {{min: {fmt(obs_lo)}, max: {fmt(obs_hi)}}}` in the codebook; "
            "if codes such as 9 or 99 mean 'no answer', export them as empty cells"
        )
    else:
        fix = (
            "the cells hold text: export the answers as numeric codes, not their labels, and empty cells for no answer"
        )
    where = []
    if over_total:
        where.append(
            f"{_share(total)} of all item cells ({int(lost.to_numpy().sum())} of {n_cells}; "
            f"loss_guard.total is {_share(guard['total'])})"
        )
    if not over_items.empty:
        shown = ", ".join(f"{c} {_share(v)}" for c, v in over_items.sort_values(ascending=False).head(8).items())
        more = f" and {len(over_items) - 8} more" if len(over_items) > 8 else ""
        where.append(
            f"over {_share(guard['item'])} of the cells of {len(over_items)} item(s) (loss_guard.item): {shown}{more}"
        )
    commonest = ", ".join(f"{v!r} ({n})" for v, n in common.items())
    kind = (
        f"numbers from {fmt(lo)} to {fmt(hi)}"
        if codebook.scale_type == "continuous"
        else f"whole numbers from {fmt(lo)} to {fmt(hi)}"
    )
    raise InputError(
        source,
        f"cleaning would set {' and '.join(where)} to missing; commonest rejected values: "
        f"{commonest}; likely fix: {fix}",
        column=str(over_items.index[0]) if len(over_items) else None,
        expected=f"item answers that are {kind} (codebook scale) or empty cells",
    )


def screen_respondents(
    responses: pd.DataFrame,
    codebook: Codebook,
    options: CleaningOptions,
    *,
    prior_exclusions: pd.DataFrame,
    n_raw: int,
    source: str = "survey",
    careless_fn: Callable | None = None,
    items: pd.DataFrame | None = None,
    consume: bool = False,
) -> ScreenResult:
    """Screen ingested respondents: empty records, careless responding, missing-data policy, item checks.

    Steps 5-8 of the module description. ``prior_exclusions`` (from :func:`ingest_survey`) are carried into the
    returned exclusion table so that it is complete, and the conservation law is checked against ``n_raw``.

    Parameters
    ----------
    items : DataFrame, optional
        The answers to the codebook's items, in its order and indexed like ``responses``, when the caller holds
        them apart (:func:`compval.io.read_frame_apart`): used as they are, never written into, where selecting
        them from ``responses`` makes a copy (400 MB at a million respondents). ``responses`` then holds the other
        columns.
    consume : bool
        The caller gives ``items`` away: when they are one writeable column-major float64 block, the analysed
        respondents' rows are moved to the top of each of its columns, a column at a time, and the result's
        ``items`` are a view of them instead of a copy (400 MB less at a million respondents x 50 items). The
        caller must not use ``items`` afterwards. Otherwise they are selected in a copy, as without it.
    careless_fn : callable, optional
        ``f(raw_items, scored_items, duration) -> DataFrame`` of indices and boolean flags with columns
        ``flag_any`` and ``flag_reasons``; defaults to :func:`careless_screen`.

    Raises
    ------
    InputError
        An item nobody answered or with a single value (before and after the exclusions, naming the column),
        careless indices that cannot be computed, or nobody left to analyse.
    RuntimeError
        The conservation law is broken (a bug).
    """
    log: list[dict] = []
    excl: list[dict] = []

    def note(*a, **k):
        log.append(_log_entry(*a, **k))

    if items is None:
        item_block = responses[codebook.item_ids].astype(float, copy=False)  # the selection is a copy already
    else:
        if list(items.columns) != list(codebook.item_ids) or not items.index.equals(responses.index):
            raise ValueError("items must have the codebook's item columns, in its order, and the index of responses")
        item_block = items.astype(float, copy=False)
    respondents = responses.drop(columns=[c for c in codebook.item_ids if c in responses.columns]).copy()
    n_items_missing = item_block.isna().sum(axis=1)  # every respondent, before any exclusion
    # ---- 5. empty responses
    empty = item_block.notna().sum(axis=1) == 0
    for p in item_block.index[empty.to_numpy()]:  # a mask array: a mask Series would hash the million ids
        excl.append({"pid": p, "stage": "screen", "reason": "no_responses", "value": "0 items answered"})
    if empty.any():
        note("responses", "no item answered", count=empty.sum(), action="excluded")
    if empty.any():  # a selection copies the block (400 MB at a million respondents), unless given away
        item_block = _keep_rows(item_block, item_block.index[~empty.to_numpy()], in_place=consume and items is not None)

    # items nobody answered / with one value only make the careless indices (Mahalanobis D2) and every later
    # analysis undefined: stop here, naming the column
    check_items(item_block, codebook.item_ids, source, "respondent")

    # ---- 6. careless responding
    dur_cols = [c for c in codebook.columns_with_role("duration") if c in respondents.columns]
    # the respondents' rows are item_block's: selected by position (a selection by label hashes the million ids)
    duration = respondents[dur_cols[0]].loc[~empty.to_numpy()].astype(float) if dur_cols else None
    not_computed: dict[str, str] = {}
    if careless_fn is None:
        # given away, the answers are reverse-scored within their own block for the indices that need it, and put
        # back (no second table of the items' size: 400 MB at a million respondents); otherwise in a copy
        scored = (
            partial(reverse_scored_in_place, item_block, codebook)
            if consume and items is not None
            else codebook.reverse_score(item_block)
        )
        careless = careless_screen(
            item_block,
            scored,
            duration,
            scales=codebook.groups("dimension"),
            thresholds=options.careless_thresholds,
            categorical=codebook.scale_type == "likert",
            not_computed=not_computed,
        )
    else:
        scored = codebook.reverse_score(item_block)
        careless = careless_fn(item_block, scored, duration)
    del scored  # only the careless indices use the reverse-scored answers (400 MB at a million respondents)
    for index, reason in not_computed.items():
        note("careless", f"index {index} not computed: {reason}", action="not used for flags")
    careless.index.name = "pid"
    flagged = careless.index[careless["flag_any"].astype(bool)]
    dropped = flagged if options.careless == "exclude" else flagged[:0]  # taken out with step 7's, in one selection
    if options.careless == "exclude":
        for p in flagged:
            excl.append(
                {
                    "pid": p,
                    "stage": "careless",
                    "reason": "careless_responding",
                    "value": careless.loc[p, "flag_reasons"],
                }
            )
    note(
        "careless",
        "flagged as careless responder",
        count=len(flagged),
        action="excluded" if options.careless == "exclude" else "flagged (kept)",
    )

    # ---- 7. missing-data policy
    from .missingness import apply_missing_policy

    policy = "listwise" if options.missing == "listwise" else "pairwise"  # fiml keeps incomplete records
    # the policy decides each respondent on his own answers: applied to every screened respondent, then the
    # careless ones excluded above are left out of both its lists, and the rows go in one selection (each
    # selection copies the block: 400 MB at a million respondents)
    kept, miss_excl = apply_missing_policy(item_block, policy=policy, max_missing=options.max_missing)
    if len(dropped):
        kept = kept[~kept.isin(dropped)]
        miss_excl = miss_excl[~miss_excl.index.isin(dropped)]
    for p, r in miss_excl.iterrows():
        excl.append({"pid": p, "stage": "missing", "reason": r["reason"], "value": r["value"]})
    if len(miss_excl):
        for reason, grp in miss_excl.groupby("reason"):
            note("missing", reason, count=len(grp), action="excluded")
    if len(kept) < len(item_block):
        item_block = _keep_rows(item_block, kept, in_place=consume and items is not None)

    # ---- 8. item checks
    if item_block.empty:
        reasons = pd.Series([e["reason"] for e in excl]).value_counts().to_dict()
        raise InputError(
            source,
            "no respondent is left for analysis: all screened respondents were excluded ("
            + ", ".join(f"{k}: {v}" for k, v in reasons.items())
            + ")",
            expected="at least some respondents passing the screening",
        )
    check_items(item_block, codebook.item_ids, source, "analysed respondent")

    parts = [
        t
        for t in (
            prior_exclusions[_EXCLUSION_COLUMNS].astype(object),
            pd.DataFrame(excl, columns=_EXCLUSION_COLUMNS, dtype=object),
        )
        if len(t)
    ]
    exclusions = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_EXCLUSION_COLUMNS, dtype=object)
    )
    # each respondent not analysed gets the stage of its last exclusion (one look-up for all respondents;
    # assigning pid by pid took seconds at a million respondents)
    gone = ~exclusions["pid"].isin(item_block.index) & exclusions["pid"].isin(respondents.index)
    stage_of = {p: f"excluded:{stage}" for p, stage in zip(exclusions["pid"][gone], exclusions["stage"][gone])}
    status = pd.Series(respondents.index.map(stage_of), index=respondents.index, dtype=object).fillna("analysed")
    respondents["status"] = status
    respondents["careless_flag"] = careless["flag_any"].reindex(respondents.index).astype("boolean")
    respondents["n_items_missing"] = n_items_missing
    by_reason = exclusions.groupby("reason", sort=False).size().to_dict() if len(exclusions) else {}
    by_stage = exclusions.groupby("stage", sort=False).size().to_dict() if len(exclusions) else {}
    report = {
        "n_raw": int(n_raw),
        "n_analyzed": int(len(item_block)),
        "excluded": {k: int(v) for k, v in by_reason.items()},
        "excluded_by_stage": {k: int(v) for k, v in by_stage.items()},
        "careless_flagged": int(len(flagged)),
        "careless_policy": options.careless,
        "careless_not_computed": not_computed,
        "missing_policy": options.missing,
        "max_missing": options.max_missing,
    }
    check_conservation(report)
    return ScreenResult(
        items=item_block,
        respondents=respondents,
        exclusions=exclusions,
        log=pd.DataFrame(log, columns=_LOG_COLUMNS),
        careless=careless,
        report=report,
    )


@contextmanager
def reverse_scored_in_place(block: pd.DataFrame, codebook: Codebook) -> Iterator[pd.DataFrame]:
    """``codebook.reverse_score(block)``, made in ``block``'s own array and undone on leaving.

    The reverse-keyed columns are recoded as ``min + max - x`` in place (the operation reverse_score applies to
    its copy, on the same values) and recoded again on leaving, also after an error. That gives each column back
    to the bit when ``min + max - (min + max - x)`` is x in every cell: always for whole-number answers, and
    checked column by column before anything is written. A column that would not come back, or a block that is
    not one writeable float64 array, is scored in a copy instead."""
    values = block.to_numpy()  # a view of a one-block frame (a frame of several blocks: a copy, recoded as well)
    c = codebook.scale_min + codebook.scale_max
    cols = block.columns.get_indexer([x for x in codebook.reverse_items if x in block.columns])

    def comes_back(j: int) -> bool:
        column = values[:, j]
        return bool(np.array_equal((c - (c - column)).view(np.uint64), column.view(np.uint64)))

    if not (values.dtype == np.float64 and values.flags.writeable and all(comes_back(j) for j in cols)):
        yield codebook.reverse_score(block)
        return
    codebook.reverse_in_array(values, cols)
    try:
        yield pd.DataFrame(values, index=block.index, columns=block.columns, copy=False)
    finally:
        codebook.reverse_in_array(values, cols)


def _keep_rows(block: pd.DataFrame, kept: pd.Index, in_place: bool) -> pd.DataFrame:
    """``block.loc[kept]`` for labels ``kept`` of ``block``'s index in its order. ``in_place``: when the block's
    values are one writeable float64 array of contiguous columns (column-major, or the top rows of such an
    array), the kept rows are moved to the top of each column (the same values in the same order) and the result
    is a view of them; the block's other rows are overwritten."""
    values = block.to_numpy()  # a view of a one-block frame (a frame of several blocks: a copy, moved in as well)
    columns_contiguous = values.ndim == 2 and values.strides[0] == values.itemsize
    if not (in_place and values.dtype == np.float64 and columns_contiguous and values.flags.writeable):
        return block.loc[kept]
    mask = block.index.isin(kept)
    index = block.index[mask]
    if not index.equals(kept):
        raise ValueError("kept must be labels of the block's index, in its order")
    n = len(index)
    for j in range(values.shape[1]):
        column = values[:, j]
        column[:n] = column[mask]  # the selection is a temporary of one column, complete before it is assigned
    return pd.DataFrame(values[:n], index=index, columns=block.columns, copy=False)


def check_items(items: pd.DataFrame, item_ids: list[str], source: str, who: str = "respondent") -> None:
    """Stop when an item has no answer or a single distinct answer among ``items``' rows (``who`` names them in
    the message): the careless indices (Mahalanobis D2), Little's test and every later analysis are undefined.

    Raises
    ------
    InputError
        Naming the file and the first such item, in ``item_ids``' order.
    """
    for c in item_ids:
        col = items[c].to_numpy(dtype=float)
        observed = ~np.isnan(col)
        if not observed.any():
            raise InputError(
                source, f"no {who} answered this item", column=c, expected="at least some valid answers per item"
            )
        if np.fmin.reduce(col) == np.fmax.reduce(col):  # one distinct answer (NaN skipped): nunique(dropna=True) < 2
            raise InputError(
                source,
                f"item has zero variance among {who}s (every answer is {col[observed][0]:g})",
                column=c,
                expected="at least two different answers per item",
            )


def careless_screen(
    raw_items: pd.DataFrame,
    scored_items: pd.DataFrame | Callable,
    duration: pd.Series | None,
    *,
    scales: dict[str, list[str]],
    thresholds: dict | None = None,
    categorical: bool = True,
    not_computed: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Careless-responding indices (:func:`compval.careless.careless_indices`) with their flags
    (:func:`compval.careless.flag_careless`): one row per respondent, flag columns prefixed ``flag_``,
    ``flag_any`` and ``flag_reasons``. An index that cannot be computed on the data is NaN (it raises no flag)
    and its reason goes into ``not_computed``."""
    from .careless import careless_indices, flag_careless

    idx = careless_indices(
        raw_items, scales, duration, scored=scored_items, categorical=categorical, not_computed=not_computed
    )
    flags = flag_careless(idx, thresholds or {})
    for c, column in flags.items():  # added to idx's columns: a join would copy idx whole
        idx["flag_" + c] = column
    return idx


def check_conservation(report: dict) -> None:
    """Enforce ``n_raw == n_analyzed + sum(excluded)``; raise RuntimeError naming the numbers otherwise."""
    total = report["n_analyzed"] + sum(report["excluded"].values())
    if total != report["n_raw"]:
        raise RuntimeError(
            f"conservation law broken: n_raw={report['n_raw']} but n_analyzed={report['n_analyzed']} + "
            f"excluded={sum(report['excluded'].values())} = {total}"
        )


def pseudonymize_performance(
    perf: pd.DataFrame,
    *,
    id_column: str,
    source: str,
    pseudonymize: Callable[[str], str],
    criteria: list[str] | None = None,
    known: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check the performance file and replace employee ids by their pseudonyms.

    Parameters
    ----------
    perf : DataFrame
        Text cells as read by :func:`compval.io.read_table`.
    criteria : list of str, optional
        Criterion columns; default every column but the id, less columns that look like direct identifiers.
    known : mapping, optional
        Trimmed ids already pseudonymised by ``pseudonymize`` (the survey's :attr:`IngestResult.id_map`): their
        pseudonyms are looked up instead of hashed again (at a million employees, 3 s of HMAC); the others are
        hashed. The same function gave them, so the pseudonyms are the same.

    Returns
    -------
    DataFrame indexed by pid with numeric criterion columns, one row per performance record.

    Raises
    ------
    InputError
        Missing id column, empty or duplicated ids, non-numeric criterion values (file, row and column named).
    """
    if id_column not in perf.columns:
        raise InputError(
            source,
            "id column missing from the header",
            row=1,
            column=id_column,
            expected=f"a column '{id_column}' (config performance.id_column)",
        )
    dups = [c for c in perf.columns if ".__dup" in c]
    if dups:
        raise InputError(source, "column name appears more than once", row=1, column=dups[0].split(".__dup")[0])
    ids = perf[id_column].astype(str).str.strip()
    if (ids == "").any():
        r = perf.index[ids == ""][0]
        raise InputError(source, "employee id is empty", row=int(r), column=id_column, expected="an id in every row")
    if ids.duplicated().any():
        r = perf.index[ids.duplicated()][0]
        first = perf.index[ids == ids.loc[r]][0]
        raise InputError(
            source,
            f"employee id appears again (first in row {first})",
            row=int(r),
            column=id_column,
            expected="one performance record per employee",
        )
    if criteria is None:
        criteria = [
            c
            for c in perf.columns
            if c != id_column and not PII_HEADER_PATTERN.search(c) and looks_like_pii(perf[c]) is None
        ]
    missing = [c for c in criteria if c not in perf.columns]
    if missing:
        raise InputError(
            source,
            "criterion column missing",
            row=1,
            column=missing[0],
            expected="the criteria listed in config performance.criteria",
        )
    pids = ids.map(known or {}).astype(object)  # NaN where the id is not known
    new = pids.isna()
    if new.any():
        pids[new] = ids[new].map(pseudonymize)
    out = pd.DataFrame(index=pd.Index(pids.to_numpy(dtype=object), name="pid"))
    for c in criteria:
        text = perf[c].astype(str).str.strip()
        num = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = (text != "") & num.isna()
        if bad.any():
            r = perf.index[bad][0]
            raise InputError(source, "criterion value is not a number", row=int(r), column=c, expected="a number")
        out[c] = num.values
    return out


def match_performance(perf: pd.DataFrame, *, analysed: pd.Index, surveyed: pd.Index) -> tuple[pd.DataFrame, dict]:
    """Join pseudonymised performance records to the analysed respondents and count every outcome.

    Returns
    -------
    (records of analysed respondents, in the analysed order, counts)
        counts: ``n_performance_records``, ``matched`` (analysed with a record), ``survey_only`` (analysed
        without a record), ``performance_only`` (records of nobody in the survey), ``performance_of_excluded``
        (records of surveyed but excluded respondents).
    """
    in_survey = perf.index.isin(surveyed)
    of_analysed = perf.index.isin(analysed)  # each membership once: a hash table of a million identifiers
    with_record = analysed.isin(perf.index)
    counts = {
        "n_performance_records": int(len(perf)),
        "matched": int(of_analysed.sum()),
        "survey_only": int((~with_record).sum()),
        "performance_only": int((~in_survey).sum()),
        "performance_of_excluded": int((in_survey & ~of_analysed).sum()),
    }
    joined = perf.loc[analysed[with_record]]
    return joined, counts
