"""Price suggestion: the model service (adaptive batching) and the public API service."""

from __future__ import annotations

import bentoml
from bentoml.models import BentoModel

from zeta_serving.serving import predictors, runtime
from zeta_serving.serving.runtime import LATENCY_BUDGET_MS
from zeta_serving.serving.routes import PriceRoutes
from zeta_serving.serving.schemas import PriceListing, PriceSuggestion

TAG = runtime.gate("price")


@bentoml.service(name="zeta-price-model", workers=1, traffic={"timeout": 30})
class PriceModel:
    bento_model = BentoModel(TAG)

    def __init__(self) -> None:
        self.model = runtime.load(self.bento_model)

    @bentoml.api(batchable=runtime.adaptive_batching(), max_batch_size=128, max_latency_ms=LATENCY_BUDGET_MS)
    def predict(self, listings: list[PriceListing]) -> list[PriceSuggestion]:
        return predictors.price(self.model, TAG, listings)


@bentoml.service(name="zeta-price", traffic={"timeout": 30})
class PriceService(PriceRoutes):
    """Suggested yen price, with a low/high range, for a listing being written."""

    price_model = bentoml.depends(PriceModel)
