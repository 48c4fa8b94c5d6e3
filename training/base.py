"""The contract every suggestion model keeps (scikit-learn style).

Parameters are set in `__init__` and nothing else happens there; `fit(frame)`
returns self; fitted state ends in `_`. Scores are built from per-row parts so
that the maintenance loop can bootstrap over rows and pair two models on the
same rows without knowing what the score is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from zeta_serving.errors import ZetaError
from zeta_serving.labels import has_label


class SuggestionModel(BaseEstimator, ABC):  # type: ignore[misc]  # sklearn ships no types
    task: ClassVar[str]
    label: ClassVar[str]  # the store column this model learns from
    metric: ClassVar[str]  # the model's own score
    greater_is_better: ClassVar[bool]

    # -- to implement ---------------------------------------------------------
    @abstractmethod
    def fit(self, frame: pd.DataFrame) -> "SuggestionModel":
        """Learn from the labelled rows of `frame`; returns self."""

    @abstractmethod
    def predict(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        """One JSON-ready suggestion per row."""

    @abstractmethod
    def score_parts(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row sufficient statistics of the score, shape (n_rows, k)."""

    @staticmethod
    @abstractmethod
    def aggregate(parts: np.ndarray) -> float:
        """The score from (a resample of) per-row parts: a function of the parts' column means."""

    def report(self, frame: pd.DataFrame) -> dict[str, float]:
        """Every figure worth recording on a held-out frame; includes `metric`."""
        return {self.metric: self.score(frame)}

    # -- shared ---------------------------------------------------------------
    def score(self, frame: pd.DataFrame) -> float:
        return float(self.aggregate(self.score_parts(frame)))

    def tokens_seen(self) -> frozenset[str]:
        """Tokens the fitted model knows: the basis of the unseen-token early warning."""
        return frozenset(self.vocabulary_)

    def require_fitted(self) -> None:
        if not hasattr(self, "vocabulary_"):
            raise ZetaError(f"the {self.task} model is not fitted")

    @classmethod
    def labelled(cls, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of `frame` that carry this model's label."""
        return frame[has_label(frame, cls.label)].reset_index(drop=True)

    @classmethod
    def check_trainable(cls, frame: pd.DataFrame, minimum: int = 20) -> pd.DataFrame:
        rows = cls.labelled(frame)
        if len(rows) < minimum:
            raise ZetaError(f"too few labelled rows to train the {cls.task} model: "
                            f"{len(rows)} (need at least {minimum})")
        return rows
