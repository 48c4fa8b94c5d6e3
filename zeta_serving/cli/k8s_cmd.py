"""`zeta k8s render`."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("k8s")
def k8s() -> None:
    """Run zeta on Kubernetes."""


@k8s.command("render")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the Kustomize base into (created if missing).")
@click.option("--namespace", default="zeta", show_default=True)
@click.option("--registry", default="", help="Image registry prefix, host[:port][/path] (default: none).")
@click.option("--image-tag", default="latest", show_default=True, help="Tag of the zeta-* images.")
@click.option("--loop", type=click.Choice(["deployment", "cronjob"]), default="deployment", show_default=True,
              help="The maintenance loop as a scheduler Deployment or as a `zeta maintain --once` CronJob.")
@click.option("--deployer", type=click.Choice(["kubernetes", "spinnaker"]), default="kubernetes",
              show_default=True, help="How the in-cluster loop rolls out a promoted model.")
@click.option("--all-in-one", is_flag=True, help="Also run the all-in-one bento (every model on one port).")
@click.option("--replicas", type=click.IntRange(1, 100), default=2, show_default=True,
              help="Pods per model Deployment.")
@click.option("--config", "config_file", default=None, help="Project config to ship (default: ./zeta.toml).")
def render(out: Path, namespace: str, registry: str, image_tag: str, loop: str, deployer: str,
           all_in_one: bool, replicas: int, config_file: str | None) -> None:
    """Write a Kustomize base: per-model Deployments/Services, the maintenance loop, RBAC, config."""
    from zeta_serving.k8s.objects import Settings
    from zeta_serving.k8s.render import render as do_render

    settings = Settings(namespace=namespace, registry=registry, image_tag=image_tag, replicas=replicas,
                        deployer=deployer)
    written = do_render(out, settings, config_file=config_file, loop=loop, all_in_one=all_in_one)
    click.echo(f"wrote {len(written)} files to {out}; apply with: kubectl apply -k {out}")
