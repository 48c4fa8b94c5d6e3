"""Child processes that never outlive zeta: `bentoml serve` backends and `bentoml build`.

Every child is started in its own process group (so stopping it stops what it started, e.g.
the serve command's workers) and, on Linux, with PR_SET_PDEATHSIG: the kernel sends it
SIGKILL when the thread that started it dies, even if zeta itself is killed with SIGKILL and
never runs a line of cleanup. A command with children of its own runs under
zeta_serving.guard (`guarded=True`), which takes the whole group down with it. Children that
are still running when a cycle is interrupted are stopped through `stop_all`.

PR_SET_PDEATHSIG fires on the death of the starting *thread*: children are therefore started
from threads that live as long as their work (the cycle's thread, the deployer's caller);
a grandchild that detaches itself from the group is outside this guarantee (see README Limits).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
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
    return subprocess.Popen(cmd, start_new_session=True, preexec_fn=_dying_with(os.getpid(), sig), **kwargs)


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
