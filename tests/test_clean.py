"""compval.clean: the bad-input corpus (tests/corpus/manifest.yaml), cleaning policies, the conservation law,
pseudonymisation keys and the careless-responding flags on the demo data.

The corpus cases run the library functions exactly as workflow/scripts/ingest.py and screen.py call them
(read_table -> ingest_survey -> screen_respondents, pseudonymize_performance -> match_performance).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from compval.clean import (
    CleaningOptions,
    check_conservation,
    ingest_survey,
    load_pseudonym_key,
    make_pseudonymizer,
    match_performance,
    pseudonymize_performance,
    screen_respondents,
)
from compval.codebook import load_codebook
from compval.io import InputError, read_table

from conftest import demo_config

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))
CASES = MANIFEST["cases"]
KEY = b"corpus-test-key"
PSEUDO = make_pseudonymizer(KEY)
# columns of the corpus exports holding direct identifiers (declared, undeclared or Chinese-labelled)
PII_COLUMNS = {"name", "email", "phone", "contact", "姓名", "mobile"}


@pytest.fixture(scope="module")
def corpus_codebook():
    return load_codebook(CORPUS / MANIFEST["defaults"]["codebook"])


def _options(case) -> CleaningOptions:
    return CleaningOptions(**{**MANIFEST["defaults"]["options"], **case.get("options", {})})


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_case(case, codebook) -> dict:
    """Run one corpus case like the ingest and screen rules do; return every output (raises InputError)."""
    perf_case = case.get("kind") == "performance"
    survey = CORPUS / (MANIFEST["defaults"]["survey"] if perf_case else case["file"])
    perf_file = CORPUS / (case["file"] if perf_case else MANIFEST["defaults"]["performance"])
    opts = _options(case)
    read_opts = {} if perf_case else case.get("read", {})
    raw, meta = read_table(survey, **read_opts)
    ing = ingest_survey(raw, codebook.ingest_spec(), opts, source=str(survey), pseudonymize=PSEUDO)
    scr = screen_respondents(
        ing.responses, codebook, opts, prior_exclusions=ing.exclusions, n_raw=ing.report["n_raw"], source=str(survey)
    )
    perf_raw, _ = read_table(perf_file)
    perf = pseudonymize_performance(perf_raw, id_column="employee_id", source=str(perf_file), pseudonymize=PSEUDO)
    joined, counts = match_performance(perf, analysed=scr.items.index, surveyed=ing.responses.index)
    return {
        "meta": meta,
        "ingest": ing,
        "screen": scr,
        "perf": perf,
        "joined": joined,
        "counts": counts,
        "raw": raw,
        "perf_raw": perf_raw,
    }


def _written_text(out: dict) -> str:
    """Everything the pipeline would write for this input, as text (CSV/JSON)."""
    ing, scr = out["ingest"], out["screen"]
    parts = [
        ing.responses.to_csv(),
        ing.exclusions.to_csv(),
        ing.log.to_csv(),
        json.dumps(ing.report),
        scr.items.to_csv(),
        scr.respondents.to_csv(),
        scr.careless.to_csv(),
        scr.exclusions.to_csv(),
        scr.log.to_csv(),
        json.dumps(scr.report),
        out["perf"].to_csv(),
        out["joined"].to_csv(),
        json.dumps(out["counts"]),
        json.dumps(out["meta"].repairs),
    ]
    return "\n".join(parts)


def _identifiers(raw: pd.DataFrame, id_column: str) -> set[str]:
    vals = set()
    for c in raw.columns:
        if c in PII_COLUMNS or c == id_column:
            vals |= {v.strip() for v in raw[c].astype(str) if v.strip()}
    return vals


def _corpus_files() -> list[str]:
    return sorted(
        p.name
        for p in CORPUS.iterdir()
        if p.is_file() and p.name not in {"manifest.yaml", "codebook.yaml", "make_corpus.py"}
    )


# -------------------------------------------------------------------------------------------------- the corpus
@pytest.mark.parametrize(
    "case", [c for c in CASES if c["outcome"] != "error" and c.get("kind") != "performance"], ids=lambda c: c["file"]
)
def test_ingest_consuming_its_input_gives_the_same_result(case, corpus_codebook):
    """ingest_survey(consume=True), the ingest rule's call: the same result to the bit, and the caller's frame keeps
    only the columns the result is built from (the identifiers and unknown columns are dropped from it)."""
    survey = CORPUS / case["file"]
    opts = _options(case)
    raw, _ = read_table(survey, **case.get("read", {}))
    kept_raw = raw.copy()
    plain = ingest_survey(kept_raw, corpus_codebook.ingest_spec(), opts, source=str(survey), pseudonymize=PSEUDO)
    pd.testing.assert_frame_equal(kept_raw, raw)  # without consume the input is left as it was
    columns = list(raw.columns)
    given = ingest_survey(
        raw, corpus_codebook.ingest_spec(), opts, source=str(survey), pseudonymize=PSEUDO, consume=True
    )
    for name in ("responses", "exclusions", "log"):
        pd.testing.assert_frame_equal(getattr(given, name), getattr(plain, name), obj=name, check_exact=True)
    assert given.report == plain.report and given.id_map == plain.id_map
    idc = corpus_codebook.id_column
    assert list(raw.columns) == [c for c in columns if c == idc or c in plain.responses.columns]
    if case["file"] == MANIFEST["defaults"]["survey"]:  # the base survey has names, e-mails and phone numbers
        assert {"name", "email", "phone"} <= set(plain.report["columns_dropped_pii"]) <= set(columns) - set(raw.columns)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["outcome"] != "error" and c.get("kind") != "performance"], ids=lambda c: c["file"]
)
def test_screening_with_the_items_apart_gives_the_same_result(case, corpus_codebook):
    """screen_respondents(responses without the items, items=the items), as the screen rule calls it at any size
    to avoid a copy of the item block, returns what the call with one frame returns (every table, the report)."""
    survey = CORPUS / case["file"]
    opts = _options(case)
    raw, _ = read_table(survey, **case.get("read", {}))
    ing = ingest_survey(raw, corpus_codebook.ingest_spec(), opts, source=str(survey), pseudonymize=PSEUDO)
    kw = dict(prior_exclusions=ing.exclusions, n_raw=ing.report["n_raw"], source=str(survey))
    one = screen_respondents(ing.responses, corpus_codebook, opts, **kw)
    items = ing.responses[corpus_codebook.item_ids].astype(float)
    apart = screen_respondents(
        ing.responses.drop(columns=corpus_codebook.item_ids), corpus_codebook, opts, items=items, **kw
    )
    for name in ("items", "respondents", "careless", "exclusions", "log"):
        pd.testing.assert_frame_equal(getattr(apart, name), getattr(one, name), obj=name)
    assert apart.report == one.report
    # given away (consume=True, the screen rule's call): the analysed rows are moved within the items' block,
    # and every table is the same
    block = np.asfortranarray(items.to_numpy())
    given = pd.DataFrame(block, index=items.index, columns=items.columns, copy=False)
    consumed = screen_respondents(
        ing.responses.drop(columns=corpus_codebook.item_ids), corpus_codebook, opts, items=given, consume=True, **kw
    )
    for name in ("items", "respondents", "careless", "exclusions", "log"):  # to the bit
        pd.testing.assert_frame_equal(getattr(consumed, name), getattr(apart, name), obj=name, check_exact=True)
    assert consumed.report == apart.report
    if len(one.items) < len(items):  # rows were excluded: the analysed ones are the top of the same block
        assert np.shares_memory(consumed.items.to_numpy(), block)
    with pytest.raises(ValueError, match="item columns"):
        screen_respondents(ing.responses, corpus_codebook, opts, items=items.iloc[:, ::-1], **kw)


def test_corpus_is_complete():
    """At least 30 malformed files; every corpus file has a documented outcome and every case has its file."""
    files = _corpus_files()
    named = [c["file"] for c in CASES]
    assert len(named) == len(set(named))
    assert set(named) <= set(files)
    assert set(files) - set(named) == {"perf_base.csv"}  # the clean performance file every case reads
    malformed = [c for c in CASES if c["defect"].split(" ")[0] != "none"]
    assert len(malformed) >= 30
    assert sum(c["outcome"] == "error" for c in CASES) >= 15
    assert sum(c["outcome"] == "repair" for c in CASES) >= 15
    for c in CASES:
        assert c["outcome"] in ("error", "repair")
        assert ("error" in c) == (c["outcome"] == "error") and ("expect" in c) == (c["outcome"] == "repair")


def test_make_corpus_reproduces_text_files(tmp_path):
    """The committed corpus is what make_corpus.py generates (byte for byte for text files)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    files = mod.build(tmp_path)
    assert len(files) >= 50
    for name, data in files.items():
        assert (CORPUS / name).read_bytes() == data, name
    # spreadsheets carry a timestamp: compare their content
    for name in ["xlsx_ok.xlsx", "sav_value_labels.sav"]:
        a, _ = read_table(CORPUS / name, **({"sheet": "Responses"} if name.endswith("xlsx") else {}))
        b, _ = read_table(tmp_path / name, **({"sheet": "Responses"} if name.endswith("xlsx") else {}))
        pd.testing.assert_frame_equal(a, b)


