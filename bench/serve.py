"""Serving speed: the bento vs a plain FastAPI wrapper vs the in-process batch limit, driven by wrk.

  python bench/serve.py [--seconds 10] [--connections 1 8 32 128] [--serve all|per-model|both]
                        [--stall-seconds 60] [--overload-connections 256] [--json FILE]
                        [--before SOURCE_TREE] [--home DIR] [--up]

Trains the models on synthetic listings into a private BENTOML_HOME, then:
  (b) in-process  listings/s of each model's predict on batches of 1, 32, 128 and 256 (the limit)
  (a) fastapi     bench/fastapi_app.py under uvicorn with 1 and with 2 workers (the stronger is the peer)
  (c) bento       `bentoml serve` of the all-in-one service (`all`) and/or the per-model services
  (d) bento-before the same bento from another checkout (--before, e.g. a worktree of an older commit)
  (e) zeta-up     `zeta up --port N` on the bench home's store and champions (--up): the embedded
                  default as users run it, its front port proxying to the local deployment
All servers run at once and each (endpoint, level) is measured on each server in turn, so the
machine's noise hits them alike: compare the ratios. Each server first gets the same warm-up
(--warmup-seconds of 8 connections per route, on bodies no level uses). wrk runs one thread; each level cycles through
its own fresh bodies (varied generated listings), so the tokenizer cache is cold at its start.
Then, on the bento (and zeta-up) only: batch routes (256 listings a request) as listings/s against
the in-process limit; p99 at half its peak rate (wrk holding a fixed rate); a stall check (no request over 1 s at 32
connections); overload (256 connections: status counts, socket errors, and, from a sequential probe
beside wrk, the latency of admitted answers and of 503s).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import wrk  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
from zeta_serving import tasks  # noqa: E402

ROUTES = {task.name: task.route for task in tasks.all_tasks()}
SERVICES = {task.name: task.service for task in tasks.all_tasks()}
BODIES_PER_LEVEL = 3000
BATCH = 256


def listing_bodies(n: int, seed: int) -> dict[str, list[dict]]:
    """Per task, n request bodies (the fields its request schema takes) from fresh synthetic listings."""
    from zeta_serving import synth

    records = synth.generate_day(date(2026, 6, 1) + timedelta(days=seed), n, seed=1000 + seed).to_dict("records")
    out = {}
    for task in tasks.all_tasks():
        fields = [f for f in task.request.model_fields if f in records[0]]
        out[task.name] = [{f: (int(r[f]) if f in ("condition", "shipping") else r[f]) for f in fields}
                          for r in records]
    return out


class Bodies:
    """A fresh set of bodies for every run, never seen by any server before it: a cold tokenizer cache."""

    def __init__(self) -> None:
        self.seed = 0

    def next(self, n: int = BODIES_PER_LEVEL) -> dict[str, list[dict]]:
        self.seed += 1
        return listing_bodies(n, self.seed)


def in_process_limit(bodies: Bodies, sizes=(1, 32, 128, 256), seconds: float = 3.0) -> dict:
    from zeta_serving import registry
    from zeta_serving.serving import runtime

    out = {}
    for task in ROUTES:
        model, saved = registry.load(runtime.model_tag(task))
        schema, predict = tasks.get(task).request, tasks.get(task).predict
        for size in sizes:
            items = [schema.model_validate(b) for b in bodies.next(2000)[task]]
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds and done + size <= len(items):
                predict(model, saved.tag, items[done:done + size])
                done += size
            out[f"{task}/{size}"] = round(done / (time.perf_counter() - started), 1)
    return out


def start(name: str, cmd: list[str], port: int, env: dict, cwd: Path = ROOT) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / f"zeta-bench-{name}.log", "wb")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {log.name}")
        try:
            if any(httpx.get(f"http://127.0.0.1:{port}{p}", timeout=2).status_code == 200
                   for p in ("/readyz", "/openapi.json")):
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError(f"{name} did not come up; see {log.name}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def servers(mode: str, before: Path | None = None, up: bool = False) -> dict[str, dict[str, list[str]]]:
    """name -> {task -> command}; {port} is filled in per task."""
    uvicorn = [sys.executable, "-m", "uvicorn", "bench.fastapi_app:app", "--port", "{port}", "--log-level", "warning"]
    all_tasks = {task: None for task in ROUTES}
    out = {"fastapi-1w": dict.fromkeys(all_tasks, uvicorn + ["--workers", "1"]),
           "fastapi-2w": dict.fromkeys(all_tasks, uvicorn + ["--workers", "2"])}
    bento = [str(BIN / "bentoml"), "serve", "--host", "127.0.0.1", "--port", "{port}"]
    if mode in ("all", "both"):
        out["bento-all"] = dict.fromkeys(all_tasks, bento + ["services.all.service:Suggest"])
    if mode in ("per-model", "both"):
        out["bento-model"] = {task: bento + [SERVICES[task]] for task in ROUTES}
    if before:
        out["bento-before"] = dict.fromkeys(all_tasks, bento + ["services.all.service:Suggest"])
    if up:  # the embedded default as users run it: zeta up's front port before its local backends
        out["zeta-up"] = dict.fromkeys(all_tasks, [str(BIN / "zeta"), "up", "--port", "{port}"])
    return out


def every_route_answers(url: str, seconds: float = 300) -> None:
    """Until each task's route answers 200: zeta up deploys its models one after another."""
    sample = {task: bodies[0] for task, bodies in listing_bodies(1, 0).items()}
    deadline = time.monotonic() + seconds
    for task, route in ROUTES.items():
        while httpx.post(url + route, json=sample[task], timeout=30).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}{route} does not answer")
            time.sleep(1)


