"""Bootstrap confidence intervals over rows, for one model and for a pair on the same rows.

Every model's score is a function of the column means of its per-row parts
(RMSLE = sqrt(mean squared error), accuracy = mean hit, micro-F1 from mean
tp/fp/fn), so a resample is a weighted mean of the parts. Poisson(1) weights
give the usual bootstrap without materialising resampled rows, in chunks so
50k rows x 1000 resamples stays within a few tens of MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Aggregate = Callable[[np.ndarray], float]
CHUNK = 50


@dataclass(frozen=True)
class Interval:
    score: float
    low: float
    high: float


def _resampled_means(parts: list[np.ndarray], resamples: int, rng: np.random.Generator):
    """Yield, chunk by chunk, the weighted column means of each parts array under shared weights."""
    n = len(parts[0])
    done = 0
    while done < resamples:
        size = min(CHUNK, resamples - done)
        weights = rng.poisson(1.0, size=(size, n)).astype(np.float32)
        totals = weights.sum(axis=1, keepdims=True)
        totals[totals == 0] = 1.0
        yield [(weights @ p.astype(np.float32)) / totals for p in parts]
        done += size


def _score_rows(aggregate: Aggregate, means: np.ndarray) -> np.ndarray:
    return np.array([aggregate(row[None, :]) for row in means])


def bootstrap(parts: np.ndarray, aggregate: Aggregate, *, resamples: int = 1000, confidence: float = 0.95,
              seed: int = 0) -> Interval:
    """Point score and percentile interval of `aggregate` over rows."""
    if len(parts) == 0:
        raise ValueError("no rows to score")
    rng = np.random.default_rng(seed)
    scores = np.concatenate([_score_rows(aggregate, m[0]) for m in _resampled_means([parts], resamples, rng)])
    tail = (1 - confidence) / 2 * 100
    return Interval(float(aggregate(parts)), float(np.percentile(scores, tail)),
                    float(np.percentile(scores, 100 - tail)))


def paired_gain(champion: np.ndarray, challenger: np.ndarray, aggregate: Aggregate, greater_is_better: bool, *,
                resamples: int = 1000, confidence: float = 0.95, seed: int = 0) -> Interval:
    """How much better the challenger is than the champion on the same rows (positive = better)."""
    if len(champion) != len(challenger):
        raise ValueError("paired comparison needs the same rows for both models")
    sign = 1.0 if greater_is_better else -1.0
    rng = np.random.default_rng(seed)
    gains = []
    for a, b in _resampled_means([champion, challenger], resamples, rng):
        gains.append(sign * (_score_rows(aggregate, b) - _score_rows(aggregate, a)))
    gains = np.concatenate(gains)
    tail = (1 - confidence) / 2 * 100
    point = sign * (aggregate(challenger) - aggregate(champion))
    return Interval(float(point), float(np.percentile(gains, tail)), float(np.percentile(gains, 100 - tail)))


def shortfall(score: float, reference: float, greater_is_better: bool) -> float:
    """How much worse `score` is than `reference` (negative when better)."""
    return reference - score if greater_is_better else score - reference


def significantly_worse(interval: Interval, reference: float, tolerance: float, greater_is_better: bool) -> bool:
    """Beyond tolerance at the point, and the whole interval on the worse side of the reference."""
    beyond = shortfall(interval.score, reference, greater_is_better) > tolerance
    best_end = interval.high if greater_is_better else interval.low
    return beyond and shortfall(best_end, reference, greater_is_better) > 0
