"""Reading listing files into the schema, row by row, with line-numbered rejections.

Formats:
  mercari-kaggle  Mercari Price Suggestion Challenge train.tsv/test.tsv (USD, no timestamps)
  mercari-jp      Mercari Japan item dump TSV (yen, `updated_date`)
  zeta            the project's own JSON Lines (`.jsonl`) or TSV with schema columns

Quotes, per layout. The Kaggle and Mercari Japan dumps are not CSV-quoted: their text holds
literal quotes (`5" screen`, `"like new`), so they are read with quoting off (QUOTE_NONE) and a
record is exactly one line. zeta's own TSV is read with CSV quoting (a field may be quoted as
`"a ""b"" c"` to hold a tab or a quote) but a record is still one line: a quote that opens a field
and does not close on its line rejects that line alone instead of swallowing the next ones.
Newlines inside text need JSON Lines.

Every non-blank line after the header is one record, and every record is either read or
rejected with its line number: rows read + rows rejected = records in the file.

Rows without a timestamp are spread evenly, in file order, over the `undated_days`
before `undated_end`: the file order becomes time order, so the newest evaluation
window is the end of the file and the held-out evaluation stays honest.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pandas as pd

from zeta_serving import fields as f
from zeta_serving.errors import ZetaError
from zeta_serving.fields import BadRow
from zeta_serving.schema import COLUMNS
from zeta_serving.windows import as_utc

FORMATS = ("mercari-kaggle", "mercari-jp", "zeta")
MAX_EXAMPLES = 5


@dataclass
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParseReport:
    """What one file held: `records` (non-blank lines after the header), `rows` read, rejections."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    records: int = 0
    on_reject: Callable[[RowError], None] | None = None  # sees every rejection, not only the examples

    def reject(self, line: int, reason: str) -> None:
        self.error_count += 1
        error = RowError(line, reason)
        if len(self.errors) < MAX_EXAMPLES:
            self.errors.append(error)
        if self.on_reject:
            self.on_reject(error)


@dataclass(frozen=True)
class Undated:
    """The rule for rows without a timestamp (see module docstring)."""

    end: pd.Timestamp
    days: float
    total_lines: int

    def stamp(self, line: int) -> pd.Timestamp:
        step = timedelta(days=self.days) / max(self.total_lines, 1)
        return self.end - step * (self.total_lines - line + 1)


# -- formats ------------------------------------------------------------------

def _kaggle(rec: dict, typed: bool = False) -> dict:
    row_id = f.text(rec.get("train_id", rec.get("test_id")), "train_id", required=True)
    description = f.text(rec.get("item_description"), "description")
    return {
        "id": f"kaggle:{row_id}",
        "name": f.text(rec.get("name"), "name", required=True),
        "description": "" if description == "No description yet" else description,
        "brand": f.text(rec.get("brand_name"), "brand"),
        "condition": f.condition(rec.get("item_condition_id")),
        "shipping": f.shipping(rec.get("shipping")),
        "category": f.text(rec.get("category_name"), "category"),
        "price": f.price(rec.get("price")),
        "currency": "USD",
        "tags": [],
        "listed_at": None,
    }


def _mercari_jp(rec: dict, typed: bool = False) -> dict:
    return {
        "id": f"mjp:{f.text(rec.get('id'), 'id', required=True)}",
        "name": f.text(rec.get("name"), "name", required=True),
        "description": f.text(rec.get("item_description"), "description"),
        "brand": f.text(rec.get("brand_name"), "brand"),
        "condition": f.condition(rec.get("item_condition")),
        "shipping": f.shipping(rec.get("shipping")),
        "category": f.text(rec.get("category_name"), "category"),
        "price": f.price(rec.get("price")),
        "currency": "JPY",
        "tags": [],
        "listed_at": f.timestamp(rec.get("updated_date")),
    }


