"""Each default model against a tuned classic baseline on the same split, on two data sets.

  python bench/quality.py [--data jp,kaggle] [--rows 60000] [--skip tag]

Data: `jp` is the synthetic Japanese store (`zeta_serving.synth`, newest days held out, relistings
of training items dropped from them); `kaggle` is `bench/kaggle_synth.py`, English listings in the
Kaggle Mercari layout from a second, structurally different generator (no real file is here),
last 15% of the file order held out. Each training part keeps its newest 15% as a validation split:
every baseline setting is tuned there, then refitted on the whole training part; the test split
is touched once per model.

Baselines, through the same tokenizer layer and on the same features as a team would build
them: TF-IDF of MeCab uni+bigrams of the name (and description for price and tags), TF-IDF of
character 2-4-grams of the normalised name, one-hot brand, condition, shipping and category.
  price     Ridge (alpha tuned)                              RMSLE, lower is better
  category  logistic regression (C or alpha tuned)           accuracy@1, higher is better
            (lbfgs multinomial when the classes are few; over thousands of leaves lbfgs needs a
            dense classes x features matrix, so the same loss by SGD one-vs-rest on the newest
            --category-baseline-rows rows, and the default model is scored on the same rows too)
  tag       one-vs-rest logistic regression (C tuned)        micro-F1, higher is better
  brand     logistic regression on the name's features       accuracy@1 over listings with a brand
            (brands seen twice or more and "no brand" as classes; as for category, SGD one-vs-rest
            when the classes are many)
Also printed: the price range's coverage (80% nominal) and the category model's expected
calibration error (ECE, 15 bins of top-1 probability) on the test split, fit CPU seconds
(user + sys of this process, all threads), and on `kaggle` the category ceiling: the Bayes-optimal
accuracy@1 of any model of the name and brand on that generator (`kaggle_synth.category_ceiling`).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import kaggle_synth  # noqa: E402
from training import CategoryModel, PriceModel, TagModel  # noqa: E402
from training.brand import NO_BRAND, BrandModel  # noqa: E402
from training.features import OneHot, ngrams, tokenize_column  # noqa: E402
from training.price import normalized_names  # noqa: E402
from zeta_serving import synth  # noqa: E402
from zeta_serving.relist import drop_relistings  # noqa: E402
from zeta_serving.tokenizer import Tokenizer  # noqa: E402


class Features:
    """The baselines' features: word n-grams (MeCab), character n-grams, one-hot fields."""

    def __init__(self, text=("name",), onehot=("brand", "condition", "shipping", "category")):
        self.text, self.onehot = text, list(onehot)

    def _tokens(self, frame):
        tok = Tokenizer()
        return [tokenize_column(tok, frame[c]) for c in self.text]

    def fit_transform(self, frame):
        self.words_ = [TfidfVectorizer(analyzer=ngrams, min_df=2, sublinear_tf=True, max_features=200_000,
                                       dtype=np.float32) for _ in self.text]
        self.chars_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=3, sublinear_tf=True,
                                      max_features=100_000, dtype=np.float32)
        parts = [v.fit_transform(d) for v, d in zip(self.words_, self._tokens(frame))]
        parts.append(self.chars_.fit_transform(normalized_names(frame)))
        if self.onehot:
            self.onehot_ = OneHot(min_count=2).fit(frame[self.onehot].astype(str))
            parts.append(self.onehot_.transform(frame[self.onehot].astype(str)))
        return sp.hstack(parts, format="csr")

    def transform(self, frame):
        parts = [v.transform(d) for v, d in zip(self.words_, self._tokens(frame))]
        parts.append(self.chars_.transform(normalized_names(frame)))
        if self.onehot:
            parts.append(self.onehot_.transform(frame[self.onehot].astype(str)))
        return sp.hstack(parts, format="csr")


def validation_split(train: pd.DataFrame, share: float = 0.15):
    n = int(len(train) * (1 - share))
    return train.iloc[:n].reset_index(drop=True), train.iloc[n:].reset_index(drop=True)


def tune(fit_score, grid, train, better=min):
    """The best setting on the validation split (never the test split)."""
    part, val = validation_split(train)
    results = {g: fit_score(part, val, g) for g in grid}
    return better(results, key=results.get), results


def timed(fn):
    """The result and the CPU seconds it took (this process, all threads): the wall clock of a
    shared machine measures the neighbours."""
    started = time.process_time()
    out = fn()
    return out, time.process_time() - started


# ------------------------------------------------------------------ baselines

