"""Alert sinks: where the loop says that something needs a person.

A sink is one small interface (`send`), so a log, a webhook or a pager can be
swapped and tested. Delivery failures are reported back, never raised into the
cycle: an unreachable chat server must not stop the champion from being kept.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import httpx

from zeta_serving.errors import ZetaError
from zeta_serving.redaction import scrub_secrets


@dataclass(frozen=True)
class Alert:
    model: str
    decision: str  # a ledger decision: not-recovered, promoted-degraded, failed
    summary: str  # one line a person reads first
    at: datetime  # the injected clock's time of the run
    run_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)  # scores, windows, tags, error


class AlertSink(Protocol):
    name: str

    def send(self, alert: Alert) -> bool:
        """Deliver the alert; True when delivered. Never raises."""


# ---------------------------------------------------------------------------
# Sinks
# ---------------------------------------------------------------------------

log = logging.getLogger(__name__)

SINK_NAMES = ("log", "webhook")
WEBHOOK_URL_ENV = "ZETA_ALERT_WEBHOOK_URL"

def _plain(value: Any) -> Any:
    """A JSON-safe copy of a details value with every string scrubbed (NaN/inf become None)."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return scrub_secrets(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {scrub_secrets(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        try:
            return _plain(value.item())
        except (TypeError, ValueError):
            pass
    return scrub_secrets(str(value))


def _short(value: Any) -> str:
    """One readable line for a (plain) details value."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_short(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value)
    return "—" if value is None else str(value)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert_line(alert: Alert) -> str:
    return scrub_secrets(f"[zeta] {alert.model} {alert.decision}: {alert.summary}")


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Slack-compatible JSON: `text` (the one line), `blocks` (sections), `zeta` (machine-readable)."""
    details = _plain(dict(alert.details))
    at = _plain(alert.at)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(
            f"*[zeta] {scrub_secrets(alert.model)}* — `{scrub_secrets(alert.decision)}`\n"
            f"{scrub_secrets(alert.summary)}", 3000)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*model*\n{_clip(scrub_secrets(alert.model), 1900)}"},
            {"type": "mrkdwn", "text": f"*decision*\n{_clip(scrub_secrets(alert.decision), 1900)}"},
            {"type": "mrkdwn", "text": f"*at*\n{at}"},
            {"type": "mrkdwn", "text": f"*run*\n{'—' if alert.run_id is None else alert.run_id}"},
        ]},
    ]
    fields = [{"type": "mrkdwn", "text": _clip(f"*{key}*\n{_short(value)}", 2000)}
              for key, value in details.items() if key != "error"]
    for start in range(0, len(fields), 10):  # Slack allows ten fields per section
        blocks.append({"type": "section", "fields": fields[start:start + 10]})
    if details.get("error"):
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": f"*error*\n```{_clip(_short(details['error']), 2900)}```"}})
    return {
        "text": alert_line(alert),
        "blocks": blocks,
        "zeta": {
            "model": scrub_secrets(alert.model),
            "decision": scrub_secrets(alert.decision),
            "summary": scrub_secrets(alert.summary),
            "at": at,
            "run_id": alert.run_id,
            "details": details,
        },
    }


class LogSink:
    """One WARNING line per alert on a logger (default `zeta.alerts`)."""

    def __init__(self, logger_name: str = "zeta.alerts", name: str = "log"):
        self.name = name
        self.logger = logging.getLogger(logger_name)

    def send(self, alert: Alert) -> bool:
        try:
            self.logger.warning("alert %s %s: %s (run %s)", scrub_secrets(alert.model), scrub_secrets(alert.decision),
                                scrub_secrets(alert.summary), "—" if alert.run_id is None else alert.run_id)
            return True
        except Exception:  # noqa: BLE001 - a sink never raises into the cycle
            return False

    def __repr__(self) -> str:
        return f"LogSink(name={self.name!r}, logger={self.logger.name!r})"


class _Secret:
    """A string that never shows itself in repr/str (a webhook URL is a credential)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__


class _RedactSecrets(logging.Filter):
    """Installed on the `httpx` logger: its INFO line names the request URL, which is our secret."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self.lock = threading.Lock()

    def add(self, secret: str) -> None:
        with self.lock:
            self.secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is not ours to fix
            return True
        with self.lock:
            secrets = sorted(self.secrets, key=len, reverse=True)
        if any(s in message for s in secrets):
            for secret in secrets:
                message = message.replace(secret, "<webhook>")
            record.msg, record.args = message, None
        return True


_HTTPX_FILTER = _RedactSecrets()
logging.getLogger("httpx").addFilter(_HTTPX_FILTER)


