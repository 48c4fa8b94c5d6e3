"""Building bentos (and their images) from the project's bentofiles.

`bentoml build` reads the source tree, so it runs from the project root (the
folder holding `bentofile.yaml` and `services/`). Which model a bento packs is
chosen by `ZETA_<TASK>_MODEL` at build time, default the task's champion in the
ledger (zeta_serving.champion), never simply the newest. The build and
containerize children die with the process that started them (zeta_serving.procs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from zeta_serving import procs, tasks
from zeta_serving.errors import ZetaError

ALL = "all"  # the all-in-one bento: every registered task on one port
ALL_BENTOFILE = "bentofile.yaml"
ALL_SERVICE = "services.all.service:Suggest"
BASE_IMAGE_DIR = "containers/mecab-base"
BUILD_TIMEOUT = 900


def targets() -> tuple[str, ...]:
    return (*tasks.names(), ALL)


def bentofile(target: str) -> str:
    return ALL_BENTOFILE if target == ALL else tasks.get(target).bentofile


def service(target: str) -> str:
    """The `bentoml serve` target of a task's own service, or of the all-in-one."""
    return ALL_SERVICE if target == ALL else tasks.get(target).service


def tasks_of(target: str) -> tuple[str, ...]:
    return tasks.names() if target == ALL else (tasks.get(target).name,)


def bentoml_executable() -> str:
    local = Path(sys.executable).parent / "bentoml"
    return str(local) if local.exists() else (shutil.which("bentoml") or "bentoml")


def project_root(start: Path | None = None) -> Path:
    """The checkout holding the bentofiles: from `start` (default: cwd) upwards, then beside the package."""
    candidates = [start or Path.cwd(), *(start or Path.cwd()).resolve().parents,
                  Path(__file__).resolve().parents[1]]
    for folder in candidates:
        if (folder / "bentofile.yaml").is_file() and (folder / "services").is_dir():
            return folder
    raise ZetaError("cannot find the zeta-serving checkout (bentofile.yaml and services/): "
                    "run this from the repository")


def model_env(model_tags: dict[str, str] | None) -> dict[str, str]:
    return {tasks.get(task).model_env: tag for task, tag in (model_tags or {}).items()}


def build(target: str, *, model_tags: dict[str, str] | None = None, root: Path | None = None,
          runner=procs.run) -> str:
    """Build one bento; returns its tag. `model_tags` pins models by task (default: the champions)."""
    if target not in targets():
        raise ZetaError(f"unknown bento {target!r} (choose from {', '.join(targets())})")
    root = root or project_root()
    cmd = [bentoml_executable(), "build", "-f", str(root / bentofile(target)), str(root), "-o", "tag"]
    try:
        with tempfile.TemporaryDirectory(prefix="zeta-no-uv-") as guard:
            env = {**os.environ, **model_env(model_tags), "PATH": _uv_guard(guard) + os.pathsep
                   + os.environ.get("PATH", "")}
            done = runner(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ZetaError(f"bentoml build {target} did not finish in {BUILD_TIMEOUT}s") from None
    if done.returncode != 0:
        raise ZetaError(f"bentoml build {target} failed (exit {done.returncode}): {_last_lines(done)}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("__tag__:"):
            return line.removeprefix("__tag__:").strip()
    raise ZetaError(f"bentoml build {target} printed no bento tag: {_last_lines(done)}")


def containerize(bento_tag: str, *, backend: str = "buildah", image_tag: str | None = None,
                 push_to: str | None = None, base_image: str | None = None, mirror: str | None = None,
                 root: Path | None = None, log=None) -> str:
    """Build the bento's image with a container engine (zeta's own three-tier build, see
    `zeta_serving.images`); returns the image tag, or the pushed `REGISTRY/REPO/name:tag@digest`
    when `push_to` names a repository."""
    from zeta_serving import images
    from zeta_serving.engine import Engine

    engine = Engine.from_env(backend)
    root = root or project_root()
    quiet = log or (lambda message: None)
    image = images.build_bento_image(engine, root, bento_tag, image_tag=image_tag, base_image=base_image,
                                     mirror=mirror, log=quiet)
    return images.push(engine, image, push_to) if push_to else image


def containerize_maintain(backend: str = "buildah", *, push_to: str | None = None, base_image: str | None = None,
                          mirror: str | None = None, root: Path | None = None, log=None) -> str:
    """The zeta-maintain image (and its pushed `ref@digest` when `push_to` is given)."""
    from zeta_serving import images
    from zeta_serving.engine import Engine

    engine = Engine.from_env(backend)
    image = images.build_maintain_image(engine, root or project_root(), base_image=base_image, mirror=mirror,
                                        log=log or (lambda message: None))
    return images.push(engine, image, push_to) if push_to else image


def _uv_guard(folder: str) -> str:
    """A `uv` that refuses to run, first on PATH for `bentoml build`.

    BentoML 1.4.40 looks uv up on every build and pip-installs it from the index when it is
    missing, even with `lock_packages: false`, when it never runs it. The bentofiles turn
    locking off (requirements/serving.lock.txt is the lock), so uv must never be needed: this
    stand-in keeps the build off the network and fails loudly if locking ever comes back.
    """
    uv = Path(folder) / "uv"
    uv.write_text("#!/bin/sh\necho \"zeta: bentoml build tried to run uv $*; locking is off "
                  "(requirements/serving.lock.txt is the lock)\" >&2\nexit 1\n")
    uv.chmod(0o755)
    return folder


def bento_dir(bento_tag: str) -> Path:
    import bentoml

    return Path(bentoml.get(bento_tag).path)


def _last_lines(done: subprocess.CompletedProcess, n: int = 3) -> str:
    text = (done.stderr or "") + (done.stdout or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:]) if lines else "no output"
