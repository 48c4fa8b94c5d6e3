"""One maintenance cycle in its own process, for the crash tests (tests/test_crash.py) to kill.

    python -m tests.crash_cycle DB_URL MODE MARKER LEASE_SECONDS

MODE `block-retrain`: the retrain stage writes MARKER and then hangs (a long training).
MODE `build`: the real `bentoml build` runs (the test watches for the child process).
Alerts are appended to MARKER + ".alerts" as JSON lines. SIGTERM/SIGINT are handled as
`zeta maintain --once` handles them.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

NOW = datetime(2026, 2, 15, tzinfo=timezone.utc)


class FileSink:
    name = "file"

    def __init__(self, path: Path):
        self.path = path

    def send(self, alert) -> bool:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"model": alert.model, "decision": alert.decision, "summary": alert.summary,
                                  "run_id": alert.run_id}) + "\n")
        return True


def maintainer(url: str, lease_seconds: float, *, alerts, builder=None, replica: str = "crash-test"):
    from zeta_serving.maintenance.builder import BentoBuilder
    from zeta_serving.maintenance.clock import FixedClock
    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.inprocess import InProcessDeployer
    from zeta_serving.maintenance.ledger import Ledger
    from zeta_serving.maintenance.loop import Maintainer
    from zeta_serving.store import ListingStore

    store = ListingStore(url)
    clock = FixedClock(NOW)
    base = load_config(None)
    config = replace(base, policies={m: replace(p, eval_days=2, train_days=10, min_rows=100, bootstrap=300,
                                                lease_seconds=lease_seconds) for m, p in base.policies.items()})
    return Maintainer(store=store, ledger=Ledger(store.engine), deployer=InProcessDeployer(clock),
                      builder=builder or BentoBuilder(), alerts=alerts, clock=clock, config=config, replica=replica)


def main(url: str, mode: str, marker: str, lease_seconds: str) -> None:
    from zeta_serving.maintenance.signals import stop_cleanly

    if mode == "block-retrain":
        from training.category import CategoryModel

        def hang(self, frame):
            Path(marker).write_text("retrain")
            time.sleep(600)

        CategoryModel.fit = hang
    m = maintainer(url, float(lease_seconds), alerts=FileSink(Path(marker + ".alerts")))
    with stop_cleanly(m):
        result = m.run("category")
    print(json.dumps(result.as_dict()), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
