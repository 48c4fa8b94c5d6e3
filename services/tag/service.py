"""Tag suggestion: the public API service with its model in process, from the task registry."""

from zeta_serving import tasks
from zeta_serving.serving.routes import api_service, served_model

TASK = tasks.get("tag")
TagModel = served_model(TASK, __name__)
TagService = api_service("zeta-tag", TASK.summary, [(TASK, TagModel)], __name__)
MODEL = TagModel  # what services/all picks up
