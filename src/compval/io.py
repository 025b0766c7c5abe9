"""Reading questionnaire exports and writing results deterministically.

Readers return the file's cells as text (``str``; a plain CSV file's as categorical columns of text) together
with the spreadsheet/file row number of each data row, so that every later check can name the file, row and
column of a bad cell. Numeric parsing happens in
:mod:`compval.clean`, where the codebook says what each column must hold.

Supported inputs
----------------
* CSV/TSV/TXT: delimiter sniffed among ``, ; \\t |`` (the one that splits the header into most fields with the
  first data lines agreeing); encoding UTF-8 (with or without BOM), then GB18030 (a superset of GBK and GB2312, the
  encodings Chinese survey tools export), unless ``encoding`` is given; UTF-16 with a byte-order mark (Excel's
  "Unicode text"). CRLF/CR line ends, blank lines and trailing empty lines are accepted and recorded in
  :attr:`TableMeta.repairs`; a row with another number of fields than the header (ragged or truncated) is an
  error naming its line.
* XLSX (openpyxl): the first sheet, or the named (or 0-based numbered) ``sheet``; blank rows are skipped, a value in
  a column without a header is an error.
* SPSS ``.sav`` (pyreadstat): numeric codes are kept as values; value labels and variable labels are returned in
  :class:`TableMeta`.

Writers are atomic (temporary file + rename) and byte-deterministic: fixed float format, ``\\n`` line ends, UTF-8,
JSON with ``NaN`` written as ``null``.
"""

from __future__ import annotations

import codecs
import csv
import io as _io
import json
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

__all__ = [
    "InputError",
    "TableMeta",
    "read_table",
    "write_table",
    "write_json",
    "read_json",
    "read_frame",
    "read_items",
    "read_ids",
    "column_letter",
    "read_rows",
    "read_frame_apart",
    "atomic_path",
    "FLOAT_FORMAT",
    "to_jsonable",
]

FLOAT_FORMAT = "%.10g"
# how read_frame / read_items read a written table: text stays text, only empty cells are missing
_WRITTEN = {"keep_default_na": False, "na_values": [""]}
_CHUNK_ROWS = 20_000  # rows per chunk of a chunked read: the parser's buffers for a chunk, not the file's
_DELIMITERS = [",", ";", "\t", "|"]
_ENCODINGS = ["utf-8-sig", "gb18030"]


class InputError(ValueError):
    """A problem with an input file, located as precisely as possible.

    The message reads ``<file>, row <r>, column '<c>': <what is wrong> (expected <what>)``; row numbers are the
    line/row numbers a person sees when opening the file (header = row 1).
    """

    def __init__(
        self,
        file: str | os.PathLike | None,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ):
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.expected = expected
        self.detail = message
        parts = [self.file or "<input>"]
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column '{column}'")
        text = ", ".join(parts) + f": {message}"
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


@dataclass
class TableMeta:
    """What was learnt while reading a file."""

    path: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    variable_labels: dict[str, str] = field(default_factory=dict)
    repairs: list[str] = field(default_factory=list)


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            where = f" at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else ""
            raise InputError(
                path,
                f"cannot be decoded as {encoding}{where}",
                expected="the encoding given in survey_options.encoding",
            ) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export: UTF-16 with BOM
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(path, f"has a UTF-16 byte-order mark but cannot be decoded at byte {exc.start}") from None
    for enc in _ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError(path, "is neither UTF-8 nor GB18030/GBK text", expected="a UTF-8 or GBK encoded CSV file")


def _sniff_delimiter(text: str, path: Path, delimiter: str | None) -> str:
    """Pick the delimiter among ``, ; \\t |`` that splits the header into the most fields while giving the
    first data lines the same number of fields (quotes respected)."""
    if delimiter:
        return delimiter
    head = text.split("\n", 21)[:21]
    best, best_key = ",", None
    for d in _DELIMITERS:
        try:
            recs = [r for r in csv.reader(head, delimiter=d) if r]
        except csv.Error:
            continue
        if not recs or len(recs[0]) < 2:
            continue
        width = len(recs[0])
        body = recs[1:-1] if len(recs) > 2 else recs[1:]  # the last sampled line may be cut short
        consistent = sum(len(r) == width for r in body)
        key = (consistent, width)
        if best_key is None or key > best_key:
            best, best_key = d, key
    return best


