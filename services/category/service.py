"""Category suggestion: the model service (adaptive batching) and the public API service."""

from __future__ import annotations

import bentoml
from bentoml.models import BentoModel

from zeta_serving.serving import predictors, runtime
from zeta_serving.serving.runtime import LATENCY_BUDGET_MS
from zeta_serving.serving.routes import CategoryRoutes
from zeta_serving.serving.schemas import CategoryListing, CategorySuggestion

TAG = runtime.gate("category")


@bentoml.service(name="zeta-category-model", workers=1, traffic={"timeout": 30})
class CategoryModel:
    bento_model = BentoModel(TAG)

    def __init__(self) -> None:
        self.model = runtime.load(self.bento_model)

    @bentoml.api(batchable=runtime.adaptive_batching(), max_batch_size=128, max_latency_ms=LATENCY_BUDGET_MS)
    def predict(self, listings: list[CategoryListing]) -> list[CategorySuggestion]:
        return predictors.category(self.model, TAG, listings)


@bentoml.service(name="zeta-category", traffic={"timeout": 30})
class CategoryService(CategoryRoutes):
    """Top-k leaf categories, with probabilities, for an item name."""

    category_model = bentoml.depends(CategoryModel)
