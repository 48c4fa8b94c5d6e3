"""Bootstrap intervals: coverage of a known answer, pairing, and the drop rule."""

from __future__ import annotations

import numpy as np

from training import CategoryModel, PriceModel, TagModel
from zeta_serving.maintenance.stats import Interval, bootstrap, paired_gain, significantly_worse


def test_accuracy_interval_covers_the_truth_and_narrows_with_rows():
    rng = np.random.default_rng(1)
    small = (rng.random((400, 2)) < 0.7).astype(float)
    large = (rng.random((20000, 2)) < 0.7).astype(float)
    a, b = bootstrap(small, CategoryModel.aggregate), bootstrap(large, CategoryModel.aggregate)
    assert a.low < 0.7 < a.high and b.low < 0.7 < b.high
    assert (b.high - b.low) < (a.high - a.low) / 4
    # binomial standard error at n=20000 is 0.0032: a 95% interval is about 4 of them wide
    assert 0.009 < b.high - b.low < 0.016


def test_rmsle_and_micro_f1_intervals_bracket_the_point():
    rng = np.random.default_rng(2)
    sq = rng.gamma(2.0, 0.1, size=(5000, 1))
    price = bootstrap(sq, PriceModel.aggregate)
    assert price.low < price.score < price.high and abs(price.score - np.sqrt(sq.mean())) < 1e-12
    parts = rng.integers(0, 3, size=(3000, 3)).astype(float)
    tag = bootstrap(parts, TagModel.aggregate)
    assert tag.low < tag.score < tag.high


def test_paired_gain_sees_a_small_real_improvement_that_unpaired_intervals_miss():
    rng = np.random.default_rng(3)
    base = (rng.random(4000) < 0.80).astype(float)
    better = base.copy()
    flip = np.flatnonzero(base == 0)[:80]  # the challenger fixes 2% of rows, breaks none
    better[flip] = 1.0
    champ, chall = np.column_stack([base, base]), np.column_stack([better, better])
    gain = paired_gain(champ, chall, CategoryModel.aggregate, greater_is_better=True)
    assert gain.low > 0 and abs(gain.score - 0.02) < 1e-9
    a, b = bootstrap(champ, CategoryModel.aggregate), bootstrap(chall, CategoryModel.aggregate)
    assert a.high > b.low  # the separate intervals overlap


def test_lower_is_better_gain_is_positive_when_errors_shrink():
    rng = np.random.default_rng(4)
    sq = rng.gamma(2.0, 0.1, size=(3000, 1))
    gain = paired_gain(sq, sq * 0.8, PriceModel.aggregate, greater_is_better=False)
    assert gain.low > 0


def test_drop_rule_needs_both_tolerance_and_significance():
    assert significantly_worse(Interval(0.60, 0.58, 0.62), 0.70, 0.05, True)
    assert not significantly_worse(Interval(0.68, 0.60, 0.76), 0.70, 0.01, True)  # within tolerance
    assert not significantly_worse(Interval(0.60, 0.45, 0.75), 0.70, 0.05, True)  # not significant
    assert significantly_worse(Interval(0.60, 0.57, 0.63), 0.45, 0.05, False)  # RMSLE went up
    assert not significantly_worse(Interval(0.40, 0.38, 0.42), 0.45, 0.05, False)  # RMSLE improved
