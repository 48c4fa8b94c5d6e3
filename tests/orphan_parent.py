"""A parent for the orphan test: a local deployer with one real `bentoml serve` backend, then it waits
to be killed. `python -m tests.orphan_parent MODEL_TAG` prints "ready <front url>" once it serves."""

from __future__ import annotations

import sys
import time

from zeta_serving.maintenance.local_deployer import LocalDeployer


def main(model_tag: str) -> None:
    deployer = LocalDeployer(port=0).start()
    deployer.deploy("category", None, model_tag, gate=lambda deployment, client: None)
    print(f"ready {deployer.url}", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main(sys.argv[1])
