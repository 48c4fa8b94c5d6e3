"""Throughput and peak memory of the synthetic listing generator.

    python bench/synth.py [--rows 200000] [--days 10] [--drift]

Times `--rows` rows split over `--days` days (package data loaded beforehand and reported
apart), then one frame of all `--rows` rows; prints rows/s and the peak RSS (resource).
tracemalloc slows the generator ~25x, so the Python heap peak is measured on a separate
single day of `--rows / --days` rows.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from datetime import date, timedelta

from zeta_serving import synth


def _rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024**2 if sys.platform == "darwin" else 1024)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="total rows (default 200000)")
    ap.add_argument("--days", type=int, default=10, help="split over this many days (default 10)")
    ap.add_argument("--drift", action="store_true", help="all three drifts on from the first day")
    args = ap.parse_args(argv)
    start = date(2026, 1, 1)
    drift = synth.Drift(vocab_from=start, price_from=start, noise_from=start) if args.drift else None
    label = ", drift on" if drift else ""

    t0 = time.perf_counter()
    synth._world()  # package data, loaded once per process
    if drift:
        synth._coined()
    load = time.perf_counter() - t0
    rss_loaded = _rss_mib()

    per_day = args.rows // args.days
    t0 = time.perf_counter()
    total = sum(len(synth.generate_day(start + timedelta(days=k), per_day, 0, drift)) for k in range(args.days))
    elapsed = time.perf_counter() - t0
    print(f"synth: {total} rows in {elapsed:.2f}s = {total / elapsed:,.0f} rows/s "
          f"({args.days} days x {per_day} rows{label}); package data load {load:.2f}s")
    rss_days = _rss_mib()

    t0 = time.perf_counter()
    frame = synth.generate_day(start, args.rows, 0, drift)
    elapsed = time.perf_counter() - t0
    size = frame.memory_usage(deep=True).sum() / 2**20
    print(f"synth: one frame of {len(frame)} rows in {elapsed:.2f}s = {len(frame) / elapsed:,.0f} rows/s "
          f"(frame {size:.0f} MiB)")
    del frame
    rss_frame = _rss_mib()

    tracemalloc.start()
    synth.generate_day(start + timedelta(days=args.days), per_day, 0, drift)
    _, heap = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: peak RSS {rss_loaded:.0f} MiB after loading, {rss_days:.0f} MiB after the daily run, "
          f"{rss_frame:.0f} MiB after the {args.rows}-row frame; "
          f"peak traced heap of one {per_day}-row day {heap / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
