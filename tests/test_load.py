"""`zeta load` for each format: idempotent, bad rows reported with line numbers, all-or-nothing on fail."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from zeta_serving.cli import main
from zeta_serving.ingest import RejectedRows, load_file
from zeta_serving.loaders import ParseReport, parse_file

FIXTURES = Path(__file__).parent / "fixtures"
KAGGLE = FIXTURES / "kaggle_sample.tsv"
MERCARI_JP = FIXTURES / "mercari_jp_sample.tsv"


def zeta_jsonl(path: Path, rows: list) -> Path:
    with path.open("wb") as fh:
        for row in rows:
            fh.write(row if isinstance(row, bytes) else (json.dumps(row, ensure_ascii=False) + "\n").encode())
    return path


GOOD = {"id": "a1", "name": "ユニクロ フリース L", "description": "", "brand": "ユニクロ", "condition": 2,
        "shipping": 1, "category": "ファッション/メンズ/トップス/その他", "price": 1500, "currency": "JPY",
        "tags": ["ネイビー", "L"], "listed_at": "2026-02-01T12:00:00+00:00"}


def run_cli(args, capsys):
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_kaggle_layout_loads_with_reasons_for_bad_rows(store):
    result = load_file(store, KAGGLE, "mercari-kaggle", undated_end="2026-02-01", progress=False)
    assert result.read == 4 and result.added == 4
    reasons = {e.line: e.reason for e in result.report.errors}
    assert reasons == {5: "missing name", 6: "unknown condition '9' (expected 1..6)",
                       7: "price is not a number: 'abc'"}
    frame = store.window("2025-01-01", "2027-01-01")
    assert set(frame["currency"]) == {"USD"}
    assert frame.loc[frame["id"] == "kaggle:0", "description"].iat[0] == ""  # "No description yet"


def test_undated_rows_follow_file_order_within_the_span(store):
    load_file(store, KAGGLE, "mercari-kaggle", undated_end="2026-02-01", undated_days=10, progress=False)
    frame = store.window("2025-01-01", "2027-01-01")
    assert list(frame["id"]) == ["kaggle:0", "kaggle:1", "kaggle:2", "kaggle:6"]
    assert frame["listed_at"].min() >= pd.Timestamp("2026-01-22", tz="UTC")
    assert frame["listed_at"].max() < pd.Timestamp("2026-02-01", tz="UTC")


def test_loading_twice_adds_nothing(store):
    first = load_file(store, MERCARI_JP, "mercari-jp", progress=False)
    second = load_file(store, MERCARI_JP, "mercari-jp", progress=False)
    assert first.added == 2 and second.added == 0 and second.duplicates == 2
    assert store.count() == 2


def test_mercari_jp_labels_timestamps_and_reasons(store):
    result = load_file(store, MERCARI_JP, "mercari-jp", progress=False)
    assert {e.line: e.reason for e in result.report.errors} == {
        4: "missing name", 5: "price is not a number: '三百円'",
        6: "unknown condition '傷だらけ' (expected 1..6 or a Mercari condition label)"}
    frame = store.window("2025-01-01", "2027-01-01").set_index("id")
    assert frame.loc["mjp:m100", "condition"] == 3  # 目立った傷や汚れなし
    assert frame.loc["mjp:m100", "listed_at"] == pd.Timestamp("2026-03-01 01:00", tz="UTC")
    assert frame.loc["mjp:m101", "shipping"] == 0


def test_zeta_jsonl_round_trip_and_broken_encoding(tmp_path, store):
    bad_bytes = b'{"id": "x", "name": "\xff\xfe broken", "condition": 1, "shipping": 0}\n'
    path = zeta_jsonl(tmp_path / "l.jsonl", [GOOD, bad_bytes, b"not json\n", {**GOOD, "id": "a2", "price": "x"}])
    result = load_file(store, path, "zeta", progress=False)
    assert result.added == 1
    reasons = {e.line: e.reason for e in result.report.errors}
    assert reasons[2].startswith("broken encoding")
    assert reasons[3].startswith("not valid JSON")
    assert reasons[4] == "price is not a number: 'x'"
    row = store.window("2026-01-01", "2026-03-01").iloc[0]
    assert row["tags"] == ["ネイビー", "L"] and row["price"] == 1500.0


def test_fail_mode_loads_nothing(tmp_path, store):
    rows = [{**GOOD, "id": f"g{i}"} for i in range(30)] + [{**GOOD, "id": "bad", "name": ""}]
    path = zeta_jsonl(tmp_path / "l.jsonl", rows)
    with pytest.raises(RejectedRows, match="line 31: missing name"):
        load_file(store, path, "zeta", on_error="fail", progress=False)
    assert store.count() == 0


def test_zeta_tsv(tmp_path, store):
    path = tmp_path / "l.tsv"
    path.write_text("id\tname\tcondition\tshipping\tprice\ttags\tlisted_at\n"
                    "t1\tセリア 収納\t1\t1\t300\t白|プラスチック\t2026-01-05\n", encoding="utf-8")
    assert load_file(store, path, "zeta", progress=False).added == 1
    assert store.window("2026-01-01", "2026-02-01")["tags"].iat[0] == ["白", "プラスチック"]


def test_wrong_layout_is_named(tmp_path):
    with pytest.raises(Exception, match="not a mercari-kaggle file: header lacks"):
        list(parse_file(MERCARI_JP, "mercari-kaggle", report=ParseReport()))


def test_cli_load_reports_and_fail_exit(tmp_path, capsys, db_url):
    code, out, err = run_cli(["--db", db_url, "load", str(KAGGLE), "--format", "mercari-kaggle"], capsys)
    assert code == 0
    assert "7 records: read 4, rejected 3; added 4" in out and "line 5: missing name" in err
    code, out, err = run_cli(["--db", db_url, "load", str(MERCARI_JP), "--format", "mercari-jp",
                              "--on-error", "fail"], capsys)
    assert code == 1 and "nothing loaded" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_missing_file_is_one_line(capsys, db_url):
    code, _, err = run_cli(["--db", db_url, "load", "/no/such.tsv", "--format", "zeta"], capsys)
    assert code == 1 and "no such file" in err and "Traceback" not in err


# --- no row lost silently: rows read + rows rejected = records in the file ----------------------------

KAGGLE_HEADER = ["train_id", "name", "item_condition_id", "category_name", "brand_name", "price", "shipping",
                 "item_description"]
JP_HEADER = ["id", "is_shop", "name", "item_description", "price", "brand_name", "item_condition", "shipping",
             "shipping_from_area", "shipping_duration", "seller_id", "category_name", "updated_date"]
ZETA_HEADER = ["id", "name", "description", "condition", "shipping", "price", "tags", "listed_at"]


def _kaggle_row(i: int, name: str = "", description: str = "") -> list[str]:
    return [str(i), name or f"Nike shoe {i}", "3", "Men/Shoes/Athletic", "Nike", "20.0", "1",
            description or "worn twice"]


def _jp_row(i: int, name: str = "", description: str = "") -> list[str]:
    return [f"m{i}", "0", name or f"ナイキ スニーカー {i}", description or "2回着用", "3000", "ナイキ", "2", "1",
            "東京都", "1~2日で発送", "9", "メンズ/靴/スニーカー", "2026-03-01 09:00:00"]


def _zeta_row(i: int, name: str = "", description: str = "", tags: str = "白|L") -> list[str]:
    return [f"z{i}", name or f"ユニクロ フリース {i}", description or "美品", "2", "1", "1500", tags,
            "2026-02-01T12:00:00+00:00"]


LAYOUTS = {"mercari-kaggle": (KAGGLE_HEADER, _kaggle_row), "mercari-jp": (JP_HEADER, _jp_row),
           "zeta": (ZETA_HEADER, _zeta_row)}


def write_tsv(path: Path, header: list[str], rows: list) -> Path:
    """Raw lines, fields joined by tabs, no quoting: exactly the bytes a test means."""
    with path.open("wb") as fh:
        fh.write(("\t".join(header) + "\n").encode())
        for row in rows:
            fh.write(row if isinstance(row, bytes) else ("\t".join(row) + "\n").encode())
    return path


def assert_accounted(result, records: int) -> None:
    report = result.report
    assert report.records == records
    assert result.read + report.error_count == records


@pytest.mark.parametrize("fmt", ["mercari-kaggle", "mercari-jp"])
def test_mercari_layouts_read_quotes_literally(tmp_path, store, fmt):
    """An opening quote without its closing one used to swallow the next lines: 10 rows in, 6 loaded, 0 reported."""
    header, make = LAYOUTS[fmt]
    rows = [make(i) for i in range(10)]
    rows[2] = make(2, name='"Supreme box logo')  # unclosed
    rows[4] = make(4, description='5" screen, "like new')
    rows[6] = make(6, name='"quoted" title', description='says ""hi""')
    result = load_file(store, write_tsv(tmp_path / "q.tsv", header, rows), fmt, undated_end="2026-02-01",
                       progress=False)
    assert result.read == result.added == 10 and result.report.error_count == 0
    assert_accounted(result, 10)
    frame = store.window("2025-01-01", "2027-01-01")
    names, descriptions = set(frame["name"]), set(frame["description"])
    assert {'"Supreme box logo', '"quoted" title'} <= names
    assert {'5" screen, "like new', 'says ""hi""'} <= descriptions


def test_zeta_tsv_reads_csv_quoting_and_rejects_an_unclosed_quote(tmp_path, store):
    rows = [_zeta_row(i) for i in range(10)]
    rows[2] = _zeta_row(2, name='"ユニクロ フリース')  # unclosed: costs this line only
    rows[5] = _zeta_row(5, name='"タブ\tと ""引用符"""')  # quoted as csv writers quote
    rows[7] = _zeta_row(7, description='5" screen')  # a quote inside an unquoted field is literal
    result = load_file(store, write_tsv(tmp_path / "z.tsv", ZETA_HEADER, rows), "zeta", progress=False)
    assert result.read == result.added == 9
    assert [(e.line, e.reason) for e in result.report.errors] == [
        (4, "unclosed quote in a field (a TSV record is one line; quote a field as \"...\" with \"\" inside)")]
    assert_accounted(result, 10)
    frame = store.window("2026-01-01", "2026-03-01").set_index("id")
    assert frame.loc["z5", "name"] == 'タブ\tと "引用符"'
    assert frame.loc["z7", "description"] == '5" screen'


