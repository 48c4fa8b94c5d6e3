"""Stores do not grow without end: `zeta gc` and the cleanup after every cycle, on the real BentoML
stores of the test session (conftest's temporary BENTOML_HOME), and the local deployer's log folder."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from tests.test_maintenance import PROMOTABLE, SkipBuild, history, make, run_cli  # noqa: F401 - history is a fixture
from zeta_serving import bentos, registry
from zeta_serving.maintenance import gc
from zeta_serving.maintenance.ledger import Champion, Ledger, Run
from zeta_serving.store import ListingStore

pytestmark = pytest.mark.usefixtures("forget_module_models")
UTC = timezone.utc
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def in_store(tag: str) -> bool:
    return tag in {m.tag for m in registry.list_models()}


def bento_exists(tag: str) -> bool:
    import bentoml

    return tag in {str(b.tag) for b in bentoml.bentos.list()}


@pytest.fixture(scope="module")
def copies(trained_store):
    """Eight real category models (copies of the session's, saved anew, oldest first), two real bentos."""
    import bentoml

    _, results = trained_store
    model, saved = registry.load(results["category"].saved.tag)
    tags = [registry.save(model, metadata={k: saved.metadata[k] for k in ("scores", "train_rows")}).tag
            for _ in range(8)]
    built = [bentos.build("category", model_tags={"category": tags[i]}) for i in (1, 3)]
    yield tags, built
    for tag in built:
        if bento_exists(tag):
            bentoml.bentos.delete(tag)


def test_gc_keeps_champion_previous_serving_and_the_newest_others(copies, tmp_path, capsys):
    (old_prev, c1, c2, champ, c3, c4, c5, stranger), (bento_c1, bento_champ) = copies
    url = f"sqlite:///{tmp_path / 'z.db'}"
    ledger = Ledger(ListingStore(url).engine)
    ledger.crown(Champion("category", old_prev, 0.5, T0))
    for i, challenger in enumerate((c1, c2)):  # not good enough: kept off the air
        run = ledger.start(Run("category", T0 + timedelta(days=i + 1), "test"))
        run.set(decision="not-recovered", champion_tag=old_prev, challenger_tag=challenger, serving_tag=old_prev,
                bento_tag=bento_c1 if challenger == c1 else None)
        ledger.finish(run)
    run = ledger.start(Run("category", T0 + timedelta(days=3), "test"))
    run.set(decision="promoted", champion_tag=old_prev, challenger_tag=champ, serving_tag=champ, bento_tag=bento_champ)
    ledger.finish(run)
    ledger.crown(Champion("category", champ, 0.6, T0 + timedelta(days=3)))  # bento kept because it packs champ
    for i, challenger in enumerate((c3, c4, c5)):
        run = ledger.start(Run("category", T0 + timedelta(days=4 + i), "test"))
        run.set(decision="not-recovered", champion_tag=champ, challenger_tag=challenger, serving_tag=champ)
        ledger.finish(run)
    assert ledger.previous_champion("category") == old_prev

    done = gc.collect("category", ledger=ledger, keep=2)
    assert sorted(done.deleted) == sorted([c1, c2, c3])
    for tag in (old_prev, champ, c4, c5):
        assert in_store(tag), tag
    assert not any(in_store(t) for t in (c1, c2, c3))
    assert in_store(stranger)  # never named by this ledger: another store's, or trained by hand
    assert bento_exists(bento_champ) and bento_exists(bento_c1)  # bento_c1 is among the 2 newest others

    code, out, err = run_cli(["--db", url, "gc", "--model", "category", "--keep", "0", "--dry-run"], capsys)
    assert code == 0 and "would remove 3" in out, (out, err)
    assert in_store(c4) and in_store(c5) and bento_exists(bento_c1)
    code, out, err = run_cli(["--db", url, "gc", "--keep", "0", "--json"], capsys)
    assert code == 0, err
    by_task = {r["task"]: r for r in json.loads(out)["tasks"]}
    assert sorted(by_task["category"]["deleted"]) == sorted([c4, c5, bento_c1])
    assert not in_store(c4) and not in_store(c5) and not bento_exists(bento_c1)
    assert in_store(champ) and in_store(old_prev) and bento_exists(bento_champ) and in_store(stranger)
    assert by_task["all"]["deleted"] == []


def test_keep_models_is_checked(tmp_path):
    from zeta_serving.errors import ConfigError
    from zeta_serving.maintenance.config import load_config

    bad = tmp_path / "zeta.toml"
    bad.write_text("[maintenance]\nkeep_models = -1\n")
    with pytest.raises(ConfigError, match="keep_models"):
        load_config(str(bad))
    bad.write_text("[maintenance.models.tag]\nkeep_models = 5\n")
    assert load_config(str(bad)).policy("tag").keep_models == 5


def test_every_cycle_removes_what_it_no_longer_needs(history, tmp_path):
    maintainer = make(history, tmp_path, **PROMOTABLE, builder=SkipBuild())
    policies = {m: replace(p, keep_models=0) for m, p in maintainer.config.policies.items()}
    maintainer.config = replace(maintainer.config, policies=policies)
    weak = maintainer.ledger.champion("category").tag
    earlier = maintainer.ledger.start(Run("category", maintainer.clock.now() - timedelta(days=1), "test"))
    earlier.set(decision="healthy", champion_tag=weak, serving_tag=weak)  # the ledger knows it as its own
    maintainer.ledger.finish(earlier)
    first = maintainer.run("category")
    assert first.decision == "promoted-degraded", first
    assert in_store(weak)  # what served until this cycle promoted another: now the previous champion
    champion = maintainer.ledger.champion("category").tag
    second = maintainer.run("category")  # the same data again: no better challenger
    assert second.decision == "not-recovered", second
    run = maintainer.ledger.history("category").iloc[-1]
    rejected = run["challenger_tag"]
    assert not in_store(rejected) and json.loads(run["details"])["removed"] == [rejected]
    assert in_store(champion) and in_store(weak)  # the champion, and the previous one for a rollback
    untouched = history[1]["category"]  # trained for the fixture, never named by this ledger
    assert in_store(untouched)


@pytest.mark.e2e
def test_local_deployer_removes_its_log_folder_when_it_stops(trained_store, tmp_path):
    from zeta_serving.maintenance import golden
    from zeta_serving.maintenance.local_deployer import LocalDeployer

    _, results = trained_store
    tag = results["tag"].saved.tag
    cases = registry.load_golden(registry.get(tag))

    def gate(deployment, client):
        golden.check("tag", cases, client)

    deployer = LocalDeployer(port=0, ready_timeout=120).start()
    try:
        deployer.deploy("tag", None, tag, gate)
        assert list(deployer.log_dir.glob("tag-*.log"))
    finally:
        deployer.stop()
    assert not deployer.log_dir.exists()
    given = tmp_path / "logs"
    given.mkdir()
    LocalDeployer(port=0, log_dir=given).start().stop()
    assert given.exists()  # a folder the caller chose is theirs
