"""Cost of one no-drop maintenance cycle per model at 50k evaluation rows.

  python bench/maintenance.py [--eval-rows 50000] [--train-rows 70000]

Builds a store (synthetic, no drift), trains the three champions on the days
before the evaluation window, then runs one real cycle per model in a fresh
child process (so peak memory is that cycle's own) and prints seconds, peak
RSS and the RSS before the cycle (imports + the champion loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

EVAL_DAYS = 7


def child(db_url: str, model: str, now_iso: str, eval_rows: int) -> None:
    from dataclasses import replace

    from zeta_serving.maintenance.alerts import LogSink
    from zeta_serving.maintenance.builder import BentoBuilder
    from zeta_serving.maintenance.clock import FixedClock
    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.inprocess import InProcessDeployer
    from zeta_serving.maintenance.ledger import Ledger
    from zeta_serving.maintenance.loop import Maintainer
    from zeta_serving.store import ListingStore

    store = ListingStore(db_url)
    clock = FixedClock(datetime.fromisoformat(now_iso))
    base = load_config(None)
    config = replace(base, policies={m: replace(p, eval_days=EVAL_DAYS, max_eval_rows=eval_rows)
                                     for m, p in base.policies.items()})
    maintainer = Maintainer(store=store, ledger=Ledger(store.engine), deployer=InProcessDeployer(clock),
                            builder=BentoBuilder(), alerts=LogSink(), clock=clock, config=config, replica="bench")
    maintainer.ensure_serving(model)  # load the champion first: the cycle's own cost is what we time
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = maintainer.run(model)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run = maintainer.ledger.history(model).iloc[-1]
    print(json.dumps({"model": model, "decision": result.decision, "seconds": seconds, "rss_before_kb": before,
                      "peak_kb": peak, "eval_rows": int(run["eval_rows"])}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-rows", type=int, default=50_000)
    ap.add_argument("--train-rows", type=int, default=70_000)
    args = ap.parse_args()

    from zeta_serving import synth, tasks
    from zeta_serving.maintenance.ledger import Champion, Ledger
    from zeta_serving.store import ListingStore
    from zeta_serving.trainer import train_task

    work = Path(tempfile.mkdtemp(prefix="zeta-bench-maint-"))
    os.environ["BENTOML_HOME"] = str(work / "bentoml")
    db_url = f"sqlite:///{work / 'zeta.db'}"
    store = ListingStore(db_url)
    per_day = args.eval_rows // EVAL_DAYS + 1
    train_days = max(1, args.train_rows // per_day)
    start = date(2026, 4, 1)
    total_days = train_days + EVAL_DAYS * 2
    t = time.perf_counter()
    for offset in range(total_days):
        store.insert(synth.generate_day(start + timedelta(days=offset), per_day, seed=5))
    print(f"store: {store.count()} listings over {total_days} days ({time.perf_counter() - t:.1f}s)")
    champions_until = datetime.combine(start + timedelta(days=train_days + EVAL_DAYS), datetime.min.time(),
                                       tzinfo=timezone.utc)
    ledger = Ledger(store.engine)
    for model in tasks.names():
        t = time.perf_counter()
        trained = train_task(store, model, until=champions_until, train_days=train_days, eval_days=EVAL_DAYS)
        ledger.crown(Champion(model, trained.saved.tag, trained.saved.reference_score, champions_until))
        print(f"champion {model}: trained on {trained.train_rows} rows in {time.perf_counter() - t:.1f}s")
    now = champions_until + timedelta(days=EVAL_DAYS)
    print(f"\n{'model':9s} {'decision':10s} {'eval rows':>9s} {'cycle s':>8s} {'RSS before':>11s} {'peak RSS':>9s}")
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true"}
    total = 0.0
    for model in tasks.names():
        out = subprocess.run([sys.executable, __file__, "--child", db_url, model, now.isoformat(),
                              str(args.eval_rows)], env=env, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        total += r["seconds"]
        print(f"{model:9s} {r['decision']:10s} {r['eval_rows']:>9d} {r['seconds']:>8.2f} "
              f"{r['rss_before_kb'] / 1024:>9.0f}MB {r['peak_kb'] / 1024:>7.0f}MB")
    print(f"{'all':9s} {'':10s} {'':>9s} {total:>8.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
