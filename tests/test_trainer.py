"""`zeta train` fits the saved model on all labelled rows; challengers never see their comparison rows;
relistings never reach a held-out score."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from zeta_serving import tasks
from zeta_serving import synth
from zeta_serving.relist import drop_relistings, relist_keys
from zeta_serving.tokenizer import Tokenizer
from zeta_serving.trainer import train_on
from zeta_serving.windows import Windows


def _name_tokens(frame: pd.DataFrame) -> set[str]:
    return {t for toks in Tokenizer().tokenize_many(frame["name"].tolist()) for t in toks}


@pytest.mark.parametrize("task", ["price", "category"])
def test_zeta_train_saves_a_model_fitted_on_train_and_held_out_with_the_held_out_reference(task, trained_store):
    store, results = trained_store
    result, cls = results[task], tasks.get(task).model_class
    meta = result.saved.metadata
    w = meta["windows"]
    train = store.window(w["train_start"], w["eval_start"], labelled=cls.label)
    held = drop_relistings(store.window(w["eval_start"], w["eval_end"], labelled=cls.label), train)
    assert meta["refit_on_all"] is True
    assert meta["scored_model_train_rows"] == len(train) and meta["eval_rows"] == len(held)
    assert meta["train_rows"] == len(train) + len(held)
    # the saved model learnt words that only the held-out window has ...
    only_held = _name_tokens(held) - _name_tokens(train)
    assert len(only_held) > 20
    # (the price model holds 10% of its rows out of every fit, to calibrate its range)
    assert len(only_held & set(result.model.tokens_seen())) > 0.8 * len(only_held)
    # ... and its reference is the score of a model that never saw them
    scored = cls().fit(train)
    assert not only_held & set(scored.tokens_seen())
    assert scored.report(held) == pytest.approx(meta["scores"])


def test_loop_challengers_never_train_on_their_comparison_rows(forget_new_models):
    frames = list(synth.generate(date(2026, 2, 1), 6, 300, seed=5))
    train, held = pd.concat(frames[:4], ignore_index=True), pd.concat(frames[4:], ignore_index=True)
    windows = Windows.ending("2026-02-07", 4, 2)
    result = train_on("category", train, held, windows)  # the loop's call: refit_on_all stays off
    only_held = _name_tokens(held) - _name_tokens(train)
    assert only_held and not only_held & set(result.model.tokens_seen())
    assert result.saved.metadata["train_rows"] == len(train) and result.saved.metadata["refit_on_all"] is False


def test_relistings_of_training_items_are_dropped_from_held_out_rows(forget_new_models):
    frames = list(synth.generate(date(2026, 2, 1), 6, 300, seed=5))
    train, held = pd.concat(frames[:4], ignore_index=True), pd.concat(frames[4:], ignore_index=True)
    relisted = train.sample(40, random_state=0).assign(id=lambda f: "re-" + f["id"],
                                                         price=lambda f: f["price"] * 0.9)
    relisted["name"] = " " + relisted["name"].str.upper() + " "  # spacing and case do not hide a relisting
    held_with = pd.concat([held, relisted], ignore_index=True)
    kept = drop_relistings(held_with, train)
    assert not relist_keys(kept).isin(set(relist_keys(train))).any()
    assert len(kept) <= len(held) and len(kept) >= len(held) - 20  # the synthetic relistings go too
    result = train_on("price", train, held_with, Windows.ending("2026-02-07", 4, 2))
    assert result.saved.metadata["eval_rows"] == len(kept)
