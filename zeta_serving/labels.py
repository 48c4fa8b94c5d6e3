"""What counts as labelled, once: the same rule as a DataFrame mask (training) and as SQL (the store).

A model names its label by the store column it learns from (`SuggestionModel.label`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from zeta_serving.errors import ZetaError


@dataclass(frozen=True)
class Label:
    column: str
    mask: Callable[[pd.DataFrame], np.ndarray]  # rows of a listings frame that carry the label
    sql: Callable[[Any], list[Any]]  # the same rule as filters on the `listings` table


def _non_empty_tags(frame: pd.DataFrame) -> np.ndarray:
    return np.fromiter((len(t) > 0 for t in frame["tags"]), dtype=bool, count=len(frame))


LABELS: dict[str, Label] = {
    "price": Label("price", lambda f: (f["price"].astype(float) > 0).to_numpy(),
                   lambda t: [t.c.price.is_not(None), t.c.price > 0]),
    "category": Label("category", lambda f: (f["category"].astype(str) != "").to_numpy(),
                      lambda t: [t.c.category != ""]),
    "tags": Label("tags", _non_empty_tags, lambda t: [t.c.tags != "[]"]),
    # Every listing answers "which brand?": an empty brand is the answer "no brand".
    "brand": Label("brand", lambda f: np.ones(len(f), dtype=bool), lambda t: []),
}


def label(column: str) -> Label:
    try:
        return LABELS[column]
    except KeyError:
        raise ZetaError(f"unknown label column {column!r} (choose from {', '.join(LABELS)})") from None


def has_label(frame: pd.DataFrame, column: str) -> np.ndarray:
    return label(column).mask(frame)


def sql_filter(table: Any, column: str | None) -> list[Any]:
    return [] if column is None else label(column).sql(table)
