"""Price suggestion: the model service (adaptive batching) and the public API service, from the task registry."""

from zeta_serving import tasks
from zeta_serving.serving.routes import api_service, model_service

TASK = tasks.get("price")
PriceModel = model_service(TASK, __name__)
PriceService = api_service("zeta-price", TASK.summary, [(TASK, PriceModel)], __name__)
MODEL = PriceModel  # what services/all picks up