@pytest.mark.parametrize("tags", ['["ネイビー", "L"', "[1, 2]", '["a", null]', "[]]"])
def test_malformed_tags_cell_costs_one_row(tmp_path, store, tags):
    """One bad tags cell in 5,000 rows used to abort the load (0 loaded), even with --on-error skip."""
    rows = [_zeta_row(i) for i in range(5000)]
    rows[1234] = _zeta_row(1234, tags=tags)
    result = load_file(store, write_tsv(tmp_path / "t.tsv", ZETA_HEADER, rows), "zeta", progress=False)
    assert result.added == 4999
    assert [e.line for e in result.report.errors] == [1236]
    assert result.report.errors[0].reason.startswith("tags ")
    assert_accounted(result, 5000)
    assert store.count() == 4999


@pytest.mark.parametrize("tags, reason", [
    (42, "tags must be a list of strings, not int"),
    ("ネイビー|L", "tags must be a list of strings, not str"),
    ({"color": "navy"}, "tags must be a list of strings, not dict"),
    (True, "tags must be a list of strings, not bool"),
    (["navy", 7], "tags must be strings, not int"),
])
def test_tags_of_the_wrong_type_are_rejected_not_stored_as_strings(tmp_path, store, tags, reason):
    rows = [GOOD, {**GOOD, "id": "bad", "tags": tags}, {**GOOD, "id": "none", "tags": None}]
    result = load_file(store, zeta_jsonl(tmp_path / "t.jsonl", rows), "zeta", progress=False)
    assert {e.line: e.reason for e in result.report.errors} == {2: reason}
    assert_accounted(result, 3)
    frame = store.window("2026-01-01", "2026-03-01").set_index("id")
    assert list(frame.index) == ["a1", "none"] and frame.loc["none", "tags"] == []


