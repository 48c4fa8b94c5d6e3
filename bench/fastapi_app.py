"""What a team would write instead of the bentos: one FastAPI app, models loaded in-process.

Served by bench/serve.py with `uvicorn bench.fastapi_app:app`; same schemas and
predictors as the services, so the difference measured is the serving layer.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from zeta_serving import registry
from zeta_serving.serving import predictors, runtime, schemas

app = FastAPI()
MODELS = {task: registry.load(runtime.model_tag(task)) for task in ("price", "category", "tag")}


@app.post("/price")
async def price(listing: schemas.PriceListing) -> schemas.PriceSuggestion:
    model, saved = MODELS["price"]
    return (await run_in_threadpool(predictors.price, model, saved.tag, [listing]))[0]


@app.post("/category")
async def category(listing: schemas.CategoryListing) -> schemas.CategorySuggestion:
    model, saved = MODELS["category"]
    return (await run_in_threadpool(predictors.category, model, saved.tag, [listing]))[0]


@app.post("/tags")
async def tags(listing: schemas.TagListing) -> schemas.TagSuggestion:
    model, saved = MODELS["tag"]
    return (await run_in_threadpool(predictors.tags, model, saved.tag, [listing]))[0]