def ridge_rmsle(train, test, alpha):
    f = Features(text=("name", "description"), onehot=("brand", "condition", "shipping", "category"))
    model = Ridge(alpha=alpha).fit(f.fit_transform(train), np.log1p(train["price"]))
    return float(np.sqrt(np.mean((model.predict(f.transform(test)) - np.log1p(test["price"])) ** 2)))


def logistic_accuracy(train, test, strength, many: bool):
    f = Features(text=("name",), onehot=("brand",))
    X = f.fit_transform(train)
    if many:
        model = SGDClassifier(loss="log_loss", alpha=strength, max_iter=8, tol=None, n_jobs=2, random_state=0)
    else:
        model = LogisticRegression(C=strength, max_iter=300)
    model.fit(X, train["category"])
    return float((model.predict(f.transform(test)) == test["category"].to_numpy()).mean())


def logistic_brand_accuracy(train, test, strength, many: bool):
    f = Features(text=("name",), onehot=())
    labels = train["brand"].fillna("").astype(str).str.strip()
    counts = labels.value_counts()
    labels = labels.where(labels.map(counts) >= 2, NO_BRAND)  # a brand seen once is no class to learn
    if many:
        model = SGDClassifier(loss="log_loss", alpha=strength, max_iter=8, tol=None, n_jobs=2, random_state=0)
    else:
        model = LogisticRegression(C=strength, max_iter=300)
    model.fit(f.fit_transform(train), labels)
    truth = test["brand"].fillna("").astype(str).str.strip().to_numpy()
    branded = truth != NO_BRAND
    return float((model.predict(f.transform(test)) == truth)[branded].mean())


def ovr_micro_f1(train, test, C):
    f = Features(text=("name", "description"), onehot=())
    counts = pd.Series([t for tags in train["tags"] for t in tags]).value_counts()
    binarizer = MultiLabelBinarizer(classes=sorted(counts[counts >= 3].index))
    Y = binarizer.fit_transform([[t for t in tags if t in set(binarizer.classes)] for tags in train["tags"]])
    model = OneVsRestClassifier(LogisticRegression(C=C, solver="liblinear")).fit(f.fit_transform(train), Y)
    pred = model.predict(f.transform(test)).astype(bool)
    truth = [set(tags) for tags in test["tags"]]
    classes = binarizer.classes_
    tp = sum(len({classes[j] for j in np.flatnonzero(p)} & t) for p, t in zip(pred, truth))
    return float(2 * tp / (pred.sum() + sum(len(t) for t in truth)))


class _Printed:
    """A list of result lines that prints each as it is added (a stopped run keeps what it measured)."""

    def __init__(self, lines: list) -> None:
        self.lines = lines

    def append(self, line) -> None:
        self.lines.append(line)
        print("  " + format_line(line), flush=True)


# ------------------------------------------------------------------ data

