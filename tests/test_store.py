"""The listing store on SQLite, and on PostgreSQL when ZETA_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from zeta_serving.errors import ZetaError
from zeta_serving.schema import COLUMNS
from zeta_serving.redaction import scrub_secrets as redact
from zeta_serving.store import ListingStore
from zeta_serving.windows import Windows


def listings(n: int, start: str = "2026-01-01", hours: float = 6.0, prefix: str = "t") -> pd.DataFrame:
    times = pd.date_range(start, periods=n, freq=pd.Timedelta(hours=hours), tz="UTC")
    return pd.DataFrame({
        "id": [f"{prefix}{i}" for i in range(n)],
        "name": [f"ナイキ スニーカー {i} 27cm" for i in range(n)],
        "description": ["美品です。" if i % 2 else "" for i in range(n)],
        "brand": ["ナイキ" if i % 3 else "" for i in range(n)],
        "condition": [1 + i % 6 for i in range(n)],
        "shipping": [i % 2 for i in range(n)],
        "category": ["ファッション/メンズ/靴/スニーカー" if i % 4 else "" for i in range(n)],
        "price": [float(1000 + i) if i % 5 else math.nan for i in range(n)],
        "currency": ["JPY"] * n,
        "tags": [["ブラック", "27cm"] if i % 2 else [] for i in range(n)],
        "listed_at": times,
    })[COLUMNS]


def test_round_trip_keeps_every_field(store):
    frame = listings(40)
    assert store.insert(frame) == 40
    back = store.window("2025-12-31", "2027-01-01")
    assert list(back.columns) == COLUMNS
    pd.testing.assert_frame_equal(back.drop(columns=["listed_at"]), frame.drop(columns=["listed_at"]),
                                  check_dtype=False)
    assert (back["listed_at"] == frame["listed_at"]).all()
    assert str(back["listed_at"].dt.tz) == "UTC"


def test_insert_is_idempotent(store):
    frame = listings(30)
    assert store.insert(frame) == 30
    assert store.insert(frame) == 0
    assert store.insert(pd.concat([frame, listings(5, prefix="new")])) == 5
    assert store.count() == 35


def test_duplicate_ids_inside_one_frame_count_once(store):
    frame = listings(10)
    assert store.insert(pd.concat([frame, frame])) == 10


def test_windows_are_half_open_and_never_overlap(store):
    store.insert(listings(28))  # one listing every 6 hours for 7 days
    w = Windows.ending("2026-01-08", train_days=5, eval_days=2)
    train = store.window(w.train_start, w.eval_start)
    held = store.window(w.eval_start, w.eval_end)
    assert len(train) == 20 and len(held) == 8
    assert not set(train["id"]) & set(held["id"])
    assert train["listed_at"].max() < w.eval_start <= held["listed_at"].min()


def test_labelled_filters(store):
    store.insert(listings(20))
    everything = store.window("2025-01-01", "2027-01-01")
    assert len(store.window("2025-01-01", "2027-01-01", labelled="price")) == int((everything["price"] > 0).sum())
    assert len(store.window("2025-01-01", "2027-01-01", labelled="category")) == 15
    assert len(store.window("2025-01-01", "2027-01-01", labelled="tags")) == 10
    assert store.count_window("2025-01-01", "2027-01-01", labelled="tags") == 10


def test_limit_keeps_newest_rows_oldest_first(store):
    store.insert(listings(20))
    newest = store.window("2025-01-01", "2027-01-01", limit=5)
    assert list(newest["id"]) == [f"t{i}" for i in range(15, 20)]


def test_large_windows_stream_in_chunks(store):
    store.insert(listings(250))
    chunks = list(store.iter_window("2025-01-01", "2027-01-01", chunk_rows=100))
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert pd.concat(chunks)["id"].is_unique


def test_time_range_and_empty_store(store):
    assert store.time_range() is None
    assert store.window("2025-01-01", "2027-01-01").empty
    store.insert(listings(4))
    lo, hi = store.time_range()
    assert lo == pd.Timestamp("2026-01-01", tz="UTC") and hi == pd.Timestamp("2026-01-01 18:00", tz="UTC")


def test_timezones_are_normalised_to_utc(store):
    frame = listings(1)
    frame["listed_at"] = pd.Series([pd.Timestamp("2026-03-01 09:00", tz="Asia/Tokyo")])
    store.insert(frame)
    assert store.window("2026-03-01", "2026-03-02")["listed_at"].iat[0] == pd.Timestamp("2026-03-01 00:00", tz="UTC")


def test_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            store.insert(listings(10), conn)
            raise RuntimeError("boom")
    assert store.count() == 0


def test_unreachable_database_is_a_clear_error():
    with pytest.raises(ZetaError, match="cannot reach database"):
        ListingStore("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")


def test_password_never_shown():
    assert "secret" not in redact("postgresql+psycopg://u:secret@h/db")
