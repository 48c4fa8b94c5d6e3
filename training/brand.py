"""Brand suggestion: item name and description -> top-k brands of the real brand list, or "no brand".

Three kinds of evidence, weighed per candidate brand:
- a dictionary match: the brand's name (NFKC, lower-case, spaces and dots removed) equals a
  run of 1-5 consecutive MeCab tokens of the normalised name or description start, so a brand
  written as sellers write it ("ルイヴィトン" for "ルイ ヴィトン", "nike" for "NIKE") is found
  even if no listing of it was ever seen; the dictionary is the shipped brand list (6,553 Mercari
  Japan brands) plus every brand in the training data;
- a small softmax MLP (`training.mlp`, as the category and price models) on TF-IDF of MeCab
  uni+bigrams of the name plus character 2-3-grams of the normalised name, and the strongest
  dictionary match: discriminative, so one telling token ("lv", "roshe", "NIKE") outweighs the
  item nouns and sizes a branded title shares with unbranded ones. Its classes are "no brand",
  the `mlp_classes` - 2 most frequent brands and one "other brand" class, so its output layer
  stays small however long the brand list;
- a nearest centroid (cosine) on the same TF-IDF features, one per brand seen at least
  `min_count` times and one for "no brand": it tells apart the brands inside "other brand".
Each row's candidates are "no brand", the MLP's best brands, the nearest centroids and every
dictionary hit; a conditional logit re-ranks them, its weights (of log p_MLP, the cosine, the
match strength, "no brand", the log prior, "other brand", and the logit of "a brand that is no
candidate", so probabilities leave room for what the candidates miss) fitted by likelihood on
rows held out of the MLP and of a first centroid fit.
Score: accuracy@1 over listings that have a brand (higher is better); also accuracy@3 and the
precision and recall of the "no brand" answer.
"""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from training.base import SuggestionModel
from training.features import ngrams, softmax, tfidf, top_k
from training.mlp import sparse_mlp_fit, sparse_mlp_predict
from zeta_serving.tokenizer import Tokenizer
from zeta_serving.tokenizer import normalize as normalize_text

NO_BRAND = ""  # the label of a listing without a brand; the API answers it as null
CHUNK = 512
MAX_RUN = 5  # tokens joined for a dictionary match
STRONG_MATCH = 8  # characters
CALIBRATION_ROWS = 3000
TOP_MLP, TOP_CENTROIDS = 10, 20  # candidates per row, besides "no brand" and the dictionary's hits
# Weights of each candidate's evidence in its logit: log p(softmax layer's class), cosine to its
# centroid, dictionary match strength, is "no brand", log prior, is in the "other brand" class, and
# the logit of "a brand that is no candidate". These are the fallback when too few rows are held out.
DEFAULT_WEIGHTS = np.array([1.0, 10.0, 5.0, 0.0, 0.3, 0.0, -5.0], dtype=np.float32)
OUTSIDE = -2  # the candidate index of "a brand that is no candidate"
L2 = 1e-4
_SEPARATORS = re.compile(r"[\s・.･'’\-]+")


def brand_list() -> list[str]:
    """The shipped brand list (Mercari Japan)."""
    text = resources.files("zeta_serving").joinpath("data/brands.txt").read_text(encoding="utf-8")
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def compact(text: str) -> str:
    """The form brands are matched in: normalised, without spaces and dots."""
    return _SEPARATORS.sub("", normalize_text(text))


def _matchable(key: str) -> bool:
    # One- and two-letter Latin keys ("a", "gu") are ordinary words far more often than brands.
    return len(key) >= (3 if key.isascii() else 2)


