"""The task registry: one `Task` per suggestion model; everything else reads it."""

from zeta_serving.tasks.base import BUILTIN, Task, all_tasks, by_route, get, names, register, unregister

__all__ = ["BUILTIN", "Task", "all_tasks", "by_route", "get", "names", "register", "unregister"]
