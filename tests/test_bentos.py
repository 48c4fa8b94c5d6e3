"""The four bentos: built for real with `bentoml build`; their Dockerfiles and pins checked.

No container engine runs here, so the images themselves are not built; the
generated build contexts are what an engine would receive.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from zeta_serving import bentos
from zeta_serving.errors import ZetaError

ROOT = Path(__file__).resolve().parents[1]
TOKENIZER_PINS = {"fugashi", "unidic-lite"}


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
        assert {k: locked[k] for k in TOKENIZER_PINS} == {"fugashi": "1.5.2", "unidic-lite": "1.0.8"}
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
    assert from_project == from_base == from_serving == {"fugashi": "1.5.2", "unidic-lite": "1.0.8"}
    containerfile = (ROOT / "containers/mecab-base/Containerfile").read_text()
    assert "COPY requirements.txt" in containerfile
    for bentofile in map(bentos.bentofile, bentos.targets()):
        config = yaml.safe_load((ROOT / bentofile).read_text())
        assert config["docker"]["base_image"] == "zeta-mecab-base:fugashi1.5.2-unidiclite1.0.8"
        assert config["python"]["requirements_txt"] == "requirements/serving.txt"


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
    zeta = Path(bentos.bentoml_executable()).parent / "zeta"
    done = subprocess.run([str(zeta), "build", "category"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"zeta-category:[a-z0-9]+", done.stdout.strip())


def test_containerize_runs_the_engine_and_reports_its_failure():
    calls = []

    def engine(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, stdout="", stderr="Cannot connect to the Docker daemon")

    with pytest.raises(ZetaError, match="Cannot connect to the Docker daemon"):
        bentos.containerize("zeta-price:abc", backend="buildah", image_tag="registry.local/zeta-price:abc",
                            runner=engine)
    assert calls == [[bentos.bentoml_executable(), "containerize", "zeta-price:abc", "--backend", "buildah",
                      "--image-tag", "registry.local/zeta-price:abc"]]
