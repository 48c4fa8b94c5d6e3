"""Fit time of each model on N synthetic listings (one fit, as the loop's challengers do).

  python bench/fit_time.py [--rows 200000] [--tasks price,category,tag]

Prints wall and CPU seconds per model and the linear extrapolation to 1M listings
(`zeta train` fits twice: once to score, once on everything; double it for that). Sparse
fits scale about linearly in rows; the tokenizer's cache makes repeated phrases cheaper,
so at 1M rows the extrapolation is an upper bound for the tokenizing part.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zeta_serving import tasks  # noqa: E402
from zeta_serving import synth  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--tasks", default="price,category,tag")
    args = ap.parse_args()
    started = time.perf_counter()
    frame = pd.concat(synth.generate(date(2026, 1, 1), args.days, args.rows // args.days, seed=0),
                      ignore_index=True)
    print(f"generated {len(frame)} listings in {time.perf_counter() - started:.0f} s", flush=True)
    # CPU seconds beside wall seconds: on a shared machine the wall clock measures the neighbours
    print(f"{'model':9s} {'rows':>9s} {'wall s':>8s} {'cpu s':>8s} {'1M rows, cpu s (linear)':>24s}")
    for task in args.tasks.split(","):
        started, cpu = time.perf_counter(), time.process_time()
        tasks.get(task).model_class().fit(frame)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"{task:9s} {len(frame):9d} {seconds:8.0f} {cpu:8.0f} {cpu * 1_000_000 / len(frame):24.0f}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
