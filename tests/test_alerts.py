"""Alert sinks against a real HTTP server on loopback: payload, retries, timeouts, secrets."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from zeta_serving.errors import ZetaError
from zeta_serving.maintenance.alerts import (
    Alert,
    LogSink,
    MultiSink,
    WebhookSink,
    build_sinks,
    scrub_secrets,
)

SECRET_PATH = "/services/T000/B000/SECRETTOKEN"
DB_PASSWORD = "hunter2-pw"
AT = datetime(2026, 3, 14, 3, 0, tzinfo=timezone.utc)


class Hook:
    """A webhook receiver that records every request and answers from a plan."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.plan: list[int] = []  # statuses to answer, in order; 200 once exhausted
        self.delay = 0.0  # seconds to sleep before answering
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.lock:
                    hook.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "at": time.monotonic()})
                    status = hook.plan.pop(0) if hook.plan else 200
                if hook.delay:
                    time.sleep(hook.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}"

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"].decode("utf-8")) for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    server = Hook()
    yield server
    server.close()


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{SECRET_PATH}"


def make_alert(**overrides) -> Alert:
    values = dict(
        model="price",
        decision="not-recovered",
        summary="価格モデルの精度が低下し、再学習でも回復しませんでした",
        at=AT,
        run_id=42,
        details={
            "metric": "mae_log",
            "scores": {"reference": 0.412, "live": 0.5381, "challenger": 0.5204},
            "windows": {"eval": ["2026-03-07", "2026-03-14"], "train": ["2026-02-07", "2026-03-07"]},
            "tags": {"champion": "price:abc123", "challenger": "price:def456"},
            "unseen_tokens": ["ポケカ", "新弾"],
        },
    )
    values.update(overrides)
    return Alert(**values)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert "SECRETTOKEN" not in text
        assert SECRET_PATH not in text


# -- payload ---------------------------------------------------------------------


def test_payload_shape_is_slack_compatible_and_readable_japanese(hook):
    sink = WebhookSink(hook.url, timeout=2, retries=1)
    assert sink.send(make_alert()) is True

    (request,) = hook.requests
    assert request["path"] == SECRET_PATH
    assert request["headers"]["Content-Type"].startswith("application/json")
    # Japanese is sent as UTF-8 text, not \\u escapes, so the raw body is readable.
    assert "価格モデルの精度が低下し".encode() in request["body"]
    assert b"\\u" not in request["body"]

    payload = json.loads(request["body"].decode("utf-8"))
    assert payload["text"] == "[zeta] price not-recovered: 価格モデルの精度が低下し、再学習でも回復しませんでした"
    assert payload["blocks"] and all(b["type"] == "section" for b in payload["blocks"])
    rendered = json.dumps(payload["blocks"], ensure_ascii=False)
    for expected in ("0.412", "0.5381", "2026-03-07", "price:def456", "ポケカ", "42"):
        assert expected in rendered
    for block in payload["blocks"]:
        assert len(block.get("fields", [])) <= 10
        assert len(block.get("text", {}).get("text", "")) <= 3000

    zeta = payload["zeta"]
    assert zeta["model"] == "price" and zeta["decision"] == "not-recovered"
    assert zeta["summary"].startswith("価格モデル")
    assert zeta["at"] == AT.isoformat() and datetime.fromisoformat(zeta["at"]) == AT
    assert zeta["run_id"] == 42
    assert zeta["details"]["scores"] == {"reference": 0.412, "live": 0.5381, "challenger": 0.5204}
    assert zeta["details"]["unseen_tokens"] == ["ポケカ", "新弾"]


