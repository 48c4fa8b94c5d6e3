"""The cycles running right now, so that a stopping loop can end the ones its threads cannot.

A signal ends a cycle in the main thread at once (signals.py) and one in a scheduler
thread at its next stage. A stage stuck in one long native call (training in compiled
code) never reaches its next stage, and a pod that waits for it is killed at the end of
its grace period: its run left unfinished, the model's lease left to lapse. So the loop
waits for its cycles a bounded time, then `abandon`s the ones still running: each is
recorded `failed` at its stage ("interrupted (SIGTERM)"), alerted, and its lease released,
while the process exits without waiting for the stuck thread (maintenance/pod.py).

A run is recorded once: by its own thread (`settle`) or by `abandon`, whichever comes first.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class InFlight:
    def __init__(self):
        self._cond = threading.Condition()
        self._cycles: dict[int, dict] = {}  # run id -> {run, lease, heartbeat, settled}

    def add(self, run, lease, heartbeat) -> None:
        with self._cond:
            self._cycles[run.id] = {"run": run, "lease": lease, "heartbeat": heartbeat, "settled": False,
                                    "abandoned": False}

    def done(self, run) -> None:
        with self._cond:
            self._cycles.pop(run.id, None)
            self._cond.notify_all()

    def settle(self, run) -> bool:
        """The cycle's own thread is about to record its run: False if it was abandoned (recorded already)."""
        with self._cond:
            entry = self._cycles.get(run.id)
            if entry is None:
                return True
            if entry["abandoned"]:
                return False
            entry["settled"] = True
            return True

    def wait(self, seconds: float) -> bool:
        """Until no cycle runs, at most `seconds`; True if none is left."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while self._cycles and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return not self._cycles

    def abandon(self, record: Callable[[object], None], *, settling: float = 5.0) -> list:
        """Record (`record(run)`) and release every cycle not already recording itself; returns their runs.

        Cycles caught recording themselves get `settling` more seconds to finish writing.
        """
        with self._cond:
            stuck = [e for e in self._cycles.values() if not e["settled"] and not e["abandoned"]]
            for entry in stuck:
                entry["abandoned"] = True
        for entry in stuck:
            entry["heartbeat"].stop()
            try:
                record(entry["run"])
            finally:
                try:
                    entry["lease"].release()
                except Exception:  # noqa: BLE001 - an unreachable database: the lease lapses by itself
                    pass
            self.done(entry["run"])
        self.wait(settling)
        return [e["run"] for e in stuck]
