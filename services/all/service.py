"""The all-in-one service: every registered task's API on one port (the embedded default)."""

import importlib

from zeta_serving import tasks
from zeta_serving.serving.routes import api_service


def _served_model(task: tasks.Task):
    return importlib.import_module(task.service.partition(":")[0]).MODEL


Suggest = api_service("zeta-suggest", "Suggestions for Japanese marketplace listings: "
                      + ", ".join(t.name for t in tasks.all_tasks()) + ".",
                      [(task, _served_model(task)) for task in tasks.all_tasks()], __name__)
