"""Concurrent starts: N `zeta status` processes at once on an empty database.

  python bench/starts.py --db postgresql+psycopg://postgres@127.0.0.1:5432/zeta_x [--processes 40] [--rounds 1]

Each round drops every table of the database (it must be a scratch database), then starts
N `zeta status` at the same moment (they wait on one start file) and counts the ones that
exit non-zero, with the first line of their error. The schema must end up created once:
every start succeeds.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

WAIT_THEN_RUN = """
import os, sys, time
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.005)
from zeta_serving.cli import main
sys.argv = ["zeta", "status"]
main()
"""


def empty(url: str) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def one_round(url: str, processes: int, home: Path) -> collections.Counter:
    empty(url)
    go = home / "go"
    go.unlink(missing_ok=True)
    env = {**os.environ, "ZETA_DB_URL": url, "ZETA_HOME": str(home), "BENTOML_HOME": str(home / "bentoml"),
           "BENTOML_DO_NOT_TRACK": "true"}
    procs = [subprocess.Popen([sys.executable, "-c", WAIT_THEN_RUN, str(go)], env=env, cwd=home,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    time.sleep(3.0)  # every interpreter has started and is waiting on the start file
    go.touch()
    outcomes = collections.Counter()
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            outcomes["ok"] += 1
        else:
            line = (err.strip().splitlines() or ["no output"])[-1]
            outcomes[f"exit {proc.returncode}: {line[:120]}"] += 1
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a scratch database URL (its tables are dropped)")
    parser.add_argument("--processes", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    failed_total = 0
    with tempfile.TemporaryDirectory(prefix="zeta-starts-") as tmp:
        for round_no in range(1, args.rounds + 1):
            outcomes = one_round(args.db, args.processes, Path(tmp))
            failed = args.processes - outcomes["ok"]
            failed_total += failed
            print(f"round {round_no}: {outcomes['ok']}/{args.processes} started, {failed} failed")
            for outcome, count in outcomes.items():
                if outcome != "ok":
                    print(f"  {count} x {outcome}")
    print(f"total: {failed_total} failed of {args.processes * args.rounds} starts")


if __name__ == "__main__":
    main()
