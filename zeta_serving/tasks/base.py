"""The description of one suggestion model, and the one registry every other part reads.

A `Task` says everything the framework needs to train, judge, serve, build, gate and
maintain a model: its estimator (which carries the label column and the metric with
its direction), request and response schemas, the function from validated requests
to responses, the public route, how a golden case is replayed and compared, its
default maintenance policy and its bentofile. Register one with `register(Task(...))`
at import time of its module; the built-in tasks are `zeta_serving.tasks.BUILTIN`.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from pydantic import BaseModel

from zeta_serving.errors import ZetaError

if TYPE_CHECKING:
    from training.base import SuggestionModel

# (fitted model, model tag, validated requests) -> one response per request
Predictor = Callable[[Any, str, Sequence[Any]], Sequence[BaseModel]]
# (recorded input listing, recorded output) -> the HTTP body a listing form would send
GoldenBody = Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
# (recorded output, new output) -> differences in plain words ([] when the same)
GoldenDiff = Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class Task:
    name: str  # CLI choice, ledger key, `zeta-<name>` model name, `ZETA_<NAME>_MODEL`
    estimator: str  # "module:Class" of a SuggestionModel, imported on first use (keeps the CLI fast)
    request: type[BaseModel]  # one listing as the route accepts it
    response: type[BaseModel]  # one suggestion as the route answers it
    predict: Predictor
    route: str  # "/price": the single route; "<route>/batch" takes up to MAX_BATCH
    golden_body: GoldenBody
    golden_diff: GoldenDiff
    service: str  # "module:Class" of the task's own API service (`bentoml serve` target)
    bentofile: str  # relative to the project root
    summary: str = ""  # one line for docs and the API UI
    example: Mapping[str, Any] = field(default_factory=dict)  # a request body for `zeta up`'s curl example
    policy: Mapping[str, Any] = field(default_factory=dict)  # default maintenance policy overrides
    drift: frozenset[str] = frozenset()  # backtest scenarios meant to hurt this model
    # Scoring what serves (optional; without both the live score is computed offline): a labelled
    # listing -> its request body, and (estimator, those rows, the deployment's answers) -> the
    # estimator's own per-row score parts, so a serving-side difference counts like any drop.
    served_body: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    served_parts: Callable[[Any, Any, Sequence[Mapping[str, Any]]], Any] | None = None

    # -- what the estimator says (never guessed) ---------------------------------------------
    @property
    def model_class(self) -> type[SuggestionModel]:
        module, _, attr = self.estimator.partition(":")
        cls: type[SuggestionModel] = getattr(importlib.import_module(module), attr)
        return cls

    @property
    def label(self) -> str:
        return self.model_class.label

    @property
    def metric(self) -> str:
        return self.model_class.metric

    @property
    def greater_is_better(self) -> bool:
        return bool(self.model_class.greater_is_better)

    # -- names derived in one place --------------------------------------------------------
    @property
    def model_name(self) -> str:
        return f"zeta-{self.name}"

    @property
    def model_env(self) -> str:
        return f"ZETA_{self.name.upper()}_MODEL"

    @property
    def method(self) -> str:
        """The Python name of the route's API method ("tags" for "/tags")."""
        return self.route.strip("/").replace("/", "_").replace("-", "_")


_TASKS: dict[str, Task] = {}
_LOCK = threading.Lock()
_BUILTINS_LOADED = False
BUILTIN = ("zeta_serving.tasks.price", "zeta_serving.tasks.category", "zeta_serving.tasks.tag",
           "zeta_serving.tasks.brand")


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        for module in BUILTIN:
            importlib.import_module(module)


def register(task: Task) -> Task:
    """Add a task (its module's import does this); the same name twice must be the same task."""
    with _LOCK:
        known = _TASKS.get(task.name)
        if known is not None and known != task:
            raise ZetaError(f"a different task is already registered as {task.name!r}")
        clash = next((t for t in _TASKS.values() if t.route == task.route and t.name != task.name), None)
        if clash is not None:
            raise ZetaError(f"route {task.route} of task {task.name!r} is already task {clash.name!r}'s")
        _TASKS[task.name] = task
    return task


def unregister(name: str) -> None:
    """Forget a task (tests that register a throwaway task clean up with this)."""
    with _LOCK:
        _TASKS.pop(name, None)


def get(name: str) -> Task:
    _load_builtins()
    try:
        return _TASKS[name]
    except KeyError:
        raise ZetaError(f"unknown model {name!r} (choose from {', '.join(_TASKS)})") from None


def all_tasks() -> tuple[Task, ...]:
    _load_builtins()
    return tuple(_TASKS.values())


def names() -> tuple[str, ...]:
    return tuple(t.name for t in all_tasks())


def by_route(path: str) -> Task | None:
    """The task whose route serves `path` (its single or batch route), if any."""
    for task in all_tasks():
        if path == task.route or path.startswith(task.route + "/"):
            return task
    return None

