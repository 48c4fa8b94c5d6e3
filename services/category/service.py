"""Category suggestion: the model service (adaptive batching) and the public API service, from the task registry."""

from zeta_serving import tasks
from zeta_serving.serving.routes import api_service, model_service

TASK = tasks.get("category")
CategoryModel = model_service(TASK, __name__)
CategoryService = api_service("zeta-category", TASK.summary, [(TASK, CategoryModel)], __name__)
MODEL = CategoryModel  # what services/all picks up
