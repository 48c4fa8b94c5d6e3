"""The Kaggle stand-in's category ceiling (bench/kaggle_synth.py): the bound bench/quality.py prints.

The README says no category model can beat the logistic baseline by 2 points on the stand-in;
these check the bound that says so: it is a probability model of `generate` (it sums to 1 and
its category shares are the generator's), and nothing learnt from the names beats it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench import kaggle_synth


def test_the_traces_are_a_probability_model_of_the_generator():
    total = sum(joint.sum() for _, joint in kaggle_synth.category_traces(0))
    assert abs(total - 1.0) < 1e-9
    frame = kaggle_synth.generate(40_000, seed=0)
    shares = frame["category"].value_counts(normalize=True).reindex(list(kaggle_synth.CATEGORIES)).fillna(0)
    # the generator's own category shares (its first draw), within sampling noise
    assert np.abs(shares.to_numpy() - kaggle_synth._category_prior(0)).max() < 0.01
    # and its phone words: a phone's storage and carrier are written together or not at all
    names = frame["name"].str.lower()
    storage = names.str.contains("|".join(w for w, _ in kaggle_synth.STORAGE))
    carrier = names.str.contains("|".join(w for w, _ in kaggle_synth.CARRIER))
    phones = frame["category"].isin(kaggle_synth.PHONE_LIKE)
    assert not (storage ^ carrier)[phones].any()
    shown = {(True, False): 0.0, (True, True): 0.0}
    for (_, _, phone_words, _), joint in kaggle_synth.category_traces(0):
        shown[(True, phone_words)] += joint[[list(kaggle_synth.CATEGORIES).index(c) for c in kaggle_synth.PHONE_LIKE]].sum()
    p_shown = shown[(True, True)] / (shown[(True, True)] + shown[(True, False)])
    assert abs(storage[phones].mean() - p_shown) < 0.03  # 0.85, less what the 80-character cut loses


def test_nothing_learnt_from_the_names_beats_the_ceiling():
    frame = kaggle_synth.generate(80_000, seed=0)
    frame = frame[frame["category"] != ""]
    key = frame["brand"] + "|" + frame["name"].str.lower()
    train, test = frame.index[:60_000], frame.index[60_000:]
    # The best a memoriser can do: each (brand, name) seen gets its most frequent category.
    majority = pd.DataFrame({"key": key[train], "category": frame.loc[train, "category"]}) \
        .groupby("key")["category"].agg(lambda c: c.value_counts().index[0])
    guessed = key[test].map(majority)
    known = guessed.notna()
    accuracy = float((guessed[known] == frame.loc[test, "category"][known]).mean())
    ceiling = kaggle_synth.category_ceiling(0)
    noise = 3 * np.sqrt(ceiling * (1 - ceiling) / known.sum())
    assert known.mean() > 0.5  # the names repeat: the memoriser answers most rows
    assert accuracy <= ceiling + noise, (accuracy, ceiling)
    assert 0.9 < ceiling < 0.98  # the ceiling is a real one: ambiguous nouns, not noise