@pytest.mark.parametrize("field, value", [("name", ["a list"]), ("brand", {"a": 1}), ("description", True)])
def test_text_of_the_wrong_type_is_rejected(tmp_path, store, field, value):
    rows = [GOOD, {**GOOD, "id": "bad", field: value}]
    result = load_file(store, zeta_jsonl(tmp_path / "t.jsonl", rows), "zeta", progress=False)
    assert {e.line: e.reason for e in result.report.errors} == {
        2: f"{field} must be text, not {type(value).__name__}"}
    assert_accounted(result, 2)


def test_nul_byte_costs_its_row_on_every_database(tmp_path, store):
    """SQLite kept a NUL; PostgreSQL refused the whole file."""
    rows = [_kaggle_row(i) for i in range(5)]
    rows[1] = _kaggle_row(1, name="Nike\x00 shoe")
    rows[3] = _kaggle_row(3, description="worn\x00")
    result = load_file(store, write_tsv(tmp_path / "n.tsv", KAGGLE_HEADER, rows), "mercari-kaggle",
                       undated_end="2026-02-01", progress=False)
    assert {e.line: e.reason for e in result.report.errors} == {
        3: "name holds a NUL character", 5: "description holds a NUL character"}
    assert result.added == 3 and store.count() == 3
    assert_accounted(result, 5)
    jsonl = zeta_jsonl(tmp_path / "n.jsonl", [GOOD, {**GOOD, "id": "n", "tags": ["a\u0000b"]},
                                                (json.dumps({**GOOD, "id": "s", "brand": "\ud800"}) + "\n").encode()])
    result = load_file(store, jsonl, "zeta", progress=False)
    assert {e.line: e.reason for e in result.report.errors} == {
        2: "tags holds a NUL character", 3: "brand is not valid Unicode (a lone surrogate)"}
    assert result.added == 1


