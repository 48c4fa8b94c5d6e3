"""The label-free early warning: how much of what sellers write now a model has never seen."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from zeta_serving.tokenizer import Tokenizer

if TYPE_CHECKING:
    from training.base import SuggestionModel


def unseen_rate(model: "SuggestionModel", frame: pd.DataFrame, tokenizer: Tokenizer | None = None) -> float | None:
    """Share of name tokens in `frame` that are not in the model's vocabulary (None: no tokens)."""
    if frame.empty:
        return None
    seen = model.tokens_seen()
    tokens = [t for toks in (tokenizer or Tokenizer()).tokenize_many(frame["name"].astype(str).tolist()) for t in toks]
    if not tokens:
        return None
    return sum(1 for t in tokens if t not in seen) / len(tokens)
