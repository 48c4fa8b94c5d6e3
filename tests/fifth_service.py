"""The fifth task's service: the same three lines every task's service module has."""

from tests.fifth_task import TASK
from zeta_serving.serving.routes import api_service, served_model

MedianModel = served_model(TASK, __name__)
MedianService = api_service("zeta-median", TASK.summary, [(TASK, MedianModel)], __name__)
