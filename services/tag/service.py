"""Tag suggestion: the model service (adaptive batching) and the public API service, from the task registry."""

from zeta_serving import tasks
from zeta_serving.serving.routes import api_service, model_service

TASK = tasks.get("tag")
TagModel = model_service(TASK, __name__)
TagService = api_service("zeta-tag", TASK.summary, [(TASK, TagModel)], __name__)
MODEL = TagModel  # what services/all picks up
