"""`zeta build` and `zeta serve`."""

from __future__ import annotations

import os

import click

from zeta_serving.bentos import SERVICES, TARGETS


@click.command("build")
@click.argument("target", type=click.Choice(TARGETS))
@click.option("--containerize", "backend", default=None, type=click.Choice(["docker", "buildah", "podman"]),
              help="Also build the image with this container engine.")
def build(target: str, backend: str | None) -> None:
    """Build the bento for one model (or `all`, the all-in-one) and print its tag."""
    from zeta_serving import bentos

    tag = bentos.build(target)
    click.echo(tag)
    if backend:
        click.echo(f"image {bentos.containerize(tag, backend=backend)}")


@click.command("serve")
@click.argument("model", required=False, type=click.Choice(["price", "category", "tag"]))
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def serve(model: str | None, port: int, host: str) -> None:
    """Serve the three suggestion APIs on one port (or MODEL alone) with the newest models."""
    from zeta_serving import bentos, registry
    from zeta_serving.serving.runtime import model_tag

    for task in bentos.TASKS_OF[model or "all"]:
        registry.get(model_tag(task))  # a clear error now rather than a refusal later
    cmd = [bentos.bentoml_executable(), "serve", SERVICES[model or "all"], "--host", host, "--port", str(port)]
    click.echo(f"serving {model or 'price, category and tags'} on http://{host}:{port}  (API UI: /, OpenAPI: /docs.json)", err=True)
    os.execve(cmd[0], cmd, {**os.environ, "BENTOML_DO_NOT_TRACK": os.environ.get("BENTOML_DO_NOT_TRACK", "true")})