class BrandModel(SuggestionModel):
    task = "brand"
    label = "brand"
    metric = "accuracy@1"
    greater_is_better = True

    def __init__(self, k: int = 3, min_count: int = 2, description_chars: int = 120,
                 calibration_share: float = 0.15, use_brand_list: bool = True, mlp_classes: int = 1000,
                 hidden: int = 64, epochs: int = 3, tokenizer: Tokenizer | None = None, random_state: int = 0):
        self.k = k
        self.min_count = min_count
        self.description_chars = description_chars
        self.calibration_share = calibration_share
        self.use_brand_list = use_brand_list
        self.mlp_classes = mlp_classes
        self.hidden = hidden
        self.epochs = epochs
        self.tokenizer = tokenizer
        self.random_state = random_state

    def _tok(self) -> Tokenizer:
        return self.tokenizer if self.tokenizer is not None else Tokenizer()

    # -- features -----------------------------------------------------------------------------
    def _texts(self, frame: pd.DataFrame) -> tuple[list[list[str]], list[list[str]], list[str]]:
        names = frame["name"].fillna("").astype(str).tolist()
        descs = frame["description"].fillna("").astype(str).str.slice(0, self.description_chars).tolist()
        tok = self._tok()
        return tok.tokenize_many(names), tok.tokenize_many(descs), [normalize_text(n) for n in names]

    def _matches(self, name_tokens: list[list[str]], desc_tokens: list[list[str]]) -> sp.csr_matrix:
        """Rows x brands: the match strength where the brand's compact name is a run of consecutive tokens."""
        rows, cols = [], []
        for r, (a, b) in enumerate(zip(name_tokens, desc_tokens)):
            found = set()
            for tokens in (a, b):
                parts = [_SEPARATORS.sub("", t) for t in tokens]  # tokens are normalised already
                for i in range(len(parts)):
                    run = ""
                    for j in range(i, min(i + MAX_RUN, len(parts))):
                        run += parts[j]
                        hit = self.dictionary_.get(run)
                        if hit is not None:
                            found.add(hit)
            rows.extend([r] * len(found))
            cols.extend(found)
        data = self.match_strength_[cols].astype(np.float32)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(name_tokens), len(self.brands_)))

    def _features(self, names: list[list[str]], normalised: list[str], fit: bool = False) -> sp.csr_matrix:
        if fit:
            self.words_ = TfidfVectorizer(analyzer=ngrams, sublinear_tf=True, dtype=np.float32)
            self.chars_ = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), min_df=2, sublinear_tf=True,
                                          dtype=np.float32)
            X = sp.hstack([self.words_.fit_transform(names), self.chars_.fit_transform(normalised)])
        else:
            X = sp.hstack([tfidf(self.words_, names), tfidf(self.chars_, normalised)])
        return normalize(X.tocsr())

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> "BrandModel":
        # Small dense products only: BLAS threads would spin more CPU than they save (training/mlp.py).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(frame)

    def _fit(self, frame: pd.DataFrame) -> "BrandModel":
        rows = self.check_trainable(frame)
        labels = rows["brand"].fillna("").astype(str).str.strip()
        counts = labels[labels != NO_BRAND].value_counts()
        # Index 0 is "no brand"; then brands with a centroid; then brands only the dictionary knows.
        centred = sorted(counts[counts >= self.min_count].index)
        known = set(centred)
        listed = [b for b in dict.fromkeys([*(brand_list() if self.use_brand_list else []), *sorted(counts.index)])
                  if b not in known]
        self.brands_ = np.array([NO_BRAND, *centred, *listed], dtype=object)
        self.n_centred_ = 1 + len(centred)
        index = {b: i for i, b in enumerate(self.brands_)}
        self.dictionary_: dict[str, int] = {}
        self.match_strength_ = np.zeros(len(self.brands_), dtype=np.float32)
        for b, i in index.items():
            key = compact(b)
            if i and _matchable(key):
                self.dictionary_.setdefault(key, i)  # the first (a trained brand) wins a shared spelling
                # A longer name is more specific evidence: "モノグラム" in a title is less of a
                # brand than "ルイヴィトン" (full strength from STRONG_MATCH characters on).
                self.match_strength_[i] = min(len(key), STRONG_MATCH) / STRONG_MATCH
        names, descs, normalised = self._texts(rows)
        X = self._features(names, normalised, fit=True)
        M = self._matches(names, descs)
        y = np.array([index[b] for b in labels], dtype=np.int64)
        # The softmax layer's classes: "no brand", the most frequent brands with a centroid (at
        # most mlp_classes - 2, so its output layer stays hidden x mlp_classes whatever the brand
        # list), and one class for every other brand, told apart by the centroids and the dictionary.
        frequent = [index[b] for b in counts.index if index[b] < self.n_centred_][:self.mlp_classes - 2]
        self.mlp_class_ = np.full(len(self.brands_), len(frequent) + 1, dtype=np.int64)
        self.mlp_class_[0] = 0
        self.mlp_class_[frequent] = np.arange(1, len(frequent) + 1)
        self.other_class_ = len(frequent) + 1
        rng = np.random.default_rng(self.random_state)
        held = rng.random(len(y)) < self.calibration_share
        if held.sum() < 20 or (~held).sum() < 20:
            held[:] = False
        fit = ~held
        # Fitted once on the rows outside the calibration share (as the category model's MLP).
        # ~200 updates in the first epoch whatever the size (training.mlp's own default stops at 64
        # rows a batch, which leaves a few thousand rows with a few dozen updates in all).
        batch = int(np.clip(2 ** round(np.log2(max(int(fit.sum()), 1) / 200)), 8, 2048))
        self.mlp_ = sparse_mlp_fit(self._mlp_input(X, M)[fit], self.mlp_class_[y[fit]],
                                   classes=self.other_class_ + 1, hidden=self.hidden, epochs=self.epochs,
                                   batch=batch, random_state=self.random_state)
        self.weights_ = DEFAULT_WEIGHTS.copy()
        if held.any():
            self._fit_centroids(X[fit], y[fit])
            calibrate = np.flatnonzero(held)[:CALIBRATION_ROWS]
            self._calibrate(X[calibrate], M[calibrate], y[calibrate])
        self._fit_centroids(X, y)
        self.vocabulary_ = frozenset(t for toks in names for t in toks)
        self.n_train_ = len(rows)
        return self

    def _mlp_input(self, X: sp.csr_matrix, M: sp.csr_matrix) -> sp.csr_matrix:
        """The TF-IDF features plus what the dictionary found: the strongest match, and the strongest
        match of a brand outside the softmax's own classes (evidence for its "other brand" class)."""
        outside = M.multiply((self.mlp_class_ == self.other_class_)[None, :].astype(np.float32)).tocsr()
        extra = np.column_stack([M.max(axis=1).toarray().ravel(), outside.max(axis=1).toarray().ravel()])
        return sp.hstack([X, sp.csr_matrix(extra.astype(np.float32))], format="csr")

    def _fit_centroids(self, X: sp.csr_matrix, y: np.ndarray) -> None:
        inside = y < self.n_centred_
        Y = sp.csr_matrix((np.ones(int(inside.sum()), dtype=np.float32), (y[inside], np.flatnonzero(inside))),
                          shape=(self.n_centred_, X.shape[0]))
        self.centroids_ = normalize(Y @ X).T.tocsr().astype(np.float32)  # feature x centred brand
        counts = np.bincount(y, minlength=len(self.brands_)).astype(np.float64) + 0.5
        self.log_prior_ = np.log(counts / counts.sum()).astype(np.float32)

    def _candidates(self, X: sp.csr_matrix, M: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """Each row's candidate brands (-1 pads) and their evidence (rows x candidates x EVIDENCE):
        "no brand", the softmax layer's best brands, the nearest centroids and every dictionary hit."""
        n = X.shape[0]
        cos = (X @ self.centroids_).toarray()
        log_mlp = np.log(sparse_mlp_predict(self.mlp_, self._mlp_input(X, M)) + 1e-9)
        by_mlp = log_mlp[:, self.mlp_class_[:self.n_centred_]] + 1e-3 * cos  # an "other" brand: its cosine
        parts = [np.zeros((n, 1), dtype=np.int64), top_k(by_mlp, TOP_MLP), top_k(cos, TOP_CENTROIDS)]
        hits = np.full((n, max(1, int(np.diff(M.indptr).max(initial=0)))), -1, dtype=np.int64)
        for r in range(n):
            found = M.indices[M.indptr[r]:M.indptr[r + 1]]
            hits[r, :len(found)] = found
        cand = np.sort(np.hstack([*parts, hits]), axis=1)
        cand[:, 1:][cand[:, 1:] == cand[:, :-1]] = -1  # each brand once
        valid = cand >= 0
        safe = np.where(valid, cand, 0)
        rows = np.arange(n)[:, None]
        centred = safe < self.n_centred_
        klass = self.mlp_class_[safe]
        evidence = np.stack([
            log_mlp[rows, klass],
            np.where(centred, cos[rows, np.minimum(safe, self.n_centred_ - 1)], 0.0),
            (cand[:, :, None] == hits[:, None, :]).any(axis=2) * self.match_strength_[safe],
            (safe == 0).astype(np.float32),
            self.log_prior_[safe],
            (klass == self.other_class_).astype(np.float32),
        ], axis=2).astype(np.float32)
        # The last column stands for every brand that is no candidate, with a logit of its own
        # (the last weight), so the candidates' probabilities leave room for what they miss.
        outside = np.zeros((n, 1, evidence.shape[2] + 1), dtype=np.float32)
        outside[:, 0, -1] = 1.0
        evidence = np.concatenate([np.pad(evidence, ((0, 0), (0, 0), (0, 1))), outside], axis=1)
        return np.hstack([np.where(valid, cand, -1), np.full((n, 1), OUTSIDE)]), evidence

    def _logits(self, cand: np.ndarray, evidence: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.where(cand != -1, evidence @ weights, -np.inf)

    def _calibrate(self, X: sp.csr_matrix, M: sp.csr_matrix, y: np.ndarray) -> None:
        """The evidence weights with the best held-out likelihood (a conditional logit over each
        row's candidates, fitted by L-BFGS); rows whose brand is no candidate cannot inform it."""
        cand, evidence = self._candidates(X, M)
        hit = cand == y[:, None]
        truth = np.where(hit.any(axis=1), hit.argmax(axis=1), cand.shape[1] - 1)  # else: "outside"
        evidence = evidence.astype(np.float64)
        rows = np.arange(len(cand))

        def nll(w: np.ndarray) -> tuple[float, np.ndarray]:
            logits = self._logits(cand, evidence, w)
            p = softmax(logits)
            value = -float(np.mean(np.log(p[rows, truth] + 1e-12))) + L2 * float(w @ w)
            grad = -(evidence[rows, truth] - np.einsum("rc,rcf->rf", p, evidence)).mean(axis=0) + 2 * L2 * w
            return value, grad

        found = minimize(nll, DEFAULT_WEIGHTS.astype(np.float64), jac=True, method="L-BFGS-B")
        if np.all(np.isfinite(found.x)):
            self.weights_ = found.x.astype(np.float32)

    # -- predicting ---------------------------------------------------------------------------
    def _top(self, frame: pd.DataFrame, k: int) -> tuple[np.ndarray, np.ndarray]:
        self.require_fitted()
        names, descs, normalised = self._texts(frame)
        X, M = self._features(names, normalised), self._matches(names, descs)
        idx_parts, prob_parts = [], []
        for i in range(0, X.shape[0], CHUNK):
            cand, evidence = self._candidates(X[i:i + CHUNK], M[i:i + CHUNK])
            probs = softmax(self._logits(cand, evidence, self.weights_))[:, :-1]  # not "outside"
            cand = cand[:, :-1]
            idx = top_k(probs, k)
            idx_parts.append(np.take_along_axis(cand, idx, axis=1))
            prob_parts.append(np.take_along_axis(probs, idx, axis=1))
        if not idx_parts:
            return np.empty((0, k), dtype=int), np.empty((0, k))
        return np.vstack(idx_parts), np.vstack(prob_parts)

    def predict(self, frame: pd.DataFrame, k: int | None = None) -> list[dict]:
        idx, probs = self._top(frame, k or self.k)
        return [{"brands": [{"brand": str(self.brands_[i]) or None, "probability": round(float(p), 4)}
                            for i, p in zip(row_idx, row_probs) if i >= 0]}
                for row_idx, row_probs in zip(idx, probs)]

    # -- scoring ------------------------------------------------------------------------------
    def score_parts(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row: has a brand, right at 1 (branded), right within 3 (branded), answered "no brand",
        answered "no brand" rightly."""
        rows = self.labelled(frame)
        idx, _ = self._top(rows, 3)
        truth = rows["brand"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
        predicted = np.where(idx >= 0, self.brands_[idx], None) if len(idx) else np.empty((0, 3), dtype=object)
        branded = truth != NO_BRAND
        hit1 = predicted[:, 0] == truth
        hit3 = (predicted == truth[:, None]).any(axis=1)
        said_none = predicted[:, 0] == NO_BRAND
        return np.column_stack([branded, hit1 & branded, hit3 & branded, said_none,
                                said_none & ~branded]).astype(float)

    @staticmethod
    def aggregate(parts: np.ndarray) -> float:
        branded = parts[:, 0].mean() if len(parts) else 0.0
        return float(parts[:, 1].mean() / branded) if branded > 0 else float("nan")

    def report(self, frame: pd.DataFrame) -> dict[str, float]:
        p = self.score_parts(frame)

        def ratio(a: int, b: int) -> float:
            return float(p[:, a].sum() / p[:, b].sum()) if len(p) and p[:, b].sum() else float("nan")

        unbranded = len(p) - p[:, 0].sum() if len(p) else 0
        return {"accuracy@1": ratio(1, 0), "accuracy@3": ratio(2, 0), "no_brand_precision": ratio(4, 3),
                "no_brand_recall": float(p[:, 4].sum() / unbranded) if unbranded else float("nan"),
                "rows": float(len(p))}
