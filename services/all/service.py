"""The all-in-one service: the three suggestion APIs on one port (the embedded default)."""

from __future__ import annotations

import bentoml

from services.category.service import CategoryModel
from services.price.service import PriceModel
from services.tag.service import TagModel
from zeta_serving.serving.routes import CategoryRoutes, PriceRoutes, TagRoutes


@bentoml.service(name="zeta-suggest", traffic={"timeout": 30})
class Suggest(PriceRoutes, CategoryRoutes, TagRoutes):
    """Price, category and tag suggestions for Japanese marketplace listings."""

    price_model = bentoml.depends(PriceModel)
    category_model = bentoml.depends(CategoryModel)
    tag_model = bentoml.depends(TagModel)