def test_payload_has_error_section_and_scrubs_database_passwords(hook):
    db_url = f"postgresql+psycopg://zeta:{DB_PASSWORD}@db.internal:5432/zeta"
    alert = make_alert(
        decision="failed",
        summary=f"evaluate failed: cannot reach {db_url}",
        details={"error": f"(psycopg.OperationalError) connection to {db_url} failed",
                 "stage": "evaluate", "attempts": [{"url": db_url}], "nan": float("nan")},
    )
    assert WebhookSink(hook.url, timeout=2, retries=1).send(alert) is True

    body = hook.requests[0]["body"].decode("utf-8")
    assert DB_PASSWORD not in body
    assert "zeta:***@db.internal:5432/zeta" in body
    payload = json.loads(body)  # strict JSON: NaN became null
    assert payload["zeta"]["details"]["nan"] is None
    assert payload["zeta"]["details"]["attempts"] == [{"url": "postgresql+psycopg://zeta:***@db.internal:5432/zeta"}]
    assert any("*error*" in b.get("text", {}).get("text", "") for b in payload["blocks"])


def test_scrub_secrets():
    assert scrub_secrets("postgresql://u:p4ss@h/db") == "postgresql://u:***@h/db"
    assert scrub_secrets("x mysql+pymysql://u:p@ss@h:3306/db y") == "x mysql+pymysql://u:***@h:3306/db y"
    assert scrub_secrets("redis://:token@cache:6379/0") == "redis://:***@cache:6379/0"
    assert scrub_secrets("host=db user=zeta password=s3cret dbname=z") == "host=db user=zeta password=*** dbname=z"
    # nothing to hide
    for text in ("http://127.0.0.1:8080/path", "sqlite:////tmp/zeta.db", "price mae 0.41 → 0.54"):
        assert scrub_secrets(text) == text


# -- delivery ----------------------------------------------------------------------


def test_retries_after_two_500s_then_succeeds(hook):
    hook.plan = [500, 500, 200]
    assert WebhookSink(hook.url, timeout=2, retries=3, backoff=0.05).send(make_alert()) is True
    assert len(hook.requests) == 3
    gaps = [b["at"] - a["at"] for a, b in zip(hook.requests, hook.requests[1:])]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09  # exponential backoff: 0.05, then 0.1
    assert len({r["body"] for r in hook.requests}) == 1  # the same payload each time


def test_retries_429(hook):
    hook.plan = [429, 200]
    assert WebhookSink(hook.url, timeout=2, retries=3, backoff=0.01).send(make_alert()) is True
    assert len(hook.requests) == 2


def test_gives_up_after_n_attempts_on_persistent_500(hook, caplog):
    hook.plan = [500] * 10
    sink = WebhookSink(hook.url, timeout=2, retries=4, backoff=0.01)
    with caplog.at_level(logging.WARNING):
        assert sink.send(make_alert()) is False
    assert len(hook.requests) == 4
    assert "webhook sink: alert for price (not-recovered) not delivered after 4 attempts (HTTP 500)" in caplog.text


def test_no_retry_on_400(hook, caplog):
    hook.plan = [400, 200]
    with caplog.at_level(logging.WARNING):
        assert WebhookSink(hook.url, timeout=2, retries=3, backoff=0.01).send(make_alert()) is False
    assert len(hook.requests) == 1
    assert "HTTP 400" in caplog.text and "not retried" in caplog.text


def test_timeout_on_slow_server(hook, caplog):
    hook.delay = 1.5
    sink = WebhookSink(hook.url, timeout=0.3, retries=2, backoff=0.01)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert sink.send(make_alert()) is False
    elapsed = time.monotonic() - started
    assert elapsed < 1.4, elapsed  # two attempts of 0.3 s, not the server's 1.5 s
    assert len(hook.requests) == 2
    assert "after 2 attempts (ReadTimeout)" in caplog.text


def test_connection_refused_returns_false_quickly(closed_port_url, caplog):
    sink = WebhookSink(closed_port_url, timeout=2, retries=3, backoff=0.05)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert sink.send(make_alert()) is False
    assert time.monotonic() - started < 2.0
    assert "after 3 attempts (ConnectError)" in caplog.text


def test_never_raises_even_when_the_transport_does(caplog):
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"boom while posting to {request.url}")

    sink = WebhookSink("https://hooks.example.com" + SECRET_PATH, retries=2, backoff=0,
                       transport=httpx.MockTransport(explode))
    with caplog.at_level(logging.DEBUG):
        assert sink.send(make_alert()) is False
    assert "RuntimeError" in caplog.text
    assert_no_secret(caplog.text)


