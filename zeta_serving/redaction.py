"""The one secret redactor: every message, log line, ledger error and alert body that may hold a
database URL or a password passes through `scrub_secrets`."""

from __future__ import annotations

import re

# scheme://user:password@host -> scheme://user:***@host. The password runs to the last "@" before
# the first "/" or blank, so an unescaped "@" in it is still hidden (hosts never contain "@").
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^\s/]*)@")
# libpq keyword style: "host=db password=secret"
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\b(?:password|passwd|pwd)\s*=\s*)(?P<password>[^\s&;,'\"]+)", re.IGNORECASE)


def scrub_secrets(text: str) -> str:
    """The text with passwords in URLs (scheme://user:password@host) and password=... replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}***@", text)
    return _KEYWORD_PASSWORD.sub(lambda m: f"{m['head']}***", text)
