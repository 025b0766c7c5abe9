"""compval.io: readers (delimiters, encodings, row numbers, located errors) and deterministic atomic writers.

File-level cases of the bad-input corpus are in tests/test_clean.py (tests/corpus/manifest.yaml); these tests pin
the reader's behaviour on small inline files.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from compval.io import (
    InputError,
    atomic_path,
    read_frame,
    read_frame_apart,
    read_items,
    column_letter,
    read_ids,
    read_rows,
    read_json,
    read_table,
    to_jsonable,
    write_json,
    write_table,
)


def _write(tmp_path, name, data: bytes | str, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return p


def test_input_error_message_names_file_row_column_expected():
    e = InputError("data/x.csv", "invalid response (code 9)", row=7, column="Q1", expected="an integer from 1 to 5")
    assert str(e) == "data/x.csv, row 7, column 'Q1': invalid response (code 9) (expected an integer from 1 to 5)"
    assert (e.file, e.row, e.column) == ("data/x.csv", 7, "Q1")
    assert str(InputError(None, "no key")) == "<input>: no key"


def test_cells_are_text_and_index_is_the_file_row(tmp_path):
    p = _write(tmp_path, "a.csv", "id,q1,q2\n A1 , 4,\nA2,5,3.0\n")
    df, meta = read_table(p)
    assert list(df.columns) == ["id", "q1", "q2"]
    assert list(df.index) == [2, 3] and df.index.name == "row"
    assert df.loc[2].tolist() == [" A1 ", " 4", ""]  # text as in the file: parsing is the cleaner's job
    assert (meta.format, meta.encoding, meta.delimiter, meta.repairs) == ("csv", "utf-8-sig", ",", [])


def test_delimiter_sniffing_respects_quotes(tmp_path):
    # naive counting on the header sees as many commas as semicolons; only ';' gives consistent rows
    p = _write(tmp_path, "s.csv", 'id;"a,b,c";score\n1;x;3\n2;"y, z";4\n')
    df, meta = read_table(p)
    assert meta.delimiter == ";"
    assert list(df.columns) == ["id", "a,b,c", "score"] and df.loc[3, "a,b,c"] == "y, z"
    # an explicit delimiter wins: here the file does not split into equal rows with it
    with pytest.raises(InputError, match="row 2: has 1 fields, fewer than the header's 3"):
        read_table(p, delimiter=",")


def test_multiline_quoted_record_is_reported_at_its_first_line(tmp_path):
    p = _write(tmp_path, "m.csv", 'id,comment,q\n1,"two\nlines",3\n2,ok,x,y\n')
    with pytest.raises(InputError) as info:
        read_table(p)
    # the record of id 2 starts on line 4 (the quoted comment spans lines 2-3)
    assert info.value.row == 4 and "has 4 fields, more than the header's 3" in str(info.value)
    assert "truncated" not in str(info.value)
    df, _ = read_table(_write(tmp_path, "m2.csv", 'id,comment,q\n1,"two\nlines",3\n2,ok,4\n'))
    assert list(df.index) == [2, 4] and df.loc[2, "comment"] == "two\nlines"


def test_unclosed_quote_names_where_the_record_starts(tmp_path):
    p = _write(tmp_path, "u.csv", 'id,region,q\n1,East,3\n2,"West,4\n3,North,5\n')
    with pytest.raises(InputError) as info:
        read_table(p)
    assert info.value.row == 3 and "malformed CSV" in str(info.value) and "runs to line" in str(info.value)


def test_truncated_last_line_and_repairs(tmp_path):
    with pytest.raises(InputError, match=r"row 3: has 2 fields, fewer than the header's 3 \(truncated line\?\)"):
        read_table(_write(tmp_path, "t.csv", "id,q1,q2\n1,2,3\n2,4"))
    df, meta = read_table(_write(tmp_path, "r.csv", b"\xef\xbb\xbfid,q1\r\n1,2\r\n\r\n2,3\r\n,\r\n\r\n"))
    assert list(df.columns) == ["id", "q1"] and list(df.index) == [2, 4]
    assert meta.repairs == [
        "UTF-8 byte-order mark removed",
        "CRLF line ends read as LF",
        "3 empty line(s) skipped (rows 3, 5, 6)",
    ]


def test_encodings(tmp_path):
    text = "编号,地区,q1\nA1,华东,3\nA2,华南,4\n"
    for enc, expect in [("gb18030", "gb18030"), ("gbk", "gb18030"), ("utf-8", "utf-8-sig"), ("utf-16", "utf-16")]:
        df, meta = read_table(_write(tmp_path, f"{enc}.csv", text, encoding=enc))
        assert meta.encoding == expect
        assert list(df.columns) == ["编号", "地区", "q1"] and df["地区"].tolist() == ["华东", "华南"]
    with pytest.raises(InputError, match="cannot be decoded as utf-8 at byte"):
        read_table(_write(tmp_path, "g.csv", text, encoding="gbk"), encoding="utf-8")
    with pytest.raises(InputError, match="cannot be decoded as no-such-codec"):
        read_table(_write(tmp_path, "h.csv", text), encoding="no-such-codec")


def test_empty_inputs(tmp_path):
    for name, data in [("e.csv", b""), ("w.csv", b"  \n\n"), ("b.csv", b"\xef\xbb\xbf")]:
        with pytest.raises(InputError, match="the file is empty"):
            read_table(_write(tmp_path, name, data))
    with pytest.raises(InputError, match="has a header but no data rows"):
        read_table(_write(tmp_path, "h.csv", "id,q1\n\n"))
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="unsupported file type '.dat'"):
        read_table(_write(tmp_path, "x.dat", "id\n1\n"))


def test_duplicate_header_names_are_kept_apart(tmp_path):
    df, _ = read_table(_write(tmp_path, "d.csv", "id,q,q,q\n1,2,3,4\n"))
    assert list(df.columns) == ["id", "q", "q.__dup2", "q.__dup3"]
    assert df.attrs["header"] == ["id", "q", "q", "q"]


def test_xlsx_sheets_and_stray_cells(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Info"
    ws.append(["not the data"])
    ws2 = wb.create_sheet("Data")
    ws2.append(["id", "q1", None])
    ws2.append(["A1", 4.0, None])
    ws2.append([None, None, None])  # blank row: skipped, numbering keeps the sheet's rows
    ws2.append(["A2", 2.5, None])
    p = tmp_path / "w.xlsx"
    wb.save(p)
    for sheet in ("Data", 1):
        df, meta = read_table(p, sheet=sheet)
        assert meta.sheet == "Data" and list(df.columns) == ["id", "q1"]
        assert list(df.index) == [2, 4] and df["q1"].tolist() == ["4", "2.5"]
        assert meta.repairs == ["1 empty row(s) skipped (rows 3)"]
    with pytest.raises(InputError, match=r"has no sheet number 5 .*expected one of 'Info', 'Data'"):
        read_table(p, sheet=5)
    with pytest.raises(InputError, match="has no sheet named 'Responses'"):
        read_table(p, sheet="Responses")
    ws2.cell(row=3, column=28, value="note")
    wb.save(p)
    with pytest.raises(InputError) as info:
        read_table(p, sheet="Data")
    assert (info.value.row, info.value.column) == (3, "AB")
    assert [column_letter(n) for n in (1, 26, 27, 28, 702, 703)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_sav_keeps_codes_and_value_labels(tmp_path):
    import pyreadstat

    df = pd.DataFrame({"id": ["a", "b", "c"], "q1": [1.0, np.nan, 5.0]})
    p = tmp_path / "s.sav"
    pyreadstat.write_sav(
        df, str(p), variable_value_labels={"q1": {1.0: "low", 5.0: "high"}}, column_labels={"q1": "Question one"}
    )
    out, meta = read_table(p)
    assert out["q1"].tolist() == ["1", "", "5"] and list(out.index) == [2, 3, 4]
    assert meta.value_labels["q1"] == {1.0: "low", 5.0: "high"}
    assert meta.variable_labels == {"q1": "Question one"}


_PLAIN_FILES = {
    "spaces": "id,a,b\n 1 , x ,\n2,, y \n3,z,w\n",
    "crlf_no_final_end": "id;a;b\r\n1;2;3\r\n4;5;6",
    "bom_unicode": "\ufeffid,地区,b\n1,华东,\n2,华南,5\n",
    "trailing_delimiter": "id,a,\n1,2,\n3,4,\n",
    "blank_record_inside": "id,a\n1,2\n ,\n3,4\n",
    "blank_record_last": "id,a\n1,2\n3,4\n,\n",
    "quoted": 'id,a\n1,"x,y"\n2,z\n',
    "ragged": "id,a\n1,2,3\n4\n",
    "blank_line": "id,a\n1,2\n\n3,4\n",
}


@pytest.mark.parametrize("name", sorted(_PLAIN_FILES))
def test_plain_csv_reads_as_the_csv_module_splits_it(tmp_path, name):
    """Files without quotes go through pandas' C parser: the cells, names and row numbers are those of the
    csv module's reading (the general path, which the other files take)."""
    import csv
    import io

    text = _PLAIN_FILES[name]
    p = tmp_path / f"{name}.csv"
    p.write_bytes(text.encode("utf-8"))
    try:
        got, _ = read_table(p)
    except InputError as exc:
        assert name == "ragged" and "fields" in str(exc)
        return
    norm = text.lstrip("\ufeff").replace("\r\n", "\n")
    delim = ";" if ";" in norm.split("\n")[0] else ","
    recs = list(enumerate(csv.reader(io.StringIO(norm), delimiter=delim), start=1))  # record i is on line i here
    header = [h.strip() for h in recs[0][1]]
    rows = [(i, r) for i, r in recs[1:] if r]
    while rows and all(not c.strip() for c in rows[-1][1]):
        rows.pop()
    assert list(got.columns) == header
    assert got.index.tolist() == [i for i, _ in rows]
    assert got.to_numpy().tolist() == [r for _, r in rows]


