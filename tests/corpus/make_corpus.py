"""Generate the bad-input corpus of tests/corpus/ from one small clean export.

    /work/main/.venv/bin/python tests/corpus/make_corpus.py [--out DIR]

The clean base is 24 respondents (ids S001..S024, data rows 2..25 of the file) of the tiny instrument in
``tests/corpus/codebook.yaml`` (8 five-point items D1..D4, P1..P4; declared columns name/email/phone (PII),
地区 (group), tenure (covariate), duration (completion time)), plus a performance file keyed by ``employee_id``
(S001..S020 and two employees who never answered, E901 and E902). Each corpus file is the base with ONE defect;
``manifest.yaml`` documents the expected outcome of every file and ``tests/test_clean.py`` checks it.

Everything is deterministic (numpy ``default_rng(20240601)``); text files are byte-identical on every run (XLSX
and SAV files carry a creation time, so only their content is reproducible).
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ITEMS = ["D1", "D2", "D3", "D4", "P1", "P2", "P3", "P4"]
REVERSE = {"D2", "P3"}
HEADER = ["rid", "name", "email", "phone", "地区", "tenure", "duration"] + ITEMS
N = 24
REGIONS = ["华东", "华南", "华北", "华中"]
SURNAMES = ["Zhang", "Wang", "Li", "Zhao", "Chen", "Liu"]
GIVEN = ["Wei", "Fang", "Min", "Jing"]
NAMES_ZH = ["张伟", "王芳", "李敏", "赵静", "陈磊", "刘洋"]
LABELS = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]


def base_rows() -> list[list[str]]:
    """The clean export: 24 respondents, two correlated traits, 8 items (D2 and P3 reverse-keyed)."""
    rng = np.random.default_rng(20240601)
    traits = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]], size=N)
    rows = []
    for i in range(N):
        answers = []
        for j, item in enumerate(ITEMS):
            y = 0.8 * traits[i, 0 if item.startswith("D") else 1] + 0.6 * rng.standard_normal()
            cat = int(np.digitize(y, [-1.2, -0.4, 0.4, 1.2])) + 1
            answers.append(str(6 - cat if item in REVERSE else cat))
        rows.append(
            [
                f"S{i + 1:03d}",
                f"{SURNAMES[i % 6]} {GIVEN[i // 6]}",
                f"{GIVEN[i // 6].lower()}.{SURNAMES[i % 6].lower()}{i + 1}@corp-example.cn",
                f"139{10000000 + 7919 * (i + 1):08d}",
                REGIONS[i % 4],
                f"{rng.uniform(0.5, 12):.1f}",
                str(int(rng.integers(60, 180))),
            ]
            + answers
        )
    return rows


def perf_rows() -> list[list[str]]:
    rng = np.random.default_rng(7)
    ids = [f"S{i:03d}" for i in range(1, 21)] + ["E901", "E902"]
    return [[pid, str(int(rng.integers(200, 900))), f"{rng.uniform(2, 5):.1f}"] for pid in ids]


PERF_HEADER = ["employee_id", "sales", "rating"]


def to_csv(header, rows, delimiter=",", lineterminator="\n") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator, quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def col(name: str, header=HEADER) -> int:
    return header.index(name)


def row_of(file_row: int) -> int:
    """Index into the data rows of the spreadsheet/file row number (header = row 1)."""
    return file_row - 2


def build(out: Path) -> dict[str, bytes]:
    base = base_rows()
    files: dict[str, bytes] = {}

    def put(name: str, text: str, encoding: str = "utf-8"):
        files[name] = text.encode(encoding)

    def variant(edit):
        rows = [list(r) for r in base]
        header = list(HEADER)
        res = edit(header, rows)
        return res if res is not None else (header, rows)

    def setcell(rows, file_row, name, value, header=HEADER):
        rows[row_of(file_row)][header.index(name)] = value

    put("ok_base.csv", to_csv(HEADER, base))
    put("perf_base.csv", to_csv(PERF_HEADER, perf_rows()))

    # ------------------------------------------------------------------ delimiters and encodings
    put("delim_semicolon.csv", to_csv(HEADER, base, delimiter=";"))
    put("delim_tab.csv", to_csv(HEADER, base, delimiter="\t"))
    put("delim_pipe.txt", to_csv(HEADER, base, delimiter="|"))
    put("utf16_tab.txt", to_csv(HEADER, base, delimiter="\t"), encoding="utf-16")  # with BOM (Excel "Unicode text")
    files["bom_utf8.csv"] = b"\xef\xbb\xbf" + to_csv(HEADER, base).encode("utf-8")

    def zh_names(h, rows):
        for i, r in enumerate(rows):
            r[col("name")] = NAMES_ZH[i % 6]

    h, r = variant(zh_names)
    put("gbk_chinese.csv", to_csv(h, r), encoding="gb18030")
    put("gbk_wrong_declared_encoding.csv", to_csv(h, r), encoding="gb18030")

    def zh_header(h, rows):
        # Chinese column labels: 姓名 (name) instead of name/email/phone, and an undeclared 备注 (remark)
        keep = [i for i, c in enumerate(h) if c not in ("name", "email", "phone")]
        new_h = [h[0], "姓名"] + [h[i] for i in keep[1:]] + ["备注"]
        new_rows = [[r[0], NAMES_ZH[k % 6]] + [r[i] for i in keep[1:]] + ["无"] for k, r in enumerate(rows)]
        return new_h, new_rows

    h, r = variant(zh_header)
    put("gbk_chinese_header.csv", to_csv(h, r), encoding="gb18030")
    files["undecodable.csv"] = to_csv(HEADER, base).encode("utf-8").replace(b"Zhang Min", b"Zh\x80ng Min", 1)

    # ------------------------------------------------------------------ structure of the file
    text = to_csv(HEADER, base)
    lines = text.split("\n")
    put("truncated_last_line.csv", "\n".join(lines[:-2] + [",".join(lines[-2].split(",")[:5])]))
    files["empty.csv"] = b""
    files["bom_only.csv"] = b"\xef\xbb\xbf\n"
    put("header_only.csv", lines[0] + "\n")
    put("crlf.csv", to_csv(HEADER, base, lineterminator="\r\n"))
    put("trailing_empty_lines.csv", text + "\n\n\n")
    put("trailing_delimiter_lines.csv", text + "," * (len(HEADER) - 1) + "\n" + "," * (len(HEADER) - 1) + "\n")
    put("blank_line_middle.csv", "\n".join(lines[:9] + [""] + lines[9:]))  # blank line = row 10
    lines_r = list(lines)
    lines_r[7] = lines_r[7] + ",extra"  # row 8 has one field too many
    put("ragged_row.csv", "\n".join(lines_r))
    lines_q = list(lines)
    region10 = REGIONS[row_of(10) % 4]
    lines_q[9] = lines_q[9].replace(f",{region10},", f',"{region10}"x,', 1)  # row 10: text after a closing quote
    assert lines_q[9] != lines[9]
    put("bad_quote.csv", "\n".join(lines_q))

    def quoted(h, rows):
        for i, r in enumerate(rows):
            r[col("地区")] = f"{REGIONS[i % 4]}, {'Shanghai' if i % 2 else 'Guangzhou'}"
            r[col("name")] = f"{SURNAMES[i % 6]}, {GIVEN[i // 6]}"

    h, r = variant(quoted)
    put("quoted_embedded_delimiter.csv", to_csv(h, r))
    put("unsupported_extension.json", '{"rid": "S001"}\n')

    # ------------------------------------------------------------------ header vs codebook
    def drop_column(name):
        def edit(h, rows):
            k = h.index(name)
            return [c for i, c in enumerate(h) if i != k], [[v for i, v in enumerate(r) if i != k] for r in rows]

        return edit

    put("missing_item_column.csv", to_csv(*variant(drop_column("P4"))))
    put("missing_id_column.csv", to_csv(*variant(drop_column("rid"))))
    put("declared_column_absent.csv", to_csv(*variant(drop_column("duration"))))

    def add_column(name, values):
        def edit(h, rows):
            return h + [name], [r + [values(i)] for i, r in enumerate(rows)]

        return edit

    put("extra_unknown_column.csv", to_csv(*variant(add_column("favourite_colour", lambda i: "blue"))))
    put("extra_unknown_column_stop.csv", to_csv(*variant(add_column("favourite_colour", lambda i: "blue"))))
    put("duplicate_column.csv", to_csv(*variant(add_column("D3", lambda i: "3"))))
    put("empty_header_cell.csv", to_csv(*variant(add_column("", lambda i: "x"))))
    put(
        "pii_undeclared_contact.csv",
        to_csv(*variant(add_column("contact", lambda i: f"contact{i + 1}@mail-example.com"))),
    )

    # ------------------------------------------------------------------ cells
    def cells(*edits):
        def edit(h, rows):
            for file_row, name, value in edits:
                setcell(rows, file_row, name, value, h)

        return edit

    put("non_numeric_cells.csv", to_csv(*variant(cells((4, "D1", "agree"), (9, "P2", "n/a")))))
    put("non_numeric_stop.csv", to_csv(*variant(cells((4, "D1", "agree"), (9, "P2", "n/a")))))
    put(
        "out_of_range_codes.csv",
        to_csv(*variant(cells((3, "D1", "0"), (5, "D1", "9"), (7, "D4", "6"), (8, "P1", "9"), (10, "P1", "9")))),
    )
    put("out_of_range_stop.csv", to_csv(*variant(cells((6, "P2", "9")))))
    put("non_integer.csv", to_csv(*variant(cells((5, "D2", "3.5")))))
    put("inf_cell.csv", to_csv(*variant(cells((6, "D3", "inf")))))
    put("all_missing_item.csv", to_csv(*variant(cells(*[(r, "P2", "") for r in range(2, N + 2)]))))
    put("zero_variance_item.csv", to_csv(*variant(cells(*[(r, "D4", "3") for r in range(2, N + 2)]))))
    put("no_responses_row.csv", to_csv(*variant(cells(*[(7, it, "") for it in ITEMS]))))
    put("too_many_missing.csv", to_csv(*variant(cells(*[(8, it, "") for it in ITEMS[:5]]))))
    put("covariate_non_numeric.csv", to_csv(*variant(cells((5, "tenure", "five")))))
    put(
        "pii_in_group_cell.csv",
        to_csv(*variant(cells((12, "地区", "13912345678"), (13, "地区", "call me: li.min@mail-example.com")))),
    )

    # ------------------------------------------------------------------ respondent ids
    def dup(extra_blank=(), blank_in_first=()):
        def edit(h, rows):
            copy = list(rows[row_of(6)])  # S005 submits again (row 26), answers D1 changed
            copy[h.index("D1")] = "1" if copy[h.index("D1")] != "1" else "2"
            for it in extra_blank:
                copy[h.index(it)] = ""
            for it in blank_in_first:
                rows[row_of(6)][h.index(it)] = ""
            rows.append(copy)

        return edit

    put("dup_ids_keep_first.csv", to_csv(*variant(dup(extra_blank=("P4",)))))
    put("dup_ids_keep_most_complete.csv", to_csv(*variant(dup(blank_in_first=("P1", "P2")))))
    put("dup_ids_stop.csv", to_csv(*variant(dup())))
    put("ids_missing.csv", to_csv(*variant(cells((4, "rid", ""), (11, "rid", "  ")))))
    put("ids_all_missing.csv", to_csv(*variant(cells(*[(r, "rid", "") for r in range(2, N + 2)]))))

    # ------------------------------------------------------------------ performance files (survey: ok_base.csv)
    perf = perf_rows()

    def perf_variant(edit, header=PERF_HEADER):
        rows = [list(r) for r in perf]
        h = list(header)
        res = edit(h, rows)
        return to_csv(*(res if res is not None else (h, rows)))

    def lower_ids(h, rows):
        for r in rows[12:20]:
            r[0] = r[0].lower()  # s013..s020: ids that do not match the survey's S013..S020

    put("perf_mismatched_ids.csv", perf_variant(lower_ids))

    def perf_dup(h, rows):
        rows.insert(7, list(rows[2]))  # S003 again at row 9 (first at row 4)
        rows[7][1] = "555"

    put("perf_duplicate_ids.csv", perf_variant(perf_dup))
    put("perf_non_numeric.csv", perf_variant(lambda h, rows: rows[5].__setitem__(1, "n/a")))  # row 7
    put("perf_missing_id_column.csv", perf_variant(lambda h, rows: h.__setitem__(0, "emp_id")))
    put("perf_empty_id.csv", perf_variant(lambda h, rows: rows[3].__setitem__(0, "")))  # row 5

    def perf_pii(h, rows):
        h[1:1] = ["name", "mobile"]
        for i, r in enumerate(rows):
            r[1:1] = [f"{SURNAMES[i % 6]} {GIVEN[i % 4]}", f"138{20000000 + 104729 * (i + 1):08d}"]

    put("perf_with_pii.csv", perf_variant(perf_pii))

    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    write_xlsx(out, base)
    write_sav(out, base)
    return files


def write_xlsx(out: Path, base: list[list[str]]) -> None:
    from openpyxl import Workbook

    def num(v: str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return v

    def book(path: Path, title: str, rows, extra=None):
        wb = Workbook()
        ws = wb.active
        ws.title = title
        ws.append(HEADER)
        for r in rows:
            ws.append([num(v) if k >= 5 else v for k, v in enumerate(r)])
        if extra:
            ws.cell(row=extra[0], column=extra[1], value=extra[2])
        wb.save(path)

    book(out / "xlsx_ok.xlsx", "Responses", base)
    book(out / "xlsx_wrong_sheet.xlsx", "Sheet1", base)
    book(out / "xlsx_value_beyond_header.xlsx", "Responses", base, extra=(9, len(HEADER) + 1, "stray note"))


def write_sav(out: Path, base: list[list[str]]) -> None:
    import pandas as pd
    import pyreadstat

    df = pd.DataFrame(base, columns=HEADER)
    for c in ["tenure", "duration"] + ITEMS:
        df[c] = df[c].astype(float)
    labels = {it: {float(k): lab for k, lab in enumerate(LABELS, start=1)} for it in ITEMS}
    pyreadstat.write_sav(
        df,
        str(out / "sav_value_labels.sav"),
        variable_value_labels=labels,
        column_labels={"地区": "Region", "D1": "I set myself clear goals."},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    files = build(args.out)
    print(f"wrote {len(files) + 4} files to {args.out}")


if __name__ == "__main__":
    main()
