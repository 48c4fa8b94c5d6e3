"""`zeta build` and `zeta serve`."""

from __future__ import annotations

import os

import click

from zeta_serving import bentos
from zeta_serving.cli.common import task_names


@click.command("build")
@click.argument("target", type=click.Choice(bentos.targets()))
@click.option("--containerize", "backend", default=None, type=click.Choice(["docker", "buildah", "podman"]),
              help="Also build the image with this container engine.")
def build(target: str, backend: str | None) -> None:
    """Build the bento for one model (or `all`, the all-in-one) and print its tag."""
    tag = bentos.build(target)
    click.echo(tag)
    if backend:
        click.echo(f"image {bentos.containerize(tag, backend=backend)}")


@click.command("serve")
@click.argument("model", required=False, type=click.Choice(task_names()))
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def serve(model: str | None, port: int, host: str) -> None:
    """Serve every suggestion API on one port (or MODEL alone) with the newest models."""
    from zeta_serving import registry
    from zeta_serving.serving.runtime import model_tag

    target = model or bentos.ALL
    for task in bentos.tasks_of(target):
        registry.get(model_tag(task))  # a clear error now rather than a refusal later
    cmd = [bentos.bentoml_executable(), "serve", bentos.service(target), "--host", host, "--port", str(port)]
    click.echo(f"serving {', '.join(bentos.tasks_of(target))} on http://{host}:{port}  (API UI: /, OpenAPI: /docs.json)", err=True)
    os.execve(cmd[0], cmd, {**os.environ, "BENTOML_DO_NOT_TRACK": os.environ.get("BENTOML_DO_NOT_TRACK", "true")})