def _mixed_table(n: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "whole": [1.0, np.nan, 3, 4, 5, -2, 0],
            "small": rng.normal(size=n) * 1e-5,
            "text": ["x", None, "y", "", "z", np.nan, "w"],
            "int": np.arange(n),
            "bool": [True, False] * 3 + [True],
            "boolean": pd.array([True, None, False, True, None, False, True], dtype="boolean"),
            "Int64": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
            "edges": [np.inf, -np.inf, 1e10, 9999999999.0, 1e15, 123456.789, np.nan],
            "tiny_huge": [1e300, 2.5, -0.5, 1e-300, 3, 4, 5],
            "all_nan": [np.nan] * n,
            "wide_ints": [5000.0, -3000, 2, 1, 0, 7, 8],
            "neg_zero": [-0.0, 1, 2, 3, 4, 5, 6],
            "repeated": [0.5, 0.5, np.nan, 0.5, 1 / 3, 0.5, 0.5],  # few distinct values
            "repeated_zeros": [0.5, 0.0, -0.0, 0.5, 0.5, 0.5, 0.5],
        },
        index=pd.Index([f"P{i}" for i in range(n)], name="pid"),
    )


@pytest.mark.parametrize(
    "df",
    [
        _mixed_table(),
        pd.DataFrame({"x": [1.5, 2.0, np.nan], "y": ["a", "b", "c"]}),
        pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "c"]}, index=pd.Index([0.5, np.nan, 2.0], name="f")),
        pd.DataFrame({"x": ["a,b", "c", "d"], "y": [1, 2, 3]}),  # quoted by the csv module
        pd.DataFrame({"x": ['a"b', "c", "d"], "y": [1, 2, 3]}),
        pd.DataFrame({"x": ["a", 1, 2.5], "y": [1, 2, 3]}),  # numbers in a text column
        pd.DataFrame({"x": ["", "a", ""]}),  # a lone empty field is quoted
        pd.DataFrame(columns=["a", "b"]),
        pd.DataFrame(np.random.default_rng(1).integers(1, 6, size=(120_000, 3)).astype(float), columns=list("abc")),
        pd.DataFrame({"x": ["a"] * 59_999 + ["b,c"], "y": np.arange(60_000.0)}),  # quoting needed in block 2
    ],
    ids=[
        "mixed",
        "unnamed-index",
        "float-index",
        "comma",
        "quote",
        "object-numbers",
        "one-column",
        "empty",
        "blocks",
        "late-quote",
    ],
)
@pytest.mark.parametrize("index", [False, True])
def test_write_table_writes_the_bytes_of_pandas_to_csv(tmp_path, df, index):
    """The column-wise writer gives exactly the bytes of DataFrame.to_csv with the same options."""
    write_table(df, tmp_path / "t.csv", index=index)
    expected = df.to_csv(index=index, float_format="%.10g", lineterminator="\n", encoding="utf-8", na_rep="")
    assert (tmp_path / "t.csv").read_bytes() == expected.encode("utf-8")


