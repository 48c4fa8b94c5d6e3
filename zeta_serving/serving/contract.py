"""The HTTP contract of a public service: the OpenAPI document says what the routes really do.

BentoML 1.4 documents every 400 as `{"error": str, "detail": str}` but answers a validation
error with `detail` as a list of pydantic errors; it documents request bodies as optional
although a missing body is a 400; and it answers a multipart body without a boundary with a 500.
This ASGI middleware, added to every public service, closes those gaps without touching BentoML:

- POST bodies are JSON: a request declaring another Content-Type (multipart, a form, BentoML's
  pickle) gets a 415 naming the header, before BentoML tries to parse it;
- every error a POST route answers has one shape, documented as `ZetaError`:
  `{"error": "...", "detail": [{"loc": [...], "msg": "...", "type": "..."}, ...]}`;
- `/docs.json` declares that shape for every error status (400, 404, 415, 500, 503), and every
  request body as required.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DOCS_PATH = "/docs.json"
ERROR_SCHEMA = "ZetaError"
JSON = "application/json"

ERROR_COMPONENT = {
    "type": "object",
    "title": ERROR_SCHEMA,
    "description": "What was wrong with the request: a summary and one entry per problem",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "One line saying what is wrong"},
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "description": "Where: the field path, or the header",
                            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                    "url": {"type": "string"},
                },
            },
        },
    },
}
DOCUMENTED_ERRORS = {
    "400": "The body is not valid JSON or breaks the request schema: `detail` names each field",
    "415": "The body is not declared as application/json",
    "500": "An unexpected error: the server log has it",
    "503": "Too busy to answer within the latency budget: retry later",
}


def _error_body(error: str, detail: list[dict] | None = None) -> bytes:
    return json.dumps({"error": error, "detail": detail or []}, ensure_ascii=False).encode()


def document(spec: dict) -> dict:
    """The OpenAPI document BentoML generates, made to say what the routes do."""
    spec.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA] = ERROR_COMPONENT
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for item in spec.get("paths", {}).values():
        operation = item.get("post")
        if not operation or "requestBody" not in operation:
            continue
        operation["requestBody"]["required"] = True  # a missing body is a 400, not a default
        responses = operation.setdefault("responses", {})
        # Every error status, BentoML's own (404) included: the middleware gives them all one shape.
        errors = {**{code: r.get("description", "") for code, r in responses.items() if code >= "400"},
                  **DOCUMENTED_ERRORS}
        for status, description in errors.items():
            responses[status] = {"description": description, "content": {JSON: {"schema": ref}}}
    return spec


def normalize_error(body: bytes) -> bytes:
    """BentoML's error bodies in the documented shape (one of them is a one-item list)."""
    try:
        data = json.loads(body)
    except ValueError:
        return _error_body(body.decode("utf-8", "replace").strip() or "error")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict):
        return _error_body(str(data))
    detail = data.get("detail")
    if not isinstance(detail, list):
        detail = [] if detail in (None, "") else [{"loc": [], "msg": str(detail), "type": "error"}]
    return _error_body(str(data.get("error") or "error"), detail)


def _media_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


class HttpContract:
    """ASGI middleware: see the module docstring. Add it with `Service.add_asgi_middleware`."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] == "GET" and scope["path"] == DOCS_PATH:
            await self.app(scope, receive, _rewriting(send, lambda status: status == 200, lambda body: json.dumps(
                document(json.loads(body)), ensure_ascii=False).encode()))
        elif scope["method"] == "POST":
            media_type = _media_type(scope)
            if media_type not in ("", JSON):
                await _answer(send, 415, _error_body(
                    f"unsupported Content-Type {media_type!r}: send the body as {JSON}",
                    [{"loc": ["header", "content-type"], "msg": f"expected {JSON}, got {media_type}",
                      "type": "unsupported_media_type"}]))
                return
            await self.app(scope, receive, _rewriting(send, lambda status: status >= 400, normalize_error))
        else:
            await self.app(scope, receive, send)


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", JSON.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _rewriting(send: Send, when: Callable[[int], bool], rewrite: Callable[[bytes], bytes]) -> Send:
    """A `send` that hands the whole body of a JSON response whose status is `when` to `rewrite`."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            if not when(message["status"]):  # the common case, a 200: nothing to look at
                await send(message)
                return
            headers = dict((k.lower(), v) for k, v in message.get("headers", []))
            if not headers.get(b"content-type", b"").startswith(JSON.encode()):
                await send(message)
                return
            start = message
            return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = rewrite(b"".join(chunks))
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped
