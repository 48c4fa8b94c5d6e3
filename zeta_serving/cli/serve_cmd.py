"""`zeta build` and `zeta serve`."""

from __future__ import annotations

import os

import click

from zeta_serving import bentos
from zeta_serving.cli.common import open_store, task_names


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
@click.pass_context
def build(ctx: click.Context, target: str, backend: str | None, push_to: str | None, base_image: str | None,
          mirror: str | None) -> None:
    """Build the bento for one model (or `all`, the all-in-one) with the champions, and print its tag.

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
    tag = bentos.build(target, model_tags=_champions(ctx, target))
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
@click.pass_context
def serve(ctx: click.Context, model: str | None, port: int, host: str) -> None:
    """Serve every suggestion API on one port (or MODEL alone) with the champions."""
    from zeta_serving import registry

    target = model or bentos.ALL
    pinned = _champions(ctx, target)
    for tag in pinned.values():
        registry.get(tag)  # a clear error now rather than a refusal later
    cmd = [bentos.bentoml_executable(), "serve", bentos.service(target), "--host", host, "--port", str(port)]
    click.echo(f"serving {', '.join(f'{t} {tag}' for t, tag in pinned.items())} on http://{host}:{port}  "
               "(API UI: /, OpenAPI: /docs.json)", err=True)
    # The service process is told exactly which models to serve, so it cannot pick another.
    env = {**os.environ, **bentos.model_env(pinned),
           "BENTOML_DO_NOT_TRACK": os.environ.get("BENTOML_DO_NOT_TRACK", "true")}
    os.execve(cmd[0], cmd, env)


def _champions(ctx: click.Context, target: str) -> dict[str, str]:
    """task -> the model it serves by default ($ZETA_<TASK>_MODEL, else the ledger's champion)."""
    from zeta_serving.champion import resolve

    store = open_store(ctx)
    return {task: resolve(task, store) for task in bentos.tasks_of(target)}