def _zeta(rec: dict, typed: bool = False) -> dict:
    currency = f.text(rec.get("currency"), "currency") or "JPY"
    if currency not in ("JPY", "USD"):
        raise BadRow(f"unknown currency {currency!r} (expected JPY or USD)")
    return {
        "id": f.text(rec.get("id"), "id", required=True),
        "name": f.text(rec.get("name"), "name", required=True),
        "description": f.text(rec.get("description"), "description"),
        "brand": f.text(rec.get("brand"), "brand"),
        "condition": f.condition(rec.get("condition")),
        "shipping": f.shipping(rec.get("shipping")),
        "category": f.text(rec.get("category"), "category"),
        "price": f.price(rec.get("price")),
        "currency": currency,
        "tags": f.tags_json(rec.get("tags")) if typed else f.tags_cell(rec.get("tags")),
        "listed_at": f.timestamp(rec.get("listed_at")),
    }


# `typed`: the values come from JSON (any type), not from TSV cells (always strings).
_ROW_PARSERS: dict[str, Callable[[dict, bool], dict]] = {
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

_QUOTED = {"mercari-kaggle": False, "mercari-jp": False, "zeta": True}  # see the module docstring


def _records_lines(raw: io.BufferedReader, report: ParseReport,
                   header: bool) -> Iterator[tuple[int, str]]:
    """(line number, text) of the header (if `header`), then of every record.

    Blank lines are no records and are skipped; a record that is not UTF-8 is rejected.
    """
    for number, data in enumerate(raw, start=1):
        if not data.strip():
            continue
        if header:
            header = False
            try:
                yield number, data.decode("utf-8-sig").rstrip("\r\n")
            except UnicodeDecodeError:
                raise ZetaError(f"line {number}: the header is not UTF-8") from None
            continue
        report.records += 1
        try:
            yield number, data.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            report.reject(number, f"broken encoding (not UTF-8) at byte {exc.start}")


def _split(line: str, quoted: bool) -> list[str]:
    if not quoted:
        return line.split("\t")
    try:
        return next(csv.reader([line], delimiter="\t", strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise BadRow('unclosed quote in a field (a TSV record is one line; quote a field as "..." '
                         'with "" inside)') from None
        raise BadRow(f"malformed quoting ({exc})") from None


def _records(path: Path, fmt: str, report: ParseReport) -> Iterator[tuple[int, dict, bool]]:
    """(line, values, typed) of each record that has the layout's shape; the others are rejected."""
    jsonl = fmt == "zeta" and path.suffix.lower() in (".jsonl", ".json", ".ndjson")
    with path.open("rb") as raw:
        lines = _records_lines(raw, report, header=not jsonl)
        if jsonl:
            for number, line in lines:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    report.reject(number, f"not valid JSON ({exc.msg})")
                    continue
                if not isinstance(rec, dict):
                    report.reject(number, "not a JSON object")
                    continue
                yield number, rec, True
            return
        quoted = _QUOTED[fmt]
        try:
            header = _split(next(lines, (0, ""))[1], quoted)
        except BadRow:
            header = []
        needed = _REQUIRED_HEADER[fmt] - set(header)
        if needed:
            raise ZetaError(f"{path}: not a {fmt} file: header lacks {', '.join(sorted(needed))}")
        for number, line in lines:
            try:
                values = _split(line, quoted)
            except BadRow as exc:
                report.reject(number, str(exc))
                continue
            if len(values) != len(header):
                report.reject(number, f"{len(values)} fields, the header has {len(header)}")
                continue
            yield number, dict(zip(header, values)), False


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
    for line, rec, typed in _records(path, fmt, report):
        try:
            row = to_row(rec, typed)
            f.check_storable(row, _max_lengths())
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
    if report.rows + report.error_count != report.records:  # a bug here would lose rows silently
        raise ZetaError(f"{path}: {report.records} records but {report.rows} read and "
                        f"{report.error_count} rejected; please report this")


@functools.cache
def _max_lengths() -> dict[str, int]:
    from zeta_serving.store import listings  # the column types are the limit

    return {c.name: c.type.length for c in listings.columns if getattr(c.type, "length", None)}


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["listed_at"] = pd.to_datetime(frame["listed_at"], utc=True)
    return frame
