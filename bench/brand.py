"""The brand model against the classic baselines on the same time split, with and without drift.

  python bench/brand.py [--days 20] [--rows-per-day 2000] [--eval-days 2]

Baselines (what a team would write first):
  lookup     the longest brand of the shipped list whose name (normalised, without spaces) is a
             substring of the normalised title, else "no brand"
  centroid   the brand model without the shipped list (only brands seen in training)
Prints accuracy@1 over listings with a brand, the "no brand" precision and recall, fit seconds,
single-listing predict milliseconds, and the ratios against each baseline.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from training.brand import NO_BRAND, BrandModel, brand_list, compact
from zeta_serving import synth


def lookup(frame: pd.DataFrame) -> np.ndarray:
    keys = sorted({compact(b): b for b in brand_list() if len(compact(b)) >= 2}.items(), key=lambda kv: -len(kv[0]))
    titles = [compact(t) for t in frame["name"].astype(str)]
    return np.array([next((b for k, b in keys if k in t), NO_BRAND) for t in titles], dtype=object)


def figures(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    branded, said_none = truth != NO_BRAND, predicted == NO_BRAND
    return {"accuracy@1": float((predicted == truth)[branded].mean()),
            "no_brand_precision": float((~branded)[said_none].mean()) if said_none.any() else float("nan"),
            "no_brand_recall": float(said_none[~branded].mean())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--rows-per-day", type=int, default=2000)
    ap.add_argument("--eval-days", type=int, default=2)
    args = ap.parse_args()
    start = date(2026, 4, 1)
    train = pd.concat(synth.generate(start, args.days, args.rows_per_day, seed=3), ignore_index=True)
    later = start + timedelta(days=args.days)
    tests = {
        "clean": pd.concat(synth.generate(later, args.eval_days, args.rows_per_day, seed=3), ignore_index=True),
        "new brands": pd.concat([synth.generate_day(later + timedelta(days=i), args.rows_per_day, seed=3,
                                                    drift=synth.Drift(vocab_from=later))
                                 for i in range(args.eval_days)], ignore_index=True),
    }
    models = {}
    for name, model in (("brand model", BrandModel()), ("centroid", BrandModel(use_brand_list=False))):
        t = time.perf_counter()
        models[name] = (model.fit(train), time.perf_counter() - t)
    print(f"train {len(train)} listings ({(train['brand'] != NO_BRAND).mean():.0%} with a brand)\n")
    print(f"{'data':11s} {'model':12s} {'acc@1':>7s} {'no-brand P':>10s} {'no-brand R':>10s} {'fit s':>7s} {'1-row ms':>9s}")
    for data_name, frame in tests.items():
        truth = frame["brand"].fillna("").astype(str).to_numpy(dtype=object)
        rows = {"lookup": (figures(lookup(frame), truth), 0.0, float("nan"))}
        for name, (model, fit_s) in models.items():
            predicted = np.array([o["brands"][0]["brand"] or NO_BRAND for o in model.predict(frame, k=1)], dtype=object)
            one = frame.head(1)
            t = time.perf_counter()
            for _ in range(20):
                model.predict(one)
            rows[name] = (figures(predicted, truth), fit_s, (time.perf_counter() - t) / 20 * 1000)
        for name, (f, fit_s, ms) in rows.items():
            print(f"{data_name:11s} {name:12s} {f['accuracy@1']:>7.3f} {f['no_brand_precision']:>10.3f} "
                  f"{f['no_brand_recall']:>10.3f} {fit_s:>7.1f} {ms:>9.1f}")
        best = rows["brand model"][0]["accuracy@1"]
        print(f"{'':11s} ratios acc@1: brand model / lookup = {best / rows['lookup'][0]['accuracy@1']:.2f}x, "
              f"/ centroid = {best / rows['centroid'][0]['accuracy@1']:.2f}x\n")


if __name__ == "__main__":
    main()
