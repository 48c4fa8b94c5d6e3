"""Where zeta keeps its state on the embedded default."""

from __future__ import annotations

import os
from pathlib import Path


def zeta_home() -> Path:
    """`$ZETA_HOME`, default `./.zeta`; created on first use."""
    home = Path(os.environ.get("ZETA_HOME", ".zeta")).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def default_db_url() -> str:
    """`$ZETA_DB_URL`, default a SQLite file under `$ZETA_HOME`."""
    url = os.environ.get("ZETA_DB_URL")
    if url:
        return url
    return f"sqlite:///{(zeta_home() / 'zeta.db').resolve()}"
