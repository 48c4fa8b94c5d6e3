"""`python -m zeta_serving.guard CMD...`: run CMD so that it and everything it starts die with zeta.

PR_SET_PDEATHSIG alone kills only the direct child when zeta dies: `bentoml serve` is an
arbiter whose workers would live on (a SIGKILLed arbiter cleans nothing up). So zeta starts
this guard instead, as the leader of a new process group with PR_SET_PDEATHSIG=SIGTERM
(zeta_serving.procs); the guard starts CMD in its own group and, when zeta dies or the guard
is told to stop (SIGTERM/SIGINT), stops the whole group and every descendant (BentoML puts its
workers in groups of their own): SIGTERM, then SIGKILL after a grace period. The guard exits with CMD's exit code, so callers read it as CMD's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 10.0


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (empty where there is no /proc)."""
    parents: dict[int, int] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return set()
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                parents[int(entry)] = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _kill(pids, sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _stop_group(child: subprocess.Popen) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group signal below reaches us too
    # bentoml serve's workers live in process groups of their own: known by ancestry, not by group.
    below = descendants(os.getpid())
    try:
        os.killpg(0, signal.SIGTERM)
    except ProcessLookupError:
        pass
    _kill(below, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the workers the arbiter was stopping
    _kill(below | descendants(os.getpid()), signal.SIGKILL)
    os.killpg(0, signal.SIGKILL)  # whatever is left, ourselves included


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m zeta_serving.guard CMD [ARG...]", file=sys.stderr)
        return 2
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    child = subprocess.Popen(argv)  # same process group as the guard: stopping the group stops it all
    while child.poll() is None:
        if stopping:
            _stop_group(child)
        time.sleep(0.1)
    return child.returncode if child.returncode >= 0 else 128 - child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
