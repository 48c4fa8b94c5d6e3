"""Building what a promotion deploys: the task's bento, and its image when a backend is set."""

from __future__ import annotations

from pathlib import Path

from zeta_serving import bentos


class BentoBuilder:
    """`bentoml build` for the task's bentofile with the challenger pinned; `bentoml containerize` optionally."""

    def __init__(self, container_backend: str = "", root: Path | None = None):
        self.container_backend = container_backend
        self.root = root

    def build(self, task: str, model_tag: str) -> str:
        return bentos.build(task, model_tags={task: model_tag}, root=self.root)

    def containerize(self, bento_tag: str) -> str | None:
        if not self.container_backend:
            return None
        return bentos.containerize(bento_tag, backend=self.container_backend)