def test_writers_are_deterministic_and_atomic(tmp_path):
    df = pd.DataFrame({"a": [1.0 / 3, np.nan, 2.0], "b": ["x", None, "z"]})
    p1, p2 = tmp_path / "t1.csv", tmp_path / "sub" / "t2.csv"
    write_table(df, p1)
    write_table(df, p2)
    assert p1.read_bytes() == p2.read_bytes() == b"a,b\n0.3333333333,x\n,\n2,z\n"
    write_json(
        {"x": np.float64(math.nan), "y": np.int64(3), "z": [np.inf, 0.1 + 0.2], "w": np.bool_(True)},
        tmp_path / "r.json",
    )
    assert read_json(tmp_path / "r.json") == {"x": None, "y": 3, "z": [None, 0.3], "w": True}
    assert json.loads((tmp_path / "r.json").read_text())["z"][1] == 0.3
    # a failure inside the block leaves neither the target nor a temporary file behind
    target = tmp_path / "never.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert not target.exists()
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
    assert to_jsonable({1: (np.float32(0.5), pd.NA)}) == {"1": [0.5, None]}


def test_write_table_writes_whole_number_floats_as_percent_10g_does(tmp_path):
    # edge cases of the fast writer's number formatting: the bytes must be those of %.10g
    df = pd.DataFrame(
        {
            "answers": [1.0, np.nan, -3.0, 0.0],
            "negative_zero": [-0.0, 1.0, 2.0, 3.0],
            "fractions": [1.5, 2.0, np.nan, 4.0],
            "too_large": [1e10, 2.0, 3.0, 4.0],
            "largest": [9999999999.0, -9999999999.0, 5.0, 123456.0],
            "text": ["x", "y", None, "z"],
            "empty": [np.nan] * 4,
            "single": np.array([1, 2, 3, 4], dtype=np.float32),
        }
    )
    write_table(df, tmp_path / "t.csv", index=True)
    df.to_csv(tmp_path / "ref.csv", index=True, float_format="%.10g", lineterminator="\n", na_rep="")
    assert (tmp_path / "t.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert df["answers"].dtype == float  # the caller's frame is left as it was


def test_read_frame_reads_what_read_csv_reads_with_float_items(tmp_path):
    """read_frame gives pandas.read_csv's table (text stays text, only empty cells missing), float columns as
    float64 even when whole, read by chunks (a file longer than one chunk)."""
    n = 120_001
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "pid": [f"P{i:07d}" for i in range(n)],
            "region": rng.choice(["East", "NA", ""], n),
            "i2": rng.integers(1, 6, n).astype(float),
            "tenure": rng.random(n),
            "i1": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 6, n)),
        }
    )
    p = tmp_path / "r.csv"
    write_table(df, p)
    got = read_frame(p, index_col="pid", float_columns=["i1", "i2"])
    expected = pd.read_csv(p, index_col="pid", keep_default_na=False, na_values=[""])
    assert expected["i2"].dtype == np.int64 and got["i2"].dtype == np.float64
    pd.testing.assert_frame_equal(got, expected.astype({"i2": float}))


def test_read_frame_apart_is_read_frame_in_two_frames_on_one_index(tmp_path):
    """read_frame_apart gives read_frame's float columns (in the order asked, one block the frame holds without a
    copy) and its other columns, on one index object; with no float column, all of them as read_frame reads them."""
    df = pd.DataFrame({"pid": ["a", "b", "c"], "i1": [1.0, None, 3.0], "region": ["NA", "", "East"], "i2": [2, 3, 4]})
    p = tmp_path / "r.csv"
    write_table(df, p)
    full = read_frame(p, index_col="pid", float_columns=["i1", "i2"])
    floats, rest = read_frame_apart(p, index_col="pid", float_columns=["i2", "i1"])
    pd.testing.assert_frame_equal(floats, full[["i2", "i1"]])
    pd.testing.assert_frame_equal(rest, full[["region"]])
    assert floats.index is rest.index and floats._mgr.nblocks == 1
    assert rest.loc["a", "region"] == "NA" and pd.isna(rest.loc["b", "region"])
    none, everything = read_frame_apart(p, index_col="pid", float_columns=[])
    assert none.shape == (3, 0)
    pd.testing.assert_frame_equal(everything, pd.read_csv(p, index_col="pid", keep_default_na=False, na_values=[""]))


def test_read_items_equals_read_csv_selection_in_one_block(tmp_path):
    """read_items gives pandas.read_csv(...)[columns].astype(float) -- in the asked order, not the file's, over
    several chunks -- as one float64 block that the frame holds without a copy; other columns are not read."""
    n = 120_001
    rng = np.random.default_rng(4)
    df = pd.DataFrame(
        {
            "pid": [f"P{i:07d}" for i in range(n)],
            "region": rng.choice(["East", "NA", ""], n),
            "i1": rng.integers(1, 6, n),
            "i2": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 6, n)),
            "i3": rng.random(n),
        }
    )
    p = tmp_path / "items.csv"
    write_table(df, p)
    cols = ["i3", "i1", "i2"]
    got = read_items(p, cols)
    pd.testing.assert_frame_equal(got, pd.read_csv(p, index_col="pid")[cols].astype(float))
    assert got._mgr.nblocks == 1
    assert np.shares_memory(got.to_numpy(), got["i1"].to_numpy())  # a view of the frame's one block
    rows = read_rows(p, cols)  # the same values as one row-major array
    assert rows.flags.c_contiguous and rows.dtype == np.float64
    np.testing.assert_array_equal(rows, got.to_numpy())
    ids = read_ids(p)  # the ids alone, as read_items labels the rows (the jobs that work by position use them)
    assert ids.equals(got.index) and ids.name == "pid" and ids[0] == "P0000000"