def jp_data(rows: int, seed: int, eval_days: int = 5):
    days = 40
    frame = pd.concat(synth.generate(date(2026, 1, 1), days, rows // days, seed=seed), ignore_index=True)
    cut = frame["listed_at"].max().normalize() - pd.Timedelta(days=eval_days - 1)
    train = frame[frame["listed_at"] < cut].reset_index(drop=True)
    return train, drop_relistings(frame[frame["listed_at"] >= cut].reset_index(drop=True), train)


def kaggle_data(rows: int, seed: int):
    frame = kaggle_synth.generate(rows, seed)
    frame = frame[(frame["price"] > 0) & (frame["category"] != "")].reset_index(drop=True)
    n = int(len(frame) * 0.85)
    return frame.iloc[:n].reset_index(drop=True), frame.iloc[n:].reset_index(drop=True)


def run(name, train, test, args, lines):
    lines = _Printed(lines)
    print(f"\n{name}: {len(train)} train, {len(test)} held out, {train['category'].nunique()} categories",
          flush=True)
    if "price" not in args.skip:
        price, t_price = timed(lambda: PriceModel().fit(train))
        report = price.report(test)
        (alpha, _), _ = timed(lambda: tune(ridge_rmsle, [1.0, 3.0, 10.0], train))
        base, t_base = timed(lambda: ridge_rmsle(train, test, alpha))
        lines.append((name, "price", "RMSLE", report["rmsle"], t_price, base, t_base,
                      f"ridge alpha={alpha}; range coverage {report['interval_coverage']:.3f} (80% nominal), "
                      f"MLP blend {price.blend_}"))
    if "category" not in args.skip:
        many = train["category"].nunique() > 300
        small = train.tail(args.category_baseline_rows).reset_index(drop=True) if many else train
        category, t_cat = timed(lambda: CategoryModel().fit(small))
        report = category.report(test)
        grid = [1e-6, 1e-5] if many else [3.0, 10.0, 30.0]
        if args.no_baselines:
            strength, base, t_base = "-", float("nan"), 0.0
        else:
            (strength, _), _ = timed(lambda: tune(lambda a, b, g: logistic_accuracy(a, b, g, many), grid, small, max))
            base, t_base = timed(lambda: logistic_accuracy(small, test, strength, many))
        names = ""
        if category.names_ is not None:  # the tree's leaf names apply: what they are worth, and where
            plain = CategoryModel(leaf_names=False).fit(small)
            rows = category.labelled(test)
            seen = rows["category"].isin(set(small["category"])).to_numpy()
            with_names, without = category.score_parts(rows)[:, 0], plain.score_parts(rows)[:, 0]
            names = (f"; without leaf names {without.mean():.4f}; rows of a leaf the training rows have "
                     f"({seen.mean():.3f}) {without[seen].mean():.3f} -> {with_names[seen].mean():.3f}, of "
                     f"another leaf {without[~seen].mean():.3f} -> {with_names[~seen].mean():.3f}")
        ceiling = ""
        if name == "kaggle":  # what any model of the name and brand can reach on this generator
            bound = kaggle_synth.category_ceiling(args.seed)
            ceiling = f"; Bayes ceiling {bound:.4f} ({(bound - base) * 100:+.1f} points over the baseline)"
        lines.append((name, "category", "accuracy@1", report["accuracy@1"], t_cat, base, t_base,
                      f"{'SGD alpha' if many else 'lbfgs C'}={strength} on {len(small)} rows; "
                      f"ECE {report['ece']:.3f}, accuracy@3 {report['accuracy@3']:.3f}{names}{ceiling}"))
    if "tag" not in args.skip and sum(len(t) for t in train["tags"]) > 0:
        tag, t_tag = timed(lambda: TagModel().fit(train))
        ours = tag.score(test)
        (C, _), _ = timed(lambda: tune(ovr_micro_f1, [1.0, 10.0], train, max))
        base, t_base = timed(lambda: ovr_micro_f1(train, test, C))
        lines.append((name, "tag", "micro-F1", ours, t_tag, base, t_base, f"liblinear C={C}"))
    if "brand" not in args.skip:
        many = train["brand"].nunique() > 300
        small = train.tail(args.category_baseline_rows).reset_index(drop=True) if many else train
        brand, t_brand = timed(lambda: BrandModel().fit(small))
        report = brand.report(test)
        grid = [1e-6, 1e-5] if many else [3.0, 10.0, 30.0]
        (strength, _), _ = timed(lambda: tune(lambda a, b, g: logistic_brand_accuracy(a, b, g, many), grid,
                                              small, max))
        base, t_base = timed(lambda: logistic_brand_accuracy(small, test, strength, many))
        lines.append((name, "brand", "accuracy@1", report["accuracy@1"], t_brand, base, t_base,
                      f"{'SGD alpha' if many else 'lbfgs C'}={strength} on {len(small)} rows; "
                      f"no-brand precision {report['no_brand_precision']:.3f}, recall {report['no_brand_recall']:.3f}"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="jp,kaggle")
    ap.add_argument("--rows", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip", default="", help="comma-separated tasks to leave out")
    ap.add_argument("--category-baseline-rows", type=int, default=60_000)
    ap.add_argument("--no-baselines", action="store_true",
                    help="category: the model's own figures only (its logistic baseline takes minutes)")
    args = ap.parse_args()
    lines: list = []
    for name in args.data.split(","):
        train, test = jp_data(args.rows, args.seed) if name == "jp" else kaggle_data(args.rows, args.seed)
        run(name, train, test, args, lines)
    print(f"\n{'data':7s} {'model':9s} {'score':11s} {'zeta':>8s} {'cpu s':>7s} {'baseline':>9s} {'cpu s':>7s} "
          f"{'zeta vs baseline':>17s}  notes")
    for line in lines:
        print(format_line(line))


def format_line(line) -> str:
    data, task, metric, ours, t_ours, theirs, t_theirs, note = line
    lower = metric == "RMSLE"
    ratio = (1 - ours / theirs) * 100 if lower else (ours - theirs) * 100
    unit = "% lower" if lower else " points"
    return (f"{data:7s} {task:9s} {metric:11s} {ours:8.4f} {t_ours:7.1f} {theirs:9.4f} {t_theirs:7.1f} "
            f"{ratio:+9.1f}{unit:8s}  {note}")

if __name__ == "__main__":
    main()
