"""One record's values into listing fields, or a BadRow naming the field and the reason.

Values come as strings from TSV cells and as any JSON type from JSON Lines: a list or an object
where text is expected is refused here, never turned into its Python repr and stored.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from zeta_serving.errors import ZetaError
from zeta_serving.schema import CONDITIONS, MAX_CONDITION, MIN_CONDITION
from zeta_serving.windows import as_utc


class BadRow(ValueError):
    """A row that cannot become a listing; the message is the reason."""


def _scalar(value, what: str, kind: str) -> str:
    # bool first: it is an int to Python, but `true` is no condition, price or name.
    if isinstance(value, (bool, list, dict)):
        raise BadRow(f"{what} must be {kind}, not {type(value).__name__}")
    return "" if value is None else str(value).strip()


def text(value, what: str, required: bool = False) -> str:
    result = _scalar(value, what, "text")
    if required and not result:
        raise BadRow(f"missing {what}")
    return result


def price(value) -> float:
    raw = _scalar(value, "price", "a number")
    cleaned = raw.replace(",", "").replace("¥", "").replace("￥", "").replace("円", "")
    if cleaned == "":
        return math.nan  # an unlabelled listing: still useful for category/tag inputs
    try:
        number = float(cleaned)
    except ValueError:
        raise BadRow(f"price is not a number: {value!r}") from None
    if math.isnan(number) or math.isinf(number) or number < 0:
        raise BadRow(f"price must be a non-negative number: {value!r}")
    return number


_CONDITION_BY_LABEL = {label: code for code, label in CONDITIONS.items()}


def condition(value) -> int:
    raw = _scalar(value, "condition", "a number")
    if not raw:
        raise BadRow("missing condition")
    if raw in _CONDITION_BY_LABEL:
        return _CONDITION_BY_LABEL[raw]
    try:
        code = int(float(raw))
    except (ValueError, OverflowError):
        raise BadRow(f"unknown condition {value!r} (expected {MIN_CONDITION}..{MAX_CONDITION} "
                     "or a Mercari condition label)") from None
    if not MIN_CONDITION <= code <= MAX_CONDITION:
        raise BadRow(f"unknown condition {value!r} (expected {MIN_CONDITION}..{MAX_CONDITION})")
    return code


_SHIPPING_WORDS = {"0": 0, "1": 1, "buyer": 0, "seller": 1, "着払い(購入者負担)": 0,
                   "送料込み(出品者負担)": 1, "購入者負担": 0, "出品者負担": 1}


def shipping(value) -> int:
    raw = _scalar(value, "shipping", "a number")
    if not raw:
        raise BadRow("missing shipping")
    key = raw.lower()
    if key not in _SHIPPING_WORDS:
        try:
            key = str(int(float(raw)))  # "1.0" and friends
        except (ValueError, OverflowError):
            pass
    if key not in _SHIPPING_WORDS:
        raise BadRow(f"unknown shipping payer {value!r} (expected 0 = buyer, 1 = seller)")
    return _SHIPPING_WORDS[key]


def timestamp(value) -> pd.Timestamp | None:
    raw = _scalar(value, "timestamp", "text or a number")
    if not raw:
        return None
    try:
        if raw.replace(".", "", 1).isdigit():
            return pd.Timestamp(float(raw), unit="s", tz="UTC")
        return as_utc(raw)
    except (ZetaError, ValueError, OverflowError):
        raise BadRow(f"unreadable timestamp {value!r}") from None


def tags_cell(value: str | None) -> list[str]:
    """A TSV cell: empty, a JSON list of strings, or strings joined by "|"."""
    cell = (value or "").strip()
    if not cell:
        return []
    if not cell.startswith("["):
        return _clean(cell.split("|"))
    try:
        items = json.loads(cell)
    except json.JSONDecodeError as exc:
        raise BadRow(f"tags is not a JSON list ({exc.msg} at character {exc.pos}): {cell[:40]!r}") from None
    return tags_json(items)


def tags_json(value) -> list[str]:
    """A JSON value: a list of strings, or null for none."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRow(f"tags must be a list of strings, not {type(value).__name__}")
    wrong = next((t for t in value if not isinstance(t, str)), "")
    if not isinstance(wrong, str):
        raise BadRow(f"tags must be strings, not {type(wrong).__name__}")
    return _clean(value)


def _clean(items: list[str]) -> list[str]:
    return [t.strip() for t in items if t.strip()]


def check_storable(row: dict, max_lengths: dict[str, int]) -> None:
    """Refuse what one database would store and the other refuse (which would fail the whole file).

    PostgreSQL rejects NUL characters and enforces varchar lengths, SQLite does neither; both fail
    on a lone surrogate (possible from JSON's \\ud800 escapes) when encoding the statement.
    """
    for name, value in row.items():
        values = value if name == "tags" else [value]
        for item in values:
            if not isinstance(item, str):
                continue
            if "\x00" in item:
                raise BadRow(f"{name} holds a NUL character")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRow(f"{name} is not valid Unicode (a lone surrogate)") from None
            limit = max_lengths.get(name)
            if limit is not None and len(item) > limit:
                raise BadRow(f"{name} is longer than {limit} characters")
