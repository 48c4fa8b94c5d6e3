"""The three suggestion models. `MODELS` maps a task name to its estimator class."""

from training.category import CategoryModel
from training.price import PriceModel
from training.tag import TagModel

MODELS = {"price": PriceModel, "category": CategoryModel, "tag": TagModel}
TASKS = tuple(MODELS)

__all__ = ["MODELS", "TASKS", "PriceModel", "CategoryModel", "TagModel"]