def _match_log(log: pd.DataFrame, want: dict) -> bool:
    for _, row in log.iterrows():
        if all(str(row[k]) == str(v) for k, v in want.items()):
            return True
    return False


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_corpus_case(case, corpus_codebook):
    """Each corpus file gets its documented outcome: a named error or a logged repair (see manifest.yaml)."""
    path = CORPUS / case["file"]
    before = _sha(path)
    if case["outcome"] == "error":
        err = case["error"]
        with pytest.raises(InputError) as info:
            run_case(case, corpus_codebook)
        exc = info.value
        msg = str(exc)
        assert Path(exc.file).name == case["file"]
        assert msg.startswith(exc.file)
        assert exc.row == err["row"], msg
        assert exc.column == err["column"], msg
        if err["row"] is not None:
            assert f"row {err['row']}" in msg
        if err["column"] is not None:
            assert f"column '{err['column']}'" in msg
        assert err["message"] in msg
        assert "\n" not in msg  # one readable line
    else:
        exp = case["expect"]
        out = run_case(case, corpus_codebook)
        rep, ing = out["screen"].report, out["ingest"]
        check_conservation(rep)
        assert rep["n_raw"] == exp["n_raw"] == ing.report["n_raw"]
        assert rep["n_analyzed"] + sum(rep["excluded"].values()) == rep["n_raw"]
        assert rep["n_analyzed"] == exp["n_analyzed"] == len(out["screen"].items)
        if "excluded" in exp:
            assert rep["excluded"] == exp["excluded"]
        assert len(out["screen"].exclusions) == sum(rep["excluded"].values())
        log = pd.concat([ing.log, out["screen"].log], ignore_index=True)
        for want in exp.get("log", []):
            assert _match_log(log, want), f"log entry {want} not in\n{log.to_string()}"
        for sub in exp.get("repairs", []):
            assert any(sub in r for r in out["meta"].repairs), out["meta"].repairs
        for k, v in exp.get("meta", {}).items():
            assert getattr(out["meta"], k) == v, k
        for k, v in exp.get("report", {}).items():
            assert ing.report[k] == v, k
        for k, v in exp.get("performance", {}).items():
            assert out["counts"][k] == v, k
        if "performance_columns" in exp:
            assert list(out["perf"].columns) == exp["performance_columns"]
        if "exclusion_values" in exp:
            assert sorted(out["screen"].exclusions["value"]) == sorted(exp["exclusion_values"])
        for c, values in exp.get("values", {}).items():
            assert set(ing.responses[c].dropna()) == set(values)
        for var, labels in exp.get("value_labels", {}).items():
            got = out["meta"].value_labels[var]
            for code, label in labels.items():
                assert got[float(code)] == label
        # the performance join accounts for every record
        c = out["counts"]
        assert c["matched"] + c["performance_only"] + c["performance_of_excluded"] == c["n_performance_records"]
        assert c["matched"] + c["survey_only"] == rep["n_analyzed"]
        # privacy: no name, e-mail, phone or raw id of the input reaches anything that would be written
        text = _written_text(out)
        secrets = _identifiers(out["raw"], corpus_codebook.id_column) | _identifiers(out["perf_raw"], "employee_id")
        assert secrets
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, leaked
        assert set(out["screen"].items.index) <= {PSEUDO(i) for i in out["raw"]["rid"].str.strip()}
    assert _sha(path) == before  # inputs are only read