def _read_csv(
    path: Path, encoding: str | None, delimiter: str | None, plain: bool = True
) -> tuple[pd.DataFrame, TableMeta]:
    raw = path.read_bytes()
    text, enc = _decode(raw, path, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError(path, "the file is empty", expected="a header row and at least one data row")
    meta = TableMeta(path=str(path), format="csv", encoding=enc)
    if raw.startswith(b"\xef\xbb\xbf") and enc == "utf-8-sig":
        meta.repairs.append("UTF-8 byte-order mark removed")
    n_cr = text.count("\r")
    n_crlf = text.count("\r\n") if n_cr else 0
    if n_crlf:
        meta.repairs.append("CRLF line ends read as LF")
    if n_cr:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        meta.repairs.append("last line had no line terminator")
    delim = _sniff_delimiter(text, path, delimiter)
    meta.delimiter = delim
    layout = _plain_layout(raw, text, enc, delim) if plain and n_cr == n_crlf else None
    if layout is not None:
        del text  # the C parser reads the bytes: the decoded copy of the file is not needed
        header, n_records, width = layout
        df = _parse_plain(raw, delim, n_records, width)
        if df is None:  # not as the layout said (not expected): the general reader
            return _read_csv(path, encoding, delimiter, plain=False)
        header = [h.strip() for h in header]
        df.columns = _dedupe_names(header)
        df.attrs["header"] = header
        df.index = pd.Index(np.arange(2, len(df) + 2), name="row")
        return df, meta
    reader = csv.reader(_io.StringIO(text), delimiter=delim, strict=True)
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    blank: list[int] = []
    header: list[str] | None = None
    start = 1  # line on which the record being read began (a quoted field may span lines)
    try:
        for rec in reader:
            line, start = start, reader.line_num + 1
            if header is None:
                if not rec or all(not c.strip() for c in rec):
                    raise InputError(
                        path, "the first line is empty", row=line, expected="the header row on the first line"
                    )
                header = rec
                continue
            if not rec:  # a blank line: no fields at all
                blank.append(line)
                continue
            line_numbers.append(line)
            rows.append(rec)
    except csv.Error as exc:
        where = "" if reader.line_num == start else f"; the record runs to line {reader.line_num}"
        raise InputError(
            path,
            f"malformed CSV ({exc}{where})",
            row=start,
            expected="properly quoted fields (a quote opens and closes a whole field)",
        ) from None
    header = [h.strip() for h in header]
    # trailing lines with nothing but delimiters/whitespace are not respondents
    while rows and all(not c.strip() for c in rows[-1]):
        blank.append(line_numbers.pop())
        rows.pop()
    if not rows:
        raise InputError(path, "has a header but no data rows", expected="at least one respondent")
    if blank:
        blank.sort()
        meta.repairs.append(
            f"{len(blank)} empty line(s) skipped (rows {', '.join(map(str, blank[:20]))}"
            + (", ..." if len(blank) > 20 else "")
            + ")"
        )
    width = len(header)
    for rec, ln in zip(rows, line_numbers):
        if len(rec) != width:
            what = "fewer" if len(rec) < width else "more"
            truncated = len(rec) < width and ln == line_numbers[-1]
            raise InputError(
                path,
                f"has {len(rec)} fields, {what} than the header's {width}"
                + (" (truncated line?)" if truncated else ""),
                row=ln,
                expected=f"{width} fields separated by {delim!r}",
            )
    df = pd.DataFrame(rows, columns=_dedupe_names(header), dtype=object)
    df.attrs["header"] = header
    df.index = pd.Index(line_numbers, name="row")
    return df, meta


def _plain_layout(raw: bytes, text: str, enc: str, delim: str) -> tuple[list[str], int, int] | None:
    """``(header, number of records, number of fields)`` of a plain UTF-8 CSV file, whose cells
    :func:`_parse_plain` reads with pandas' C parser, or None when the file is not plain (the general reader in
    :func:`_read_csv` then reads it, with its repairs and messages).

    Plain: no quote character, no NUL, no lone CR, every line (header included) has the header's number of
    fields and the last record is not empty (so there are no blank or ragged lines, no field spans lines, and
    record k is on line k + 2). On such a file Python's ``csv.reader`` splits each line at the delimiter and
    nothing else, and so does the C parser with ``quoting=QUOTE_NONE``; it does so without a Python list per
    row (the general reader holds a million rows as a million lists). The field counts are checked on the
    bytes: in UTF-8 the delimiter and the line-feed byte occur only as those characters.
    """
    if codecs.lookup(enc).name not in ("utf-8", "utf-8-sig") or '"' in text or "\x00" in text:
        return None
    b = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(b == 10)
    n_lines = len(ends) + (0 if raw.endswith(b"\n") else 1)
    if n_lines < 2:
        return None
    starts = np.concatenate(([0], ends + 1))[:n_lines]
    if int(np.diff(np.append(starts, len(b))).max()) > csv.field_size_limit():
        return None  # the general reader reports a field over the csv module's limit
    counts = _fields_per_line(b, starts, ord(delim))
    width = int(counts[0]) + 1
    if width < 2 or np.any(counts != width - 1):
        return None
    header = text[: text.find("\n")].split(delim) if "\n" in text else text.split(delim)
    if all(not c.strip() for c in header):
        return None
    if not text.rstrip("\n").rsplit("\n", 1)[-1].replace(delim, "").strip():
        return None  # a trailing record of blanks: the general reader drops it and notes the repair
    return header, n_lines - 1, width


def _parse_plain(raw: bytes, delim: str, n_records: int, width: int) -> pd.DataFrame | None:
    """The cells of a plain file (:func:`_plain_layout`) as a frame of text, or None if the parser does not find
    ``n_records`` records of ``width`` fields.

    A column of few distinct texts (an item's answers) is categorical: codes into its distinct texts (pandas'
    ``dtype="category"``, whose categories are the cells' strings, never converted to numbers). The parser boxes
    each distinct text once, so an item column of a million cells costs a million small codes and a handful of
    strings, where text cells cost a million object references and their strings (770 MB for a million rows of
    60 columns). Every check in :mod:`compval.clean` works per distinct text (``clean._distinct``) and reads the
    codes as they are. A column of mostly distinct texts (ids, e-mail addresses) stays text: as categories it
    would hold as many strings, plus their hash table, and parse twice as slowly; which columns those are is
    judged on the first ``_SNIFF_ROWS`` records, and checked on all of them."""
    options = {
        "sep": delim,
        "header": None,
        "skiprows": 1,
        "na_filter": False,
        "quoting": csv.QUOTE_NONE,
        "skip_blank_lines": False,
        "engine": "c",
        "encoding": "utf-8-sig",
        "index_col": False,
    }
    head = pd.read_csv(_io.BytesIO(raw), dtype=object, nrows=min(n_records, _SNIFF_ROWS), **options)
    if head.shape[1] != width:
        return None
    dtypes = {c: object if head[c].nunique() > len(head) // 2 else "category" for c in head.columns}
    df = pd.read_csv(_io.BytesIO(raw), dtype=dtypes, **options)
    if df.shape != (n_records, width):
        return None
    for c in df.columns:
        if dtypes[c] == "category" and len(df[c].cat.categories) > n_records // 2:
            df[c] = df[c].astype(object)  # mostly distinct after the first records
    return df


_SNIFF_ROWS = 5_000


def _fields_per_line(b: np.ndarray, starts: np.ndarray, delim: int, window: int = 1 << 22) -> np.ndarray:
    """Number of ``delim`` bytes on each line (lines begin at ``starts``), a window of about ``window`` bytes of
    whole lines at a time (``np.add.reduceat`` makes an int64 copy of its input: eight bytes per byte of file)."""
    counts = np.empty(len(starts), dtype=np.int64)
    i = 0
    while i < len(starts):
        j = max(i + 1, int(np.searchsorted(starts, starts[i] + window)))
        lo, hi = starts[i], starts[j] if j < len(starts) else len(b)
        counts[i:j] = np.add.reduceat(b[lo:hi] == delim, starts[i:j] - lo, dtype=np.int64)
        i = j
    return counts


def _dedupe_names(header: list[str]) -> list[str]:
    # keep duplicate names visible to the checks: second occurrence becomes "name.__dup2"
    seen: dict[str, int] = {}
    out = []
    for h in header:
        n = seen.get(h, 0) + 1
        seen[h] = n
        out.append(h if n == 1 else f"{h}.__dup{n}")
    return out


def _read_xlsx(path: Path, sheet: str | int | None) -> tuple[pd.DataFrame, TableMeta]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for damaged files
        raise InputError(path, f"cannot be opened as an XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(wb.worksheets):
                raise InputError(
                    path,
                    f"has no sheet number {sheet} (counting from 0)",
                    expected="one of " + ", ".join(repr(s) for s in wb.sheetnames),
                )
            ws = wb.worksheets[sheet]
        else:
            if sheet not in wb.sheetnames:
                raise InputError(
                    path,
                    f"has no sheet named '{sheet}'",
                    expected="one of " + ", ".join(repr(s) for s in wb.sheetnames),
                )
            ws = wb[sheet]
        values = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    meta = TableMeta(path=str(path), format="xlsx", sheet=ws.title)
    if not values or all(v is None for v in values[0]):
        raise InputError(path, f"sheet '{ws.title}' is empty", expected="a header row and data rows")
    header = ["" if v is None else str(v).strip() for v in values[0]]
    while header and header[-1] == "":
        header.pop()
    rows, numbers, blank = [], [], []
    width = len(header)
    for i, rec in enumerate(values[1:], start=2):
        extra = [
            j
            for j, v in enumerate(rec[width:], start=width)
            if v is not None and not (isinstance(v, str) and not v.strip())
        ]
        if extra:
            raise InputError(
                path,
                f"sheet '{ws.title}' has a value in a column without a header",
                row=i,
                column=column_letter(extra[0] + 1),
                expected=f"data only in the {width} named columns",
            )
        rec = list(rec[:width]) + [None] * max(0, width - len(rec))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in rec):
            blank.append(i)
            continue
        rows.append(["" if v is None else _cell_text(v) for v in rec])
        numbers.append(i)
    if not rows:
        raise InputError(path, f"sheet '{ws.title}' has a header but no data rows", expected="at least one respondent")
    blank = [b for b in blank if b < numbers[-1]]  # trailing empty rows are just the sheet's extent
    if blank:
        meta.repairs.append(
            f"{len(blank)} empty row(s) skipped (rows {', '.join(map(str, blank[:20]))}"
            + (", ..." if len(blank) > 20 else "")
            + ")"
        )
    df = pd.DataFrame(rows, columns=_dedupe_names(header), dtype=object)
    df.attrs["header"] = header
    df.index = pd.Index(numbers, name="row")
    return df, meta


def column_letter(n: int) -> str:
    """Spreadsheet column letter of the 1-based column number ``n`` (1 -> A, 27 -> AA)."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_sav(path: Path) -> tuple[pd.DataFrame, TableMeta]:
    import pyreadstat

    try:
        df, m = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=False)
    except Exception as exc:
        raise InputError(path, f"cannot be read as an SPSS .sav file ({type(exc).__name__}: {exc})") from None
    meta = TableMeta(path=str(path), format="sav")
    meta.value_labels = {var: dict(m.value_labels.get(lab, {})) for var, lab in m.variable_to_label.items()}
    meta.variable_labels = {k: v for k, v in zip(m.column_names, m.column_labels) if v}
    if df.shape[0] == 0:
        raise InputError(path, "has no cases", expected="at least one respondent")
    out = pd.DataFrame(
        {c: [_cell_text(v) for v in df[c]] for c in df.columns},
        dtype=object,
    )
    out.attrs["header"] = list(df.columns)
    out.index = pd.Index(np.arange(2, len(df) + 2), name="row")  # case k is reported as row k+1, header = row 1
    return out, meta


def read_table(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> tuple[pd.DataFrame, TableMeta]:
    """Read a CSV, XLSX or SPSS file as text cells.

    Returns
    -------
    (DataFrame, TableMeta)
        Cells as ``str`` ('' for empty), index = row number as a person sees it (header is row 1). Duplicate
        header names are kept apart as ``name.__dupN`` so that the caller can report them. A plain CSV file
        (no quotes, every line complete) gives categorical columns of those texts (see :func:`_parse_plain`):
        read them with ``.astype(str)`` or ``.cat``, and make them ``object`` before setting a cell to a new text.

    Raises
    ------
    InputError
        Missing, empty or undecodable file, header without data rows, ragged rows, malformed quoting, values
        outside the named columns of a sheet, unknown format, missing sheet.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "file not found" if not p.exists() else "is not a file", expected="an existing file")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_csv(p, encoding, "\t" if (suffix == ".tsv" and delimiter is None) else delimiter)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p, sheet)
    if suffix == ".sav":
        return _read_sav(p)
    raise InputError(p, f"unsupported file type '{suffix}'", expected=".csv, .tsv, .txt, .xlsx or .sav")


def read_frame(path: str | os.PathLike, *, index_col: str, float_columns: list[str]) -> pd.DataFrame:
    """Read a table this pipeline wrote (:func:`write_table`) with its ``float_columns`` as one float64 block.

    Equals ``pandas.read_csv(path, index_col=index_col, keep_default_na=False, na_values=[""])`` (text cells stay
    text, only empty cells are missing) except that ``float_columns`` are float64 even where every cell is a whole
    number. pandas holds its parsed chunks, their concatenation and the consolidated frame at once (about three
    times the table: 1.8 GB for a million respondents x 50 items); here the other columns are read by pandas and
    the float columns by chunks of 50,000 rows into one preallocated block, which the frame keeps without copying.

    In R: ``read.csv(path, na.strings = "")``.
    """
    header = _header_with(path, float_columns)
    float_set = set(float_columns)
    out, frame = read_frame_apart(path, index_col=index_col, float_columns=[c for c in header if c in float_set])
    position = {c: i for i, c in enumerate(c for c in header if c != index_col)}
    for c in sorted(frame.columns, key=position.__getitem__):
        out.insert(position[c], c, frame[c])
    return out


def read_frame_apart(
    path: str | os.PathLike, *, index_col: str, float_columns: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`read_frame`'s table as two frames on one index: the ``float_columns`` as one float64 block in the
    order given, and the other columns. A caller that works on the float columns alone (the items) uses the
    first as it is, where selecting them from :func:`read_frame`'s frame would copy them (its float block shares
    the frame with the other columns' blocks); 400 MB for a million respondents x 50 items."""
    float_set = set(float_columns)
    header = _header_with(path, float_columns)
    frame = pd.read_csv(path, index_col=index_col, usecols=[c for c in header if c not in float_set], **_WRITTEN)
    if float_columns:
        block = _float_block(path, list(float_columns), len(frame))
        floats = pd.DataFrame(block, index=frame.index, columns=list(float_columns), copy=False)
    else:
        floats = pd.DataFrame(index=frame.index)
    return floats, frame


def read_items(path: str | os.PathLike, columns: list[str], *, index_col: str = "pid") -> pd.DataFrame:
    """The ``columns`` of a table this pipeline wrote, as one float64 block in that order, indexed by ``index_col``.

    Equals ``pandas.read_csv(path, index_col=index_col)[columns].astype(float)`` for the tables the pipeline
    writes (:func:`write_table`: missing values are empty cells), but the float columns are read by chunks of
    50,000 rows into one preallocated array that the frame keeps (:func:`read_frame`): pandas' own read holds
    its parsed chunks and their concatenation, the selection of ``columns`` copies the table once more, and
    ``astype`` once again (at a million respondents x 50 items each copy is 380 MB). Other columns of the file
    are not read.

    In R: ``read.csv(path, na.strings = "")[, columns]``.
    """
    _header_with(path, [index_col, *columns])
    index = read_ids(path, index_col=index_col)
    return pd.DataFrame(_float_block(path, list(columns), len(index)), index=index, columns=columns, copy=False)


def read_ids(path: str | os.PathLike, *, index_col: str = "pid") -> pd.Index:
    """The ids (``index_col``) of a table this pipeline wrote, in the file's order: :func:`read_items`' index.

    For a job that works on the rows by position and needs the ids only to label what it writes (at a million
    respondents the id strings are about 75 MB, and pandas' hash table on them 30-70 MB more).

    In R: ``read.csv(path, na.strings = "")[[index_col]]``.
    """
    return pd.read_csv(path, index_col=index_col, usecols=[index_col], **_WRITTEN).index


def _header_with(path: str | os.PathLike, columns: list[str]) -> list[str]:
    """The header of a written table; an InputError naming the first of ``columns`` it lacks."""
    header = list(pd.read_csv(path, nrows=0).columns)
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(path, f"column missing: {missing[0]}", row=1, column=missing[0])
    return header


def read_rows(path: str | os.PathLike, columns: list[str]) -> np.ndarray:
    """The ``columns`` of a table this pipeline wrote as one row-major (C-ordered) float64 array, rows in the
    file's order, filled by chunks like :func:`read_items`' block (NaN for empty cells).

    For row-wise work that sorts or sweeps the rows itself (Little's test, :func:`compval.missingness.little_mcar`
    with ``consume=True``): a row-major copy of a frame's column-major block would be a second table of the
    items' size (400 MB at a million respondents x 50 items) beside the first.

    In R: ``as.matrix(read.csv(path, na.strings = "")[, columns])``.
    """
    _header_with(path, list(columns))
    first = pd.read_csv(path, usecols=[columns[0]], dtype={columns[0]: np.float64}, **_WRITTEN)
    return _float_block(path, list(columns), len(first), order="C")


def _float_block(path: str | os.PathLike, columns: list[str], n_rows: int, order: str = "F") -> np.ndarray:
    """``columns`` of a written table as an n_rows x k float64 array in column-major order (a DataFrame built on
    it keeps it as its one block, without a copy), or row-major (``order="C"``), read by chunks of
    ``_CHUNK_ROWS`` rows."""
    block = np.empty((n_rows, len(columns)), order=order)
    start = 0
    chunks = pd.read_csv(
        path, usecols=columns, dtype=dict.fromkeys(columns, np.float64), chunksize=_CHUNK_ROWS, **_WRITTEN
    )
    with chunks:
        for chunk in chunks:
            if start + len(chunk) > n_rows:
                raise InputError(path, f"more rows of float columns than the {n_rows} rows of the others")
            block[start : start + len(chunk)] = chunk[columns].to_numpy()
            start += len(chunk)
    if start != n_rows:
        raise InputError(path, f"{start} rows of float columns for {n_rows} rows of the others")
    return block


# ---------------------------------------------------------------------------------------------------- writing
@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = False) -> None:
    """Write a tidy table as CSV, byte-deterministically (``%.10g`` floats, empty cells for missing).

    The bytes are those of ``df.to_csv(path, index=index, float_format="%.10g", lineterminator="\\n",
    encoding="utf-8", na_rep="")``. pandas formats every float cell through a Python call per cell (about 3 s
    per million float cells); :func:`_csv_columns` formats whole columns of a block of rows at once instead
    (whole-number float columns through an integer conversion, the others with the same ``"%.10g" % value``, each
    distinct value once) and joins the rows. Tables the fast path does not cover (a cell that needs quoting,
    other column types, a single column) are written by ``DataFrame.to_csv`` itself.

    In R: ``write.csv(x, path, na = "", row.names = FALSE)`` writes the same table (with quoted text cells).
    """
    with atomic_path(path) as tmp:
        if not _write_csv_blocks(df, tmp, index):
            df.to_csv(tmp, index=index, float_format=FLOAT_FORMAT, lineterminator="\n", encoding="utf-8", na_rep="")


