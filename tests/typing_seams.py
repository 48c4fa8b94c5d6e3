"""Checked by mypy (tests/test_types.py), never run: every implementation fits its seam.

Adding a deployer, alert sink, clock, builder, store or estimator? Add it here too.
"""

from __future__ import annotations

from training.base import SuggestionModel
from training.brand import BrandModel
from training.category import CategoryModel
from training.price import PriceModel
from training.tag import TagModel
from zeta_serving.maintenance.alerts import AlertSink, LogSink, MultiSink, WebhookSink
from zeta_serving.maintenance.builder import BentoBuilder, Builder
from zeta_serving.maintenance.clock import Clock, FixedClock, SystemClock
from zeta_serving.maintenance.deployers import Deployer
from zeta_serving.maintenance.inprocess import InProcessDeployer
from zeta_serving.maintenance.kubernetes import KubernetesDeployer
from zeta_serving.maintenance.local_deployer import LocalDeployer
from zeta_serving.maintenance.spinnaker import SpinnakerDeployer
from zeta_serving.storage import Store
from zeta_serving.store import ListingStore
from zeta_serving.tasks import Task


def deployers(local: LocalDeployer, inprocess: InProcessDeployer, kubernetes: KubernetesDeployer,
              spinnaker: SpinnakerDeployer) -> list[Deployer]:
    return [local, inprocess, kubernetes, spinnaker]


def sinks(log: LogSink, webhook: WebhookSink, multi: MultiSink) -> list[AlertSink]:
    return [log, webhook, *multi.sinks]  # MultiSink fans out: send() answers per sink


def clocks(system: SystemClock, fixed: FixedClock) -> list[Clock]:
    return [system, fixed]


def builders(bento: BentoBuilder) -> list[Builder]:
    return [bento]


def stores(listings: ListingStore) -> list[Store]:
    return [listings]


def estimators() -> list[type[SuggestionModel]]:
    return [PriceModel, CategoryModel, TagModel, BrandModel]


def estimator_of(task: Task) -> type[SuggestionModel]:
    return task.model_class
