"""zeta-serving: suggestion models for marketplace listings, served and self-maintained.

The public face, what a team uses to add a model or a deployer; everything else is internal:

    Task, register, get_task, all_tasks  describe a model and register it (zeta_serving.tasks)
    SuggestionModel                      the estimator base a model's class derives from
    Deployer, Deployment, DeployError    the seam between the loop and whatever serves traffic
    Client                               how a gate reaches a deployment: (route, body) -> answer
    AlertSink, Alert                     where the loop's alerts go
    Clock, Builder, Store                time, building, and the listing store as the loop sees them

They are imported on first use: `import zeta_serving` stays cheap, and the estimator modules
(which import zeta_serving themselves) can be imported first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Task": ("zeta_serving.tasks", "Task"),
    "register": ("zeta_serving.tasks", "register"),
    "get_task": ("zeta_serving.tasks", "get"),
    "all_tasks": ("zeta_serving.tasks", "all_tasks"),
    "SuggestionModel": ("training.base", "SuggestionModel"),
    "Deployer": ("zeta_serving.maintenance.deployers", "Deployer"),
    "Deployment": ("zeta_serving.maintenance.deployers", "Deployment"),
    "DeployError": ("zeta_serving.maintenance.deployers", "DeployError"),
    "Client": ("zeta_serving.maintenance.deployers", "Client"),
    "AlertSink": ("zeta_serving.maintenance.alerts", "AlertSink"),
    "Alert": ("zeta_serving.maintenance.alerts", "Alert"),
    "Clock": ("zeta_serving.maintenance.clock", "Clock"),
    "Builder": ("zeta_serving.maintenance.builder", "Builder"),
    "Store": ("zeta_serving.storage", "Store"),
}
__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from training.base import SuggestionModel
    from zeta_serving.maintenance.alerts import Alert, AlertSink
    from zeta_serving.maintenance.builder import Builder
    from zeta_serving.maintenance.clock import Clock
    from zeta_serving.maintenance.deployers import Client, Deployer, Deployment, DeployError
    from zeta_serving.storage import Store
    from zeta_serving.tasks import Task, all_tasks, register
    from zeta_serving.tasks import get as get_task


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'zeta_serving' has no attribute {name!r}")
    module, attr = _EXPORTS[name]
    return getattr(importlib.import_module(module), attr)
