"""Process supervision for the local deployer: one `bentoml serve` per backend, started, awaited, stopped.

Each backend runs under zeta_serving.guard, the leader of its own process group: stopping
it stops BentoML's workers too, and so does the death of this process, even by SIGKILL.
Its output goes to a log file whose tail explains a failed start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import httpx

from zeta_serving import bentos, procs
from zeta_serving.maintenance.deployers import Deployment, DeployError
from zeta_serving.serving.runtime import EXIT_NO_MODEL, EXIT_TOKENIZER_MISMATCH

EXIT_REASONS = {EXIT_NO_MODEL: "the model is not in the model store",
                EXIT_TOKENIZER_MISMATCH: "the model was trained under a different tokenizer"}


class Backend:
    """One `bentoml serve` process (leader of its own process group) and the proxy requests it is answering."""

    def __init__(self, deployment: Deployment, proc: subprocess.Popen[bytes], log_path: Path,
                 log_file: IO[bytes]) -> None:
        self.deployment, self.proc, self.log_path, self._log_file = deployment, proc, log_path, log_file
        self.inflight = 0  # changed only on the proxy's event loop thread

    @property
    def url(self) -> str:
        return self.deployment.endpoint

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 12) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join([line for line in text.splitlines() if line.strip()][-lines:]) or "(empty log)"

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def wait_stopped(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.signal_group(signal.SIGKILL)  # workers the leader left behind, if any
        self._log_file.close()


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_backend(task: str, bento_tag: str | None, model_tag: str, image_tag: str | None, *, host: str,
                  log_dir: Path) -> Backend:
    """Start `bentoml serve` for a built bento (or the task's service from source); see wait_ready."""
    port = free_port(host)
    target = bento_tag or bentos.service(task)
    cmd = [bentos.bentoml_executable(), "serve", target, "--host", host, "--port", str(port)]
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **bentos.model_env({task: model_tag}),
           "BENTOML_HOME": str(own_home(log_dir / f"home-{task}-{port}"))}
    log_path = log_dir / f"{task}-{datetime.now():%Y%m%d-%H%M%S}-{port}.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed when the backend stops
    try:
        # Guarded: the backend and its workers die with this process, even on SIGKILL (procs.py).
        proc = procs.popen(cmd, guarded=True, cwd=bentos.project_root() if bento_tag is None else log_dir,
                           env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
    except Exception as exc:
        log_file.close()
        raise DeployError(f"cannot start bentoml serve {target}: {exc}") from exc
    deployment = Deployment(task, bento_tag, model_tag, f"http://{host}:{port}", datetime.now(timezone.utc),
                            image_tag)
    return Backend(deployment, proc, log_path, log_file)


def own_home(folder: Path) -> Path:
    """A BentoML home for one backend that shares the real one's models and bentos.

    `bentoml serve` empties `<BENTOML_HOME>/prometheus_multiproc_dir` when it starts, so
    backends sharing a home wipe each other's request counts; each gets its own metrics
    folder this way, and the front port merges them (local_merge).
    """
    from bentoml._internal.configuration.containers import BentoMLContainer

    real = Path(BentoMLContainer.bentoml_home.get())
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("models", "bentos"):
        (real / name).mkdir(parents=True, exist_ok=True)
    for entry in real.iterdir():
        if entry.name not in ("prometheus_multiproc_dir", "tmp") and not (folder / entry.name).exists():
            (folder / entry.name).symlink_to(entry)
    return folder


def wait_ready(backend: Backend, target: str, timeout: float) -> None:
    deadline, problem = time.monotonic() + timeout, f"was not ready after {timeout:g}s"
    while time.monotonic() < deadline:
        code = backend.proc.poll()
        if code is not None:
            problem = f"exited with {code}{f' ({EXIT_REASONS[code]})' if code in EXIT_REASONS else ''}"
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{backend.url}/readyz", timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.2)
    raise DeployError(f"bentoml serve {target} {problem}; last lines of {backend.log_path}:\n"
                      f"{backend.log_tail()}")


def stop_backends(backends: list[Backend], timeout: float) -> None:
    for backend in backends:  # all at once: shutting down takes a few seconds each
        if backend.alive:
            backend.signal_group(signal.SIGTERM)
    for backend in backends:
        backend.wait_stopped(timeout)
