"""Which model a task serves by default: the champion the ledger names, never "the newest".

The newest model of a task may be a challenger the loop trained and did not promote
(`not-recovered`), or one a killed cycle left behind; packing or serving it by default
would put an unvetted model in front of sellers. So every default — `zeta serve`,
`zeta build`, `bentoml build`, the all-in-one, `zeta evaluate`, `zeta predict` — asks here:

1. `$ZETA_<TASK>_MODEL`, when set, names the model explicitly;
2. inside a built bento, the model the bento packs (its `bento.yaml`): a bento serves what
   it was built with, whatever the ledger says later;
3. otherwise the champion of this listing store's ledger.

There is no fourth way: without a champion the answer is an error that says how to get one.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from zeta_serving import registry, tasks
from zeta_serving.errors import ZetaError


def resolve(task: str, store=None) -> str:
    """The exact model tag `task` serves by default (see the module's order)."""
    spec = tasks.get(task)
    explicit = os.environ.get(spec.model_env)
    if explicit:
        return explicit
    packed = packed_model(spec.model_name)
    if packed:
        return packed
    champion = champion_of(task, store)
    if champion is None:
        where = store.url if store is not None else "the default store"
        from zeta_serving.redaction import scrub_secrets

        raise ZetaError(f"no {task} champion in {scrub_secrets(where)}: train one with `zeta train {task}` "
                        f"(the first becomes champion) or name a model with {spec.model_env}")
    return champion.tag


def champion_of(task: str, store=None):
    """The ledger's champion of `task` (None: none yet, or no store database exists)."""
    from zeta_serving.maintenance.ledger import Ledger

    store = store if store is not None else _default_store()
    if store is None:
        return None
    return Ledger(store.engine).champion(task)


def crown_first(store, saved: registry.SavedModel, *, force: bool = False) -> bool:
    """Make `saved` its task's champion if it has none (or `force`); True when it was crowned."""
    from zeta_serving.maintenance.ledger import Champion, Ledger

    ledger = Ledger(store.engine)
    if ledger.champion(saved.task) is not None and not force:
        return False
    ledger.crown(Champion(saved.task, saved.tag, saved.reference_score, datetime.now(timezone.utc)))
    return True


def packed_model(model_name: str) -> str | None:
    """The tag of `model_name` that the bento this code runs from packs (None outside a bento).

    A bento keeps its source under `<bento>/src/` beside `<bento>/bento.yaml`, which lists
    the models it packs; that file, not an environment variable, is what the bento is.
    """
    import yaml

    manifest = Path(__file__).resolve().parents[2] / "bento.yaml"
    if not manifest.is_file() or Path(__file__).resolve().parents[1].name != "src":
        return None
    with manifest.open(encoding="utf-8") as fh:
        info = yaml.safe_load(fh) or {}
    listed = [*(info.get("models") or []),
              *(m for service in info.get("services") or [] for m in service.get("models") or [])]
    for model in listed:
        tag = str(model.get("tag", ""))
        if tag.split(":", 1)[0] == model_name:
            return tag
    return None


def _default_store():
    """The store every command uses by default, without creating one where none exists."""
    from zeta_serving.paths import default_db_url
    from zeta_serving.store import ListingStore

    url = os.environ.get("ZETA_DB_URL")
    if not url:
        home = Path(os.environ.get("ZETA_HOME", ".zeta")).expanduser()
        if not (home / "zeta.db").is_file():
            return None
        url = default_db_url()
    return ListingStore(url)
