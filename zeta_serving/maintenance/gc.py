"""Keeping the model and bento stores bounded: `zeta gc`, and after every cycle.

Per task the champion, the previous champion (what a rollback or an operator would go
back to), what serves now and the `keep_models` newest others are kept; older models and
bentos go. A bento is kept when it is one of those by tag or when it packs a kept model
(a bento copies its models, so deleting a model never breaks a bento). The all-in-one
bento (it packs several tasks' models) is collected by `zeta gc` with the same rule.

Only what this store's ledger has named (champions, challengers, built bentos) is ever
deleted: models trained by hand and never crowned, and the models of another store that
shares the BentoML home, are left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from zeta_serving import registry, tasks
from zeta_serving.maintenance.ledger import PROMOTED, PROMOTED_DEGRADED, Ledger

log = logging.getLogger("zeta.gc")

@dataclass
class Collected:
    task: str
    protected: list[str] = field(default_factory=list)  # tags kept whatever their age
    kept: list[str] = field(default_factory=list)  # models and bentos kept (protected or among the newest)
    deleted: list[str] = field(default_factory=list)  # models and bentos removed (or, in a dry run, to remove)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def protected_tags(task: str, ledger: Ledger, deployer=None) -> set[str]:
    """Model and bento tags the ledger names for the task (champion, previous champion, what the
    last run left serving) and what the deployer reports serving now."""
    tags: set[str] = set()
    champion = ledger.champion(task)
    if champion is not None:
        tags |= {champion.tag, champion.bento_tag}
    previous = ledger.previous_champion(task)
    if previous:
        tags.add(previous)
        tags.add(_bento_of_promotion(ledger, task, previous))
    last = ledger.last_run(task)
    if last is not None:
        tags.add(_text(last.get("serving_tag")))
    current = deployer.current(task) if deployer is not None else None
    if current is not None:
        tags |= {current.model_tag, current.bento_tag}
    return {t for t in tags if t}


def collect(task: str, *, ledger: Ledger, keep: int, deployer=None, dry_run: bool = False,
            also_ours: set[str] | None = None, also_protected: set[str] | None = None) -> Collected:
    """Delete the task's models and bentos beyond the protected ones and the `keep` newest others.
    `also_ours` / `also_protected`: tags of the cycle that just ended, not yet in the ledger (what it
    trained and built / the champion it started with, which a promotion just made the previous one)."""
    import bentoml

    extra = {t for t in (also_protected or ()) if t}
    done = Collected(task, protected=sorted(protected_tags(task, ledger, deployer) | extra))
    protected = set(done.protected)
    ours = ledger.known_tags(task) | {t for t in (also_ours or ()) if t}
    models = [m.tag for m in registry.list_models(task) if m.tag in ours]  # newest first
    kept_models = _keep(models, protected, keep)
    for tag in models:
        if tag in kept_models:
            done.kept.append(tag)
        else:
            _delete(done, tag, dry_run, bentoml.models.delete)
    _collect_bentos(done, lambda names: names == {registry.model_name(task)}, protected | kept_models, ours,
                    keep, dry_run)
    return done


def collect_all_in_one(*, ledger: Ledger, keep: int, deployer=None, dry_run: bool = False) -> Collected:
    """The same rule for the all-in-one bento: kept if it packs any task's kept model."""
    done = Collected("all")
    protected: set[str] = set()
    ours: set[str] = set()
    for task in tasks.names():
        tags = protected_tags(task, ledger, deployer)
        known = ledger.known_tags(task)
        protected |= tags
        protected |= _keep([m.tag for m in registry.list_models(task) if m.tag in known], tags, keep)
        ours |= known
    done.protected = sorted(protected)
    _collect_bentos(done, lambda names: len(names) > 1, protected, ours, keep, dry_run)
    return done


def _collect_bentos(done: Collected, packs, protected: set[str], ours: set[str], keep: int,
                    dry_run: bool) -> None:
    """Bentos whose packed model names satisfy `packs` (one task's, or several for the all-in-one);
    a bento is ours when the ledger names it or every model it packs is ours."""
    import bentoml

    candidates = []  # (creation time, tag, packed model tags)
    for bento in bentoml.bentos.list():
        tag, models = str(bento.tag), _packed(bento)
        if models and packs({m.split(":")[0] for m in models}) and (tag in ours or models <= ours):
            candidates.append((bento.info.creation_time, tag, models))
    candidates.sort(reverse=True)
    packing = {tag for _, tag, models in candidates if models & protected}
    kept = _keep([tag for _, tag, _ in candidates], protected | packing, keep)
    for _, tag, _ in candidates:
        if tag in kept:
            done.kept.append(tag)
        else:
            _delete(done, tag, dry_run, bentoml.bentos.delete)


def _packed(bento) -> set[str]:
    """The model tags a bento packs (BentoML 1.4 lists them per service)."""
    found = {str(m.tag) for m in bento.info.models}
    for service in bento.info.services or ():
        found |= {str(m.tag) for m in getattr(service, "models", ()) or ()}
    return found


def _keep(newest_first: list[str], protected: set[str], keep: int) -> set[str]:
    others = [t for t in newest_first if t not in protected]
    return (set(newest_first) & protected) | set(others[:max(0, keep)])


def _delete(done: Collected, tag: str, dry_run: bool, delete) -> None:
    if not dry_run:
        try:
            delete(tag)
        except Exception as exc:  # noqa: BLE001 - one stuck entry must not stop the rest
            log.warning("gc: could not delete %s: %s", tag, exc)
            return
    done.deleted.append(tag)


def _bento_of_promotion(ledger: Ledger, task: str, model_tag: str) -> str | None:
    runs = ledger.history(task)
    promoted = runs[(runs["challenger_tag"] == model_tag) & runs["decision"].isin((PROMOTED, PROMOTED_DEGRADED))]
    return None if promoted.empty else _text(promoted.iloc[-1]["bento_tag"])


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None
