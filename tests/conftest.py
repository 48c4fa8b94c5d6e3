"""Test environment: a private BentoML home and zeta home, SQLite always, PostgreSQL when asked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before anything imports bentoml: never touch the user's model store, never phone home.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="zeta-tests-"))
os.environ["BENTOML_HOME"] = str(_SESSION_DIR / "bentoml")
os.environ["BENTOML_DO_NOT_TRACK"] = "true"
os.environ["ZETA_HOME"] = str(_SESSION_DIR / "zeta")
os.environ.pop("ZETA_DB_URL", None)
os.environ.pop("ZETA_MECAB_DICT", None)

import pytest  # noqa: E402

POSTGRES_URL = os.environ.get("ZETA_TEST_POSTGRES_URL")

DB_PARAMS = [pytest.param("sqlite", id="sqlite")]
if POSTGRES_URL:
    DB_PARAMS.append(pytest.param("postgresql", id="postgresql"))


@pytest.fixture(params=DB_PARAMS)
def db_url(request, tmp_path) -> str:
    """A fresh, empty listing database: a SQLite file, and PostgreSQL when ZETA_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'zeta.db'}"
    drop_every_table(POSTGRES_URL)
    return POSTGRES_URL


def drop_every_table(url: str) -> None:
    """Empty a test database: every table, whoever declared it, and Alembic's version."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    existing = sa.MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    engine.dispose()


@pytest.fixture
def store(db_url):
    from zeta_serving.store import ListingStore

    return ListingStore(db_url)


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


SMALL_DAYS, SMALL_ROWS_PER_DAY = 12, 400


@pytest.fixture(scope="session")
def trained_store(session_dir):
    """A small synthetic store with every registered model trained on it (session-wide: training is the slow part)."""
    from datetime import date

    from zeta_serving import synth, tasks
    from zeta_serving.store import ListingStore
    from zeta_serving.trainer import train_task

    store = ListingStore(f"sqlite:///{session_dir / 'trained.db'}")
    for frame in synth.generate(date(2026, 1, 1), SMALL_DAYS, SMALL_ROWS_PER_DAY, seed=7):
        store.insert(frame)
    results = {task: train_task(store, task, train_days=9, eval_days=3) for task in tasks.names()}
    return store, results


def _forgetting_new_models():
    import bentoml

    before = {str(m.tag) for m in bentoml.models.list()}
    yield
    for model in bentoml.models.list():
        if str(model.tag) not in before:
            bentoml.models.delete(model.tag)


@pytest.fixture
def forget_new_models():
    """Delete the models a test saves, so later modules still find the session's models newest."""
    yield from _forgetting_new_models()


@pytest.fixture(scope="module")
def forget_module_models():
    """The same for a whole module."""
    yield from _forgetting_new_models()


@pytest.fixture(scope="session")
def served_models(trained_store) -> dict[str, str]:
    """Environment that pins every service to the session's trained models, whatever else is newer."""
    _, results = trained_store
    return {f"ZETA_{task.upper()}_MODEL": result.saved.tag for task, result in results.items()}
