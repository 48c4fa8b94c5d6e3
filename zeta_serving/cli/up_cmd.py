"""`zeta up`: the whole product on the embedded default, from an empty machine to serving."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import click

from zeta_serving.cli.common import open_store

CURL_EXAMPLES = """\
Try it (Japanese in, Japanese out):

  curl -s -X POST http://127.0.0.1:{port}/price -H 'Content-Type: application/json' \\
    -d '{{"name": "ルイヴィトン 長財布 モノグラム", "brand": "ルイ ヴィトン", "condition": 2, "shipping": 1, "category": "ファッション/レディース/財布/長財布"}}'

  curl -s -X POST http://127.0.0.1:{port}/category -H 'Content-Type: application/json' \\
    -d '{{"name": "ナイキ エアマックス90 27cm ブラック", "k": 3}}'

  curl -s -X POST http://127.0.0.1:{port}/tags -H 'Content-Type: application/json' \\
    -d '{{"name": "ユニクロ フリースジャケット L ネイビー", "description": "数回着用しました。"}}'

  curl -s -X POST http://127.0.0.1:{port}/category/batch -H 'Content-Type: application/json' \\
    -d '{{"listings": [{{"name": "セリア 収納ボックス 白"}}, {{"name": "iPhone13 128GB SIMフリー"}}]}}'

API docs: http://127.0.0.1:{port}/docs   health: /healthz /readyz   metrics: /metrics
"""


@click.command("up")
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
@click.option("--days", type=click.IntRange(min=8), default=37, show_default=True,
              help="Days of synthetic listings to seed an empty store with (ending today).")
@click.option("--rows-per-day", type=click.IntRange(min=50), default=1500, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--retrain", is_flag=True, help="Train new models even if some exist.")
@click.option("--no-serve", is_flag=True, help="Stop after training and scoring.")
@click.pass_context
def up(ctx: click.Context, port: int, days: int, rows_per_day: int, seed: int, retrain: bool,
       no_serve: bool) -> None:
    """Seed a synthetic store if empty, train the three models, show scores, serve them."""
    from zeta_serving import registry, synth
    from zeta_serving.trainer import train_task

    store = open_store(ctx)
    if store.count() == 0:
        start = date.today() - timedelta(days=days)
        click.echo(f"seeding {days} days x {rows_per_day} synthetic listings from {start} into {store.url}", err=True)
        for frame in synth.generate(start, days, rows_per_day, seed=seed):
            store.insert(frame)
    click.echo(f"listing store: {store.count()} listings", err=True)

    click.echo(f"\n{'MODEL':9s} {'TAG':34s} {'HELD-OUT SCORE':34s} TRAIN ROWS")
    for task in ("price", "category", "tag"):
        existing = registry.list_models(task)
        if existing and not retrain:
            saved = existing[0]
        else:
            saved = train_task(store, task, on_stage=lambda m, t=task: click.echo(f"[{t}] {m}", err=True)).saved
        scores = saved.metadata["scores"]
        shown = "  ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != "rows")
        click.echo(f"{task:9s} {saved.tag:34s} {shown:34s} {saved.metadata.get('train_rows', 0)}")
    if no_serve:
        return
    serve_all(port)


def serve_all(port: int) -> None:
    """Run the all-in-one service until interrupted; the server's process group goes down with us."""
    import httpx

    from zeta_serving import bentos

    cmd = [bentos.bentoml_executable(), "serve", bentos.SERVICES["all"], "--host", "127.0.0.1",
           "--port", str(port)]
    server = subprocess.Popen(cmd, env={**os.environ, "BENTOML_DO_NOT_TRACK": "true"}, start_new_session=True)

    def stop(*_):
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        if server.poll() is not None:
            raise click.ClickException(f"the server exited with {server.returncode}; see its log above")
        click.echo("\n" + CURL_EXAMPLES.format(port=port))
        click.echo("Ctrl-C stops everything.", err=True)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            stop()
