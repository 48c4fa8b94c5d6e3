"""What a team would write instead of the bentos: one FastAPI app, models loaded in-process.

Served by bench/serve.py with `uvicorn bench.fastapi_app:app`; same schemas and
predictors as the services (from the task registry), so the difference measured is
the serving layer.
"""

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from zeta_serving import registry, tasks
from zeta_serving.serving import runtime

app = FastAPI()


def _add_route(task: tasks.Task) -> None:
    model, saved = registry.load(runtime.model_tag(task.name))

    async def suggest(listing: task.request) -> task.response:  # type: ignore[name-defined]
        return (await run_in_threadpool(task.predict, model, saved.tag, [listing]))[0]

    app.post(task.route, name=task.method)(suggest)


for _task in tasks.all_tasks():
    _add_route(_task)
