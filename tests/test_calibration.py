"""Calibrated answers: the price range covers what it says on new rows (the category
probabilities' calibration error is reported by `zeta train` and bench/quality.py, not held to a bound yet). A small synthetic store, newest days held out (relistings of training items
dropped), so each test fits in well under a minute."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from training import PriceModel
from training.price import normalized_names
from zeta_serving import synth
from zeta_serving.relist import drop_relistings
from zeta_serving.tokenizer import Tokenizer

@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = list(synth.generate(date(2026, 3, 1), 24, 600, seed=11))
    train = pd.concat(frames[:20], ignore_index=True)
    return train, drop_relistings(pd.concat(frames[20:], ignore_index=True), train)


def test_price_range_covers_its_nominal_80_percent_of_held_out_rows(split):
    train, held = split
    model = PriceModel(interval=0.8).fit(train)
    report = model.report(held)
    assert report["rows"] > 2000
    assert 0.75 <= report["interval_coverage"] <= 0.85, report
    # the same check through the answers a seller sees
    answers = model.predict(held)
    inside = [a["low"] <= p <= a["high"] for a, p in zip(answers, held["price"])]
    assert 0.74 <= np.mean(inside) <= 0.86


def test_price_calibration_rows_never_reach_the_vectorisers_or_the_learners(split):
    train, _ = split
    model = PriceModel().fit(train)
    rows = PriceModel.labelled(train)
    held = model.calibration_mask(len(rows))
    assert model.n_calibration_ == held.sum() > 0.05 * len(rows) and model.n_train_ == (~held).sum()
    words = {t for toks in Tokenizer().tokenize_many(rows["name"].tolist()) for t in toks}
    fit_words = {t for toks in Tokenizer().tokenize_many(rows.loc[~held, "name"].tolist()) for t in toks}
    only_calibration = words - fit_words
    assert len(only_calibration) > 20
    assert not only_calibration & set(model.name_vec_.vocabulary_)
    assert not only_calibration & model.tokens_seen()
    fit_chars = set(model.char_vec_.build_analyzer()(" ".join(normalized_names(rows[~held]))))
    assert set(model.char_vec_.vocabulary_) <= fit_chars
