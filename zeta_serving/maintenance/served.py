"""The live score, measured on what serves: evaluation rows go through the deployment's batch route.

Scoring the stored champion offline would miss exactly the failures that matter in
production: a serving image with another tokenizer, features or code answers differently
from the pickle, and sellers see those answers. So when a deployment is live (and the
task says how to score answers), the rows are sent to `<route>/batch` and the answers
become the estimator's own per-row score parts; the ledger records `served` or `offline`.
"""

from __future__ import annotations

from typing import Any

from zeta_serving import tasks
from zeta_serving.serving.schemas import MAX_BATCH

SERVED, OFFLINE = "served", "offline"


def live_parts(deployer: Any, model: str, estimator: Any, rows: Any, *, offline: bool = False) -> tuple[str, Any]:
    """(how it was scored, the champion's per-row score parts on `rows`)."""
    task = tasks.get(model)
    live = None if offline or task.served_parts is None or task.served_body is None else deployer.current(model)
    if live is None or getattr(deployer, "name", "") == "inprocess":
        return OFFLINE, estimator.score_parts(rows)
    labelled = estimator.labelled(rows)  # the rows score_parts scores, in the same order
    client = deployer.client(live)
    records = labelled.to_dict("records")
    answers: list[Any] = []
    for start in range(0, len(records), MAX_BATCH):
        body = {"listings": [task.served_body(r) for r in records[start:start + MAX_BATCH]]}
        answers.extend(client(f"{task.route}/batch", body)["results"])
    if len(answers) != len(records):
        raise ValueError(f"the {model} deployment answered {len(answers)} of {len(records)} listings")
    return SERVED, task.served_parts(estimator, labelled, answers)
