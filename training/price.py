"""Price suggestion: log1p(price) from name, description, brand, condition, shipping, category.

A ridge regression over MeCab n-grams of name and description plus one-hot
structured fields (brand, condition, shipping and each category level). The
suggested range comes from the quantiles of residuals on rows the model did not
fit on, so it is honest rather than optimistic. Score: RMSLE, lower is better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge

from training.base import SuggestionModel
from training.features import OneHot, category_levels, ngrams, tokenize_column
from zeta_serving.tokenizer import Tokenizer

STRUCTURED = ["brand", "condition", "shipping", "cat1", "cat2", "cat3", "category", "brand_cond"]


def _structured(frame: pd.DataFrame) -> pd.DataFrame:
    cats = frame["category"].fillna("").astype(str)
    brand = frame["brand"].fillna("").astype(str).str.lower()
    return pd.DataFrame({
        "brand": brand,
        "condition": frame["condition"].astype(int).astype(str),
        "shipping": frame["shipping"].astype(int).astype(str),
        "cat1": category_levels(cats, 1),
        "cat2": category_levels(cats, 2),
        "cat3": category_levels(cats, 3),
        "category": cats,
        "brand_cond": brand + "|" + frame["condition"].astype(int).astype(str),
    })[STRUCTURED]


class PriceModel(SuggestionModel):
    task = "price"
    label = "price"
    metric = "rmsle"
    greater_is_better = False

    def __init__(self, alpha: float = 3.0, interval: float = 0.8, calibration_share: float = 0.1,
                 min_df: int = 2, tokenizer: Tokenizer | None = None, random_state: int = 0):
        self.alpha = alpha
        self.interval = interval
        self.calibration_share = calibration_share
        self.min_df = min_df
        self.tokenizer = tokenizer
        self.random_state = random_state

    def _tok(self) -> Tokenizer:
        return self.tokenizer if self.tokenizer is not None else Tokenizer()

    def _features(self, frame: pd.DataFrame, fit: bool = False) -> sp.csr_matrix:
        tok = self._tok()
        names = tokenize_column(tok, frame["name"])
        descs = tokenize_column(tok, frame["description"])
        structured = _structured(frame)
        if fit:
            self.name_vec_ = TfidfVectorizer(analyzer=ngrams, min_df=self.min_df, sublinear_tf=True,
                                             dtype=np.float32)
            self.desc_vec_ = TfidfVectorizer(analyzer=ngrams, min_df=self.min_df, sublinear_tf=True,
                                             max_features=200_000, dtype=np.float32)
            self.onehot_ = OneHot(min_count=self.min_df).fit(structured)
            parts = [self.name_vec_.fit_transform(names), self.desc_vec_.fit_transform(descs),
                     self.onehot_.transform(structured)]
            self.vocabulary_ = frozenset(t for toks in names for t in toks)
        else:
            parts = [self.name_vec_.transform(names), self.desc_vec_.transform(descs),
                     self.onehot_.transform(structured)]
        return sp.hstack(parts, format="csr")

    def fit(self, frame: pd.DataFrame) -> "PriceModel":
        rows = self.check_trainable(frame)
        y = np.log1p(rows["price"].to_numpy(dtype=float))
        X = self._features(rows, fit=True)
        self.currency_ = str(rows["currency"].mode().iat[0]) if "currency" in rows else "JPY"
        # Residual quantiles from rows held out of a first fit; then refit on everything.
        rng = np.random.default_rng(self.random_state)
        held = rng.random(len(rows)) < self.calibration_share
        if held.sum() >= 20 and (~held).sum() >= 20:
            first = Ridge(alpha=self.alpha).fit(X[~held], y[~held])
            residuals = y[held] - first.predict(X[held])
        else:
            residuals = y - Ridge(alpha=self.alpha).fit(X, y).predict(X)
        tail = (1 - self.interval) / 2
        self.residual_low_, self.residual_high_ = (float(q) for q in np.quantile(residuals, [tail, 1 - tail]))
        self.ridge_ = Ridge(alpha=self.alpha).fit(X, y)
        self.n_train_ = len(rows)
        return self

    def predict_log(self, frame: pd.DataFrame) -> np.ndarray:
        self.require_fitted()
        return self.ridge_.predict(self._features(frame))

    def predict(self, frame: pd.DataFrame) -> list[dict]:
        log_price = self.predict_log(frame)
        point = np.expm1(log_price).clip(min=0)
        low = np.expm1(log_price + self.residual_low_).clip(min=0)
        high = np.expm1(log_price + self.residual_high_).clip(min=0)
        digits = 0 if self.currency_ == "JPY" else 2
        return [{"price": round(float(p), digits), "low": round(float(lo), digits),
                 "high": round(float(hi), digits), "currency": self.currency_}
                for p, lo, hi in zip(point, low, high)]

    def score_parts(self, frame: pd.DataFrame) -> np.ndarray:
        rows = self.labelled(frame)
        err = self.predict_log(rows) - np.log1p(rows["price"].to_numpy(dtype=float))
        return (err ** 2).reshape(-1, 1)

    @staticmethod
    def aggregate(parts: np.ndarray) -> float:
        return float(np.sqrt(parts[:, 0].mean())) if len(parts) else float("nan")

    def report(self, frame: pd.DataFrame) -> dict[str, float]:
        rows = self.labelled(frame)
        log_pred = self.predict_log(rows)
        truth = np.log1p(rows["price"].to_numpy(dtype=float))
        inside = (truth >= log_pred + self.residual_low_) & (truth <= log_pred + self.residual_high_)
        return {"rmsle": float(np.sqrt(np.mean((log_pred - truth) ** 2))),
                "interval_coverage": float(inside.mean()), "rows": int(len(rows))}
