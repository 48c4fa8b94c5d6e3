"""The model registry: trained models in the BentoML model store, with the metadata that judges them.

Each task has one BentoML model name (`zeta-<task>`: `zeta-price`, `zeta-category`, ...).
A saved model carries: the tokenizer fingerprint it was trained under, its
training and evaluation windows, row counts, held-out scores, package version,
and golden cases (inputs with the answers it gave) that a rebuilt bento must
reproduce before it takes traffic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import joblib
import pandas as pd

from zeta_serving import __version__, tasks
from zeta_serving.errors import ZetaError
from zeta_serving.schema import COLUMNS

MODEL_FILE = "model.joblib"
GOLDEN_FILE = "golden.json"
GOLDEN_CASES = 32
TASK_LABEL = "zeta-task"
STORE_LABEL = "zeta-store"  # the id of the listing store a model learned from (store.store_id)


def model_name(task: str) -> str:
    return tasks.get(task).model_name


@dataclass(frozen=True)
class SavedModel:
    tag: str
    task: str
    metadata: dict[str, Any]
    created: datetime
    store: str = ""  # the listing store it learned from ("" for models saved before stores had ids)

    @property
    def reference_score(self) -> float:
        return float(self.metadata["scores"][self.metadata["metric"]])

    @property
    def tokenizer_fingerprint(self) -> dict:
        return tokenizer_fingerprint(self.metadata)


def tokenizer_fingerprint(metadata: dict) -> dict:
    """The tokenizer fingerprint a model was trained under ({} when it records none)."""
    raw = metadata.get("tokenizer_fingerprint")
    if not raw:
        return {}
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


def save(model, *, metadata: dict[str, Any], golden: pd.DataFrame | None = None,
         store_id: str | None = None) -> SavedModel:
    """Store a fitted model; `metadata` adds to what zeta records itself, `store_id` whose data it learned."""
    import bentoml

    from zeta_serving.tokenizer import Tokenizer

    meta = {
        "task": model.task,
        "metric": model.metric,
        "greater_is_better": model.greater_is_better,
        "package_version": __version__,
        "trained_at": datetime.now(timezone.utc).isoformat(),
        "params": _jsonable(model.get_params(deep=False)),
        # JSON text: BentoML metadata refuses None, which a fingerprint may hold.
        "tokenizer_fingerprint": json.dumps(Tokenizer().fingerprint(), ensure_ascii=False),
        **metadata,
    }
    labels = {TASK_LABEL: model.task, "tokenizer": tokenizer_fingerprint(meta)["id"]}
    if store_id:
        labels[STORE_LABEL] = store_id
    cases = golden_cases(model, golden) if golden is not None else []
    with bentoml.models.create(model_name(model.task), labels=labels, metadata=meta,
                               module="zeta_serving.registry") as ref:
        joblib.dump(model, ref.path_of(MODEL_FILE), compress=3)
        with open(ref.path_of(GOLDEN_FILE), "w", encoding="utf-8") as fh:
            json.dump(cases, fh, ensure_ascii=False)
    return describe(ref)


def golden_cases(model, frame: pd.DataFrame, n: int = GOLDEN_CASES) -> list[dict]:
    """A fixed sample of inputs with the model's own answers to them."""
    sample = frame.head(0) if frame.empty else frame.sample(min(n, len(frame)), random_state=0)
    inputs = sample[[c for c in COLUMNS if c not in ("price", "tags", "listed_at")]]
    records = json.loads(inputs.to_json(orient="records", force_ascii=False))
    return [{"input": rec, "output": out} for rec, out in zip(records, model.predict(sample))]


def describe(ref) -> SavedModel:
    info = ref.info
    return SavedModel(tag=str(ref.tag), task=info.labels.get(TASK_LABEL, ""), metadata=dict(info.metadata),
                      created=info.creation_time, store=info.labels.get(STORE_LABEL, ""))


def get(tag: str):
    """The BentoML model for an exact tag (`zeta-price:v1`).

    A bare task name or `:latest` is refused: the newest model may be an unvetted challenger
    (a `not-recovered` cycle leaves one); which model serves is the ledger's champion
    (zeta_serving.champion).
    """
    import bentoml
    from bentoml.exceptions import NotFound

    if tag in tasks.names() or ":" not in tag or tag.endswith(":latest"):
        raise ZetaError(f"{tag!r} is not an exact model tag (name:version); the default model of a "
                        "task is its champion in the ledger")
    try:
        return bentoml.models.get(tag)
    except NotFound:
        raise ZetaError(f"no model {tag!r} in the model store; train one with `zeta train`") from None
    except ValueError as exc:
        raise ZetaError(f"not a model tag: {tag!r} ({exc})") from None


def load(tag: str):
    """(fitted model, SavedModel) for an exact tag."""
    ref = get(tag)
    return load_ref(ref), describe(ref)


def load_ref(ref):
    return joblib.load(ref.path_of(MODEL_FILE))


def load_golden(ref) -> list[dict]:
    with open(ref.path_of(GOLDEN_FILE), encoding="utf-8") as fh:
        return json.load(fh)


def list_models(task: str | None = None, store_id: str | None = None) -> list[SavedModel]:
    """Zeta's models in the model store, newest first; only those of one listing store if `store_id`."""
    import bentoml

    found = []
    for name in ([model_name(task)] if task else [t.model_name for t in tasks.all_tasks()]):
        try:
            found.extend(describe(ref) for ref in bentoml.models.list(name))
        except Exception:  # noqa: BLE001 - a name with no models yet
            continue
    if store_id is not None:
        found = [m for m in found if m.store == store_id]
    return sorted(found, key=lambda m: m.created, reverse=True)


def _jsonable(params: dict) -> dict:
    return {k: v if isinstance(v, (str, int, float, bool)) else repr(v) for k, v in params.items()}
