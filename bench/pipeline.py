"""The foundation end to end at scale: synth -> JSONL -> zeta load -> train the three models.

  python bench/pipeline.py [--rows 200000] [--days 30] [--eval-days 5] [--db URL]

Prints rows/s for synth (in memory and to a JSONL file), for `zeta load`
(parse + insert, SQLite by default or --db), for reading the training window
back, and the fit time and held-out scores of each default model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--eval-days", type=float, default=5.0)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zeta-bench-pipeline-"))
    os.environ.setdefault("BENTOML_HOME", str(work / "bentoml"))
    os.environ["BENTOML_DO_NOT_TRACK"] = "true"
    from zeta_serving import synth, tasks
    from zeta_serving.cli.synth_cmd import write_jsonl
    from zeta_serving.ingest import load_file
    from zeta_serving.store import ListingStore
    from zeta_serving.trainer import train_task

    per_day = args.rows // args.days
    t = time.perf_counter()
    frames = list(synth.generate(date(2026, 1, 1), args.days, per_day, seed=0))
    synth_s = time.perf_counter() - t
    rows = sum(len(f) for f in frames)
    path = work / "listings.jsonl"
    t = time.perf_counter()
    with path.open("w", encoding="utf-8") as fh:
        for frame in frames:
            write_jsonl(frame, fh)
    write_s = time.perf_counter() - t
    store = ListingStore(args.db or f"sqlite:///{work / 'zeta.db'}")
    t = time.perf_counter()
    result = load_file(store, path, "zeta", progress=False)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    again = load_file(store, path, "zeta", progress=False)
    reload_s = time.perf_counter() - t
    t = time.perf_counter()
    span = store.time_range()
    everything = store.window(span[0], span[1] + __import__("pandas").Timedelta(seconds=1))
    read_s = time.perf_counter() - t
    print(f"rows: {rows}  ({path.stat().st_size / 1e6:.0f} MB JSONL, database {store.engine.dialect.name})")
    print(f"synth (in memory)     {rows / synth_s:>10,.0f} rows/s")
    print(f"synth -> JSONL        {rows / (synth_s + write_s):>10,.0f} rows/s")
    print(f"zeta load (new)       {result.added / load_s:>10,.0f} rows/s  ({result.added} added)")
    print(f"zeta load (again)     {again.read / reload_s:>10,.0f} rows/s  ({again.added} added: idempotent)")
    print(f"read window back      {len(everything) / read_s:>10,.0f} rows/s")
    print(f"\n{'model':9s} {'train rows':>10s} {'held out':>9s} {'fit s':>7s}  scores")
    for task in tasks.names():
        trained = train_task(store, task, train_days=args.days - args.eval_days, eval_days=args.eval_days)
        scores = "  ".join(f"{k} {v:.4f}" for k, v in trained.scores.items() if k != "rows")
        print(f"{task:9s} {trained.train_rows:>10d} {trained.eval_rows:>9d} "
              f"{trained.saved.metadata['fit_seconds']:>7.1f}  {scores}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
