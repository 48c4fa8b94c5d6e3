"""Relistings: the same item listed again under a new id (sellers relist what did not sell).

A relisting copies its title, description, brand, category, condition and shipping, so a model
that saw the first listing in training would be judged on an item it memorised. Evaluation
rows whose relist key (those six fields, text normalised for case and spacing) also occurs
in the training rows are dropped from the held-out score, for loaded data as well as
synthetic. (A seller's identical copies of one item listed at once share the key too, and
are just as much a leak.)
"""

from __future__ import annotations

import pandas as pd

KEY_FIELDS = ("name", "description", "brand", "category", "condition", "shipping")


def relist_keys(frame: pd.DataFrame) -> pd.Series:
    """One key per row: the listing's text fields, case- and space-normalised."""
    parts = [frame[f].astype(str).str.lower().str.split().str.join(" ") for f in KEY_FIELDS]
    key = parts[0]
    for part in parts[1:]:
        key = key + "\x1f" + part
    return key


def drop_relistings(held_out: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """`held_out` without the rows that relist an item of `train`."""
    if held_out.empty or train.empty:
        return held_out
    seen = relist_keys(held_out).isin(set(relist_keys(train)))
    return held_out[~seen.to_numpy()].reset_index(drop=True) if seen.any() else held_out
