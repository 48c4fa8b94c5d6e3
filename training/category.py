"""Category suggestion: item name (and brand) -> top-k leaves of the category tree.

Two views of a listing, multiplied: p(leaf) = p_MLP(node) x p_centroid(leaf | node).
- A small MLP (`training.mlp`, softmax output, a hidden unit per node up to 256) on TF-IDF
  of MeCab n-grams of the name plus the brand and of character 2-4-grams of the normalised
  name picks the coarse node:
  the leaves themselves when they are at most MLP_CLASSES (the Kaggle tree), else the
  deepest level with at most that many nodes (depth 2 of Mercari Japan's 7.6k leaves). A
  hidden layer sees conjunctions ("tee" with "2t" is a kids' top) that a linear model adds up.
- Nearest centroid (cosine) on the word features with a weighted log prior of each leaf
  (a popular leaf needs less evidence) ranks the leaves inside a node: it needs only a few
  listings per leaf, fits in one sparse product and stays sparse, where a softmax over 7.6k
  leaves would not fit a 10-minute budget at 1M listings.
- Every leaf of the shipped tree under a node the training rows reach can be suggested, not only
  those the training rows show (`leaf_names`): a leaf's own names ("帽子 ハンチング") count as one
  more listing of it in its centroid. A store never holds every leaf of a 7.6k-leaf tree (a month
  of 24k listings shows 3k), and sellers name the item the leaf is named after; a leaf with
  listings is still ranked by them, its name weighing as much as one of them.
Calibration: the centroid softmax's sharpness and prior weight and the MLP's temperature are
chosen for the likelihood of rows held out of the MLP and of a first centroid fit, so the
probabilities are honest (the report gives the expected calibration error, `ece`).
`depth` predicts at a coarser level by summing the leaves' probabilities under each node.
Score: accuracy@1 (also @3), higher is better.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from training.base import SuggestionModel
from training.mlp import sparse_mlp_fit, sparse_mlp_predict
from training.price import normalized_names
from training.features import (category_levels, expected_calibration_error, name_and_brand, ngrams, softmax, tfidf,
                               top_k)
from zeta_serving.tokenizer import Tokenizer

CHUNK = 512  # rows scored at once: CHUNK x n_classes floats stay small
SHARPNESS = (5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 60.0, 80.0)
PRIOR_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)
CALIBRATION_ROWS = 3000
MLP_CLASSES = 500
TEMPERATURES = (0.5, 0.7, 0.85, 1.0, 1.2, 1.5)
TREE_SHARE = 0.9  # the training rows' share in the shipped tree above which its other leaves join


@lru_cache(maxsize=1)
def tree_leaves() -> tuple[str, ...]:
    """The shipped category tree's leaf paths (Mercari Japan, 7,624 leaves)."""
    lines = resources.files("zeta_serving").joinpath("data/categories.tsv").read_text(encoding="utf-8").splitlines()
    return tuple(line.split("\t")[2] for line in lines[1:] if line.strip())