# -------------------------------------------------------------------------------------------------- policies
def _survey_with(cells: dict[tuple[int, str], str], extra_rows: list[list[str]] | None = None) -> pd.DataFrame:
    raw, _ = read_table(CORPUS / "ok_base.csv")
    raw = raw.astype(object)  # text cells to edit (the plain reader's columns are categorical)
    for (row, col), v in cells.items():
        raw.loc[row, col] = v
    if extra_rows:
        for k, r in enumerate(extra_rows):
            raw.loc[raw.index.max() + 1] = r
    return raw


def test_out_of_range_missing_logs_one_entry_per_cell_class(corpus_codebook):
    raw = _survey_with(
        {(2, "D1"): "9", (3, "D1"): "9", (4, "D1"): "0", (5, "D1"): "x", (6, "D1"): "2.5", (7, "P4"): "9"}
    )
    # 5 of D1's 24 cells are invalid: over the loss guard's 20% (tested on its own below); switched off here
    opts = CleaningOptions(loss_guard={"item": None, "total": None})
    res = ingest_survey(raw, corpus_codebook.ingest_spec(), opts, source="s.csv", pseudonymize=PSEUDO)
    log = res.log[res.log.step == "ranges"]
    got = {(r.column, r.issue): (r["count"], r.rows) for _, r in log.iterrows()}
    assert got == {
        ("D1", "out-of-range code 0"): (1, "4"),
        ("D1", "out-of-range code 9"): (2, "2;3"),
        ("D1", "non-numeric text"): (1, "5"),
        ("D1", "non-integer number"): (1, "6"),
        ("P4", "out-of-range code 9"): (1, "7"),
    }
    assert res.responses["D1"].isna().sum() == 5 and res.responses["P4"].isna().sum() == 1
    assert res.report["cells_set_missing"] == 6
    # valid codes are untouched
    base, _ = read_table(CORPUS / "ok_base.csv")
    assert (res.responses["D2"].to_numpy() == base["D2"].astype(float).to_numpy()).all()


