"""`zeta build` and `zeta serve`."""

from __future__ import annotations

import os

import click

from zeta_serving import bentos
from zeta_serving.cli.common import task_names


@click.command("build")
@click.argument("target", type=click.Choice([*bentos.targets(), "maintain"]))
@click.option("--containerize", "backend", default=None, type=click.Choice(["buildah", "podman", "docker"]),
              help="Also build the image with this container engine (buildah and podman need no daemon).")
@click.option("--push", "push_to", default=None, metavar="REGISTRY/REPO",
              help="Push the image under this repository (default: container_registry in the config).")
@click.option("--base-image", default=None, metavar="REF",
              help="Build on this MeCab base image from a registry instead of building it from Debian packages.")
@click.option("--mirror", default=None, metavar="URL",
              help="Debian mirror for the base image (default: the one this machine's apt uses).")
def build(target: str, backend: str | None, push_to: str | None, base_image: str | None,
          mirror: str | None) -> None:
    """Build the bento for one model (or `all`, the all-in-one) and print its tag.

    `maintain` builds the zeta-maintain image (the loop's own, with buildah inside) instead."""
    if push_to and not backend:
        raise click.UsageError("--push needs --containerize ENGINE")
    if target == "maintain":
        if not backend:
            raise click.UsageError("zeta build maintain needs --containerize ENGINE")
        image = bentos.containerize_maintain(backend, push_to=push_to, base_image=base_image, mirror=mirror,
                                             log=lambda message: click.echo(message, err=True))
        click.echo(f"image {image}")
        return
    if backend:
        push_to = push_to or _configured_registry(target)
    tag = bentos.build(target)
    click.echo(tag)
    if backend:
        image = bentos.containerize(tag, backend=backend, push_to=push_to, base_image=base_image, mirror=mirror,
                                    log=lambda message: click.echo(message, err=True))
        click.echo(f"image {image}")


def _configured_registry(target: str) -> str | None:
    """`container_registry` from the project config (`$ZETA_CONFIG`, ./zeta.toml, $ZETA_HOME/zeta.toml)."""
    from zeta_serving.maintenance.config import load_config

    return load_config().policy(bentos.tasks_of(target)[0]).container_registry or None


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
