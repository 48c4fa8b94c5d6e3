"""The three models: the estimator contract, save/reload through the BentoML store, quality under drift."""

from __future__ import annotations

import csv
import json
import pickle
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer

from training.features import _top_k_partition, ngrams, tfidf, top_k
from zeta_serving import registry, synth, tasks
from zeta_serving.maintenance.stats import bootstrap

MODELS = {t.name: t.model_class for t in tasks.all_tasks()}

START = date(2026, 4, 1)


@pytest.fixture(scope="module")
def data():
    """Ten clean days to train on, then two later days clean, with new vocabulary, with new prices."""
    train = pd.concat(synth.generate(START, 10, 500, seed=11), ignore_index=True)
    later = [START + timedelta(days=12), START + timedelta(days=13)]

    def days(drift):
        return pd.concat([synth.generate_day(d, 500, seed=11, drift=drift) for d in later], ignore_index=True)

    return {"train": train, "clean": days(None), "vocab": days(synth.Drift(vocab_from=later[0])),
            "price": days(synth.Drift(price_from=later[0]))}


@pytest.fixture(scope="module")
def fitted(data):
    return {task: cls().fit(data["train"]) for task, cls in MODELS.items()}


@pytest.mark.parametrize("task", list(MODELS))
def test_estimator_contract(task, data):
    cls = MODELS[task]
    model = cls()
    assert not [k for k in vars(model) if k.endswith("_")]  # nothing fitted in __init__
    assert set(vars(model)) == set(model.get_params())  # __init__ only stores its parameters
    fitted = model.fit(data["train"].head(800))
    assert fitted is model  # fit returns self
    assert [k for k in vars(model) if k.endswith("_")]  # fitted state ends in _
    assert not [k for k in vars(clone(model)) if k.endswith("_")]


@pytest.mark.parametrize("task", list(MODELS))
def test_pickle_round_trip_gives_identical_predictions(task, fitted, data):
    model = fitted[task]
    again = pickle.loads(pickle.dumps(model))
    assert again.predict(data["clean"].head(50)) == model.predict(data["clean"].head(50))


def test_outputs_have_the_documented_shape(fitted, data):
    rows = data["clean"].head(20)
    price = fitted["price"].predict(rows)
    assert all(p["low"] <= p["price"] <= p["high"] and p["currency"] == "JPY" for p in price)
    categories = fitted["category"].predict(rows, k=5)
    assert all(len(c["categories"]) == 5 for c in categories)
    assert all(abs(sum(x["probability"] for x in c["categories"])) <= 1.0001 for c in categories)
    tags = fitted["tag"].predict(rows)
    assert all(all(0 <= t["score"] <= 1 for t in x["tags"]) for x in tags)


def test_models_learn_far_better_than_guessing(fitted, data):
    clean = data["clean"]
    constant = np.sqrt(np.mean((np.log1p(clean["price"]) - np.log1p(data["train"]["price"]).mean()) ** 2))
    assert fitted["price"].score(clean) < 0.75 * constant
    most_common = data["train"]["category"].value_counts().index[0]
    assert fitted["category"].score(clean) > 5 * (clean["category"] == most_common).mean()
    assert fitted["tag"].score(clean) > 0.6


def interval(model, frame):
    return bootstrap(model.score_parts(frame), model.aggregate, resamples=400)


@pytest.mark.parametrize("task", ["category", "tag", "brand"])
def test_vocabulary_drift_drops_category_tag_and_brand_scores(task, fitted, data):
    clean, drifted = interval(fitted[task], data["clean"]), interval(fitted[task], data["vocab"])
    # (catalogue product lines keep their tags under vocabulary drift: the tag score drops a little less)
    assert drifted.high < clean.low and clean.score - drifted.score > 0.1, (clean, drifted)


def test_price_shift_drops_the_price_score(fitted, data):
    clean, drifted = interval(fitted["price"], data["clean"]), interval(fitted["price"], data["price"])
    assert drifted.low > clean.high and drifted.score - clean.score > 0.1, (clean, drifted)