def test_out_of_range_stop_names_file_row_column(corpus_codebook):
    raw = _survey_with({(7, "P1"): "6", (9, "D1"): "0"})
    with pytest.raises(InputError) as info:
        ingest_survey(
            raw,
            corpus_codebook.ingest_spec(),
            CleaningOptions(out_of_range="stop"),
            source="s.csv",
            pseudonymize=PSEUDO,
        )
    # items are checked in codebook order: D1 before P1
    assert str(info.value) == (
        "s.csv, row 9, column 'D1': invalid response (code 0) (expected an integer from 1 to 5 or an empty cell)"
    )


@pytest.mark.parametrize("policy,kept_row", [("keep_first", 3), ("keep_most_complete", 26)])
def test_duplicate_policies(corpus_codebook, policy, kept_row):
    raw, _ = read_table(CORPUS / "ok_base.csv")
    second = list(raw.loc[3])  # S002 again, complete; the first submission misses two answers
    raw = raw.astype(object)  # text cells to edit
    raw.loc[3, ["D1", "D2"]] = ""
    raw.loc[26] = second
    res = ingest_survey(
        raw, corpus_codebook.ingest_spec(), CleaningOptions(duplicates=policy), source="s.csv", pseudonymize=PSEUDO
    )
    dropped = 26 if kept_row == 3 else 3
    assert res.exclusions.to_dict("records") == [
        {
            "pid": PSEUDO("S002"),
            "stage": "duplicates",
            "reason": "duplicate_id",
            "value": f"row {dropped} dropped, row {kept_row} kept ({policy})",
        }
    ]
    assert len(res.responses) == 24 and res.report["duplicate_rows_dropped"] == 1
    assert res.responses.loc[PSEUDO("S002"), ["D1", "D2"]].isna().all() == (kept_row == 3)


def test_stray_identifiers_in_kept_columns_are_blanked(corpus_codebook):
    """A phone number or e-mail typed into a kept column is blanked and logged; a long plain number is a value."""
    raw = _survey_with(
        {
            (3, "duration"): "12345678",
            (4, "duration"): "13812345678",
            (5, "tenure"): "+86 138 1234 5678",
            (6, "地区"): "x@y.cn",
            (7, "地区"): "0755-8765 4321",
        }
    )
    res = ingest_survey(raw, corpus_codebook.ingest_spec(), CleaningOptions(), source="s.csv", pseudonymize=PSEUDO)
    got = {
        (r.column, r.issue, r.rows)
        for _, r in res.log[res.log.step == "privacy"].iterrows()
        if r.action == "set to missing"
    }
    phone, email = "cell looks like a phone number", "cell looks like an e-mail address"
    assert got == {("duration", phone, "4"), ("tenure", phone, "5"), ("地区", email, "6"), ("地区", phone, "7")}
    r = res.responses
    assert r.loc[PSEUDO("S002"), "duration"] == 12345678 and pd.isna(r.loc[PSEUDO("S003"), "duration"])
    assert r["地区"].isna().sum() == 2 and "x@y.cn" not in r.to_csv()
    assert res.report["columns_dropped_pii"] == ["name", "email", "phone"]


def test_conservation_law_is_enforced():
    check_conservation({"n_raw": 10, "n_analyzed": 7, "excluded": {"a": 2, "b": 1}})
    with pytest.raises(RuntimeError, match="conservation law broken: n_raw=10"):
        check_conservation({"n_raw": 10, "n_analyzed": 7, "excluded": {"a": 2}})


def test_match_performance_counts():
    perf = pd.DataFrame({"sales": [1.0, 2.0, 3.0, 4.0]}, index=pd.Index(["a", "b", "x", "z"], name="pid"))
    joined, counts = match_performance(
        perf, analysed=pd.Index(["a", "b", "c"]), surveyed=pd.Index(["a", "b", "c", "x"])
    )
    assert counts == {
        "n_performance_records": 4,
        "matched": 2,
        "survey_only": 1,
        "performance_only": 1,
        "performance_of_excluded": 1,
    }
    assert list(joined.index) == ["a", "b"]


# -------------------------------------------------------------------------------------------------- keys
def test_pseudonym_key_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("CV_TEST_KEY", raising=False)
    missing_file = tmp_path / "nokey"
    # strict: a missing key is an error naming where it was looked for
    with pytest.raises(InputError, match=r"no pseudonymisation key: set \$CV_TEST_KEY"):
        load_pseudonym_key("CV_TEST_KEY", missing_file, strict=True)
    # not strict: a generated per-run key, different each run
    k1, o1 = load_pseudonym_key("CV_TEST_KEY", missing_file, strict=False)
    k2, o2 = load_pseudonym_key("CV_TEST_KEY", missing_file, strict=False)
    assert o1 == o2 == "generated" and len(k1) >= 32 and k1 != k2
    # a key file, then the environment variable (which wins)
    missing_file.write_text("file-key\n")
    assert load_pseudonym_key("CV_TEST_KEY", missing_file, strict=True) == (b"file-key", f"file:{missing_file}")
    monkeypatch.setenv("CV_TEST_KEY", "env-key")
    assert load_pseudonym_key("CV_TEST_KEY", missing_file, strict=True) == (b"env-key", "env:CV_TEST_KEY")
    # an empty key file is an error, not an empty key
    monkeypatch.delenv("CV_TEST_KEY")
    missing_file.write_text("\n")
    with pytest.raises(InputError, match="key file is empty"):
        load_pseudonym_key("CV_TEST_KEY", missing_file)


def test_pseudonymizer_is_keyed_and_stable():
    p1, p2 = make_pseudonymizer(b"k1"), make_pseudonymizer(b"k2")
    assert p1("AM00001") == p1(" AM00001 ") == make_pseudonymizer(b"k1")("AM00001")
    assert p1("AM00001") != p2("AM00001") and p1("AM00001") != p1("AM00002")
    assert p1("AM00001").startswith("P") and len(p1("AM00001")) == 17
    assert "AM00001" not in p1("AM00001")


