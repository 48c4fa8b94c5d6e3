"""Building what a promotion deploys: the task's bento, and its image when a backend is set."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from zeta_serving import bentos


class Builder(Protocol):
    """What a promotion deploys: an artifact per (task, model), and optionally its image."""

    def build(self, task: str, model_tag: str) -> str:
        """Build the task's deployable with `model_tag` pinned; returns its tag."""

    def containerize(self, bento_tag: str) -> str | None:
        """Build its image (None: no image wanted); returns the image tag."""


class BentoBuilder:
    """`bentoml build` for the task's bentofile with the challenger pinned; `bentoml containerize` optionally."""

    def __init__(self, container_backend: str = "", root: Path | None = None, container_registry: str = ""):
        self.container_backend = container_backend
        self.root = root
        self.container_registry = container_registry

    def build(self, task: str, model_tag: str) -> str:
        return bentos.build(task, model_tags={task: model_tag}, root=self.root)

    def containerize(self, bento_tag: str) -> str | None:
        if not self.container_backend:
            return None
        # With a registry this is the pushed `REGISTRY/REPO/name:tag@sha256:...` the ledger keeps.
        return bentos.containerize(bento_tag, backend=self.container_backend, root=self.root,
                                   push_to=self.container_registry or None)
