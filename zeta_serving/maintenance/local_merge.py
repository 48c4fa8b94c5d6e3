"""What the front port shows for several backends as one: their metrics and their OpenAPI documents."""

from __future__ import annotations

import math
from typing import Any

from zeta_serving.maintenance.deployers import Deployment

TITLE = "zeta-serving"
_SUFFIXES = ("_total", "_created", "_sum", "_count", "_bucket", "_gsum", "_gcount")


def merge_metrics(parts: list[tuple[Deployment, str]]) -> str:
    """One Prometheus exposition for every backend: each sample labelled with its task and model.

    Concatenating the backends' texts would repeat each family's HELP and TYPE lines, which
    a Prometheus server refuses; so the families are parsed, merged by name, and written once.
    """
    from prometheus_client.parser import text_string_to_metric_families

    families: dict[str, dict[str, Any]] = {}
    untyped: list[tuple[str, dict[str, str], float]] = []
    for deployment, text in parts:
        extra = {"zeta_task": deployment.task, "zeta_model_tag": deployment.model_tag}
        for parsed in text_string_to_metric_families(text):
            samples = [(s.name, {**s.labels, **extra}, s.value) for s in parsed.samples]
            if parsed.type in ("unknown", "untyped"):
                untyped.extend(samples)  # a backend that wrote a sample with no TYPE line (yet)
                continue
            merged = families.setdefault(parsed.name, {"type": parsed.type, "doc": parsed.documentation,
                                                       "samples": []})
            merged["samples"].extend(samples)
    for sample in untyped:  # into the typed family it belongs to, if any backend typed it
        owner = next((f for base, f in families.items() if sample[0] == base or
                      sample[0].removeprefix(base) in _SUFFIXES), None)
        if owner is None:
            owner = families.setdefault(sample[0], {"type": "untyped", "doc": "", "samples": []})
        owner["samples"].append(sample)
    lines = []
    for name, family in _text_format(families).items():
        lines.append(f"# HELP {name} {_escape_doc(family['doc'])}")
        lines.append(f"# TYPE {name} {family['type']}")
        for sample, labels, value in family["samples"]:
            rendered = ",".join(f'{k}="{_escape_label(str(v))}"' for k, v in labels.items())
            lines.append(f"{sample}{{{rendered}}} {_number(value)}")
    return "\n".join(lines) + "\n" if lines else ""


def _text_format(families: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Families as the classic text format names them: a counter under its `_total` name, its
    `_created` samples as a gauge of their own (what prometheus_client writes itself)."""
    out: dict[str, dict[str, Any]] = {}
    for name, family in families.items():
        if family["type"] != "counter":
            out.setdefault(name, {**family, "samples": []})["samples"].extend(family["samples"])
            continue
        for sample in family["samples"]:
            created = sample[0].endswith("_created")
            key = f"{name}_created" if created else f"{name}_total"
            out.setdefault(key, {"type": "gauge" if created else "counter", "doc": family["doc"],
                                 "samples": []})["samples"].append((key, *sample[1:]))
    return out


def merge_openapi(specs: list[dict[str, Any]]) -> dict[str, Any]:
    """One OpenAPI document: the first backend's frame with every backend's paths and schemas ({} if none)."""
    from zeta_serving import __version__, tasks

    merged: dict[str, Any] = {}
    for spec in specs:
        if not merged:
            merged = {**spec, "paths": {}, "components": {**spec.get("components", {}), "schemas": {}}}
            merged["info"] = {**spec.get("info", {}), "title": TITLE, "version": __version__,
                              "description": f"Suggestions for marketplace listings: {', '.join(tasks.names())} "
                                             "(every deployed model on one port)."}
        merged["paths"].update(spec.get("paths", {}))
        merged["components"]["schemas"].update(spec.get("components", {}).get("schemas", {}))
    return merged


def _escape_doc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
