"""Brand suggestion: item name and description -> top-k brands of the real brand list, or "no brand".

Two kinds of evidence, added in one score per brand:
- a dictionary match: the brand's name (NFKC, lower-case, spaces and dots removed) equals a
  run of 1-5 consecutive MeCab tokens of the normalised name or description start, so a brand
  written as sellers write it ("ルイヴィトン" for "ルイ ヴィトン", "nike" for "NIKE") is found
  even if no listing of it was ever seen; the dictionary is the shipped brand list (6,553 Mercari
  Japan brands) plus every brand in the training data;
- a nearest centroid (cosine, as the category model) on TF-IDF of MeCab uni+bigrams of the name
  plus character 2-3-grams of the normalised name, one centroid per brand seen at least
  `min_count` times and one for "no brand" (its own class): it learns spellings the dictionary
  lacks (Latin transcriptions, product lines, model numbers) and what unbranded listings look like.
The scores go through a softmax with a log prior; its sharpness, the weight of a dictionary
match and a bias of the "no brand" class (the calibrated threshold: how much evidence a brand
needs before it beats "no brand") are fitted on rows held out of a first fit.
Score: accuracy@1 over listings that have a brand (higher is better); also accuracy@3 and the
precision and recall of the "no brand" answer.
"""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from training.base import SuggestionModel
from training.features import ngrams, softmax, top_k
from zeta_serving.tokenizer import Tokenizer
from zeta_serving.tokenizer import normalize as normalize_text

NO_BRAND = ""  # the label of a listing without a brand; the API answers it as null
CHUNK = 512
MAX_RUN = 5  # tokens joined for a dictionary match
STRONG_MATCH = 8  # characters
SHARPNESS = (5.0, 10.0, 20.0, 40.0)
MATCH_WEIGHTS = (0.25, 0.5, 1.0, 2.0)
NO_BRAND_BIAS = (-0.1, 0.0, 0.1, 0.2, 0.3, 0.4)
PRIOR_WEIGHT = 0.3
CALIBRATION_ROWS = 2000
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
                 calibration_share: float = 0.15, use_brand_list: bool = True,
                 tokenizer: Tokenizer | None = None, random_state: int = 0):
        self.k = k
        self.min_count = min_count
        self.description_chars = description_chars
        self.calibration_share = calibration_share
        self.use_brand_list = use_brand_list
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
            X = sp.hstack([self.words_.transform(names), self.chars_.transform(normalised)])
        return normalize(X.tocsr())

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> "BrandModel":
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
        rng = np.random.default_rng(self.random_state)
        held = rng.random(len(y)) < self.calibration_share
        self.sharpness_, self.match_weight_, self.no_brand_bias_ = 20.0, 0.5, 0.0
        if held.sum() >= 20 and (~held).sum() >= 20:
            self._fit_centroids(X[~held], y[~held])
            calibrate = np.flatnonzero(held)[:CALIBRATION_ROWS]
            self._calibrate(X[calibrate], M[calibrate], y[calibrate])
        self._fit_centroids(X, y)
        self.vocabulary_ = frozenset(t for toks in names for t in toks)
        self.n_train_ = len(rows)
        return self

    def _fit_centroids(self, X: sp.csr_matrix, y: np.ndarray) -> None:
        inside = y < self.n_centred_
        Y = sp.csr_matrix((np.ones(int(inside.sum()), dtype=np.float32), (y[inside], np.flatnonzero(inside))),
                          shape=(self.n_centred_, X.shape[0]))
        self.centroids_ = normalize(Y @ X).T.tocsr().astype(np.float32)  # feature x centred brand
        counts = np.bincount(y, minlength=len(self.brands_)).astype(np.float64) + 0.5
        self.log_prior_ = np.log(counts / counts.sum()).astype(np.float32)

    def _evidence(self, X: sp.csr_matrix, M: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cosines to the centroids, dictionary matches, and the brand index of each column: every
        brand with a centroid, plus the dictionary-only brands some row of this chunk mentions."""
        extra = np.unique(M.indices[M.indices >= self.n_centred_])
        cols = np.concatenate([np.arange(self.n_centred_), extra])
        cos = (X @ self.centroids_).toarray()
        return cos, M[:, cols].toarray(), cols

    def _probabilities(self, evidence: tuple[np.ndarray, np.ndarray, np.ndarray], sharpness: float,
                       weight: float, bias: float) -> np.ndarray:
        cos, matched, cols = evidence
        n = self.n_centred_
        logits = np.empty(matched.shape, dtype=np.float32)
        logits[:, :n] = cos + weight * matched[:, :n]
        # A brand nobody trained on is a candidate only where the text names it.
        logits[:, n:] = np.where(matched[:, n:] > 0, weight * matched[:, n:], -np.inf)
        logits[:, 0] += bias
        return softmax(logits * sharpness + PRIOR_WEIGHT * self.log_prior_[cols])

    def _calibrate(self, X: sp.csr_matrix, M: sp.csr_matrix, y: np.ndarray) -> None:
        """Sharpness, match weight and "no brand" bias with the best held-out likelihood."""
        evidence = self._evidence(X, M)
        where = {int(b): j for j, b in enumerate(evidence[2])}
        column = np.array([where.get(int(b), -1) for b in y])
        best, best_nll = (20.0, 0.5, 0.0), np.inf
        for s in SHARPNESS:
            for w in MATCH_WEIGHTS:
                for b in NO_BRAND_BIAS:
                    probs = self._probabilities(evidence, s, w, b)
                    got = np.where(column >= 0, probs[np.arange(len(y)), column], 0.0)
                    nll = -float(np.log(got + 1e-6).mean())
                    if nll < best_nll:
                        best, best_nll = (s, w, b), nll
        self.sharpness_, self.match_weight_, self.no_brand_bias_ = best

    # -- predicting ---------------------------------------------------------------------------
    def _top(self, frame: pd.DataFrame, k: int) -> tuple[np.ndarray, np.ndarray]:
        self.require_fitted()
        names, descs, normalised = self._texts(frame)
        X, M = self._features(names, normalised), self._matches(names, descs)
        idx_parts, prob_parts = [], []
        for i in range(0, X.shape[0], CHUNK):
            evidence = self._evidence(X[i:i + CHUNK], M[i:i + CHUNK])
            probs = self._probabilities(evidence, self.sharpness_, self.match_weight_, self.no_brand_bias_)
            idx = top_k(probs, k)
            idx_parts.append(evidence[2][idx])
            prob_parts.append(np.take_along_axis(probs, idx, axis=1))
        if not idx_parts:
            return np.empty((0, k), dtype=int), np.empty((0, k))
        return np.vstack(idx_parts), np.vstack(prob_parts)

    def predict(self, frame: pd.DataFrame, k: int | None = None) -> list[dict]:
        idx, probs = self._top(frame, k or self.k)
        return [{"brands": [{"brand": str(self.brands_[i]) or None, "probability": round(float(p), 4)}
                            for i, p in zip(row_idx, row_probs)]}
                for row_idx, row_probs in zip(idx, probs)]

    # -- scoring ------------------------------------------------------------------------------
    def score_parts(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row: has a brand, right at 1 (branded), right within 3 (branded), answered "no brand",
        answered "no brand" rightly."""
        rows = self.labelled(frame)
        idx, _ = self._top(rows, 3)
        truth = rows["brand"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
        predicted = self.brands_[idx] if len(idx) else np.empty((0, 3), dtype=object)
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
