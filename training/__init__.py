"""The suggestion models, one module each; `zeta_serving.tasks` says which class serves which task."""

from training.base import SuggestionModel
from training.category import CategoryModel
from training.price import PriceModel
from training.tag import TagModel

__all__ = ["SuggestionModel", "PriceModel", "CategoryModel", "TagModel"]
