"""Every task's bento and the all-in-one: built for real with `bentoml build`, offline; their pins and lock checked.

The images themselves are built, run and pushed in tests/test_images.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from zeta_serving import bentos
from zeta_serving.errors import ZetaError

ROOT = Path(__file__).resolve().parents[1]
TOKENIZER_PINS = {"fugashi", "mecab-python3", "unidic-lite"}
TOKENIZER = {"fugashi": "1.5.2", "mecab-python3": "1.0.12", "unidic-lite": "1.0.8"}


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


@pytest.fixture(scope="module")
def built(trained_store):
    _, results = trained_store
    pinned = {task: result.saved.tag for task, result in results.items()}
    return {target: bentos.build(target, model_tags=pinned) for target in bentos.targets()}, results


def test_every_bento_builds_and_packs_its_models(built):
    tags, results = built
    for target, tag in tags.items():
        info = yaml.safe_load((bentos.bento_dir(tag) / "bento.yaml").read_text())
        packed = {m["tag"] for service in info["services"] for m in service["models"]}
        expected = {results[task].saved.tag for task in bentos.tasks_of(target)}
        assert packed == expected, target
        assert info["service"] == bentos.service(target)


def test_one_shared_base_image_and_the_same_tokenizer_pins(built):
    tags, _ = built
    bases = set()
    for tag in tags.values():
        folder = bentos.bento_dir(tag)
        dockerfile = (folder / "env/docker/Dockerfile").read_text()
        bases.add(re.search(r"^FROM (\S+)", dockerfile, re.M).group(1))
        locked = pins((folder / "env/python/requirements.txt").read_text().splitlines())
        assert {k: locked[k] for k in TOKENIZER_PINS} == TOKENIZER
        # Built offline: bentoml did not lock against the index (nor install uv to do it).
        assert not (folder / "env/python/requirements.lock.txt").exists()
        assert (folder / "src/zeta_serving/tokenizer.py").is_file()
        assert (folder / "src/zeta_serving/data/categories.tsv").is_file()
    assert len(bases) == 1
    base = bases.pop()
    assert base.startswith("zeta-mecab-base:") and "fugashi1.5.2" in base and "unidiclite1.0.8" in base


def test_pins_agree_across_pyproject_base_image_and_bentos():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    from_project = {k: v for k, v in pins(project).items() if k in TOKENIZER_PINS}
    from_base = pins((ROOT / "containers/mecab-base/requirements.txt").read_text().splitlines())
    from_serving = {k: v for k, v in pins((ROOT / "requirements/serving.txt").read_text().splitlines()).items()
                    if k in TOKENIZER_PINS}
    assert from_project == from_base == from_serving == TOKENIZER
    from zeta_serving import images, wheelhouse

    locked = {p.name: p.version for p in wheelhouse.read_lock(ROOT)}
    assert {k: locked[k] for k in TOKENIZER_PINS} == from_base
    for name, version in pins((ROOT / "requirements/serving.txt").read_text().splitlines()).items():
        assert locked[name] == version, name
    assert locked["bentoml"] == "1.4.40"
    for bentofile in map(bentos.bentofile, bentos.targets()):
        config = yaml.safe_load((ROOT / bentofile).read_text())
        assert config["docker"]["base_image"] == images.base_tag(ROOT)
        assert images.base_tag(ROOT) == "zeta-mecab-base:fugashi1.5.2-unidiclite1.0.8"
        assert config["python"]["requirements_txt"] == "requirements/serving.txt"
        assert config["python"]["lock_packages"] is False  # no uv, no index at build time


def test_the_lock_pins_one_hashed_file_per_package_and_splits_off_the_tokenizer():
    from zeta_serving import wheelhouse

    lock = wheelhouse.read_lock(ROOT)
    assert len({p.name for p in lock}) == len(lock) > 50
    tokenizer, rest = wheelhouse.split(lock)
    assert [p.name for p in tokenizer] == ["fugashi", "mecab-python3", "unidic-lite"]
    assert not TOKENIZER_PINS & {p.name for p in rest}
    assert all(len(p.sha256) == 64 and p.version in p.filename.replace("_", "-") for p in lock)


def test_a_broken_lock_line_is_named(tmp_path):
    from zeta_serving import wheelhouse

    (tmp_path / "requirements").mkdir()
    (tmp_path / wheelhouse.LOCK).write_text("numpy==2.4.6\n")
    with pytest.raises(ZetaError, match=r"serving.lock.txt:1: not `name==version"):
        wheelhouse.read_lock(tmp_path)


def test_a_pinned_model_is_the_one_packed(trained_store):
    _, results = trained_store
    older = results["tag"].saved.tag
    tag = bentos.build("tag", model_tags={"tag": older})
    info = yaml.safe_load((bentos.bento_dir(tag) / "bento.yaml").read_text())
    assert {m["tag"] for s in info["services"] for m in s["models"]} == {older}


def test_build_of_a_missing_model_fails_with_the_reason(trained_store):
    with pytest.raises(ZetaError, match="no model zeta-price:doesnotexist"):
        bentos.build("price", model_tags={"price": "zeta-price:doesnotexist"})


def test_zeta_build_prints_the_tag(trained_store):
    _, results = trained_store
    zeta = Path(bentos.bentoml_executable()).parent / "zeta"
    # Named explicitly: this test session's default store has no champion (tests/test_champion.py).
    env = {**os.environ, "ZETA_CATEGORY_MODEL": results["category"].saved.tag}
    done = subprocess.run([str(zeta), "build", "category"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"zeta-category:[a-z0-9]+", done.stdout.strip())


def test_bentoml_finds_the_uv_guard_and_never_installs_uv(tmp_path, monkeypatch):
    # BentoML 1.4.40 resolves uv on every build and pip-installs it when missing; zeta's
    # build puts a uv first on PATH that refuses to run, so nothing is installed or locked.
    from bentoml._internal.configuration import get_uv_command

    guard = bentos._uv_guard(str(tmp_path))
    monkeypatch.setenv("PATH", guard + os.pathsep + os.environ["PATH"])
    assert get_uv_command() == [str(tmp_path / "uv")]
    done = subprocess.run([*get_uv_command(), "pip", "compile"], capture_output=True, text=True)
    assert done.returncode == 1 and "locking is off" in done.stderr


def test_containerize_names_an_unknown_or_missing_engine(monkeypatch):
    with pytest.raises(ZetaError, match="unknown container engine 'nerdctl'"):
        bentos.containerize("zeta-price:abc", backend="nerdctl")
    from zeta_serving.engine import Engine

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ZetaError, match="container engine 'podman' is not installed"):
        Engine.from_env("podman").run("images")


def test_zeta_models_and_history_show_the_image_of_each_promotion(trained_store, tmp_path, capsys):
    from datetime import datetime, timezone

    from zeta_serving.cli import main
    from zeta_serving.maintenance.ledger import Champion, Ledger, Run
    from zeta_serving.store import ListingStore

    _, results = trained_store
    tag = results["price"].saved.tag
    pushed = "127.0.0.1:5000/zeta/zeta-price:abc@sha256:" + "0" * 64
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(ListingStore(url).engine)
    now = datetime(2026, 3, 1, 6, tzinfo=timezone.utc)
    run = ledger.start(Run("price", now))
    run.set(decision="promoted", challenger_tag=tag, bento_tag="zeta-price:abc", image_tag=pushed, serving_tag=tag)
    ledger.finish(run)
    ledger.crown(Champion("price", tag, 0.5, now, "zeta-price:abc", pushed))
    capsys.readouterr()
    main(["--db", url, "models", "--all-stores"])  # the session's models learned from another store
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(tag + " "))
    assert f"  {pushed}" in line and line.rstrip().endswith("*champion")
    main(["--db", url, "history", "price"])
    assert f"image {pushed}" in capsys.readouterr().out
    main(["--db", url, "models", "--json", "--all-stores"])
    import json

    listed = {m["tag"]: m["image"] for m in json.loads(capsys.readouterr().out)}
    assert listed[tag] == pushed and listed[results["category"].saved.tag] is None
