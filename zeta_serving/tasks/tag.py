"""Tag suggestion: attribute tags (colour, size, material, series, condition) with scores."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from zeta_serving.serving.runtime import to_frame
from zeta_serving.serving.schemas import TagListing, TagSuggestion
from zeta_serving.tasks.base import Task, register


def predict(model: Any, tag: str, listings: Sequence[TagListing]) -> list[TagSuggestion]:
    return [TagSuggestion(**out, model_tag=tag) for out in model.predict(to_frame(listings))]


def golden_body(case: Mapping[str, Any], expected: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": case.get("name") or "", "description": case.get("description") or ""}


def golden_diff(expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    want = [t["tag"] for t in expected["tags"]]
    have = [t["tag"] for t in got.get("tags", [])]
    return [] if want == have else [f"tags {have} (recorded {want})"]


def served_parts(estimator: Any, rows: Any, answers: Sequence[Mapping[str, Any]]) -> Any:
    """(true positives, false positives, misses) of the served tags: TagModel's micro-F1 parts."""
    import numpy as np

    parts = np.zeros((len(answers), 3))
    for r, (truth, answer) in enumerate(zip(rows["tags"], answers)):
        want, chosen = set(truth), {t["tag"] for t in answer["tags"]}
        hit = len(want & chosen)
        parts[r] = (hit, len(chosen) - hit, len(want) - hit)
    return parts


TASK = register(Task(
    name="tag", estimator="training.tag:TagModel", request=TagListing, response=TagSuggestion,
    predict=predict, route="/tags", golden_body=golden_body, golden_diff=golden_diff,
    service="services.tag.service:TagService", bentofile="services/tag/bentofile.yaml",
    summary="Attribute tags (colour, size, material, series...) with scores.",
    example={"name": "ユニクロ フリースジャケット L ネイビー", "description": "数回着用しました。"},
    drift=frozenset({"vocab", "noise"}),
    served_body=lambda row: golden_body(row, {}), served_parts=served_parts,
))
