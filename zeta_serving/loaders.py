"""Reading listing files into the schema, row by row, with line-numbered rejections.

Formats:
  mercari-kaggle  Mercari Price Suggestion Challenge train.tsv/test.tsv (USD, no timestamps)
  mercari-jp      Mercari Japan item dump TSV (yen, `updated_date`)
  zeta            the project's own JSON Lines (`.jsonl`) or TSV with schema columns

Rows without a timestamp are spread evenly, in file order, over the `undated_days`
before `undated_end`: the file order becomes time order, so the newest evaluation
window is the end of the file and the held-out evaluation stays honest.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pandas as pd

from zeta_serving.errors import ZetaError
from zeta_serving.schema import COLUMNS, CONDITIONS, MAX_CONDITION, MIN_CONDITION
from zeta_serving.windows import as_utc

FORMATS = ("mercari-kaggle", "mercari-jp", "zeta")
MAX_EXAMPLES = 5


class BadRow(ValueError):
    """A row that cannot become a listing; the message is the reason."""


@dataclass
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParseReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    def reject(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_EXAMPLES:
            self.errors.append(RowError(line, reason))


@dataclass(frozen=True)
class Undated:
    """The rule for rows without a timestamp (see module docstring)."""

    end: pd.Timestamp
    days: float
    total_lines: int

    def stamp(self, line: int) -> pd.Timestamp:
        step = timedelta(days=self.days) / max(self.total_lines, 1)
        return self.end - step * (self.total_lines - line + 1)


# -- field parsers ------------------------------------------------------------

def _text(value, what: str, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise BadRow(f"missing {what}")
    return text


def _price(value) -> float:
    text = _text(value, "price").replace(",", "").replace("¥", "").replace("￥", "").replace("円", "")
    if text == "":
        return math.nan  # an unlabelled listing: still useful for category/tag inputs
    try:
        price = float(text)
    except ValueError:
        raise BadRow(f"price is not a number: {value!r}") from None
    if math.isnan(price) or math.isinf(price) or price < 0:
        raise BadRow(f"price must be a non-negative number: {value!r}")
    return price


_CONDITION_BY_LABEL = {label: code for code, label in CONDITIONS.items()}


def _condition(value) -> int:
    text = _text(value, "condition", required=True)
    if text in _CONDITION_BY_LABEL:
        return _CONDITION_BY_LABEL[text]
    try:
        code = int(float(text))
    except ValueError:
        raise BadRow(f"unknown condition {value!r} (expected {MIN_CONDITION}..{MAX_CONDITION} "
                     "or a Mercari condition label)") from None
    if not MIN_CONDITION <= code <= MAX_CONDITION:
        raise BadRow(f"unknown condition {value!r} (expected {MIN_CONDITION}..{MAX_CONDITION})")
    return code


_SHIPPING_WORDS = {"0": 0, "1": 1, "buyer": 0, "seller": 1, "着払い(購入者負担)": 0,
                   "送料込み(出品者負担)": 1, "購入者負担": 0, "出品者負担": 1}


def _shipping(value) -> int:
    text = _text(value, "shipping", required=True)
    key = text.lower()
    if key not in _SHIPPING_WORDS:
        try:
            key = str(int(float(text)))  # "1.0" and friends
        except ValueError:
            pass
    if key not in _SHIPPING_WORDS:
        raise BadRow(f"unknown shipping payer {value!r} (expected 0 = buyer, 1 = seller)")
    return _SHIPPING_WORDS[key]


def _timestamp(value) -> pd.Timestamp | None:
    text = _text(value, "timestamp")
    if not text:
        return None
    try:
        if text.replace(".", "", 1).isdigit():
            return pd.Timestamp(float(text), unit="s", tz="UTC")
        return as_utc(text)
    except (ZetaError, ValueError, OverflowError):
        raise BadRow(f"unreadable timestamp {value!r}") from None


def _tags(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        items = value
    else:
        text = str(value).strip()
        items = json.loads(text) if text.startswith("[") else text.split("|")
    if not all(isinstance(t, str) for t in items):
        raise BadRow("tags must be strings")
    return [t.strip() for t in items if t.strip()]


# -- formats ------------------------------------------------------------------

def _kaggle(rec: dict) -> dict:
    row_id = _text(rec.get("train_id", rec.get("test_id")), "train_id", required=True)
    description = _text(rec.get("item_description"), "description")
    return {
        "id": f"kaggle:{row_id}",
        "name": _text(rec.get("name"), "name", required=True),
        "description": "" if description == "No description yet" else description,
        "brand": _text(rec.get("brand_name"), "brand"),
        "condition": _condition(rec.get("item_condition_id")),
        "shipping": _shipping(rec.get("shipping")),
        "category": _text(rec.get("category_name"), "category"),
        "price": _price(rec.get("price")),
        "currency": "USD",
        "tags": [],
        "listed_at": None,
    }


def _mercari_jp(rec: dict) -> dict:
    return {
        "id": f"mjp:{_text(rec.get('id'), 'id', required=True)}",
        "name": _text(rec.get("name"), "name", required=True),
        "description": _text(rec.get("item_description"), "description"),
        "brand": _text(rec.get("brand_name"), "brand"),
        "condition": _condition(rec.get("item_condition")),
        "shipping": _shipping(rec.get("shipping")),
        "category": _text(rec.get("category_name"), "category"),
        "price": _price(rec.get("price")),
        "currency": "JPY",
        "tags": [],
        "listed_at": _timestamp(rec.get("updated_date")),
    }


def _zeta(rec: dict) -> dict:
    currency = _text(rec.get("currency"), "currency") or "JPY"
    if currency not in ("JPY", "USD"):
        raise BadRow(f"unknown currency {currency!r} (expected JPY or USD)")
    return {
        "id": _text(rec.get("id"), "id", required=True),
        "name": _text(rec.get("name"), "name", required=True),
        "description": _text(rec.get("description"), "description"),
        "brand": _text(rec.get("brand"), "brand"),
        "condition": _condition(rec.get("condition")),
        "shipping": _shipping(rec.get("shipping")),
        "category": _text(rec.get("category"), "category"),
        "price": _price(rec.get("price")),
        "currency": currency,
        "tags": _tags(rec.get("tags")),
        "listed_at": _timestamp(rec.get("listed_at")),
    }


_ROW_PARSERS: dict[str, Callable[[dict], dict]] = {
    "mercari-kaggle": _kaggle,
    "mercari-jp": _mercari_jp,
    "zeta": _zeta,
}

_REQUIRED_HEADER = {
    "mercari-kaggle": {"name", "item_condition_id", "shipping"},
    "mercari-jp": {"id", "name", "item_condition", "shipping"},
    "zeta": {"id", "name", "condition", "shipping"},
}


# -- reading ------------------------------------------------------------------

def _decoded_lines(raw: io.BufferedReader, report: ParseReport, counter: list[int]) -> Iterator[str]:
    """Decode line by line so one broken byte sequence costs one row, with its line number."""
    for number, line in enumerate(raw, start=1):
        counter[0] = number
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            report.reject(number, f"broken encoding (not UTF-8) at byte {exc.start}")


def _records(path: Path, fmt: str, report: ParseReport) -> Iterator[tuple[int, dict]]:
    counter = [0]
    raw = path.open("rb")
    with raw:
        lines = _decoded_lines(raw, report, counter)
        if fmt == "zeta" and path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
            for text in lines:
                if not text.strip():
                    continue
                try:
                    rec = json.loads(text)
                except json.JSONDecodeError as exc:
                    report.reject(counter[0], f"not valid JSON ({exc.msg})")
                    continue
                if not isinstance(rec, dict):
                    report.reject(counter[0], "not a JSON object")
                    continue
                yield counter[0], rec
            return
        reader = csv.DictReader(lines, delimiter="\t")
        header = set(reader.fieldnames or [])
        needed = _REQUIRED_HEADER[fmt] - header
        if needed:
            raise ZetaError(f"{path}: not a {fmt} file: header lacks {', '.join(sorted(needed))}")
        for rec in reader:
            if None in rec:
                report.reject(counter[0], "more fields than the header")
                continue
            yield counter[0], rec


def count_lines(path: Path) -> int:
    with path.open("rb") as raw:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))


def parse_file(path: str | Path, fmt: str, *, undated_end=None, undated_days: float = 30.0,
               chunk_rows: int = 20_000, on_row: Callable[[int], None] | None = None,
               report: ParseReport | None = None) -> Iterator[pd.DataFrame]:
    """Yield listings from a file as DataFrames of at most `chunk_rows` rows.

    Bad rows are recorded in `report` (line and reason) and left out.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ZetaError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if not path.is_file():
        raise ZetaError(f"no such file: {path}")
    report = report if report is not None else ParseReport()
    undated = Undated(as_utc(undated_end or pd.Timestamp.now(tz="UTC").normalize()),
                      undated_days, count_lines(path))
    to_row = _ROW_PARSERS[fmt]
    rows: list[dict] = []
    for line, rec in _records(path, fmt, report):
        try:
            row = to_row(rec)
        except BadRow as exc:
            report.reject(line, str(exc))
            continue
        if row["listed_at"] is None:
            row["listed_at"] = undated.stamp(line)
        rows.append(row)
        report.rows += 1
        if on_row:
            on_row(line)
        if len(rows) >= chunk_rows:
            yield _frame(rows)
            rows = []
    if rows:
        yield _frame(rows)


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["listed_at"] = pd.to_datetime(frame["listed_at"], utc=True)
    return frame
