"""Text features shared by the three models, all built on the pinned tokenizer layer."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from zeta_serving.tokenizer import Tokenizer


def ngrams(tokens: list[str]) -> list[str]:
    """Unigrams and bigrams of an already tokenized text (a picklable analyzer)."""
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def unigrams(tokens: list[str]) -> list[str]:
    return tokens


def tokenize_column(tokenizer: Tokenizer, values: pd.Series) -> list[list[str]]:
    return tokenizer.tokenize_many(values.fillna("").astype(str).tolist())


def name_and_brand(tokenizer: Tokenizer, frame: pd.DataFrame) -> list[list[str]]:
    """Name tokens plus one token for the brand: brands are strong, rarely ambiguous evidence."""
    names = tokenize_column(tokenizer, frame["name"])
    brands = frame["brand"].fillna("").astype(str).str.strip().str.lower().tolist()
    return [toks + [f"brand={b}"] if b else toks for toks, b in zip(names, brands)]


def category_levels(categories: pd.Series, depth: int) -> pd.Series:
    """The first `depth` levels of each category path ("" stays "")."""
    return categories.fillna("").astype(str).map(lambda p: "/".join(p.split("/")[:depth]))


def tfidf(vectorizer: TfidfVectorizer, docs: list) -> sp.csr_matrix:
    """`vectorizer.transform(docs)` of a fitted TfidfVectorizer, minus scikit-learn's per-call checks.

    A served suggestion transforms one listing two or three times; scikit-learn's input checks
    (through narwhals and `inspect`) cost 0.4 ms of each 0.5 ms call, more than the counting.
    Same analyzer, vocabulary, sublinear tf, idf and L2 norm (tests/test_models.py compares the
    two); any other setting goes to scikit-learn.
    """
    if vectorizer.binary or not vectorizer.use_idf or vectorizer.norm != "l2":
        return vectorizer.transform(docs)
    analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    indptr, indices, counts = [0], [], []
    for doc in docs:
        seen: dict[int, int] = {}
        for feature in analyze(doc):
            j = vocabulary.get(feature)
            if j is not None:
                seen[j] = seen.get(j, 0) + 1
        for j in sorted(seen):
            indices.append(j)
            counts.append(seen[j])
        indptr.append(len(indices))
    data = np.asarray(counts, dtype=vectorizer.dtype)
    cols = np.asarray(indices, dtype=np.int32)
    if vectorizer.sublinear_tf:
        np.log(data, out=data)
        data += 1
    data *= vectorizer.idf_[cols]
    rows = np.repeat(np.arange(len(docs)), np.diff(indptr))
    norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=len(docs)))
    norms[norms == 0] = 1.0
    data /= norms[rows].astype(data.dtype)
    return sp.csr_matrix((data, cols, np.asarray(indptr, dtype=np.int32)), shape=(len(docs), len(vocabulary)))


SMALL_K = 8  # up to this k, top_k takes k + 1 argmax passes instead of partitioning every row


def _top_k_partition(scores: np.ndarray, k: int) -> np.ndarray:
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1)
    return np.take_along_axis(part, order, axis=1)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest scores per row, best first.

    For a small k over many columns (3 of 7.6k leaves) a few argmax passes are several times
    faster than partitioning each row. Where a row has an exact tie among its best k + 1
    scores, it is partitioned as before: without ties the best k and their order are unique,
    so both ways give the same answer and a model's recorded golden answers still hold.
    The passes mask the best scores of `scores` in place and put them back before returning:
    the array must not be read by another thread meanwhile (every caller's is its own)."""
    k = min(k, scores.shape[1])
    if (k > SMALL_K or k >= scores.shape[1] or not scores.size or not scores.flags.writeable
            or not np.issubdtype(scores.dtype, np.floating)):
        return _top_k_partition(scores, k)
    rows = np.arange(scores.shape[0])
    idx = np.empty((scores.shape[0], k + 1), dtype=np.intp)
    vals = np.empty((scores.shape[0], k + 1), dtype=scores.dtype)
    masked = 0
    try:
        for j in range(k + 1):
            idx[:, j] = scores.argmax(axis=1)
            vals[:, j] = scores[rows, idx[:, j]]
            scores[rows, idx[:, j]] = -np.inf
            masked = j + 1
    finally:
        # Backwards: a pass that found only masked cells (a row with -inf among its best) took a
        # cell twice, and its saved value is the mask; the earlier pass holds the real one.
        for j in reversed(range(masked)):
            scores[rows, idx[:, j]] = vals[:, j]
    out = idx[:, :k]
    tied = ((vals[:, :-1] == vals[:, 1:]) | np.isnan(vals[:, :-1]) | np.isnan(vals[:, 1:])).any(axis=1)
    if tied.any():
        out[tied] = _top_k_partition(scores[tied], k)
    return np.ascontiguousarray(out)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their rows."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.sum() * abs(float(correct[m].mean()) - float(confidence[m].mean()))
    return float(total / max(len(confidence), 1))


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


class OneHot:
    """One-hot encoding of string columns straight into a sparse matrix.

    scikit-learn's OneHotEncoder costs ~10 ms per call on a one-row DataFrame, most of
    a single price suggestion; this costs microseconds. Values seen fewer than
    `min_count` times share one "rare" column per field; unseen values get no column.
    """

    def __init__(self, min_count: int = 2):
        self.min_count = min_count

    def fit(self, frame: pd.DataFrame | dict[str, list]) -> "OneHot":
        """`frame`: a DataFrame, or a dict of equal-length lists (column -> values)."""
        self.columns_ = list(frame.keys())
        self.index_: list[dict[str, int]] = []
        offset = 0
        for column in self.columns_:
            counts = Counter(_strings(frame[column]))
            kept = sorted(value for value, count in counts.items() if count >= self.min_count)
            mapping = {value: offset + i for i, value in enumerate(kept)}
            rare = offset + len(kept)  # the shared column of rare values
            mapping.update({value: rare for value in counts if value not in mapping})
            self.index_.append(mapping)
            offset = rare + 1
        self.width_ = offset
        return self

    def transform(self, frame: pd.DataFrame | dict[str, list]) -> sp.csr_matrix:
        rows, cols = [], []
        n = 0
        for mapping, column in zip(self.index_, self.columns_):
            values = _strings(frame[column])
            n = len(values)
            for r, value in enumerate(values):
                c = mapping.get(value)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
        data = np.ones(len(rows), dtype=np.float32)
        return sp.csr_matrix((data, (rows, cols)), shape=(n, self.width_))


def _strings(values) -> list[str]:
    return values.astype(str).tolist() if isinstance(values, pd.Series) else [str(v) for v in values]
