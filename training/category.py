"""Category suggestion: item name (and brand) -> top-k leaves of the category tree.

A multinomial naive Bayes over MeCab n-grams, kept sparse: with ~7.6k leaves a
dense class-by-feature matrix would need gigabytes, but the counts a listing
corpus produces are sparse, and NB's log-likelihood splits into a sparse part
(features seen with the class) and a per-class constant. `depth` predicts at a
coarser level of the tree when leaves are too thin. Score: accuracy@1 (also @3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from training.base import SuggestionModel
from training.features import category_levels, name_and_brand, ngrams, softmax, top_k
from zeta_serving.tokenizer import Tokenizer

CHUNK = 512  # rows scored at once: CHUNK x n_classes floats stay small
TEMPERATURES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0)


class CategoryModel(SuggestionModel):
    task = "category"
    label = "category"
    metric = "accuracy@1"
    greater_is_better = True

    def __init__(self, alpha: float = 0.1, depth: int | None = None, k: int = 3,
                 calibration_share: float = 0.1, tokenizer: Tokenizer | None = None,
                 random_state: int = 0):
        self.alpha = alpha
        self.depth = depth
        self.k = k
        self.calibration_share = calibration_share
        self.tokenizer = tokenizer
        self.random_state = random_state

    def _tok(self) -> Tokenizer:
        return self.tokenizer if self.tokenizer is not None else Tokenizer()

    def _targets(self, frame: pd.DataFrame) -> pd.Series:
        cats = frame["category"].fillna("").astype(str)
        return category_levels(cats, self.depth) if self.depth else cats

    def fit(self, frame: pd.DataFrame) -> "CategoryModel":
        rows = self.check_trainable(frame)
        docs = name_and_brand(self._tok(), rows)
        self.vectorizer_ = CountVectorizer(analyzer=ngrams, binary=True, dtype=np.float32)
        X = self.vectorizer_.fit_transform(docs)
        self.classes_, y = np.unique(self._targets(rows).to_numpy(dtype=str), return_inverse=True)
        # NB log-likelihoods are overconfident: a temperature fitted on held-out rows makes the
        # probabilities mean something. NB fits in one pass, so fitting twice is cheap.
        rng = np.random.default_rng(self.random_state)
        held = rng.random(len(y)) < self.calibration_share
        self.temperature_ = 1.0
        if held.sum() >= 20 and (~held).sum() >= 20:
            self._fit_counts(X[~held], y[~held])
            self.temperature_ = self._best_temperature(X[held], y[held])
        self._fit_counts(X, y)
        self.vocabulary_ = frozenset(t for toks in docs for t in toks if not t.startswith("brand="))
        self.n_train_ = len(rows)
        return self

    def _best_temperature(self, X: sp.csr_matrix, y: np.ndarray) -> float:
        scores = np.vstack([self._scores(X[i:i + CHUNK]) for i in range(0, X.shape[0], CHUNK)])

        def nll(temperature: float) -> float:
            return -float(np.log(softmax(scores / temperature)[np.arange(len(y)), y] + 1e-12).mean())

        return min(TEMPERATURES, key=nll)

    def _fit_counts(self, X: sp.csr_matrix, y: np.ndarray) -> None:
        Y = sp.csr_matrix((np.ones(len(y), dtype=np.float32), (y, np.arange(len(y)))),
                          shape=(len(self.classes_), len(y)))
        counts = (Y @ X).tocsr()  # class x feature co-occurrence
        n_features = X.shape[1]
        totals = np.asarray(counts.sum(axis=1)).ravel()
        # log P(t|c) = log(n_ct + a) - log(N_c + aV) = log1p(n_ct / a) + [log a - log(N_c + aV)]
        counts.data = np.log1p(counts.data / self.alpha).astype(np.float32)
        self.sparse_loglik_ = counts.T.tocsr()  # feature x class
        self.per_token_ = (np.log(self.alpha) - np.log(totals + self.alpha * n_features)).astype(np.float32)
        # A class absent from this fit (the calibration split) gets a tiny prior, not log(0).
        prior = np.bincount(y, minlength=len(self.classes_)) + 0.5
        self.log_prior_ = np.log(prior / prior.sum()).astype(np.float32)

    def _scores(self, X: sp.csr_matrix) -> np.ndarray:
        lengths = np.asarray(X.sum(axis=1)).ravel()
        scores = (X @ self.sparse_loglik_).toarray()
        scores += np.outer(lengths, self.per_token_)
        scores += self.log_prior_
        return scores

    def _top(self, frame: pd.DataFrame, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Best k class indices and their probabilities, chunk by chunk."""
        self.require_fitted()
        X = self.vectorizer_.transform(name_and_brand(self._tok(), frame))
        idx_parts, prob_parts = [], []
        for start in range(0, X.shape[0], CHUNK):
            probs = softmax(self._scores(X[start:start + CHUNK]) / self.temperature_)
            idx = top_k(probs, k)
            idx_parts.append(idx)
            prob_parts.append(np.take_along_axis(probs, idx, axis=1))
        if not idx_parts:
            return np.empty((0, k), dtype=int), np.empty((0, k))
        return np.vstack(idx_parts), np.vstack(prob_parts)

    def predict(self, frame: pd.DataFrame, k: int | None = None) -> list[dict]:
        idx, probs = self._top(frame, k or self.k)
        return [{"categories": [{"category": str(self.classes_[i]), "probability": round(float(p), 4)}
                                for i, p in zip(row_idx, row_probs)]}
                for row_idx, row_probs in zip(idx, probs)]

    def score_parts(self, frame: pd.DataFrame) -> np.ndarray:
        rows = self.labelled(frame)
        idx, _ = self._top(rows, 3)
        truth = self._targets(rows).to_numpy(dtype=str)
        predicted = self.classes_[idx] if len(idx) else np.empty((0, 3), dtype=str)
        hit1 = predicted[:, 0] == truth
        hit3 = (predicted == truth[:, None]).any(axis=1)
        return np.column_stack([hit1, hit3]).astype(float)

    @staticmethod
    def aggregate(parts: np.ndarray) -> float:
        return float(parts[:, 0].mean()) if len(parts) else float("nan")

    def report(self, frame: pd.DataFrame) -> dict[str, float]:
        parts = self.score_parts(frame)
        return {"accuracy@1": float(parts[:, 0].mean()), "accuracy@3": float(parts[:, 1].mean()),
                "rows": int(len(parts))}
