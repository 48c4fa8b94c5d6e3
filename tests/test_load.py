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
    assert "added 4" in out and "skipped 3 bad" in out and "line 5: missing name" in err
    code, out, err = run_cli(["--db", db_url, "load", str(MERCARI_JP), "--format", "mercari-jp",
                              "--on-error", "fail"], capsys)
    assert code == 1 and "nothing loaded" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_missing_file_is_one_line(capsys, db_url):
    code, _, err = run_cli(["--db", db_url, "load", "/no/such.tsv", "--format", "zeta"], capsys)
    assert code == 1 and "no such file" in err and "Traceback" not in err
