"""Child processes that never outlive zeta: `bentoml serve` backends and `bentoml build`.

Every child is started in its own process group (so stopping it stops what it started, e.g.
the serve command's workers) and, on Linux, with PR_SET_PDEATHSIG: the kernel sends it
SIGKILL when the thread that started it dies, even if zeta itself is killed with SIGKILL and
never runs a line of cleanup. A command with children of its own runs under
zeta_serving.guard (`guarded=True`), which takes the whole group down with it. Children that
are still running when a cycle is interrupted are stopped through `stop_all`.

PR_SET_PDEATHSIG fires on the death of the starting *thread*, so every child is started from
one long-lived spawner thread, whichever thread asks. A process that detaches itself from
the guard's ancestry (a double fork) is outside this guarantee (see README Limits).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1
_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def _dying_with(parent: int, sig: int = signal.SIGKILL):
    def die_with_parent() -> None:  # in the child, between fork and exec
        if _LIBC is not None:
            _LIBC.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return die_with_parent


def popen(cmd: list[str], *, guarded: bool = False, **kwargs: Any) -> subprocess.Popen[Any]:
    """subprocess.Popen, in a new process group, killed by the kernel if this process dies.

    `guarded`: for a command that starts processes of its own (`bentoml serve`): it runs under
    zeta_serving.guard, which stops the whole group when this process dies.
    """
    if guarded:
        cmd, sig = [sys.executable, "-m", "zeta_serving.guard", *cmd], signal.SIGTERM
    else:
        sig = signal.SIGKILL
    preexec = _dying_with(os.getpid(), sig)
    # Started from the spawner thread: PR_SET_PDEATHSIG fires when the *starting thread* exits, and
    # the thread that asks (a deploy, a scheduled cycle) may end long before the child should.
    return _in_spawner(lambda: subprocess.Popen(cmd, start_new_session=True, preexec_fn=preexec, **kwargs))


_spawner: tuple[threading.Thread, queue.SimpleQueue[Any]] | None = None
_spawner_lock = threading.Lock()


def _in_spawner(start: Callable[[], subprocess.Popen[Any]]) -> subprocess.Popen[Any]:
    """Run `start` on one long-lived thread of this process (made on first use) and return its result."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner[0].is_alive():
            requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
            thread = threading.Thread(target=_serve, args=(requests,), name="zeta-spawner", daemon=True)
            thread.start()
            _spawner = (thread, requests)
    done: concurrent.futures.Future[subprocess.Popen[Any]] = concurrent.futures.Future()
    _spawner[1].put((start, done))
    return done.result()


def _serve(requests: queue.SimpleQueue[Any]) -> None:
    while True:
        start, done = requests.get()
        try:
            done.set_result(start())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            done.set_exception(exc)


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _forget(proc: subprocess.Popen) -> None:
    with _live_lock:
        _live.discard(proc)


def run(cmd: list[str], *, timeout: float | None = None, input: str | None = None,
        capture_output: bool = True, text: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """subprocess.run through `popen` (output captured as text): on a timeout or any exception
    (a signal) the whole group is killed."""
    proc = popen(cmd, guarded=True, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    with _live_lock:
        _live.add(proc)
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except BaseException:
        kill_group(proc)
        with contextlib.suppress(Exception):
            proc.communicate(timeout=5)
        raise
    finally:
        _forget(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def stop_all(grace: float = 5.0) -> int:
    """Stop every command running through `run` (builds; not the deployer's backends): SIGTERM to each
    group, SIGKILL to what is left after `grace` seconds; returns how many."""
    with _live_lock:
        procs = [p for p in _live if p.poll() is None]
    for proc in procs:
        kill_group(proc, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            kill_group(proc)
    return len(procs)
