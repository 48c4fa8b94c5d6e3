"""Assembling a Maintainer from the config: the one place that picks real implementations."""

from __future__ import annotations

from zeta_serving import tasks
from zeta_serving.errors import ZetaError
from zeta_serving.maintenance import deployers
from zeta_serving.maintenance.alerts import build_sinks
from zeta_serving.maintenance.builder import BentoBuilder
from zeta_serving.maintenance.config import MaintenanceConfig
from zeta_serving.maintenance.deployers import DeployError
from zeta_serving.maintenance.inprocess import InProcessDeployer
from zeta_serving.maintenance.ledger import Ledger
from zeta_serving.maintenance.loop import Maintainer
from zeta_serving.store import ListingStore


def local_deployer(config: MaintenanceConfig, clock=None, *, attach_only: bool = False):
    """This checkout's running local deployment when there is one (local_remote: `zeta maintain
    --once` and `zeta status` beside `zeta up`); otherwise a new one, unless `attach_only` (a
    process that exits after one cycle cannot keep a deployment up), which is an error."""
    from zeta_serving.maintenance import local_remote
    from zeta_serving.maintenance.local_deployer import LocalDeployer

    port = config.policy(tasks.names()[0]).port
    running = local_remote.find(port)
    if running is not None:
        return running
    if attach_only:
        raise ZetaError(f"no local deployment answers on port {port} for this checkout: start `zeta up` "
                        "(or `zeta maintain`) first, or pass --deployer inprocess for an in-process dry run")
    return LocalDeployer(port=port)


def inprocess_deployer(config: MaintenanceConfig, clock=None):
    return InProcessDeployer(clock)


def make_deployer(kind: str, config: MaintenanceConfig, clock=None, *, attach_only: bool = False):
    """The deployer registered under `kind` (zeta_serving/maintenance/deployers.py: REGISTRY).

    `attach_only` (a `--once` cycle): a local deployer must already run for this checkout."""
    if kind == "local":
        return local_deployer(config, clock, attach_only=attach_only)
    try:
        return deployers.make(kind, config, clock)
    except DeployError as exc:
        raise ZetaError(str(exc)) from None


def make_maintainer(store: ListingStore, config: MaintenanceConfig, clock, *, deployer=None,
                    replica: str | None = None, once: bool = False, offline: bool = False) -> Maintainer:
    policy = config.policy(tasks.names()[0])  # sinks, deployer and backend are project-wide settings
    sinks = build_sinks(list(policy.alerts), webhook_url=policy.webhook_url or None, timeout=5.0, retries=3)
    return Maintainer(store=store, ledger=Ledger(store.engine),
                      deployer=deployer or make_deployer(policy.deployer, config, clock, attach_only=once),
                      builder=BentoBuilder(policy.container_backend, container_registry=policy.container_registry),
                      alerts=sinks, clock=clock, config=config,
                      replica=replica, offline=offline)
