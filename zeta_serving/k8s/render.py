"""`zeta k8s render`: a Kustomize base for the bentos and the maintenance loop.

One file per object (`<kind>-<name>.yaml`) and a `kustomization.yaml` listing them, so
a team can `kubectl apply -k DIR` as is, or point an overlay at it. The models come
from the project's task list; the loop's config is the project's `zeta.toml`, verbatim.
"""

from __future__ import annotations

import dataclasses

import re
from pathlib import Path

import yaml

from zeta_serving.errors import ZetaError
from zeta_serving.k8s import objects
from zeta_serving.k8s.objects import Settings

LOOP_FORMS = ("deployment", "cronjob")
DEPLOYERS = ("kubernetes", "spinnaker")
ALL_IN_ONE = "zeta-suggest"  # the all-in-one bento's (and image's) name
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


def serving_tasks() -> list[str]:
    """The tasks that get a bento each, from the task registry."""
    from zeta_serving import tasks

    return list(tasks.names())


def image_name(task: str) -> str:
    return f"zeta-{task}"


def check_settings(settings: Settings) -> None:
    if not _NAME.match(settings.namespace) or len(settings.namespace) > 63:
        raise ZetaError(f"--namespace {settings.namespace!r} is not a Kubernetes namespace name "
                        "(lower-case letters, digits and '-', at most 63)")
    if not _TAG.match(settings.image_tag):
        raise ZetaError(f"--image-tag {settings.image_tag!r} is not an image tag (letters, digits, '_', '.', '-')")
    if settings.registry and (settings.registry.startswith(("http://", "https://")) or " " in settings.registry):
        raise ZetaError(f"--registry {settings.registry!r}: give host[:port][/path], without a scheme")
    if settings.deployer not in DEPLOYERS:
        raise ZetaError(f"--deployer must be one of {', '.join(DEPLOYERS)}, got {settings.deployer!r}")


def build_objects(settings: Settings, *, toml_text: str, schedule: str, loop: str = "deployment",
                  all_in_one: bool = False, tasks: list[str] | None = None) -> list[dict]:
    """Every object of the base, in apply order."""
    check_settings(settings)
    if loop not in LOOP_FORMS:
        raise ZetaError(f"--loop must be deployment or cronjob, got {loop!r}")
    tasks = tasks if tasks is not None else serving_tasks()
    found: list[dict] = []
    names = []
    for task in tasks:
        found.extend(objects.serving(image_name(task), task, settings))
        names.append(image_name(task))
    if all_in_one:
        found.extend(objects.serving(ALL_IN_ONE, "all", settings))
        names.append(ALL_IN_ONE)
    found.extend(objects.loop_access(settings, names))
    found.append(objects.config_map(settings, toml_text))
    found.append(objects.home_claim(settings))
    if loop == "deployment":
        found.append(objects.loop_deployment(settings))
    else:
        found.append(objects.loop_cronjob(settings, schedule))
    return found


def file_name(obj: dict) -> str:
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def write(out: Path, found: list[dict], namespace: str) -> list[Path]:
    """Write the objects and the kustomization; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for obj in found:
        path = out / file_name(obj)
        path.write_text(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True), encoding="utf-8")
        written.append(path)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": namespace,
        "resources": [p.name for p in written],
    }
    path = out / "kustomization.yaml"
    path.write_text("# Written by `zeta k8s render`; apply with `kubectl apply -k <this folder>`.\n"
                    + yaml.safe_dump(kustomization, sort_keys=False), encoding="utf-8")
    return [*written, path]


def render(out: Path, settings: Settings, *, config_file: str | None = None, loop: str = "deployment",
           all_in_one: bool = False) -> list[Path]:
    from zeta_serving.maintenance.config import config_path, load_config

    path = config_path(config_file)
    toml_text = path.read_text(encoding="utf-8") if path else ""
    config = load_config(config_file)  # refuse to ship a config the loop would reject
    schedule = config.policy(serving_tasks()[0]).schedule  # the loop's schedule: project-wide
    if out.exists() and not out.is_dir():
        raise ZetaError(f"--out {out} exists and is not a folder")
    # A loop that builds images needs the privileges buildah needs in a pod (objects.py says which).
    builds = any(policy.container_backend for policy in config.policies.values())
    settings = dataclasses.replace(settings, builds_images=settings.builds_images or builds)
    found = build_objects(settings, toml_text=toml_text, schedule=schedule, loop=loop, all_in_one=all_in_one)
    return write(out, found, settings.namespace)
