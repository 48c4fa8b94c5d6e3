"""Each default model against the tuned classic baseline on the same time split.

  python bench/quality.py [--days 40] [--rows-per-day 5000] [--eval-days 5]

Baselines (what a team would write first), tuned on a validation slice of the
training window:
  price     Ridge on scikit-learn TF-IDF of name and description + one-hot brand,
            category, condition, shipping (alpha tuned)          -> RMSLE, lower is better
  category  logistic regression on scikit-learn TF-IDF of the name -> accuracy@1, higher is better
            at depth 2 of the tree (236 nodes): LogisticRegression, lbfgs, C tuned;
            at the leaves (thousands): lbfgs would need tens of GiB, so the same
            loss fitted by SGD one-vs-rest (alpha tuned) on the newest N rows.
The default models tokenize with the pinned MeCab layer; the baselines use
scikit-learn's default token pattern, as a team without it would.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.preprocessing import OneHotEncoder

from training import CategoryModel, PriceModel, TagModel
from zeta_serving import synth


def split(frame: pd.DataFrame, eval_days: int):
    cut = frame["listed_at"].max().normalize() - pd.Timedelta(days=eval_days - 1)
    return frame[frame["listed_at"] < cut].reset_index(drop=True), frame[frame["listed_at"] >= cut].reset_index(drop=True)


def tail_split(frame: pd.DataFrame, share: float = 0.15):
    n = int(len(frame) * (1 - share))
    return frame.iloc[:n], frame.iloc[n:]


class PriceBaseline:
    def features(self, frame, fit=False):
        cats = frame[["brand", "category", "condition", "shipping"]].astype(str)
        if fit:
            self.name_ = TfidfVectorizer(min_df=2, ngram_range=(1, 2), sublinear_tf=True)
            self.desc_ = TfidfVectorizer(min_df=2, ngram_range=(1, 2), max_features=200_000, sublinear_tf=True)
            self.onehot_ = OneHotEncoder(handle_unknown="ignore")
            return sp.hstack([self.name_.fit_transform(frame["name"]), self.desc_.fit_transform(frame["description"]),
                              self.onehot_.fit_transform(cats)]).tocsr()
        return sp.hstack([self.name_.transform(frame["name"]), self.desc_.transform(frame["description"]),
                          self.onehot_.transform(cats)]).tocsr()

    def fit(self, frame, alpha):
        self.ridge_ = Ridge(alpha=alpha).fit(self.features(frame, fit=True), np.log1p(frame["price"]))
        return self

    def rmsle(self, frame):
        pred = self.ridge_.predict(self.features(frame))
        return float(np.sqrt(np.mean((pred - np.log1p(frame["price"])) ** 2)))


def at_depth(categories: pd.Series, depth: int | None) -> pd.Series:
    return categories if depth is None else categories.map(lambda p: "/".join(p.split("/")[:depth]))


class CategoryBaseline:
    def __init__(self, depth: int | None = None):
        self.depth = depth

    def fit(self, frame, strength):
        self.vec_ = TfidfVectorizer(min_df=1, ngram_range=(1, 2), sublinear_tf=True)
        X, y = self.vec_.fit_transform(frame["name"]), at_depth(frame["category"], self.depth)
        if self.depth is None:
            self.lr_ = SGDClassifier(loss="log_loss", alpha=strength, max_iter=8, tol=None, n_jobs=2).fit(X, y)
        else:
            self.lr_ = LogisticRegression(C=strength, max_iter=200).fit(X, y)
        return self

    def accuracy(self, frame):
        truth = at_depth(frame["category"], self.depth)
        return float((self.lr_.predict(self.vec_.transform(frame["name"])) == truth).mean())


def tuned(make, grid, train, score, better):
    fit_part, val_part = tail_split(train)
    results = {g: score(make().fit(fit_part, g), val_part) for g in grid}
    best = (max if better == "higher" else min)(results, key=results.get)
    return best, results


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=40)
    ap.add_argument("--rows-per-day", type=int, default=5000)
    ap.add_argument("--eval-days", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--category-baseline-rows", type=int, default=60_000,
                    help="LogisticRegression over thousands of leaves is slow: fit it on the newest N training rows "
                         "(the default model is scored both on all rows and on the same N)")
    args = ap.parse_args()

    frame = pd.concat(synth.generate(date(2026, 1, 1), args.days, args.rows_per_day, seed=args.seed), ignore_index=True)
    train, test = split(frame, args.eval_days)
    print(f"synthetic listings: {len(train)} train, {len(test)} held out (newest {args.eval_days} days); "
          f"{train['category'].nunique()} leaves seen in training\n")
    rows = []

    price, t_price = timed(lambda: PriceModel().fit(train))
    (alpha, _), _ = timed(lambda: tuned(PriceBaseline, [1.0, 3.0, 10.0], train, PriceBaseline.rmsle, "lower"))
    base, t_base = timed(lambda: PriceBaseline().fit(train, alpha))
    rows.append(("price", "RMSLE (lower better)", price.score(test), t_price, base.rmsle(test), t_base, f"alpha={alpha}"))

    depth2, t_d2 = timed(lambda: CategoryModel(depth=2).fit(train))
    (C, _), _ = timed(lambda: tuned(lambda: CategoryBaseline(depth=2), [3.0, 30.0], train,
                                    CategoryBaseline.accuracy, "higher"))
    d2base, t_d2base = timed(lambda: CategoryBaseline(depth=2).fit(train, C))
    rows.append(("category@d2", "accuracy@1 (higher better)", depth2.score(test), t_d2, d2base.accuracy(test),
                 t_d2base, f"lbfgs C={C}"))

    category, t_cat = timed(lambda: CategoryModel().fit(train))
    small = train.tail(args.category_baseline_rows).reset_index(drop=True)
    category_small, t_cat_small = timed(lambda: CategoryModel().fit(small))
    (a, _), _ = timed(lambda: tuned(CategoryBaseline, [1e-5, 1e-6], small, CategoryBaseline.accuracy, "higher"))
    cbase, t_cbase = timed(lambda: CategoryBaseline().fit(small, a))
    rows.append(("category", "accuracy@1 (higher better)", category.score(test), t_cat, None, None,
                 f"leaves, all {len(train)} rows"))
    rows.append((f"category/{len(small) // 1000}k", "accuracy@1 (higher better)", category_small.score(test),
                 t_cat_small, cbase.accuracy(test), t_cbase, f"leaves, newest {len(small)} rows, SGD alpha={a}"))

    tag, t_tag = timed(lambda: TagModel().fit(train))
    rows.append(("tag", "micro-F1 (higher better)", tag.score(test), t_tag, None, None, "no baseline set"))

    print(f"{'model':14s} {'score':27s} {'zeta':>8s} {'fit s':>7s} {'baseline':>9s} {'fit s':>7s}  {'zeta vs baseline':>17s}  note")
    for name, metric, ours, t_ours, theirs, t_theirs, note in rows:
        if theirs is None:
            print(f"{name:14s} {metric:27s} {ours:8.4f} {t_ours:7.1f} {'':>9s} {'':>7s}  {'':>17s}  {note}")
            continue
        ratio = theirs / ours if "lower" in metric else ours / theirs
        print(f"{name:14s} {metric:27s} {ours:8.4f} {t_ours:7.1f} {theirs:9.4f} {t_theirs:7.1f}  {ratio:16.3f}x  {note}")
    print("\n(zeta vs baseline > 1 means the default model is better)")


if __name__ == "__main__":
    main()