# -------------------------------------------------------------------------------------------------- demo data
@pytest.fixture(scope="module")
def demo():
    cfg = demo_config()
    cb = load_codebook(ROOT / cfg["codebook"])
    opts = CleaningOptions(
        out_of_range=cfg["out_of_range"],
        duplicates=cfg["duplicates"],
        missing=cfg["missing"],
        max_missing=cfg["max_missing"],
        careless=cfg["careless"],
        careless_thresholds=cfg["careless_thresholds"],
        unknown_columns=cfg["unknown_columns"],
        loss_guard=cfg["loss_guard"],
    )
    pseudo = make_pseudonymizer(b"demo-test-key")
    raw, _ = read_table(ROOT / cfg["survey"])
    ing = ingest_survey(raw, cb.ingest_spec(), opts, source=cfg["survey"], pseudonymize=pseudo)
    scr = screen_respondents(
        ing.responses, cb, opts, prior_exclusions=ing.exclusions, n_raw=ing.report["n_raw"], source=cfg["survey"]
    )
    return {"cfg": cfg, "raw": raw, "ingest": ing, "screen": scr, "pseudo": pseudo}


def test_demo_conservation(demo):
    rep = demo["screen"].report
    check_conservation(rep)
    assert rep["n_raw"] == len(demo["raw"]) == 602
    assert rep["n_analyzed"] + sum(rep["excluded"].values()) == rep["n_raw"]
    # the exclusion table lists exactly the excluded rows; analysed + excluded pids cover every raw id
    excl = demo["screen"].exclusions
    assert len(excl) == sum(rep["excluded"].values())
    ids = demo["raw"]["respondent_id"].str.strip()
    assert set(demo["screen"].items.index) | set(excl["pid"]) == set(ids.map(demo["pseudo"]))
    assert rep["excluded"]["duplicate_id"] == 2


def test_performance_ids_known_from_the_survey_get_the_same_pseudonyms(demo):
    """pseudonymize_performance(known=the survey's id map) looks the survey's ids up instead of hashing them
    again: the same table as hashing every id; an employee who is not in the survey is hashed."""
    perf_raw, _ = read_table(ROOT / demo["cfg"]["performance"]["path"])
    kw = dict(id_column=demo["cfg"]["performance"]["id_column"], source="perf.csv", pseudonymize=demo["pseudo"])
    hashed = pseudonymize_performance(perf_raw, **kw)
    known = dict(demo["ingest"].id_map)
    ids = perf_raw[kw["id_column"]].str.strip()
    assert ids.isin(list(known)).sum() > 0.9 * len(ids)
    looked_up = pseudonymize_performance(perf_raw, known=known, **kw)
    pd.testing.assert_frame_equal(looked_up, hashed)
    calls = []
    lookups_only = pseudonymize_performance(
        perf_raw, known=known, **{**kw, "pseudonymize": lambda i: calls.append(i) or demo["pseudo"](i)}
    )
    pd.testing.assert_frame_equal(lookups_only, hashed)
    assert sorted(calls) == sorted(ids[~ids.isin(list(known))])


