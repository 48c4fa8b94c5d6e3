"""Serving throughput and latency: in-process limit vs FastAPI wrapper vs bento (no batching / batching).

  python bench/serve.py [--requests 400] [--concurrency 1 8 32]

Trains the three models on synthetic listings into a private BENTOML_HOME,
then for each endpoint and concurrency level sends the same single-listing
requests (Japanese names from the generator) to:
  (a) in-process   predictors called directly, one listing per call (no HTTP: the limit)
  (b) fastapi      bench/fastapi_app.py under uvicorn, one worker
  (c) bento-nobatch  the all-in-one service with ZETA_ADAPTIVE_BATCHING=0
  (d) bento-batch    the all-in-one service with adaptive batching (the default)
and prints requests/s, p50 and p99, with the ratios the serving issue asks for.
Everything (clients included) shares this machine's cores: compare rows, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
def bodies(n: int) -> dict[str, list[dict]]:
    """Per task, n request bodies: the fields its request schema takes, from synthetic listings."""
    from zeta_serving import synth, tasks

    records = synth.generate_day(date(2026, 6, 1), n, seed=99).to_dict("records")
    out = {}
    for task in tasks.all_tasks():
        fields = [f for f in task.request.model_fields if f in records[0]]
        out[task.name] = [{f: (int(r[f]) if f in ("condition", "shipping") else r[f]) for f in fields}
                          for r in records]
    return out


async def load(url: str, requests: list[dict], concurrency: int) -> tuple[float, np.ndarray, int]:
    latencies: list[float] = []
    failures = 0
    queue = list(enumerate(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker():
            nonlocal failures
            while queue:
                _, body = queue.pop()
                t = time.perf_counter()
                response = await client.post(url, json=body)
                latencies.append(time.perf_counter() - t)
                failures += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(requests) / elapsed, np.array(latencies) * 1000, failures


def in_process(task: str, requests: list[dict]) -> tuple[float, np.ndarray]:
    from zeta_serving import registry, tasks
    from zeta_serving.serving import runtime

    model, saved = registry.load(runtime.model_tag(task))
    schema, predict = tasks.get(task).request, tasks.get(task).predict
    latencies = []
    started = time.perf_counter()
    for body in requests:
        t = time.perf_counter()
        predict(model, saved.tag, [schema.model_validate(body)])
        latencies.append(time.perf_counter() - t)
    return len(requests) / (time.perf_counter() - started), np.array(latencies) * 1000


def start(cmd: list[str], port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            # BentoML publishes /docs.json, FastAPI /openapi.json: either means the app is up.
            if any(httpx.get(f"http://127.0.0.1:{port}{p}", timeout=2).status_code == 200
                   for p in ("/docs.json", "/openapi.json")):
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError(f"{cmd} did not come up")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--train-rows-per-day", type=int, default=1500)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="zeta-bench-serve-"))
    os.environ.update(BENTOML_HOME=str(home / "bentoml"), BENTOML_DO_NOT_TRACK="true")
    from zeta_serving import synth, tasks
    from zeta_serving.store import ListingStore
    from zeta_serving.trainer import train_task

    routes = {t.name: t.route for t in tasks.all_tasks()}
    store = ListingStore(f"sqlite:///{home / 'zeta.db'}")
    for frame in synth.generate(date(2026, 5, 1), 20, args.train_rows_per_day, seed=1):
        store.insert(frame)
    for task in routes:
        train_task(store, task)
    reqs = bodies(args.requests)
    results: dict[tuple[str, str, int], tuple[float, float, float, int]] = {}
    for task in routes:
        rps, lat = in_process(task, reqs[task])
        results[("in-process", task, 1)] = (rps, np.percentile(lat, 50), np.percentile(lat, 99), 0)

    env = {**os.environ}
    servers = {
        "fastapi": [sys.executable, "-m", "uvicorn", "bench.fastapi_app:app", "--port", "{port}", "--log-level",
                    "warning"],
        "bento-nobatch": [str(Path(sys.executable).parent / "bentoml"), "serve", "services.all.service:Suggest",
                          "--port", "{port}"],
        "bento-batch": [str(Path(sys.executable).parent / "bentoml"), "serve", "services.all.service:Suggest",
                        "--port", "{port}"],
    }
    for port, (name, cmd) in enumerate(servers.items(), start=3941):
        server_env = {**env, "ZETA_ADAPTIVE_BATCHING": "0" if name == "bento-nobatch" else "1"}
        proc = start([c.format(port=port) for c in cmd], port, server_env)
        try:
            for task, route in routes.items():
                asyncio.run(load(f"http://127.0.0.1:{port}{route}", reqs[task][:50], 8))  # warm up
                for c in args.concurrency:
                    rps, lat, failed = asyncio.run(load(f"http://127.0.0.1:{port}{route}", reqs[task], c))
                    results[(name, task, c)] = (rps, np.percentile(lat, 50), np.percentile(lat, 99), failed)
        finally:
            stop(proc)

    print(f"\n{'setup':15s} {'endpoint':9s} {'conc':>4s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'failed':>6s}")
    for (name, task, c), (rps, p50, p99, failed) in results.items():
        print(f"{name:15s} {task:9s} {c:>4d} {rps:>8.1f} {p50:>8.2f} {p99:>8.2f} {failed:>6d}")
    print("\nratios (throughput):")
    for task in routes:
        for c in args.concurrency:
            fa, nb, b = (results[(n, task, c)][0] for n in ("fastapi", "bento-nobatch", "bento-batch"))
            print(f"  {task:9s} c={c:<3d} bento-batch / fastapi = {b / fa:5.2f}x   "
                  f"bento-batch / bento-nobatch = {b / nb:5.2f}x")


if __name__ == "__main__":
    main()
