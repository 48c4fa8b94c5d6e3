"""SIGTERM (what Kubernetes sends) and SIGINT end a cycle cleanly: children stopped, run recorded, lease released.

On a signal the maintainer's `stopping` event is set and every child process (a `bentoml build`)
is stopped. A cycle running in the main thread (`zeta maintain --once`) is interrupted at once
when it is inside a stage: the stage ends `failed` with "interrupted", the run is recorded and the
lease released by the code that already handles any failing stage. A cycle in a scheduler thread
stops at its next stage. A second signal while stopping is not caught: the default action applies.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading

from zeta_serving import procs

log = logging.getLogger("zeta.maintenance")
SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def stop_cleanly(maintainer, on_stop=lambda: None):
    """Within the block, SIGTERM/SIGINT stop the maintainer's cycles cleanly (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from zeta_serving.maintenance.loop import Interrupted

    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}

    def handler(signum, _frame):
        name = signal.Signals(signum).name
        for sig in SIGNALS:  # the next one is not ours to soften
            signal.signal(sig, previous[sig] if callable(previous[sig]) else signal.SIG_DFL)
        log.warning("%s: stopping the running cycle", name)
        maintainer.stopping.set()
        maintainer.stop_reason = name
        procs.stop_all(grace=5.0)
        on_stop()
        if maintainer.interruptible:  # read in the main thread: true only if *its* cycle is in a stage
            raise Interrupted(name)

    for sig in SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig in SIGNALS:
            signal.signal(sig, previous[sig])
