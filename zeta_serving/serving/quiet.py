"""Client errors are logged at INFO in one line, not at ERROR with a traceback.

BentoML's HTTP app (`_bentoml_impl.server.app`, `api_endpoint_wrapper`) answers a request that
fails validation with a 400, but first calls `log_exception`, which logs "Exception on <path>
[<method>]" at ERROR with the whole traceback on the `bentoml._internal.server.http_app` logger:
about 2 KB per bad request, so a fuzzer or a broken client fills the disk. A filter on that
logger rewrites exactly those records whose exception is a client error (pydantic's
ValidationError, or a BentoMLException below 500) into one INFO line naming the fields;
server errors keep their traceback. Installed by every service at import (runtime.gate).
"""

from __future__ import annotations

import logging

BENTOML_HTTP_LOGGER = "bentoml._internal.server.http_app"
MAX_LINE = 300


def client_status(exc: BaseException | None) -> int | None:
    """The 4xx status BentoML answers `exc` with, or None for a server error."""
    if exc is None:
        return None
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return 400
    from bentoml.exceptions import BentoMLException

    if isinstance(exc, BentoMLException):
        status = int(exc.error_code.value)
        return status if 400 <= status < 500 else None
    return None


def _summary(exc: BaseException) -> str:
    from pydantic import ValidationError

    from zeta_serving.redaction import scrub_secrets

    if isinstance(exc, ValidationError):
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                           for e in exc.errors(include_url=False, include_context=False, include_input=False))
        text = f"{exc.error_count()} validation error(s): {fields}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = scrub_secrets(" ".join(text.split()))
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


class ClientErrorsAtInfo(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        status = client_status(exc) if record.msg == "Exception on %s [%s]" else None
        if status is not None:
            path, method = record.args if isinstance(record.args, tuple) and len(record.args) == 2 else ("?", "?")
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "%s %s -> %d: %s", (method, path, status, _summary(exc))
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def quiet_client_errors() -> None:
    """Install the filter once (idempotent)."""
    logger = logging.getLogger(BENTOML_HTTP_LOGGER)
    if not any(isinstance(f, ClientErrorsAtInfo) for f in logger.filters):
        logger.addFilter(ClientErrorsAtInfo())
