"""Golden cases: inputs recorded at training time with the model's own answers.

A rebuilt bento must give the same answers (as each task's `golden_diff` compares
them: exactly for category and tags, within a small relative tolerance for price)
before it takes traffic. This is the guard that stops a change in shared code
(tokenizer, features) from silently degrading a model that itself did not change.
"""

from __future__ import annotations

from typing import Any

from zeta_serving import tasks
from zeta_serving.maintenance.deployers import Client, DeployError


def check(task: str, cases: list[dict[str, Any]], client: Client, *, show: int = 3) -> int:
    """Replay every case through `client`; raise DeployError naming the first mismatches. Returns the count."""
    spec = tasks.get(task)
    if not cases:
        raise DeployError(f"the {task} model has no golden cases to verify against")
    failures = []
    for number, case in enumerate(cases):
        try:
            got = client(spec.route, spec.golden_body(case["input"], case["output"]))
        except Exception as exc:  # noqa: BLE001 - any failure to answer is a failed check
            failures.append(f"case {number} ({case['input'].get('name', '')!r}): no answer: {exc}")
            continue
        found = spec.golden_diff(case["output"], got)
        if found:
            failures.append(f"case {number} ({case['input'].get('name', '')!r}): " + "; ".join(found))
    if failures:
        raise DeployError(f"{len(failures)} of {len(cases)} golden cases differ: " + " | ".join(failures[:show]))
    return len(cases)