_BLOCK_ROWS = 50_000  # rows formatted at a time: the cell texts of a block, not of the whole table, are in memory


def _write_csv_blocks(df: pd.DataFrame, path: Path, index: bool) -> bool:
    """Write ``df`` block by block through :func:`_csv_columns`; False (and a partial file, which the caller
    overwrites) as soon as a block is not covered."""
    header = _csv_header(df, index)
    if header is None:
        return False
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(header) + "\n")
        for start in range(0, len(df), _BLOCK_ROWS):
            columns = _csv_columns(df.iloc[start : start + _BLOCK_ROWS], index)
            if columns is None:
                return False
            fh.write("\n".join(map(",".join, zip(*columns))) + "\n")
    return True


_CSV_SPECIAL = (",", '"', "\n", "\r")  # a field holding one of these is quoted by the csv module
_SMALL_INTS = 1000  # whole numbers in [-1000, 1000] are looked up, not converted one by one


def _csv_cell_texts(values: Any) -> list[str] | None:
    """The cells of one column as :meth:`pandas.DataFrame.to_csv` writes them (``float_format="%.10g"``,
    ``na_rep=""``) when they need no quoting; None when this column is left to pandas."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, (pd.BooleanDtype, pd.core.dtypes.dtypes.BaseMaskedDtype)) and dtype.kind in "biu":
        obj = np.asarray(values.astype(object))  # Python bools / ints, pd.NA for missing
        obj[np.asarray(pd.isna(values))] = ""
        return list(map(str, obj.tolist()))
    if not isinstance(values, np.ndarray):
        return None
    kind = values.dtype.kind
    if kind == "f" and values.dtype == np.float64:
        nan = np.isnan(values)
        finite = values[~nan]
        whole = (
            np.all(np.isfinite(finite))
            and np.all(finite == np.round(finite))
            and (finite.size == 0 or float(np.max(np.abs(finite))) < 1e10)  # %.10g prints these as integers
            and not np.any(np.signbit(finite[finite == 0]))  # -0.0 prints as "-0"
        )
        if whole:
            ints = np.where(nan, 0.0, values).astype(np.int64)
            if finite.size == 0 or float(np.max(np.abs(finite))) <= _SMALL_INTS:
                table = np.array([str(k) for k in range(-_SMALL_INTS, _SMALL_INTS + 1)] + [""], dtype=object)
                ints = np.where(nan, 2 * _SMALL_INTS + 1, ints + _SMALL_INTS)
                return table[ints].tolist()
            out = ints.astype(str).astype(object)
            out[nan] = ""
            return out.tolist()
        # many indices repeat values (avgstr, seconds per item): format each distinct value once; factorize
        # counts -0.0 and 0.0 as one value, so not when a negative zero is present (NaN -> code -1 -> "")
        codes, distinct = pd.factorize(values)
        if len(distinct) * 4 < len(values) and not np.any(np.signbit(values[values == 0])):
            table = np.array([FLOAT_FORMAT % v for v in distinct.tolist()] + [""], dtype=object)
            return table[codes].tolist()
        return ["" if v != v else FLOAT_FORMAT % v for v in values.tolist()]
    if kind in "iu":
        return list(map(str, values.tolist()))
    if kind == "b":
        return np.array(["False", "True"], dtype=object)[values.astype(np.intp)].tolist()
    if kind == "O":
        mask = pd.isna(values)
        if set(map(type, values[~mask].tolist())) - {str}:
            return None  # numbers or other objects in a text column: pandas' own conversion
        if mask.any():
            values = values.copy()
            values[mask] = ""
        return values.tolist()
    return None


def _values(data: pd.Series | pd.Index) -> Any:
    """The values of a column or index: a numpy array for numpy dtypes, else the pandas extension array."""
    return data.to_numpy() if isinstance(data.dtype, np.dtype) else data.array


def _csv_header(df: pd.DataFrame, index: bool) -> list[str] | None:
    """The header row of :func:`write_table`'s fast path, or None when the table is left to pandas (no rows,
    a MultiIndex, a lone column, a name that would be quoted)."""
    if len(df) == 0 or isinstance(df.columns, pd.MultiIndex) or isinstance(df.index, pd.MultiIndex):
        return None
    if df.shape[1] + int(index) < 2:  # the csv module quotes an empty field that is alone on its row
        return None
    names = [str(c) for c in df.columns]
    if index:
        names.insert(0, "" if df.index.name is None else str(df.index.name))
    if any(ch in "\x00".join(names) for ch in _CSV_SPECIAL):
        return None
    return names


def _csv_columns(df: pd.DataFrame, index: bool) -> list[list[str]] | None:
    """Cell texts of every column (the index first when ``index``) for :func:`write_table`, or None when some
    cell would be quoted or some column is not covered."""
    sources = [_values(df.iloc[:, j]) for j in range(df.shape[1])]
    if index:
        sources.insert(0, _values(df.index))
    columns = []
    for values in sources:
        cells = _csv_cell_texts(values)
        if cells is None:
            return None
        if isinstance(values, np.ndarray) and values.dtype.kind == "O":
            if any(ch in "\x00".join(cells) for ch in _CSV_SPECIAL):
                return None
        columns.append(cells)
    return columns


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON types; NaN/inf become None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if not math.isfinite(f):
            return None
        return float(FLOAT_FORMAT % f)
    if obj is pd.NA or obj is None:
        return None
    return obj


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write JSON atomically: 2-space indent, keys in insertion order, floats rounded to 10 significant digits."""
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8"
        )


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
