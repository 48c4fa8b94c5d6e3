"""Price suggestion: yen price with a low/high range, from the whole listing."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from zeta_serving.serving.runtime import to_frame
from zeta_serving.serving.schemas import PriceListing, PriceSuggestion
from zeta_serving.tasks.base import Task, register

PRICE_TOLERANCE = 0.01  # relative: float noise across machines, not a model change


def predict(model: Any, tag: str, listings: Sequence[PriceListing]) -> list[PriceSuggestion]:
    return [PriceSuggestion(**out, model_tag=tag) for out in model.predict(to_frame(listings))]


def golden_body(case: Mapping[str, Any], expected: Mapping[str, Any]) -> dict[str, Any]:
    text = {k: (case.get(k) or "") for k in ("name", "description", "brand", "category")}
    return {**text, "condition": int(case.get("condition") or 3), "shipping": int(case.get("shipping") or 0)}


def golden_diff(expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    out = []
    for key in ("price", "low", "high"):
        want, have = float(expected[key]), float(got.get(key, math.nan))
        if not math.isclose(want, have, rel_tol=PRICE_TOLERANCE, abs_tol=1.0):
            out.append(f"{key} {have:g} (recorded {want:g})")
    return out


def served_parts(estimator: Any, rows: Any, answers: Sequence[Mapping[str, Any]]) -> Any:
    """Squared log errors of the served prices: the parts PriceModel.aggregate turns into RMSLE."""
    import numpy as np

    truth = np.log1p(rows["price"].to_numpy(dtype=float))
    served = np.log1p(np.array([float(a["price"]) for a in answers]))
    return ((served - truth) ** 2).reshape(-1, 1)


TASK = register(Task(
    name="price", estimator="training.price:PriceModel", request=PriceListing, response=PriceSuggestion,
    predict=predict, route="/price", golden_body=golden_body, golden_diff=golden_diff,
    service="services.price.service:PriceService", bentofile="services/price/bentofile.yaml",
    summary="Suggested yen price, with a low/high range, for a listing being written.",
    example={"name": "ルイヴィトン 長財布 モノグラム", "brand": "ルイ ヴィトン", "condition": 2, "shipping": 1,
             "category": "ファッション/レディース/小物/長財布"},
    drift=frozenset({"vocab", "price", "noise"}),
    served_body=lambda row: golden_body(row, {}), served_parts=served_parts,
))
