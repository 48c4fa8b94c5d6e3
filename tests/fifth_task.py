"""A throwaway fifth task, registered only by the test suite: the seam a team adding a model uses.

`median`: the training window's median price, whatever the listing says. Its estimator, schemas,
predictor and golden comparison live here; its service is tests/fifth_service.py.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel

from training.base import SuggestionModel
from zeta_serving import tasks
from zeta_serving.serving.runtime import to_frame
from zeta_serving.serving.schemas import Name, _Strict
from zeta_serving.tokenizer import Tokenizer


class MedianPrice(SuggestionModel):
    task = "median"
    label = "price"
    metric = "abs_log_error"
    greater_is_better = False

    def __init__(self, shrink: float = 1.0):
        self.shrink = shrink

    def fit(self, frame: pd.DataFrame) -> "MedianPrice":
        rows = self.check_trainable(frame)
        self.median_ = float(np.median(rows["price"].astype(float))) * self.shrink
        self.vocabulary_ = frozenset(t for toks in Tokenizer().tokenize_many(rows["name"].tolist()) for t in toks)
        return self

    def predict(self, frame: pd.DataFrame) -> list[dict]:
        self.require_fitted()
        return [{"price": round(self.median_, 2)} for _ in range(len(frame))]

    def score_parts(self, frame: pd.DataFrame) -> np.ndarray:
        rows = self.labelled(frame)
        return np.abs(np.log1p(rows["price"].astype(float)) - np.log1p(self.median_)).to_numpy()[:, None]

    @staticmethod
    def aggregate(parts: np.ndarray) -> float:
        return float(parts[:, 0].mean()) if len(parts) else float("nan")


class MedianListing(_Strict):
    name: Name


class MedianSuggestion(BaseModel):
    price: float
    model_tag: str


def predict(model: Any, tag: str, listings: Sequence[MedianListing]) -> list[MedianSuggestion]:
    return [MedianSuggestion(**out, model_tag=tag) for out in model.predict(to_frame(listings))]


def golden_body(case: Mapping[str, Any], expected: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": case.get("name") or ""}


def golden_diff(expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    return [] if expected["price"] == got.get("price") else [f"price {got.get('price')} (recorded {expected['price']})"]


TASK = tasks.register(tasks.Task(
    name="median", estimator="tests.fifth_task:MedianPrice", request=MedianListing, response=MedianSuggestion,
    predict=predict, route="/median", golden_body=golden_body, golden_diff=golden_diff,
    service="tests.fifth_service:MedianService", bentofile="tests/fifth_bentofile.yaml",
    summary="The median price of the training window.", policy={"tolerance": 0.2},
))
