"""Brand suggestion: the public API service with its model in process, from the task registry."""

from zeta_serving import tasks
from zeta_serving.serving.routes import api_service, served_model

TASK = tasks.get("brand")
BrandModel = served_model(TASK, __name__)
BrandService = api_service("zeta-brand", TASK.summary, [(TASK, BrandModel)], __name__)
MODEL = BrandModel  # what services/all picks up
