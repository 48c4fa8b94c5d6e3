"""Price suggestion: the public API service with its model in process, from the task registry."""

from zeta_serving import tasks
from zeta_serving.serving.routes import api_service, served_model

TASK = tasks.get("price")
PriceModel = served_model(TASK, __name__)
PriceService = api_service("zeta-price", TASK.summary, [(TASK, PriceModel)], __name__)
MODEL = PriceModel  # what services/all picks up