def test_demo_careless_flags_recover_planted_responders(demo):
    """Recall and precision >= .8 against the simulator's truth, with the thresholds of config/config.yaml.

    Precision is measured on the respondents who answered every item. The Mahalanobis flag (careless::mahad's
    rule, :func:`compval.careless.mahad`) replaces a skipped answer by the item mean; the demo's answers are
    skipped not at random (more by respondents low on the item's trait) and its items are strong (latent loadings
    .66-.90, so that the hypothesised model meets the cut-offs while carrying the population's model error), so an
    attentive respondent who skipped an item sits at the mean on it but far from it on its strongly correlated
    siblings, which inflates D². On the demo every false positive of the D² flag skipped answers (13 of the 422
    attentive respondents who skipped, none of the 154 who answered everything): asserted below, as is precision
    >= .8 where D² is computed as intended (complete answers). (The demo before it had model error had loadings
    .55-.80 and 5 such false positives, precision .83 over everyone.)
    """
    truth = pd.read_csv(ROOT / "data" / "raw" / "truth.csv")
    truth = truth[truth["in_survey"] == 1]
    planted = set(truth.loc[truth["careless"] == 1, "respondent_id"].map(demo["pseudo"]))
    car = demo["screen"].careless
    flagged = set(car.index[car["flag_any"].astype(bool)])
    assert set(planted) <= set(car.index)
    tp = len(flagged & planted)
    recall = tp / len(planted)
    assert len(planted) == 24
    assert recall >= 0.8, recall
    complete = set(car.index[car["n_answered"] == car["n_items"]])
    precision_complete = len(flagged & planted & complete) / len(flagged & complete)
    assert precision_complete >= 0.8, precision_complete
    false_positives = flagged - planted
    assert not false_positives & complete, sorted(false_positives & complete)
    assert car.loc[sorted(false_positives), "flag_reasons"].str.startswith("mahad").all()


# ------------------------------------------------------------------------------------------ loss guard, scale types
def _scale_codebook(corpus_codebook, **scale):
    from compval.codebook import Codebook

    d = corpus_codebook.to_dict()
    d["scale"] = {k: v for k, v in {**d["scale"], **scale}.items() if v is not None}
    return Codebook.from_dict(d)


def test_loss_guard_stops_with_items_shares_values_and_the_likely_fix(corpus_codebook):
    """A 0-10 scale exported against a 1-5 codebook: most answers are 'out of range'."""
    raw, _ = read_table(CORPUS / "ok_base.csv")
    raw = raw.copy()
    for c in ["D1", "D2", "D3", "P1"]:
        raw[c] = [str(v) for v in (np.arange(len(raw)) % 11)]
    with pytest.raises(InputError) as info:
        ingest_survey(raw, corpus_codebook.ingest_spec(), CleaningOptions(), source="s.csv", pseudonymize=PSEUDO)
    msg = str(info.value)
    assert msg.startswith(
        "s.csv, column 'D1': cleaning would set 27% of all item cells (52 of 192; "
        "loss_guard.total is 10%) and over 20% of the cells of 4 item(s) (loss_guard.item): "
        "D1 54%, D2 54%, D3 54%, P1 54% to missing; commonest rejected values: '0' (12), "
    ), msg
    assert (
        "likely fix: the answers run from 0 to 10: if the scale is 0-10, not 1-5, set `scale: {min: 0, max: 10}`" in msg
    )
    # each check can be switched off; under the limits the run goes on and logs every cell
    res = ingest_survey(
        raw,
        corpus_codebook.ingest_spec(),
        CleaningOptions(loss_guard={"item": 0.6, "total": 0.3}),
        source="s.csv",
        pseudonymize=PSEUDO,
    )
    assert res.report["cells_set_missing"] == 52


def test_continuous_scale_keeps_decimals_and_logs_numbers_out_of_range(corpus_codebook):
    cb = _scale_codebook(corpus_codebook, type="continuous", min=0, max=10, labels=None)
    raw = _survey_with({(2, "D1"): "7.25", (3, "D1"): "0.5", (4, "D1"): "10.5", (5, "D1"): "x"})
    res = ingest_survey(raw, cb.ingest_spec(), CleaningOptions(), source="s.csv", pseudonymize=PSEUDO)
    d1 = res.responses["D1"]
    assert d1.iloc[0] == 7.25 and d1.iloc[1] == 0.5 and d1.isna().sum() == 2
    issues = set(res.log.loc[res.log.step == "ranges", "issue"])
    assert issues == {"out-of-range number", "non-numeric text"}


def test_likert_scale_with_decimal_bounds_is_refused_with_the_fix(corpus_codebook):
    from compval.codebook import CodebookError

    with pytest.raises(
        CodebookError,
        match=r"scale.min: 0.5 is not a whole number.*declare `scale: \{type: "
        r"continuous\}`",
    ):
        _scale_codebook(corpus_codebook, min=0.5, labels=None)