class WebhookSink:
    """POST the alert as Slack-compatible JSON to an incoming-webhook URL.

    `timeout` is per attempt; `retries` is how many attempts in all (at least one), with
    exponential backoff (`backoff`, 2x, 4x ... seconds) after connection errors, timeouts,
    429 and 5xx; any other 4xx is not retried. Returns True on 2xx and False after giving up,
    never raises. The URL is a credential: it is never logged, raised or shown in repr().
    """

    MAX_RETRY_AFTER = 10.0

    def __init__(self, url: str, *, timeout: float = 5.0, retries: int = 3, backoff: float = 0.5,
                 name: str = "webhook", transport: httpx.BaseTransport | None = None):
        if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url.strip()):
            raise ZetaError(f"{name} sink: the webhook URL must be an http(s) URL "
                            f"(config key webhook_url or env {WEBHOOK_URL_ENV}); value not shown")
        self.name = name
        self.timeout = float(timeout)
        self.retries = max(1, int(retries))
        self.backoff = max(0.0, float(backoff))
        self._url = _Secret(url.strip())
        self._transport = transport
        _HTTPX_FILTER.add(self._url.reveal())

    def __repr__(self) -> str:
        return (f"WebhookSink(name={self.name!r}, url=<redacted>, timeout={self.timeout}, "
                f"retries={self.retries}, backoff={self.backoff})")

    __str__ = __repr__

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay: float = self.backoff * (2 ** (attempt - 1))
        if response is not None and response.status_code == 429:
            try:
                delay = max(delay, min(float(response.headers.get("retry-after", "")), self.MAX_RETRY_AFTER))
            except ValueError:
                pass
        return delay

    def send(self, alert: Alert) -> bool:
        try:
            return self._send(alert)
        except Exception as exc:  # noqa: BLE001 - never raise into the cycle; the type only (no URL)
            log.warning("%s sink: alert for %s (%s) not delivered (%s)", self.name, alert.model,
                        alert.decision, type(exc).__name__)
            return False

    def _send(self, alert: Alert) -> bool:
        body = json.dumps(slack_payload(alert), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "zeta-serving-alerts"}
        reason, attempt = "", 0
        with httpx.Client(timeout=httpx.Timeout(self.timeout), transport=self._transport,
                          follow_redirects=False) as client:
            for attempt in range(1, self.retries + 1):
                response = None
                try:
                    response = client.post(self._url.reveal(), content=body, headers=headers)
                except httpx.TransportError as exc:  # timeouts, refused, reset, protocol errors
                    reason = type(exc).__name__
                    if isinstance(exc, httpx.UnsupportedProtocol):
                        break
                else:
                    status = response.status_code
                    if 200 <= status < 300:
                        if attempt > 1:
                            log.info("%s sink: delivered on attempt %d", self.name, attempt)
                        return True
                    reason = f"HTTP {status}"
                    if status != 429 and status < 500:
                        log.warning("%s sink: alert for %s (%s) rejected with %s, not retried", self.name,
                                    alert.model, alert.decision, reason)
                        return False
                if attempt < self.retries:
                    time.sleep(self._delay(attempt, response))
        log.warning("%s sink: alert for %s (%s) not delivered after %d attempt%s (%s)", self.name, alert.model,
                    alert.decision, attempt, "" if attempt == 1 else "s", reason)
        return False


class MultiSink:
    """Every sink gets every alert; `send` returns {sink name: delivered}."""

    name = "multi"

    def __init__(self, sinks: Iterable[AlertSink]):
        self.sinks: list[AlertSink] = []
        self._names: list[str] = []
        for sink in sinks:
            base = getattr(sink, "name", type(sink).__name__)
            name, n = base, 1
            while name in self._names:
                n += 1
                name = f"{base}#{n}"
            self.sinks.append(sink)
            self._names.append(name)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self.sinks)

    def __bool__(self) -> bool:  # an empty MultiSink is still a sink, just a quiet one
        return True

    def send(self, alert: Alert) -> dict[str, bool]:
        delivered: dict[str, bool] = {}
        for name, sink in zip(self._names, self.sinks):
            try:
                delivered[name] = bool(sink.send(alert))
            except Exception as exc:  # noqa: BLE001 - a misbehaving sink must not hide the others
                log.warning("%s sink raised %s; counted as not delivered", name, type(exc).__name__)
                delivered[name] = False
        return delivered

    def __repr__(self) -> str:
        return f"MultiSink({self.sinks!r})"


def build_sinks(names: Iterable[str], *, webhook_url: str | None, timeout: float = 5.0,
                retries: int = 3) -> MultiSink:
    """Sinks from config: names from {"log", "webhook"}; "webhook" needs a URL."""
    sinks: list[AlertSink] = []
    seen: set[str] = set()
    for raw in names:
        name = str(raw).strip().lower()
        if name in seen:
            continue
        seen.add(name)
        if name == "log":
            sinks.append(LogSink())
        elif name == "webhook":
            if not webhook_url or not str(webhook_url).strip():
                raise ZetaError("alert sink 'webhook' needs a URL: set config key webhook_url "
                                f"or env {WEBHOOK_URL_ENV}")
            sinks.append(WebhookSink(webhook_url, timeout=timeout, retries=retries))
        else:
            raise ZetaError(f"unknown alert sink {str(raw)!r}: choose from {', '.join(SINK_NAMES)}")
    return MultiSink(sinks)
