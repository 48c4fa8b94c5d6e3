"""Building bentos (and their images) from the project's bentofiles.

`bentoml build` reads the source tree, so it runs from the project root (the
folder holding `bentofile.yaml` and `services/`). Which model a bento packs is
chosen by `ZETA_<TASK>_MODEL` at build time (default: the newest). The build and
containerize children die with the process that started them (zeta_serving.procs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    """Build one bento; returns its tag. `model_tags` pins models by task (default: newest)."""
    if target not in targets():
        raise ZetaError(f"unknown bento {target!r} (choose from {', '.join(targets())})")
    root = root or project_root()
    cmd = [bentoml_executable(), "build", "-f", str(root / bentofile(target)), str(root), "-o", "tag"]
    try:
        done = runner(cmd, cwd=root, env={**os.environ, **model_env(model_tags)}, capture_output=True,
                      text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ZetaError(f"bentoml build {target} did not finish in {BUILD_TIMEOUT}s") from None
    if done.returncode != 0:
        raise ZetaError(f"bentoml build {target} failed (exit {done.returncode}): {_last_lines(done)}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("__tag__:"):
            return line.removeprefix("__tag__:").strip()
    raise ZetaError(f"bentoml build {target} printed no bento tag: {_last_lines(done)}")


def containerize(bento_tag: str, *, backend: str = "docker", image_tag: str | None = None,
                 runner=procs.run) -> str:
    """Build the bento's image with a container engine; returns the image tag."""
    image = image_tag or bento_tag
    cmd = [bentoml_executable(), "containerize", bento_tag, "--backend", backend, "--image-tag", image]
    try:
        done = runner(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except FileNotFoundError:
        raise ZetaError(f"container backend {backend!r} is not installed") from None
    except subprocess.TimeoutExpired:
        raise ZetaError(f"bentoml containerize {bento_tag} did not finish in {BUILD_TIMEOUT}s") from None
    if done.returncode != 0:
        raise ZetaError(f"bentoml containerize {bento_tag} with {backend} failed "
                        f"(exit {done.returncode}): {_last_lines(done)}")
    return image


def bento_dir(bento_tag: str) -> Path:
    import bentoml

    return Path(bentoml.get(bento_tag).path)


def _last_lines(done: subprocess.CompletedProcess, n: int = 3) -> str:
    text = (done.stderr or "") + (done.stdout or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:]) if lines else "no output"
