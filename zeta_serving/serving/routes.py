"""The public endpoints, as mixins: a per-model service and the all-in-one service share them.

A service using `PriceRoutes` declares `price_model = bentoml.depends(<price model service>)`
(likewise `category_model`, `tag_model`). Single-listing calls go to the model
service's batchable `predict` as a batch of one, so concurrent single requests
are merged by BentoML's adaptive batching exactly like batch requests.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import bentoml

from zeta_serving.serving.schemas import (
    CategoryBatch,
    CategoryListing,
    CategorySuggestion,
    PriceBatch,
    PriceListing,
    PriceSuggestion,
    TagBatch,
    TagListing,
    TagSuggestion,
    batch_of,
)

log = logging.getLogger("zeta.serving")
RETRY_AFTER = 5.0  # seconds: a batch of 256 listings predicts in well under one


async def predict(model_service, listings: list):
    """Call a model service's batchable `predict`, retrying once if the internal call broke.

    BentoML's client can reuse a keep-alive connection the model service has just
    closed (bentoml/BentoML#4971), and now and then such a call hangs instead of
    failing. Predict is pure, so one retry is safe: after a dropped connection at
    once, after RETRY_AFTER seconds without an answer otherwise.
    """
    try:
        return await asyncio.wait_for(model_service.to_async.predict(listings), timeout=RETRY_AFTER)
    except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
        log.warning("model service call failed (%s); retrying once", type(exc).__name__)
        return await model_service.to_async.predict(listings)


class PriceRoutes:
    @bentoml.api(route="/price")
    async def price(self, listing: PriceListing, /) -> PriceSuggestion:
        """Suggested price with a low/high range for one listing."""
        return (await predict(self.price_model, [listing]))[0]

    @bentoml.api(route="/price/batch")
    async def price_batch(self, listings: batch_of(PriceListing)) -> PriceBatch:
        """Suggested prices for up to 256 listings."""
        results = await predict(self.price_model, listings)
        return PriceBatch(results=results, model_tag=results[0].model_tag)


class CategoryRoutes:
    @bentoml.api(route="/category")
    async def category(self, listing: CategoryListing, /) -> CategorySuggestion:
        """Top-k categories with probabilities for one item name."""
        return (await predict(self.category_model, [listing]))[0]

    @bentoml.api(route="/category/batch")
    async def category_batch(self, listings: batch_of(CategoryListing)) -> CategoryBatch:
        """Top-k categories for up to 256 item names."""
        results = await predict(self.category_model, listings)
        return CategoryBatch(results=results, model_tag=results[0].model_tag)


class TagRoutes:
    @bentoml.api(route="/tags")
    async def tags(self, listing: TagListing, /) -> TagSuggestion:
        """Attribute tags with scores for one listing."""
        return (await predict(self.tag_model, [listing]))[0]

    @bentoml.api(route="/tags/batch")
    async def tags_batch(self, listings: batch_of(TagListing)) -> TagBatch:
        """Attribute tags for up to 256 listings."""
        results = await predict(self.tag_model, listings)
        return TagBatch(results=results, model_tag=results[0].model_tag)
