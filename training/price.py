"""Price suggestion: log1p(price) from name, description, brand, condition, shipping, category.

Two learners on the same sparse features, blended: a ridge regression and a small MLP
(`training.mlp`), the pair that won the Mercari Price Suggestion Challenge on real listings.
The ridge gets the additive part (a brand, a word, a category level each move the price
by a factor); the MLP gets what is not additive, as real prices are not: wear costs a phone
more than a T-shirt, a seller-paid parcel is a fixed amount (a large share of a cheap item),
a brand is premium in one category and not in another.
Features: TF-IDF of MeCab uni+bigrams of name and description, TF-IDF of character 2-4-grams
of the normalised name (model numbers, sizes, spellings MeCab splits oddly), one-hot brand,
condition, shipping, every category level and brand x condition.
A share of the rows (`calibration_share`) is held out of everything that is fitted,
vectorisers included: on them the blend weight is chosen and the suggested range is set
from the blend's residual quantiles, so its stated coverage holds on new rows.
Score: RMSLE, lower is better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge

from training.base import SuggestionModel
from training.features import OneHot, ngrams, tfidf, tokenize_column
from training.mlp import sparse_mlp_fit, sparse_mlp_predict
from zeta_serving.tokenizer import Tokenizer, normalize

BLENDS = np.round(np.arange(0.0, 1.01, 0.1), 2)


def _structured(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The one-hot fields as lists of strings (plain lists: pandas string ops cost more than the
    model on a one-listing request)."""
    cats = frame["category"].fillna("").astype(str).tolist()
    brands = [b.lower() for b in frame["brand"].fillna("").astype(str).tolist()]
    conditions = [str(int(c)) for c in frame["condition"].tolist()]
    levels = [c.split("/") for c in cats]
    return {
        "brand": brands,
        "condition": conditions,
        "shipping": [str(int(s)) for s in frame["shipping"].tolist()],
        "cat1": ["/".join(p[:1]) for p in levels],
        "cat2": ["/".join(p[:2]) for p in levels],
        "cat3": ["/".join(p[:3]) for p in levels],
        "category": cats,
        "brand_cond": [f"{b}|{c}" for b, c in zip(brands, conditions)],
    }


def normalized_names(frame: pd.DataFrame) -> list[str]:
    """Names as the tokenizer layer normalises them (NFKC, lower-case Latin), for character n-grams."""
    return [normalize(x) for x in frame["name"].fillna("").astype(str)]


class PriceModel(SuggestionModel):
    task = "price"
    label = "price"
    metric = "rmsle"
    greater_is_better = False

    def __init__(self, alpha: float = 3.0, hidden: int = 64, epochs: int = 3, interval: float = 0.8,
                 calibration_share: float = 0.1, min_df: int = 2, tokenizer: Tokenizer | None = None,
                 random_state: int = 0):
        self.alpha = alpha
        self.hidden = hidden
        self.epochs = epochs
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
            self.char_vec_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=max(self.min_df, 3),
                                             sublinear_tf=True, max_features=100_000, dtype=np.float32)
            self.onehot_ = OneHot(min_count=self.min_df).fit(structured)
            parts = [self.name_vec_.fit_transform(names), self.desc_vec_.fit_transform(descs),
                     self.char_vec_.fit_transform(normalized_names(frame)), self.onehot_.transform(structured)]
            self.vocabulary_ = frozenset(t for toks in names for t in toks)
        else:
            parts = [tfidf(self.name_vec_, names), tfidf(self.desc_vec_, descs),
                     tfidf(self.char_vec_, normalized_names(frame)), self.onehot_.transform(structured)]
        return sp.hstack(parts, format="csr")

    def fit(self, frame: pd.DataFrame) -> "PriceModel":
        rows = self.check_trainable(frame)
        self.currency_ = str(rows["currency"].mode().iat[0]) if "currency" in rows else "JPY"
        held = self.calibration_mask(len(rows))
        fit_rows = rows[~held].reset_index(drop=True)
        y = np.log1p(fit_rows["price"].to_numpy(dtype=float))
        X = self._features(fit_rows, fit=True)
        self.ridge_ = Ridge(alpha=self.alpha).fit(X, y)
        self.mlp_ = sparse_mlp_fit(X, y, hidden=self.hidden, epochs=self.epochs, random_state=self.random_state)
        self.blend_ = 0.5
        cal = rows[held].reset_index(drop=True) if held.any() else fit_rows
        truth = np.log1p(cal["price"].to_numpy(dtype=float))
        ridge, mlp = self._parts(self._features(cal))
        if held.any():  # the MLP's share, chosen on rows neither learner nor vectoriser saw
            self.blend_ = float(min(BLENDS, key=lambda b: np.mean((b * mlp + (1 - b) * ridge - truth) ** 2)))
        residuals = truth - (self.blend_ * mlp + (1 - self.blend_) * ridge)
        tail = (1 - self.interval) / 2
        self.residual_low_, self.residual_high_ = (float(q) for q in np.quantile(residuals, [tail, 1 - tail]))
        self.n_train_ = len(fit_rows)
        self.n_calibration_ = int(held.sum())
        return self

    def calibration_mask(self, n: int) -> np.ndarray:
        """Which of `n` labelled rows `fit` holds out of everything fitted, to calibrate on."""
        held = np.random.default_rng(self.random_state).random(n) < self.calibration_share
        if held.sum() < 20 or (~held).sum() < 20:  # too few rows to hold any out: calibrate in-sample
            held[:] = False
        return held

    def _parts(self, X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        return self.ridge_.predict(X), sparse_mlp_predict(self.mlp_, X)

    def predict_log(self, frame: pd.DataFrame) -> np.ndarray:
        self.require_fitted()
        if len(frame) == 0:
            return np.empty(0)
        ridge, mlp = self._parts(self._features(frame))
        return self.blend_ * mlp + (1 - self.blend_) * ridge

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