# -- the URL is a secret -----------------------------------------------------------


def test_url_never_in_logs_repr_or_results(hook, closed_port_url, caplog):
    caplog.set_level(logging.DEBUG)  # httpx logs the request URL at INFO: it must be redacted too
    ok = WebhookSink(hook.url, timeout=2, retries=2, backoff=0.01)
    assert ok.send(make_alert()) is True
    hook.plan = [500, 500]
    result = ok.send(make_alert())
    refused = WebhookSink(closed_port_url, timeout=1, retries=2, backoff=0.01)
    refused.send(make_alert())
    hook.delay, hook.plan = 1.0, []
    WebhookSink(hook.url, timeout=0.2, retries=1).send(make_alert())

    assert result is False
    assert len(hook.requests) == 4
    assert caplog.records  # something was logged ...
    assert "<webhook>" in caplog.text  # ... including httpx's own request line, redacted
    for sink in (ok, refused):
        assert_no_secret(repr(sink), str(sink), repr(vars(sink)), repr(MultiSink([sink])))
        assert "url=<redacted>" in repr(sink)
    assert_no_secret(caplog.text, repr(result))
    for record in caplog.records:
        assert_no_secret(record.getMessage(), str(record.args))


def test_invalid_url_error_does_not_show_the_value():
    with pytest.raises(ZetaError) as info:
        WebhookSink("hooks.slack.com" + SECRET_PATH)
    assert_no_secret(str(info.value))
    assert "webhook_url" in str(info.value)


# -- log, multi, build -------------------------------------------------------------


def test_log_sink_logs_one_warning(caplog):
    sink = LogSink()
    with caplog.at_level(logging.WARNING, logger="zeta.alerts"):
        assert sink.send(make_alert()) is True
    records = [r for r in caplog.records if r.name == "zeta.alerts"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    for part in ("price", "not-recovered", "価格モデルの精度が低下し", "run 42"):
        assert part in message


def test_multi_sink_sends_to_all_and_reports_each(hook, caplog):
    class Broken:
        name = "pager"

        def send(self, alert):
            raise RuntimeError("contract broken")

    hook.plan = [500]
    multi = MultiSink([LogSink(), WebhookSink(hook.url, retries=1), Broken(), WebhookSink(hook.url, retries=1)])
    with caplog.at_level(logging.WARNING):
        delivered = multi.send(make_alert())
    assert delivered == {"log": True, "webhook": False, "pager": False, "webhook#2": True}
    assert len(hook.requests) == 2


def test_build_sinks(hook):
    multi = build_sinks(["log", "webhook"], webhook_url=hook.url, timeout=1.5, retries=2)
    assert multi.names == ["log", "webhook"]
    webhook = multi.sinks[1]
    assert isinstance(webhook, WebhookSink) and webhook.timeout == 1.5 and webhook.retries == 2
    assert multi.send(make_alert()) == {"log": True, "webhook": True}
    assert build_sinks(["log"], webhook_url=None, timeout=1, retries=1).names == ["log"]
    assert build_sinks([], webhook_url=None, timeout=1, retries=1).send(make_alert()) == {}


@pytest.mark.parametrize("url", [None, "", "   "])
def test_build_sinks_webhook_without_url(url):
    with pytest.raises(ZetaError, match="webhook_url") as info:
        build_sinks(["log", "webhook"], webhook_url=url, timeout=1, retries=1)
    assert "ZETA_ALERT_WEBHOOK_URL" in str(info.value)


def test_build_sinks_unknown_name_and_secret_free_errors():
    with pytest.raises(ZetaError, match="unknown alert sink 'pager'"):
        build_sinks(["pager"], webhook_url=None, timeout=1, retries=1)
    with pytest.raises(ZetaError) as info:
        build_sinks(["webhook"], webhook_url="ftp://x" + SECRET_PATH, timeout=1, retries=1)
    assert_no_secret(str(info.value))