def test_read_items_names_a_missing_column(tmp_path):
    p = tmp_path / "items.csv"
    write_table(pd.DataFrame({"pid": ["a", "b"], "i1": [1.0, 2.0]}), p)
    with pytest.raises(InputError, match="column missing: i2"):
        read_items(p, ["i1", "i2"])
    with pytest.raises(InputError, match="column missing: i2"):
        read_rows(p, ["i1", "i2"])


def test_plain_csv_column_kinds_are_judged_on_the_first_records_and_checked_on_all(tmp_path, monkeypatch):
    """A plain CSV column of few distinct texts comes back categorical, one of mostly distinct texts as text;
    a column whose first records repeat but whose texts are mostly distinct over the file is text too. The cells'
    texts are the same either way ('' for empty, numbers not converted)."""
    from compval import io as cio

    monkeypatch.setattr(cio, "_SNIFF_ROWS", 4)
    lines = ["id,late,q"] + [f"r{k},{'x' if k < 3 else k},{'' if k == 4 else k % 2 + 1}" for k in range(10)]
    df, _ = read_table(_write(tmp_path, "k.csv", "\n".join(lines) + "\n"))
    assert df["id"].dtype == object  # distinct in the first four records
    assert df["late"].dtype == object  # repeats in the first four, mostly distinct in all ten: made text
    assert isinstance(df["q"].dtype, pd.CategoricalDtype)
    assert df["q"].astype(str).tolist() == [str(k % 2 + 1) if k != 4 else "" for k in range(10)]
    assert df["late"].tolist() == ["x", "x", "x"] + [str(k) for k in range(3, 10)]