class CategoryModel(SuggestionModel):
    task = "category"
    label = "category"
    metric = "accuracy@1"
    greater_is_better = True

    def __init__(self, depth: int | None = None, k: int = 3, min_df: int = 1, calibration_share: float = 0.1,
                 hidden: int | None = None, epochs: int = 4, leaf_names: bool = True, tokenizer: Tokenizer | None = None,
                 random_state: int = 0):
        self.depth = depth
        self.leaf_names = leaf_names
        self.hidden = hidden
        self.epochs = epochs
        self.k = k
        self.min_df = min_df
        self.calibration_share = calibration_share
        self.tokenizer = tokenizer
        self.random_state = random_state

    def __setstate__(self, state: dict) -> None:
        # A model pickled before leaf names existed was fitted without them: say so, so that
        # get_params (and repr, clone) of an old champion still work.
        state.setdefault("leaf_names", False)
        state.setdefault("names_", None)
        super().__setstate__(state)

    def _tok(self) -> Tokenizer:
        return self.tokenizer if self.tokenizer is not None else Tokenizer()

    def hidden_units(self) -> int:
        """The MLP's hidden layer: `hidden`, or by default one unit per node it chooses between,
        from 64 to 256. A layer narrower than its softmax is a bottleneck: with the 210 nodes of
        depth 2 of the Japanese tree, 64 units picked the right node for 86% of held-out rows, 256
        for 89% (about +1.5 points of accuracy@1 on three seeds, for twice the fit time), while
        the 40 categories of the Kaggle stand-in gained nothing from more than 64."""
        return self.hidden if self.hidden else int(np.clip(len(self.nodes_), 64, 256))

    def _targets(self, frame: pd.DataFrame) -> pd.Series:
        cats = frame["category"].fillna("").astype(str)
        return category_levels(cats, self.depth) if self.depth else cats

    def _centroid_probabilities(self, X: sp.csr_matrix) -> np.ndarray:
        return softmax((X @ self.centroids_).toarray() * self.sharpness_ + self.prior_weight_ * self.log_prior_)

    def _leaf_probabilities(self, X: sp.csr_matrix, Xm: sp.csr_matrix) -> np.ndarray:
        """p(leaf) = p_MLP(node) x p_centroid(leaf | node), the node being the leaf's coarse level."""
        return self._combine(self._within_node(X), sparse_mlp_predict(self.mlp_, Xm))

    def _within_node(self, X: sp.csr_matrix) -> np.ndarray:
        leaf = self._centroid_probabilities(X)
        node_mass = np.asarray(leaf @ self.leaf_to_node_)
        leaf /= np.maximum(node_mass[:, self.leaf_node_], 1e-30)
        return leaf

    def _combine(self, within: np.ndarray, node: np.ndarray) -> np.ndarray:
        node = node ** self.temperature_
        node /= node.sum(axis=1, keepdims=True)
        return within * node[:, self.leaf_node_]

    def _mlp_features(self, frame: pd.DataFrame, X: sp.csr_matrix, fit: bool = False) -> sp.csr_matrix:
        names = normalized_names(frame)
        chars = self.char_vec_.fit_transform(names) if fit else tfidf(self.char_vec_, names)
        return sp.hstack([X, chars], format="csr")

    def fit(self, frame: pd.DataFrame) -> "CategoryModel":
        rows = self.check_trainable(frame)
        docs = name_and_brand(self._tok(), rows)
        cats = rows["category"].astype(str).to_numpy(dtype=str)
        seen = np.unique(cats)
        # The MLP learns the coarsest level with at most MLP_CLASSES nodes (the leaves themselves
        # when there are few): a softmax over 7.6k leaves would cost too much per row.
        depth = max(d for d in range(1, 7) if d == 1 or len(set(category_levels(pd.Series(seen), d))) <= MLP_CLASSES)
        named = self.leaf_names and np.isin(cats, tree_leaves()).mean() >= TREE_SHARE
        self.leaves_ = np.unique(np.concatenate([seen, self._unseen_leaves(seen, depth)])) if named else seen
        y = np.searchsorted(self.leaves_, cats)
        self.classes_, group = np.unique(self._targets(pd.DataFrame({"category": self.leaves_})).to_numpy(dtype=str),
                                         return_inverse=True)
        self.leaf_to_class_ = sp.csr_matrix((np.ones(len(group), dtype=np.float32), (np.arange(len(group)), group)),
                                            shape=(len(self.leaves_), len(self.classes_)))
        self.nodes_, self.leaf_node_ = np.unique(category_levels(pd.Series(self.leaves_), depth).to_numpy(dtype=str),
                                                 return_inverse=True)
        self.leaf_to_node_ = sp.csr_matrix((np.ones(len(self.leaves_), dtype=np.float32),
                                            (np.arange(len(self.leaves_)), self.leaf_node_)),
                                           shape=(len(self.leaves_), len(self.nodes_)))
        self.vectorizer_ = TfidfVectorizer(analyzer=ngrams, min_df=self.min_df, sublinear_tf=True,
                                           dtype=np.float32)
        # Each leaf's names are one more document of the corpus, so the vocabulary knows a word
        # only the tree has ("雲形定規") and its weight reflects how many leaves share it.
        names = self._name_documents(depth) if named else []
        self.vectorizer_.fit(docs + names)
        X = tfidf(self.vectorizer_, docs)
        self.names_ = tfidf(self.vectorizer_, names) if named else None
        self.char_vec_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=3, sublinear_tf=True,
                                         max_features=100_000, dtype=np.float32)
        # Calibration (softmax sharpness, prior weight, the MLP's temperature) on rows held out of
        # the MLP and of a first centroid fit; centroids are cheap, so they are fitted again on all.
        rng = np.random.default_rng(self.random_state)
        held = rng.random(len(y)) < self.calibration_share
        if held.sum() < 20 or (~held).sum() < 20:
            held[:] = False
        fit = ~held
        Xm = self._mlp_features(rows, X, fit=True)
        Xfit, yfit = Xm[fit], self.leaf_node_[y[fit]]
        if self.names_ is not None:  # the MLP learns each leaf's names as a listing of its node
            texts = pd.DataFrame({"name": self._name_texts(depth)})
            Xfit = sp.vstack([Xfit, self._mlp_features(texts, self.names_)], format="csr")
            yfit = np.concatenate([yfit, self.leaf_node_])
        self.mlp_ = sparse_mlp_fit(Xfit, yfit, classes=len(self.nodes_), hidden=self.hidden_units(),
                                   epochs=self.epochs, random_state=self.random_state)
        self.sharpness_, self.prior_weight_, self.temperature_ = 20.0, 0.5, 1.0
        if held.any():
            self._fit_centroids(X[fit], y[fit])
            # A few thousand rows pin three numbers down; scoring every held-out row against every
            # leaf for each setting would dominate the fit on large windows.
            calibrate = np.flatnonzero(held)[:CALIBRATION_ROWS]
            self.sharpness_, self.prior_weight_ = self._best_calibration(X[calibrate], group[y[calibrate]])
            self.temperature_ = self._best_temperature(X[calibrate], Xm[calibrate], group[y[calibrate]])
        self._fit_centroids(X, y)
        self.vocabulary_ = frozenset(t for toks in docs for t in toks if not t.startswith("brand="))
        self.n_train_ = len(rows)
        return self

    @staticmethod
    def _unseen_leaves(seen: np.ndarray, depth: int) -> np.ndarray:
        """Leaves of the shipped tree no training row has, under a node the training rows reach:
        suggested from their names alone."""
        tree = np.asarray(tree_leaves(), dtype=str)
        nodes = set(category_levels(pd.Series(seen), depth))
        unseen = tree[~np.isin(tree, seen)]
        return unseen[category_levels(pd.Series(unseen), depth).isin(nodes).to_numpy()]

    def _name_texts(self, depth: int) -> list[str]:
        """Each leaf's own names below its node ("帽子 ハンチング")."""
        return [" ".join(p.split("/")[depth:]) or p.split("/")[-1] for p in self.leaves_]

    def _name_documents(self, depth: int) -> list[list[str]]:
        return self._tok().tokenize_many(self._name_texts(depth))

    def _fit_centroids(self, X: sp.csr_matrix, y: np.ndarray) -> None:
        Y = sp.csr_matrix((np.ones(len(y), dtype=np.float32), (y, np.arange(len(y)))),
                          shape=(len(self.leaves_), len(y)))
        sums = Y @ X
        if self.names_ is not None:  # a leaf's names count as one more listing of it
            sums = sums + self.names_
        self.centroids_ = normalize(sums).T.tocsr().astype(np.float32)  # feature x class
        counts = np.bincount(y, minlength=len(self.leaves_)) + 0.5  # a leaf absent from this fit: not log(0)
        self.log_prior_ = np.log(counts / counts.sum()).astype(np.float32)

    def _members(self, y: np.ndarray) -> sp.csr_matrix:
        """rows x leaves: 1 on the leaves of each row's class (`y`, an index into classes_)."""
        return self.leaf_to_class_[:, y].T.tocsr()

    @staticmethod
    def _nll(scores: np.ndarray, members: sp.csr_matrix) -> float:
        """Mean -log softmax(scores) summed over each row's member leaves; `scores` is overwritten."""
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        mass = np.asarray(members.multiply(scores).sum(axis=1)).ravel() / scores.sum(axis=1)
        return -float(np.log(mass + 1e-12).mean())

    def _best_calibration(self, X: sp.csr_matrix, y: np.ndarray) -> tuple[float, float]:
        """Sharpness and prior weight with the best likelihood of the held-out rows' classes (`y`)."""
        cosines = np.vstack([(X[i:i + CHUNK] @ self.centroids_).toarray() for i in range(0, X.shape[0], CHUNK)])
        members = self._members(y)

        def nll(setting: tuple[float, float]) -> float:
            sharpness, weight = setting
            scores = cosines * np.float32(sharpness)
            scores += np.float32(weight) * self.log_prior_
            return self._nll(scores, members)

        return min(((s, w) for s in SHARPNESS for w in PRIOR_WEIGHTS), key=nll)

    def _best_temperature(self, X: sp.csr_matrix, Xm: sp.csr_matrix, y: np.ndarray) -> float:
        # the centroid and MLP parts do not depend on the temperature: computed once
        within, node = self._within_node(X), sparse_mlp_predict(self.mlp_, Xm)
        members = self._members(y)

        def nll(temperature: float) -> float:
            self.temperature_ = temperature
            probs = self._combine(within, node)
            return -float(np.log(np.asarray(members.multiply(probs).sum(axis=1)).ravel() + 1e-12).mean())

        return min(TEMPERATURES, key=nll)

    def _top(self, frame: pd.DataFrame, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Best k class indices and their probabilities, chunk by chunk."""
        self.require_fitted()
        X = tfidf(self.vectorizer_, name_and_brand(self._tok(), frame))
        Xm = self._mlp_features(frame, X)
        idx_parts, prob_parts = [], []
        for start in range(0, X.shape[0], CHUNK):
            probs = self._leaf_probabilities(X[start:start + CHUNK], Xm[start:start + CHUNK])
            if self.depth:
                probs = np.asarray(probs @ self.leaf_to_class_)
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
        rows = self.labelled(frame)
        idx, probs = self._top(rows, 3)
        truth = self._targets(rows).to_numpy(dtype=str)
        predicted = self.classes_[idx] if len(idx) else np.empty((0, 3), dtype=str)
        hit1 = predicted[:, 0] == truth
        hit3 = (predicted == truth[:, None]).any(axis=1)
        return {"accuracy@1": float(hit1.mean()), "accuracy@3": float(hit3.mean()),
                "ece": expected_calibration_error(probs[:, 0], hit1), "rows": int(len(rows))}
