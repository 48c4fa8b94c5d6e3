"""Text features shared by the three models, all built on the pinned tokenizer layer."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest scores per row, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1)
    return np.take_along_axis(part, order, axis=1)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted
