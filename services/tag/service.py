"""Tag suggestion: the model service (adaptive batching) and the public API service."""

from __future__ import annotations

import bentoml
from bentoml.models import BentoModel

from zeta_serving.serving import predictors, runtime
from zeta_serving.serving.runtime import LATENCY_BUDGET_MS
from zeta_serving.serving.routes import TagRoutes
from zeta_serving.serving.schemas import TagListing, TagSuggestion

TAG = runtime.gate("tag")


@bentoml.service(name="zeta-tag-model", workers=1, traffic={"timeout": 30})
class TagModel:
    bento_model = BentoModel(TAG)

    def __init__(self) -> None:
        self.model = runtime.load(self.bento_model)

    @bentoml.api(batchable=runtime.adaptive_batching(), max_batch_size=128, max_latency_ms=LATENCY_BUDGET_MS)
    def predict(self, listings: list[TagListing]) -> list[TagSuggestion]:
        return predictors.tags(self.model, TAG, listings)


@bentoml.service(name="zeta-tag", traffic={"timeout": 30})
class TagService(TagRoutes):
    """Attribute tags (colour, size, material, series...) with scores."""

    tag_model = bentoml.depends(TagModel)