def test_values_longer_than_their_column_cost_their_row(tmp_path, store):
    """PostgreSQL enforces varchar lengths (SQLite does not): checked before, so both agree."""
    rows = [GOOD, {**GOOD, "id": "x" * 201}, {**GOOD, "id": "b", "brand": "ブ" * 301}]
    result = load_file(store, zeta_jsonl(tmp_path / "long.jsonl", rows), "zeta", progress=False)
    assert {e.line: e.reason for e in result.report.errors} == {
        2: "id is longer than 200 characters", 3: "brand is longer than 300 characters"}
    assert result.added == 1


def test_short_and_long_records_are_rejected(tmp_path, store):
    rows = [_kaggle_row(0), _kaggle_row(1)[:-2], _kaggle_row(2) + ["extra"], _kaggle_row(3)]
    result = load_file(store, write_tsv(tmp_path / "s.tsv", KAGGLE_HEADER, rows), "mercari-kaggle",
                       undated_end="2026-02-01", progress=False)
    assert {e.line: e.reason for e in result.report.errors} == {
        3: "6 fields, the header has 8", 4: "9 fields, the header has 8"}
    assert_accounted(result, 4)


@pytest.mark.parametrize("fmt, path, records", [
    ("mercari-kaggle", KAGGLE, 7), ("mercari-jp", MERCARI_JP, 5)])
def test_fixtures_account_for_every_record(store, fmt, path, records):
    result = load_file(store, path, fmt, undated_end="2026-02-01", progress=False)
    assert_accounted(result, records)


def test_broken_json_and_encoding_are_accounted(tmp_path, store):
    path = zeta_jsonl(tmp_path / "l.jsonl", [GOOD, b"\xff\xfe\n", b"\n", b"[1]\n", b"{\n", {**GOOD, "id": "b"}])
    result = load_file(store, path, "zeta", progress=False)
    assert result.added == 2 and sorted(e.line for e in result.report.errors) == [2, 4, 5]
    assert_accounted(result, 5)  # the blank line is not a record


@pytest.mark.parametrize("content", [
    "id\tname\tcondition\tshipping\n",  # header only
    "id\tname\tcondition\tshipping\n\tno id\t1\t1\nx\t\t1\t1\n",  # every row bad
])
def test_no_readable_rows_is_an_error(tmp_path, capsys, db_url, content):
    path = tmp_path / "empty.tsv"
    path.write_text(content, encoding="utf-8")
    code, out, err = run_cli(["--db", db_url, "load", str(path), "--format", "zeta"], capsys)
    assert code == 1 and "Traceback" not in err
    assert "no readable rows" in err


def test_cli_reports_the_accounting(tmp_path, capsys, db_url):
    rows = [_zeta_row(i) for i in range(8)]
    rows[3] = _zeta_row(3, tags="[broken")
    path = write_tsv(tmp_path / "c.tsv", ZETA_HEADER, rows)
    code, out, err = run_cli(["--db", db_url, "load", str(path), "--format", "zeta"], capsys)
    assert code == 0, err
    assert "8 records: read 7, rejected 1" in out
    assert "line 5: tags " in err


def test_cli_rejects_file_names_every_rejected_line(tmp_path, capsys, db_url):
    rows = [_zeta_row(i) for i in range(20)]
    bad = [2, 5, 7, 9, 11, 13, 17]  # more than the five examples stderr shows
    for i in bad:
        rows[i] = _zeta_row(i, tags="[broken")
    path = write_tsv(tmp_path / "r.tsv", ZETA_HEADER, rows)
    rejects = tmp_path / "rejects.tsv"
    code, out, err = run_cli(["--db", db_url, "load", str(path), "--format", "zeta", "--rejects", str(rejects)],
                             capsys)
    assert code == 0, err
    assert "20 records: read 13, rejected 7" in out and "... and 2 more" in err
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert [int(line.split("\t")[0]) for line in lines] == [i + 2 for i in bad]
    assert all(line.split("\t")[1].startswith("tags is not a JSON list") for line in lines)
