"""Category suggestion: top-k leaves of the category tree, from the item name (and brand)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from zeta_serving.serving.runtime import to_frame
from zeta_serving.serving.schemas import CategoryListing, CategorySuggestion
from zeta_serving.tasks.base import Task, register

PROBABILITY_TOLERANCE = 1e-3


def predict(model: Any, tag: str, listings: Sequence[CategoryListing]) -> list[CategorySuggestion]:
    # One call for the whole batch at the largest k asked for; each listing keeps its own k.
    frame = to_frame([CategoryListing(name=x.name, brand=x.brand) for x in listings])
    outs = model.predict(frame, k=max(x.k for x in listings))
    return [CategorySuggestion(categories=out["categories"][: x.k], model_tag=tag)
            for x, out in zip(listings, outs)]


def golden_body(case: Mapping[str, Any], expected: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": case.get("name") or "", "brand": case.get("brand") or "",
            "k": max(1, len(expected["categories"]))}


def golden_diff(expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    want = [c["category"] for c in expected["categories"]]
    have = [c["category"] for c in got.get("categories", [])]
    if want != have:
        return [f"categories {have} (recorded {want})"]
    return [f"probability of {w['category']} {h['probability']} (recorded {w['probability']})"
            for w, h in zip(expected["categories"], got["categories"])
            if abs(w["probability"] - h["probability"]) > PROBABILITY_TOLERANCE]


def served_parts(estimator: Any, rows: Any, answers: Sequence[Mapping[str, Any]]) -> Any:
    """(hit@1, hit@3) of the served top-3: the parts CategoryModel.aggregate turns into accuracy@1."""
    import numpy as np

    truth = estimator._targets(rows).to_numpy(dtype=str)  # the level the model predicts at
    top = [[c["category"] for c in a["categories"][:3]] for a in answers]
    return np.array([[bool(t) and t[0] == want, want in t] for t, want in zip(top, truth)], dtype=float)


TASK = register(Task(
    name="category", estimator="training.category:CategoryModel", request=CategoryListing,
    response=CategorySuggestion, predict=predict, route="/category", golden_body=golden_body,
    golden_diff=golden_diff, service="services.category.service:CategoryService",
    bentofile="services/category/bentofile.yaml",
    summary="Top-k leaf categories, with probabilities, for an item name.",
    example={"name": "NIKE エアマックス90 メンズ スニーカー 27cm ブラック", "k": 3},
    drift=frozenset({"vocab", "noise"}),
    served_body=lambda row: {"name": row.get("name") or "", "brand": row.get("brand") or "", "k": 3},
    served_parts=served_parts,
))
