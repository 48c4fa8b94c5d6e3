"""What the front port shows for several backends as one: their metrics and their OpenAPI documents."""

from __future__ import annotations

from typing import Any

from zeta_serving.maintenance.deployers import Deployment

TITLE = "zeta-serving (local deployer)"


def merge_metrics(parts: list[tuple[Deployment, str]]) -> str:
    """The backends' Prometheus texts one after another, each under a comment naming task and model."""
    return "".join(f"# zeta backend task={d.task} model_tag={d.model_tag}\n{text.rstrip()}\n" for d, text in parts)


def merge_openapi(specs: list[dict[str, Any]]) -> dict[str, Any]:
    """One OpenAPI document: the first backend's frame with every backend's paths and schemas ({} if none)."""
    merged: dict[str, Any] = {}
    for spec in specs:
        if not merged:
            merged = {**spec, "paths": {}, "components": {**spec.get("components", {}), "schemas": {}}}
            merged["info"] = {**spec.get("info", {}), "title": TITLE}
        merged["paths"].update(spec.get("paths", {}))
        merged["components"]["schemas"].update(spec.get("components", {}).get("schemas", {}))
    return merged