class Fleet:
    """Every server up at once; url(name, task) is where that server answers that task."""

    def __init__(self, mode: str, env: dict, before: Path | None = None, up: bool = False) -> None:
        self.procs: list[subprocess.Popen] = []
        self.urls: dict[tuple[str, str], str] = {}
        port = 3941
        try:
            for name, per_task in servers(mode, before, up).items():
                # The older checkout's modules come first on its path, whatever is installed.
                server_env = {**env, "PYTHONPATH": str(before)} if name == "bento-before" else env
                cwd = before if name == "bento-before" else ROOT
                started: dict[tuple, str] = {}
                for task, cmd in per_task.items():
                    key = tuple(cmd)
                    if key not in started:
                        self.procs.append(start(f"{name}-{task}", [c.format(port=port) for c in cmd], port,
                                                server_env, cwd))
                        started[key] = f"http://127.0.0.1:{port}"
                        port += 1
                    self.urls[(name, task)] = started[key]
                if name == "zeta-up":  # its /readyz passes once the first model is deployed
                    every_route_answers(self.urls[(name, next(iter(per_task)))])
        except BaseException:
            self.close()
            raise
        self.names = list(servers(mode, before, up))

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)


def probe(url: str, bodies: list[dict], stop_at: float) -> list[tuple[int, float]]:
    """Sequential requests beside wrk: (status, ms) of each, to tell admitted from refused latency."""
    seen = []
    with httpx.Client(timeout=30) as client:
        i = 0
        while time.monotonic() < stop_at:
            t = time.perf_counter()
            try:
                status = client.post(url, json=bodies[i % len(bodies)]).status_code
            except httpx.HTTPError:
                status = 0
            seen.append((status, (time.perf_counter() - t) * 1000))
            i += 1
    return seen


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, nargs="+", default=[1, 8, 32, 128])
    ap.add_argument("--tasks", nargs="+", default=list(ROUTES), choices=list(ROUTES))
    ap.add_argument("--serve", choices=["all", "per-model", "both"], default="all")
    ap.add_argument("--up", action="store_true",
                    help="also `zeta up` on the bench home's store: its front port, measured like a bento")
    ap.add_argument("--warmup-seconds", type=float, default=3, help="per server and route, before measuring (0: none)")
    ap.add_argument("--stall-seconds", type=float, default=60, help="0 skips the stall check")
    ap.add_argument("--overload-connections", type=int, default=256, help="0 skips the overload check")
    ap.add_argument("--train-rows-per-day", type=int, default=1500)
    ap.add_argument("--json", type=Path, help="also write every figure here")
    ap.add_argument("--before", type=Path, help="also serve the all-in-one bento from this source tree")
    ap.add_argument("--home", type=Path, help="a bench home to reuse (its models), instead of training anew")
    args = ap.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="zeta-bench-serve-"))
    os.environ.update(BENTOML_HOME=str(home / "bentoml"), BENTOML_DO_NOT_TRACK="true")
    print(f"bench home {home}", flush=True)
    # Every server resolves its models as zeta does: the champions in this home's ledger.
    os.environ["ZETA_DB_URL"] = f"sqlite:///{home / 'zeta.db'}"
    if not (home / "zeta.db").exists():
        from zeta_serving import synth
        from zeta_serving.champion import crown_first
        from zeta_serving.store import ListingStore
        from zeta_serving.trainer import train_task

        store = ListingStore(os.environ["ZETA_DB_URL"])
        for frame in synth.generate(date(2026, 5, 1), 20, args.train_rows_per_day, seed=1):
            store.insert(frame)
        for task in ROUTES:
            crown_first(store, train_task(store, task).saved)
    bodies = Bodies()
    report: dict = {"in_process": in_process_limit(bodies), "levels": {}, "batch": {}, "half_rate": {},
                    "stall": {}, "overload": {}}
    print("in-process listings/s:", json.dumps(report["in_process"]), flush=True)

    fleet = Fleet(args.serve, {**os.environ}, args.before.resolve() if args.before else None, args.up)
    bentos = [n for n in fleet.names if n.startswith("bento") or n == "zeta-up"]
    try:
        if args.warmup_seconds:
            # Every server alike, before anything counts: a process's first requests pay for its
            # lazy imports and first code paths, which fell on whichever level came first. The
            # warm-up has bodies of its own, so each level still starts with a cold tokenizer cache.
            warm = bodies.next()
            for task in args.tasks:
                for name in fleet.names:
                    wrk.run(fleet.urls[(name, task)], ROUTES[task], warm[task], 8, args.warmup_seconds)
        for task in args.tasks:
            for c in args.connections:
                level = bodies.next()[task]
                for name in fleet.names:
                    r = wrk.run(fleet.urls[(name, task)], ROUTES[task], level, c, args.seconds)
                    report["levels"][f"{name}/{task}/{c}"] = r.as_dict()
                    print(f"{name:12s} {task:9s} c={c:<4d} {r.rps:8.1f} r/s  p50 {r.p50_ms:7.2f}  p99 {r.p99_ms:8.2f}"
                          f"  max {r.max_ms:8.1f}  errors {r.errors}", flush=True)
        for name in bentos:
            for task in args.tasks:
                one = bodies.next(BATCH * 8)[task]
                batches = [{"listings": one[i:i + BATCH]} for i in range(0, len(one), BATCH)]
                for c in (1, 2, 8):
                    r = wrk.run(fleet.urls[(name, task)], ROUTES[task] + "/batch", batches, c, args.seconds)
                    # Answered listings only: a 503 carries none.
                    listings = r.ok / r.seconds * BATCH if r.seconds else 0.0
                    report["batch"][f"{name}/{task}/{c}"] = {**r.as_dict(), "listings_per_s": round(listings, 1)}
                    print(f"{name:12s} {task}/batch c={c}: {listings:9.1f} listings/s  errors {r.errors}",
                          flush=True)
                peak = max(report["levels"][f"{name}/{task}/{c}"]["rps"] for c in args.connections)
                r = wrk.run(fleet.urls[(name, task)], ROUTES[task], bodies.next()[task], 32, args.seconds, rate=peak / 2)
                report["half_rate"][f"{name}/{task}"] = {**r.as_dict(), "target_rps": round(peak / 2, 1)}
                print(f"{name:12s} {task:9s} at {peak / 2:.0f} r/s (half the peak): p99 {r.p99_ms:.2f} ms, "
                      f"got {r.rps:.0f} r/s", flush=True)
                if args.stall_seconds:
                    r = wrk.run(fleet.urls[(name, task)], ROUTES[task], bodies.next()[task], 32, args.stall_seconds)
                    report["stall"][f"{name}/{task}"] = r.as_dict()
                    print(f"{name:12s} {task:9s} stall check c=32 {args.stall_seconds:.0f}s: max {r.max_ms:.1f} ms, "
                          f"{r.requests} requests, errors {r.errors}", flush=True)
                if args.overload_connections:
                    report["overload"][f"{name}/{task}"] = overload(fleet.urls[(name, task)], ROUTES[task], bodies,
                                                                   args.overload_connections, args.seconds)
    finally:
        fleet.close()
    print_tables(report, bentos, args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


def overload(url: str, route: str, bodies: Bodies, connections: int, seconds: float) -> dict:
    level = bodies.next()
    task = next(t for t, r in ROUTES.items() if r == route)
    seen: list = []
    prober = threading.Thread(target=lambda: seen.extend(probe(url + route, level[task][::-1], time.monotonic()
                                                                 + seconds)))
    prober.start()
    r = wrk.run(url, route, level[task], connections, seconds)
    prober.join()
    ok = [ms for status, ms in seen if status == 200]
    refused = [ms for status, ms in seen if status == 503]
    out = {**r.as_dict(), "other_statuses": sum(n for code, n in r.codes.items() if code not in (200, 503)),
           "probe_ok_p99_ms": round(percentile(ok, 99), 1), "probe_503_p99_ms": round(percentile(refused, 99), 1),
           "probe_503_max_ms": round(max(refused, default=float("nan")), 1), "probe_n": len(seen),
           "probe_other": sum(1 for status, _ in seen if status not in (200, 503))}
    print(f"overload c={connections} {route}: {r.codes} socket errors {r.socket_errors}, p99 all {r.p99_ms:.0f} ms;"
          f" probe: 200 p99 {out['probe_ok_p99_ms']} ms, 503 p99 {out['probe_503_p99_ms']} ms (n={len(seen)})",
          flush=True)
    return out


def print_tables(report: dict, bentos: list[str], args) -> None:
    print("\n| server | endpoint | c | req/s | p50 ms | p99 ms | max ms | errors |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, r in report["levels"].items():
        name, task, c = key.split("/")
        print(f"| {name} | {task} | {c} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.0f} "
              f"| {r['errors']} |")
    print("\nratio to the stronger FastAPI (1 or 2 workers), requests/s:")
    header = " | ".join(f"c={c}" for c in args.connections)
    print(f"| bento | endpoint | {header} |\n| --- | --- |{' --- |' * len(args.connections)}")
    for name in bentos:
        for task in args.tasks:
            cells = []
            for c in args.connections:
                peer = max(report["levels"][f"fastapi-{w}w/{task}/{c}"]["rps"] for w in (1, 2))
                cells.append(f"{report['levels'][f'{name}/{task}/{c}']['rps'] / peer:.2f}x")
            print(f"| {name} | {task} | {' | '.join(cells)} |")
    print("\nbatch routes (256 listings a request), listings/s vs the in-process limit (batches of 256):")
    for key, r in report["batch"].items():
        name, task, c = key.split("/")
        limit = report["in_process"][f"{task}/256"]
        print(f"  {name} {task} c={c}: {r['listings_per_s']:.0f} = {r['listings_per_s'] / limit:.0%} of {limit:.0f}")
    for key, r in report["half_rate"].items():
        print(f"  half-peak {key}: {r['rps']:.0f} r/s (target {r['target_rps']:.0f}), p99 {r['p99_ms']:.1f} ms")
    for key, r in report["stall"].items():
        print(f"  stall {key}: max {r['max_ms']:.0f} ms over {r['requests']} requests, errors {r['errors']}")
    for key, r in report["overload"].items():
        print(f"  overload {key}: codes {r['codes']}, other statuses {r['other_statuses']}, socket errors "
              f"{r['socket_errors']}, probe 200 p99 {r['probe_ok_p99_ms']} ms, 503 p99 {r['probe_503_p99_ms']} ms")


if __name__ == "__main__":
    main()