def test_careless_index_that_cannot_be_computed_is_reported_not_raised(corpus_codebook):
    """Mahalanobis distances need every item pair answered jointly by two respondents; without it the index is
    reported as not computed (with the reason) and the run goes on."""
    raw, _ = read_table(CORPUS / "ok_base.csv")
    raw = raw.astype(object)  # text cells to edit
    half = len(raw) // 2
    raw.loc[raw.index[:half], "D1"] = ""  # D1 and P1 never answered by the same respondent
    raw.loc[raw.index[half:], "P1"] = ""
    opts = CleaningOptions(loss_guard={"item": None, "total": None}, max_missing=0.5)
    ing = ingest_survey(raw, corpus_codebook.ingest_spec(), opts, source="s.csv", pseudonymize=PSEUDO)
    scr = screen_respondents(
        ing.responses, corpus_codebook, opts, prior_exclusions=ing.exclusions, n_raw=ing.report["n_raw"], source="s.csv"
    )
    assert scr.report["careless_not_computed"] == {
        "mahad": "not computable on these data: some item pairs have fewer than two joint answers; the covariance "
        "is undefined"
    }
    assert scr.careless["mahad"].isna().all() and not scr.careless["flag_mahad"].any()
    assert "index mahad not computed" in set(scr.log["issue"].str.split(":").str[0])


def test_plain_csv_columns_are_categorical_and_ingest_as_text_cells(corpus_codebook):
    """The plain CSV reader gives a column of few distinct texts as categorical codes (the item answers) and one
    of mostly distinct texts as text (ids, e-mail addresses). Ingesting the categorical frame gives, to the bit,
    what the same cells as text give."""
    raw, _ = read_table(CORPUS / "ok_base.csv")
    assert isinstance(raw["D1"].dtype, pd.CategoricalDtype)
    assert raw["rid"].dtype == object and raw["email"].dtype == object
    text = raw.astype(object)
    assert text.equals(pd.read_csv(CORPUS / "ok_base.csv", dtype=str, keep_default_na=False).set_axis(raw.index))
    opts = CleaningOptions()
    a = ingest_survey(raw, corpus_codebook.ingest_spec(), opts, source="s.csv", pseudonymize=PSEUDO)
    b = ingest_survey(text, corpus_codebook.ingest_spec(), opts, source="s.csv", pseudonymize=PSEUDO)
    for name in ("responses", "exclusions", "log"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert a.report == b.report and a.id_map == b.id_map


def test_reverse_scoring_in_place_gives_reverse_score_and_puts_every_bit_back(corpus_codebook):
    """The screening's in-place reverse scoring (consume=True): inside, the answers are reverse_score's, in the
    block's own array; on leaving, also after an error, the block is as it was to the bit. A column that would
    not come back exactly (0.1 -> 5.9 -> 0.09999999999999964 on a 1-5 scale) is scored in a copy instead."""
    from compval.clean import reverse_scored_in_place

    rng = np.random.default_rng(4)
    ids = corpus_codebook.item_ids
    values = np.asfortranarray(rng.integers(1, 6, size=(40, len(ids))).astype(float))
    values[rng.random(values.shape) < 0.1] = np.nan
    block = pd.DataFrame(values, columns=ids, copy=False)
    before = values.copy()
    expected = corpus_codebook.reverse_score(block)
    with reverse_scored_in_place(block, corpus_codebook) as scored:
        assert np.shares_memory(scored.to_numpy(), values)
        pd.testing.assert_frame_equal(scored, expected, check_exact=True)
    assert np.array_equal(values.view(np.uint64), before.view(np.uint64))
    with pytest.raises(RuntimeError, match="inside"):
        with reverse_scored_in_place(block, corpus_codebook):
            raise RuntimeError("inside")
    assert np.array_equal(values.view(np.uint64), before.view(np.uint64))
    values[0, ids.index(corpus_codebook.reverse_items[0])] = 0.1
    before = values.copy()
    with reverse_scored_in_place(block, corpus_codebook) as scored:
        assert not np.shares_memory(scored.to_numpy(), values)
        pd.testing.assert_frame_equal(scored, corpus_codebook.reverse_score(block), check_exact=True)
        assert np.array_equal(values.view(np.uint64), before.view(np.uint64))  # not touched