@pytest.mark.parametrize("task", list(MODELS))
def test_without_drift_later_days_score_the_same(task, fitted, data):
    model = fitted[task]
    early = pd.concat(synth.generate(START + timedelta(days=10), 2, 500, seed=11), ignore_index=True)
    a, b = interval(model, early), interval(model, data["clean"])
    # Two disjoint windows of the same world: the intervals overlap.
    assert a.low <= b.high and b.low <= a.high, (a, b)


@pytest.mark.parametrize("task", list(MODELS))
def test_saved_model_has_complete_metadata_and_reloads_identically(task, trained_store):
    store, results = trained_store
    saved = results[task].saved
    meta = saved.metadata
    for key in ("task", "metric", "greater_is_better", "package_version", "trained_at", "params",
                "tokenizer_fingerprint", "windows", "train_rows", "eval_rows", "scores", "unseen_rate"):
        assert key in meta, key
    fingerprint = saved.tokenizer_fingerprint
    assert fingerprint["dictionary"] == "unidic-lite" and fingerprint["id"] and fingerprint["canary_sha256"]
    assert set(meta["windows"]) == {"train_start", "train_end", "eval_start", "eval_end"}
    assert meta["windows"]["train_end"] == meta["windows"]["eval_start"]
    assert meta["train_rows"] > 0 and meta["eval_rows"] > 0 and meta["metric"] in meta["scores"]
    model, again = registry.load(saved.tag)
    assert again.tag == saved.tag
    frame = store.window(meta["windows"]["eval_start"], meta["windows"]["eval_end"])
    assert model.predict(frame.head(40)) == results[task].model.predict(frame.head(40))
    assert model.report(frame) == results[task].model.report(frame)
    cases = registry.load_golden(registry.get(saved.tag))
    assert len(cases) == registry.GOLDEN_CASES
    assert [c["output"] for c in cases[:5]] == model.predict(pd.DataFrame([c["input"] for c in cases[:5]]))


# -- the Kaggle layout: English, USD, no timestamps ---------------------------------------------

WORDS = {
    "Men/Tops/T-shirts": ["tee", "t-shirt", "graphic", "crew"],
    "Women/Tops & Blouses/Blouse": ["blouse", "lace", "chiffon", "top"],
    "Electronics/Video Games & Consoles/Games": ["game", "xbox", "ps4", "nintendo"],
    "Beauty/Makeup/Lips": ["lipstick", "matte", "gloss", "liquid"],
    "Home/Kitchen & Dining/Coffee & Tea Accessories": ["mug", "coffee", "tea", "kettle"],
}
BASE = {"Men/Tops/T-shirts": 12, "Women/Tops & Blouses/Blouse": 18,
        "Electronics/Video Games & Consoles/Games": 25, "Beauty/Makeup/Lips": 10,
        "Home/Kitchen & Dining/Coffee & Tea Accessories": 15}


def kaggle_file(path, rows=1500, seed=0):
    rng = np.random.default_rng(seed)
    cats = list(WORDS)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, delimiter="\t")
        out.writerow(["train_id", "name", "item_condition_id", "category_name", "brand_name", "price", "shipping",
                      "item_description"])
        for i in range(rows):
            cat = cats[rng.integers(len(cats))]
            brand = ["Nike", "PINK", "Sony", ""][rng.integers(4)]
            words = rng.choice(WORDS[cat], 2, replace=False)
            cond = int(rng.integers(1, 6))
            price = round(BASE[cat] * (1.8 if brand in ("Nike", "Sony") else 1.0) * (1.3 - 0.08 * cond)
                          * float(np.exp(rng.normal(0, 0.2))))
            out.writerow([i, f"{brand} {' '.join(words)}".strip(), cond, cat, brand, price, int(rng.integers(2)),
                          "No description yet" if i % 3 else f"great {words[0]} barely used"])
    return path


