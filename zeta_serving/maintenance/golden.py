"""Golden cases: inputs recorded at training time with the model's own answers.

A rebuilt bento must give the same answers (exactly for category and tags,
within a small relative tolerance for price) before it takes traffic. This is
the guard that stops a change in shared code (tokenizer, features) from
silently degrading a model that itself did not change.
"""

from __future__ import annotations

import math
from typing import Any

from zeta_serving.maintenance.deployers import Client, DeployError

ROUTES = {"price": "/price", "category": "/category", "tag": "/tags"}
PRICE_TOLERANCE = 0.01  # relative: float noise across machines, not a model change
PROBABILITY_TOLERANCE = 1e-3


def request_body(task: str, case_input: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The HTTP body a listing form would send for this recorded input."""
    text = {k: (case_input.get(k) or "") for k in ("name", "description", "brand", "category")}
    if task == "price":
        return {**text, "condition": int(case_input.get("condition") or 3),
                "shipping": int(case_input.get("shipping") or 0)}
    if task == "category":
        return {"name": text["name"], "brand": text["brand"], "k": max(1, len(expected["categories"]))}
    if task == "tag":
        return {"name": text["name"], "description": text["description"]}
    raise ValueError(f"unknown task {task!r}")


def differences(task: str, expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Plain-words differences between a recorded answer and a new one ([] when the same)."""
    if task == "price":
        out = []
        for key in ("price", "low", "high"):
            want, have = float(expected[key]), float(got.get(key, math.nan))
            if not math.isclose(want, have, rel_tol=PRICE_TOLERANCE, abs_tol=1.0):
                out.append(f"{key} {have:g} (recorded {want:g})")
        return out
    if task == "category":
        want = [c["category"] for c in expected["categories"]]
        have = [c["category"] for c in got.get("categories", [])]
        if want != have:
            return [f"categories {have} (recorded {want})"]
        probs = zip(expected["categories"], got["categories"])
        return [f"probability of {w['category']} {h['probability']} (recorded {w['probability']})"
                for w, h in probs if abs(w["probability"] - h["probability"]) > PROBABILITY_TOLERANCE]
    want = [t["tag"] for t in expected["tags"]]
    have = [t["tag"] for t in got.get("tags", [])]
    return [] if want == have else [f"tags {have} (recorded {want})"]


def check(task: str, cases: list[dict[str, Any]], client: Client, *, show: int = 3) -> int:
    """Replay every case through `client`; raise DeployError naming the first mismatches. Returns the count."""
    if not cases:
        raise DeployError(f"the {task} model has no golden cases to verify against")
    failures = []
    for number, case in enumerate(cases):
        try:
            got = client(ROUTES[task], request_body(task, case["input"], case["output"]))
        except Exception as exc:  # noqa: BLE001 - any failure to answer is a failed check
            failures.append(f"case {number} ({case['input'].get('name', '')!r}): no answer: {exc}")
            continue
        found = differences(task, case["output"], got)
        if found:
            failures.append(f"case {number} ({case['input'].get('name', '')!r}): " + "; ".join(found))
    if failures:
        raise DeployError(f"{len(failures)} of {len(cases)} golden cases differ: " + " | ".join(failures[:show]))
    return len(cases)
