"""`python -m zeta_serving.guard CMD...`: run CMD so that it and everything it starts die with zeta.

PR_SET_PDEATHSIG alone kills only the direct child when zeta dies: `bentoml serve` is an
arbiter whose workers would live on (a SIGKILLed arbiter cleans nothing up). So zeta starts
this guard instead, as the leader of a new process group with PR_SET_PDEATHSIG=SIGTERM
(zeta_serving.procs); the guard starts CMD in its own group and, when zeta dies or the guard
is told to stop (SIGTERM/SIGINT), stops the whole group: SIGTERM, then SIGKILL after a grace
period. The guard exits with CMD's exit code, so callers read it as CMD's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 10.0


def _stop_group(child: subprocess.Popen) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group signal below reaches us too
    try:
        os.killpg(0, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + GRACE_SECONDS
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the workers the arbiter was stopping
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
