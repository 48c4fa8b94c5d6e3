"""Tag suggestion: name + description -> the listing's attribute tags (multi-label).

One logistic regression per tag over MeCab n-grams, each fitted by SGD on the
tag's positives and a sample of its negatives (a rare tag does not need every
row to learn from; the intercept is corrected for the sampling rate), so a
few hundred tags train in seconds. Tiny weights are pruned and the weights kept
sparse. One decision threshold for all tags is tuned for micro-F1 on rows held
out of the fit. Score: micro-F1, higher is better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from training.base import SuggestionModel
from training.features import ngrams, tfidf, tokenize_column
from zeta_serving.tokenizer import Tokenizer

THRESHOLDS = np.round(np.arange(0.1, 0.91, 0.05), 2)


def _micro_f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = np.logical_and(pred, truth).sum()
    denom = pred.sum() + truth.sum()
    return float(2 * tp / denom) if denom else 1.0


class TagModel(SuggestionModel):
    task = "tag"
    label = "tags"
    metric = "micro_f1"
    greater_is_better = True

    def __init__(self, alpha: float = 2e-6, min_count: int = 3, max_tags: int = 10,
                 calibration_share: float = 0.1, epochs: int = 6, negative_ratio: int = 20,
                 min_negatives: int = 10_000, prune: float = 1e-2, tokenizer: Tokenizer | None = None,
                 random_state: int = 0):
        self.alpha = alpha
        self.min_count = min_count
        self.max_tags = max_tags
        self.calibration_share = calibration_share
        self.epochs = epochs
        self.negative_ratio = negative_ratio
        self.min_negatives = min_negatives
        self.prune = prune
        self.tokenizer = tokenizer
        self.random_state = random_state

    def _docs(self, frame: pd.DataFrame) -> list[list[str]]:
        tok = self.tokenizer if self.tokenizer is not None else Tokenizer()
        names = tokenize_column(tok, frame["name"])
        descs = tokenize_column(tok, frame["description"])
        # Name tokens are marked so a word in the title counts apart from the same word in the text.
        return [[f"n:{t}" for t in n] + d for n, d in zip(names, descs)]

    def fit(self, frame: pd.DataFrame) -> "TagModel":
        rows = self.check_trainable(frame)
        counts = pd.Series([t for tags in rows["tags"] for t in tags]).value_counts()
        kept = sorted(counts[counts >= self.min_count].index)
        if not kept:
            kept = sorted(counts.index)
        self.binarizer_ = MultiLabelBinarizer(classes=kept)
        Y = self.binarizer_.fit_transform([[t for t in tags if t in set(kept)] for tags in rows["tags"]])
        docs = self._docs(rows)
        self.vectorizer_ = TfidfVectorizer(analyzer=ngrams, min_df=2, sublinear_tf=True, dtype=np.float32)
        X = self.vectorizer_.fit_transform(docs)
        rng = np.random.default_rng(self.random_state)
        held = rng.random(len(rows)) < self.calibration_share
        if held.sum() < 20 or (~held).sum() < 20:
            held[:] = False
        self.weights_, self.intercepts_ = self._fit_tags(X[~held], Y[~held], rng)
        self.threshold_ = 0.5
        if held.any():
            probs = self._decide(X[held])
            self.threshold_ = float(max(THRESHOLDS, key=lambda th: _micro_f1(probs >= th, Y[held] == 1)))
        self.classes_ = self.binarizer_.classes_
        self.vocabulary_ = frozenset(t[2:] for toks in docs for t in toks if t.startswith("n:"))
        self.n_train_ = len(rows)
        return self

    def _fit_tags(self, X: sp.csr_matrix, Y: np.ndarray, rng: np.random.Generator):
        columns, intercepts = [], []
        for j in range(Y.shape[1]):
            pos, neg = np.flatnonzero(Y[:, j]), np.flatnonzero(Y[:, j] == 0)
            if len(pos) == 0 or len(neg) == 0:  # nothing to learn: a constant answer
                columns.append(sp.csr_matrix((X.shape[1], 1), dtype=np.float32))
                intercepts.append(10.0 if len(neg) == 0 else -10.0)
                continue
            n_neg = min(len(neg), max(self.negative_ratio * len(pos), self.min_negatives))
            rows = np.concatenate([pos, rng.choice(neg, n_neg, replace=False)])
            clf = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=self.epochs, tol=None,
                                random_state=self.random_state).fit(X[rows], Y[rows, j])
            w = clf.coef_.ravel().astype(np.float32)
            w[np.abs(w) < self.prune] = 0.0
            columns.append(sp.csr_matrix(w.reshape(-1, 1)))
            intercepts.append(float(clf.intercept_[0]) + float(np.log(n_neg / len(neg))))
        return sp.hstack(columns, format="csr"), np.asarray(intercepts, dtype=np.float32)

    def _decide(self, X: sp.csr_matrix) -> np.ndarray:
        logits = (X @ self.weights_).toarray() + self.intercepts_
        return 1.0 / (1.0 + np.exp(-logits))

    def _proba(self, frame: pd.DataFrame) -> np.ndarray:
        self.require_fitted()
        if len(frame) == 0:
            return np.empty((0, len(self.classes_)))
        return self._decide(tfidf(self.vectorizer_, self._docs(frame)))

    def predict(self, frame: pd.DataFrame) -> list[dict]:
        out = []
        for row in self._proba(frame):
            picked = np.flatnonzero(row >= self.threshold_)
            picked = picked[np.argsort(-row[picked])][: self.max_tags]
            out.append({"tags": [{"tag": str(self.classes_[i]), "score": round(float(row[i]), 4)}
                                 for i in picked]})
        return out

    def score_parts(self, frame: pd.DataFrame) -> np.ndarray:
        rows = self.labelled(frame)
        pred = self._proba(rows) >= self.threshold_
        index = {t: i for i, t in enumerate(self.classes_)}
        parts = np.zeros((len(rows), 3))
        for r, tags in enumerate(rows["tags"]):
            truth = {index[t] for t in tags if t in index}
            unknown = sum(1 for t in tags if t not in index)  # never predictable: still a miss
            chosen = set(np.flatnonzero(pred[r]).tolist())
            tp = len(chosen & truth)
            parts[r] = (tp, len(chosen) - tp, len(truth) - tp + unknown)
        return parts

    @staticmethod
    def aggregate(parts: np.ndarray) -> float:
        tp, fp, fn = parts.sum(axis=0) if len(parts) else (0.0, 0.0, 0.0)
        denom = 2 * tp + fp + fn
        return float(2 * tp / denom) if denom else float("nan")

    def report(self, frame: pd.DataFrame) -> dict[str, float]:
        parts = self.score_parts(frame)
        tp, fp, fn = parts.sum(axis=0)
        return {"micro_f1": self.aggregate(parts),
                "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
                "recall": float(tp / (tp + fn)) if tp + fn else 0.0, "rows": int(len(parts))}
