"""Category suggestion: the public API service with its model in process, from the task registry."""

from zeta_serving import tasks
from zeta_serving.serving.routes import api_service, served_model

TASK = tasks.get("category")
CategoryModel = served_model(TASK, __name__)
CategoryService = api_service("zeta-category", TASK.summary, [(TASK, CategoryModel)], __name__)
MODEL = CategoryModel  # what services/all picks up
