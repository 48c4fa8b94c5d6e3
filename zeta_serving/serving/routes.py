"""The public endpoints, as mixins: a per-model service and the all-in-one service share them.

A service using `PriceRoutes` declares `price_model = bentoml.depends(<price model service>)`
(likewise `category_model`, `tag_model`). Single-listing calls go to the model
service's batchable `predict` as a batch of one, so concurrent single requests
are merged by BentoML's adaptive batching exactly like batch requests.
"""

from __future__ import annotations

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


class PriceRoutes:
    @bentoml.api(route="/price")
    async def price(self, listing: PriceListing, /) -> PriceSuggestion:
        """Suggested price with a low/high range for one listing."""
        return (await self.price_model.to_async.predict([listing]))[0]

    @bentoml.api(route="/price/batch")
    async def price_batch(self, listings: batch_of(PriceListing)) -> PriceBatch:
        """Suggested prices for up to 256 listings."""
        results = await self.price_model.to_async.predict(listings)
        return PriceBatch(results=results, model_tag=results[0].model_tag)


class CategoryRoutes:
    @bentoml.api(route="/category")
    async def category(self, listing: CategoryListing, /) -> CategorySuggestion:
        """Top-k categories with probabilities for one item name."""
        return (await self.category_model.to_async.predict([listing]))[0]

    @bentoml.api(route="/category/batch")
    async def category_batch(self, listings: batch_of(CategoryListing)) -> CategoryBatch:
        """Top-k categories for up to 256 item names."""
        results = await self.category_model.to_async.predict(listings)
        return CategoryBatch(results=results, model_tag=results[0].model_tag)


class TagRoutes:
    @bentoml.api(route="/tags")
    async def tags(self, listing: TagListing, /) -> TagSuggestion:
        """Attribute tags with scores for one listing."""
        return (await self.tag_model.to_async.predict([listing]))[0]

    @bentoml.api(route="/tags/batch")
    async def tags_batch(self, listings: batch_of(TagListing)) -> TagBatch:
        """Attribute tags for up to 256 listings."""
        results = await self.tag_model.to_async.predict(listings)
        return TagBatch(results=results, model_tag=results[0].model_tag)
