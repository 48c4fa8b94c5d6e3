"""From validated request bodies to typed suggestions, one function per task."""

from __future__ import annotations

from zeta_serving.serving import schemas
from zeta_serving.serving.runtime import to_frame


def price(model, tag: str, listings: list[schemas.PriceListing]) -> list[schemas.PriceSuggestion]:
    return [schemas.PriceSuggestion(**out, model_tag=tag) for out in model.predict(to_frame(listings))]


def category(model, tag: str, listings: list[schemas.CategoryListing]) -> list[schemas.CategorySuggestion]:
    # One call for the whole batch at the largest k asked for; each listing keeps its own k.
    frame = to_frame([schemas.CategoryListing(name=x.name, brand=x.brand) for x in listings])
    outs = model.predict(frame, k=max(x.k for x in listings))
    return [schemas.CategorySuggestion(categories=out["categories"][: x.k], model_tag=tag)
            for x, out in zip(listings, outs)]


def tags(model, tag: str, listings: list[schemas.TagListing]) -> list[schemas.TagSuggestion]:
    return [schemas.TagSuggestion(**out, model_tag=tag) for out in model.predict(to_frame(listings))]