def test_kaggle_layout_loads_trains_and_predicts_unchanged(tmp_path, db_url, capsys, forget_new_models):
    from zeta_serving.cli import main
    from zeta_serving.ingest import load_file
    from zeta_serving.store import ListingStore
    from zeta_serving.trainer import train_task

    path = kaggle_file(tmp_path / "train.tsv")
    store = ListingStore(db_url)
    assert load_file(store, path, "mercari-kaggle", undated_end="2026-06-01", progress=False).added == 1500
    # Undated rows follow file order over 30 days: the newest 7 days are the last ~23% of the file.
    price = train_task(store, "price", until="2026-06-01", train_days=23, eval_days=7)
    category = train_task(store, "category", until="2026-06-01", train_days=23, eval_days=7)
    meta = price.saved.metadata
    assert meta["scored_model_train_rows"] + price.eval_rows + meta["eval_rows_relisted"] == 1500
    assert 300 < price.eval_rows + meta["eval_rows_relisted"] < 400 and price.eval_rows > 100
    assert price.train_rows == meta["scored_model_train_rows"] + price.eval_rows  # the saved model saw them all
    assert price.scores["rmsle"] < 0.35
    assert category.scores["accuracy@1"] > 0.9
    assert price.model.predict(store.window("2026-05-01", "2026-06-01").head(1))[0]["currency"] == "USD"
    out = tmp_path / "pred.jsonl"
    try:
        main(["--db", db_url, "predict", "price", "--input", str(path), "--format", "mercari-kaggle",
              "--output", str(out), "--model-tag", price.saved.tag])
    except SystemExit as exc:
        assert not exc.code
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 1500 and lines[0]["id"] == "kaggle:0" and lines[0]["model_tag"] == price.saved.tag


