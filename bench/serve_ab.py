"""A serving setting A/B: two `bentoml serve` of this tree that differ only in environment, paired.

  python bench/serve_ab.py --home DIR --a ZETA_INLINE_SINGLE=1 --b ZETA_INLINE_SINGLE=0
                           [--tasks price category tag brand] [--connections 1 32] [--reps 4] [--seconds 5]

Both servers run the all-in-one service on the same bench home's models (`bench/serve.py --home`
makes one) at once. Each gets the same warm-up, then every (task, level, repetition) is measured
on A and on B back to back with the same fresh bodies, the order alternating between repetitions,
so the machine's drift hits both alike. Prints per task and level the median requests/s of each
and the median, min and max of the paired ratio A/B: on a shared 2-core machine the single
figures swing by tens of percent, the paired ratio much less.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve  # noqa: E402
import wrk  # noqa: E402


def setting(text: str) -> dict[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return {name: value}


def start(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen([str(serve.BIN / "bentoml"), "serve", "--host", "127.0.0.1", "--port", str(port),
                             "services.all.service:Suggest"], cwd=serve.ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_until_answering(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return serve.every_route_answers(url, seconds)
        except httpx.TransportError:  # not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True, help="a bench home with trained models (bench/serve.py)")
    ap.add_argument("--a", type=setting, action="append", required=True, help="NAME=VALUE for server A")
    ap.add_argument("--b", type=setting, action="append", required=True, help="NAME=VALUE for server B")
    ap.add_argument("--tasks", nargs="+", default=list(serve.ROUTES), choices=list(serve.ROUTES))
    ap.add_argument("--connections", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=5)
    args = ap.parse_args()
    base = {**os.environ, "BENTOML_HOME": str(args.home / "bentoml"), "BENTOML_DO_NOT_TRACK": "true",
            "ZETA_DB_URL": f"sqlite:///{args.home / 'zeta.db'}"}
    servers = {}
    try:
        for name, settings, port in (("A", args.a, 3981), ("B", args.b, 3982)):
            env = dict(base)
            for item in settings:
                env.update(item)
            servers[name] = (start(env, port), f"http://127.0.0.1:{port}")
        for _, url in servers.values():
            wait_until_answering(url)
        bodies = serve.Bodies()
        warm = bodies.next()
        for task in args.tasks:
            for _, url in servers.values():
                wrk.run(url, serve.ROUTES[task], warm[task], 8, 3)
        rps: dict[tuple, list[float]] = {}
        for rep in range(args.reps):
            for task in args.tasks:
                for c in args.connections:
                    level = bodies.next()[task]
                    order = ["A", "B"] if rep % 2 == 0 else ["B", "A"]
                    for name in order:
                        r = wrk.run(servers[name][1], serve.ROUTES[task], level, c, args.seconds)
                        rps.setdefault((task, c, name), []).append(r.rps)
        print(f"A = {args.a}, B = {args.b}; {args.reps} paired repetitions of {args.seconds:.0f} s")
        for task in args.tasks:
            for c in args.connections:
                a, b = rps[(task, c, "A")], rps[(task, c, "B")]
                ratios = [x / y for x, y in zip(a, b) if y]
                print(f"{task:9s} c={c:<4d} A {statistics.median(a):8.1f} r/s  B {statistics.median(b):8.1f} r/s  "
                      f"A/B median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})",
                      flush=True)
    finally:
        for proc, _ in servers.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait(30)


if __name__ == "__main__":
    main()
