"""`zeta maintain` with the category retrain held, for tests/test_k8s_loop_pod.py to stop mid-cycle.

    python -m tests.pod_cycle MARKER <zeta arguments...>

The retrain stage starts a child through zeta's procs (as a `bentoml build` is started),
writes MARKER (the child's pid) and then blocks in one long native call that no signal
interrupts, as a long training step in compiled code does. The cycle's clock is the crash
tests' NOW, so a catch-up cycle at start-up judges the synthetic days; the scheduler itself
runs on the real clock, as in a pod.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.crash_cycle import NOW


def main(marker: str, *args: str) -> None:
    from training.category import CategoryModel
    from zeta_serving import procs
    from zeta_serving.cli import main as zeta
    from zeta_serving.cli import maintain_cmd
    from zeta_serving.maintenance.clock import FixedClock

    def hold(self, frame):
        child = procs.popen(["sleep", "600"])
        Path(marker).write_text(str(child.pid))
        time.sleep(600)

    CategoryModel.fit = hold
    maintain_cmd._clock = lambda now: FixedClock(NOW)
    zeta(list(args))


if __name__ == "__main__":
    main(*sys.argv[1:])