@pytest.mark.parametrize("settings", [
    dict(analyzer=ngrams, min_df=2, sublinear_tf=True, dtype=np.float32),  # the word features
    dict(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True, dtype=np.float32),
    dict(analyzer=ngrams, dtype=np.float64),
])
def test_served_tfidf_equals_scikit_learns_transform(settings):
    """features.tfidf (the serving path, without scikit-learn's per-call checks) gives the same matrix."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(200)] + ["長財布", "モノグラム", "iphone"]
    docs = [[str(w) for w in rng.choice(words, rng.integers(0, 10))] for _ in range(400)]
    if settings["analyzer"] == "char_wb":
        docs = [" ".join(d) for d in docs]
    vectorizer = TfidfVectorizer(**settings).fit(docs[:300])
    tail = docs[300:] + ([[], ["unseen"]] if settings["analyzer"] != "char_wb" else ["", "unseen zz"])
    expected, got = vectorizer.transform(tail), tfidf(vectorizer, tail)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert abs(expected - got).max() < 1e-6
    assert (expected != 0).nnz == (got != 0).nnz


def test_an_mlp_fits_with_blas_on_one_thread(monkeypatch):
    """OpenBLAS's threads only spun between the fit's small products (training/mlp.py)."""
    import scipy.sparse as sp
    from threadpoolctl import threadpool_info

    from training import mlp

    seen, real = [], mlp._fit

    def spy(*args, **kwargs):
        seen.append({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
        return real(*args, **kwargs)

    monkeypatch.setattr(mlp, "_fit", spy)
    X = sp.random(60, 30, density=0.2, format="csr", dtype=np.float32, random_state=0)
    mlp.sparse_mlp_fit(X, np.random.default_rng(0).random(60), hidden=4, epochs=1)
    assert seen == [{1}]


def test_the_category_mlp_has_a_hidden_unit_per_node_it_chooses_between(fitted, data):
    # A hidden layer narrower than its softmax is a bottleneck (training/category.py, hidden_units)
    model = fitted["category"]
    assert len(model.nodes_) > 64  # the Japanese tree's depth-2 nodes: more than the old fixed 64
    assert model.mlp_["W1"].shape[1] == min(len(model.nodes_), 256)
    small = MODELS["category"](hidden=16).fit(data["train"].head(800))
    assert small.mlp_["W1"].shape[1] == 16  # an explicit width is kept


def _unseen_named_leaves(model, train: pd.DataFrame, count: int) -> list[str]:
    """Leaves of the shipped tree no training row has, under a node the rows reach, whose last name
    is no other leaf's (so a title naming it names one leaf)."""
    from training.category import tree_leaves

    tree = pd.Series(tree_leaves())
    last = tree.str.split("/").str[-1]
    unique_last = tree[last.map(last.value_counts()) == 1]
    nodes = set(model.nodes_)
    candidates = [leaf for leaf in unique_last if leaf not in set(train["category"])
                  and "/".join(leaf.split("/")[:2]) in nodes and "その他" not in leaf]
    return candidates[::max(1, len(candidates) // count)][:count]


def test_a_leaf_no_listing_has_shown_is_suggested_when_the_title_names_it(fitted, data):
    model, train = fitted["category"], data["train"]
    leaves = _unseen_named_leaves(model, train, 30)
    assert len(leaves) == 30
    titles = pd.DataFrame({"name": [f"{leaf.split('/')[-1]} 美品" for leaf in leaves], "brand": ""})
    answers = [[c["category"] for c in row["categories"]] for row in model.predict(titles, k=3)]
    found = sum(leaf in top for leaf, top in zip(leaves, answers))
    assert found >= 20, list(zip(leaves, answers))  # most: some names are also other leaves' words
    # Without the names, such a leaf is not even a class the model knows.
    blind = MODELS["category"](leaf_names=False).fit(train)
    assert not set(leaves) & set(blind.classes_)
    assert set(blind.classes_) == set(train["category"])


def test_the_tree_adds_no_leaves_to_categories_it_does_not_hold(data):
    # Categories of another tree (the Kaggle layout's, say): only the training rows' leaves.
    rows = data["train"].head(800).assign(category=lambda f: "Other/" + f["category"])
    model = MODELS["category"]().fit(rows)
    assert set(model.classes_) == set(rows["category"])


@pytest.mark.parametrize("shape,k", [((128, 7566), 3), ((1, 7566), 3), ((64, 50), 5), ((10, 3), 3), ((5, 900), 8),
                                     ((5, 900), 20), ((0, 40), 3)])
def test_top_k_answers_exactly_as_a_partition_of_every_row_and_leaves_the_scores_alone(shape, k):
    rng = np.random.default_rng(0)
    scores = rng.random(shape).astype(np.float32)
    scores[:, ::7] = 0.0  # exact ties where probabilities underflow
    if len(scores) >= 4 and shape[1] > k + 1:
        scores[0, : k + 2] = 2.0  # every one of the best k + 1 tied
        scores[1, [3, 5]] = 2.0  # the k-th and the (k + 1)-th tied, with k = 1 below
        scores[2, 1:] = -np.inf  # fewer real scores than k + 1: a later pass takes column 0 again
        scores[2, 0] = 1.0
        scores[3, 1] = np.nan
    before = scores.copy()
    assert (top_k(scores, k) == _top_k_partition(scores, k)).all()
    assert (top_k(scores, 1) == _top_k_partition(scores, 1)).all()
    np.testing.assert_array_equal(scores, before)  # NaN where it was, -inf where it was, nothing else
    scores.flags.writeable = False  # a read-only array is partitioned, not masked
    assert (top_k(scores, k) == _top_k_partition(scores, k)).all()


def test_a_category_model_pickled_before_leaf_names_loads_predicts_and_reports_its_params(fitted, data):
    model = MODELS["category"](leaf_names=False).fit(data["train"].head(800))
    state = model.__getstate__()
    del state["leaf_names"], state["names_"]  # what the previous version pickled
    old = MODELS["category"].__new__(MODELS["category"])
    old.__setstate__(state)
    assert old.get_params()["leaf_names"] is False  # it was fitted without them
    rows = data["clean"].head(20)
    assert pickle.loads(pickle.dumps(old)).predict(rows) == model.predict(rows)
