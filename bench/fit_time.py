"""Fit time of each model on N synthetic listings (one fit, as the loop's challengers do).

  python bench/fit_time.py [--rows 20000,40000,80000] [--tasks price,category,tag]

Prints wall and CPU seconds per model and size, and the extrapolation to 1M listings: from
one size, CPU seconds x 1M / rows; from several, the least-squares line fixed + per-row x rows
(calibration on a few thousand held-out rows is a fixed cost, the category model's leaf MLP
learns from at most 300k rows: a line through small sizes is an upper bound for those parts).
`zeta train` fits twice: once to score, once on everything; double it for that. The
tokenizer's cache makes repeated phrases cheaper, so at 1M rows the extrapolation is an upper
bound for the tokenizing part too.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zeta_serving import tasks  # noqa: E402
from zeta_serving import synth  # noqa: E402
from zeta_serving import tokenizer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="200000", help="one size or several, comma-separated")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--tasks", default="price,category,tag")
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.rows.split(","))
    started = time.perf_counter()
    frame = pd.concat(synth.generate(date(2026, 1, 1), args.days, sizes[-1] // args.days, seed=0),
                      ignore_index=True)
    print(f"generated {len(frame)} listings in {time.perf_counter() - started:.0f} s", flush=True)
    # CPU seconds beside wall seconds: on a shared machine the wall clock measures the neighbours
    print(f"{'model':9s} {'rows':>9s} {'wall s':>8s} {'cpu s':>8s} {'1M rows, cpu s (linear)':>24s}")
    for task in args.tasks.split(","):
        measured = []
        for n in sizes:
            part = frame.tail(n).reset_index(drop=True)  # the newest n rows: a shorter window
            # each fit from a cold cache: a smaller size's titles would make the next one cheaper
            tokenizer.clear_caches()
            # process_time: user + sys CPU of every thread of this process (BLAS's too); the fit
            # starts no child process, so nothing is left out
            started, cpu = time.perf_counter(), time.process_time()
            tasks.get(task).model_class().fit(part)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            measured.append((len(part), cpu))
            print(f"{task:9s} {len(part):9d} {seconds:8.0f} {cpu:8.0f} {cpu * 1_000_000 / len(part):24.0f}",
                  flush=True)
        if len(measured) > 1:
            per_row, fixed = np.polyfit(*zip(*measured), 1)
            print(f"{task:9s} line: {fixed:.0f} s fixed + {per_row * 1000:.2f} s per 1k rows "
                  f"-> {fixed + per_row * 1_000_000:.0f} cpu s at 1M rows", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
