"""What serves by default is the ledger's champion of this store: never the newest model, never another store's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml

from tests.servers import ROOT, free_port, stop, wait_ready
from zeta_serving import bentos, registry
from zeta_serving.champion import packed_model
from zeta_serving.store import ListingStore

ZETA = str(Path(sys.executable).parent / "zeta")
BENTOML = str(Path(sys.executable).parent / "bentoml")


def zeta(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([ZETA, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def seeded(path: Path, seed: int) -> str:
    from zeta_serving import synth

    url = f"sqlite:///{path}"
    store = ListingStore(url)
    for frame in synth.generate(date(2026, 3, 1), 10, 150, seed=seed):
        store.insert(frame)
    return url


def packed(bento_tag: str) -> set[str]:
    info = yaml.safe_load((bentos.bento_dir(bento_tag) / "bento.yaml").read_text())
    return {m["tag"] for s in info["services"] for m in s["models"]}


@pytest.fixture(scope="module")
def crowned_then_newer(tmp_path_factory, forget_module_models):
    """A store whose price champion A is older than an uncrowned model B."""
    url = seeded(tmp_path_factory.mktemp("champion") / "zeta.db", seed=11)
    first = zeta("--db", url, "train", "price", "--eval-days", "3", "--window-days", "7")
    assert first.returncode == 0, first.stderr
    a = first.stdout.split()[1]
    assert f"{a} is now the price champion" in first.stdout
    second = zeta("--db", url, "train", "price", "--eval-days", "2", "--window-days", "7")
    assert second.returncode == 0, second.stderr
    b = second.stdout.split()[1]
    assert f"the champion stays {a}" in second.stdout and a != b
    assert registry.list_models("price", store_id=ListingStore(url).id)[0].tag == b  # B is the newest
    return url, a, b


def test_zeta_build_and_bentoml_build_pack_the_champion_not_the_newest(crowned_then_newer):
    url, a, _ = crowned_then_newer
    built = zeta("--db", url, "build", "price")
    assert built.returncode == 0, built.stderr
    assert packed(built.stdout.strip()) == {a}
    # The bentofile as a user runs it: the service module asks the default store's ledger.
    direct = subprocess.run([BENTOML, "build", "-f", "services/price/bentofile.yaml", ".", "-o", "tag"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, env={**os.environ, "ZETA_DB_URL": url})
    assert direct.returncode == 0, direct.stderr
    tag = next(line.removeprefix("__tag__:") for line in direct.stdout.splitlines() if line.startswith("__tag__:"))
    assert packed(tag.strip()) == {a}


def test_a_bento_serves_what_it_packs_whatever_the_ledger_says_later(crowned_then_newer):
    url, a, _ = crowned_then_newer
    tag = zeta("--db", url, "build", "price").stdout.strip()
    source = bentos.bento_dir(tag) / "src"
    found = subprocess.run([sys.executable, "-c", "from zeta_serving.champion import packed_model; "
                            "print(packed_model('zeta-price'))"], cwd=source, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(source)}, timeout=120)
    assert found.stdout.strip() == a, found.stderr
    assert packed_model("zeta-price") is None  # this checkout is not a bento


def test_zeta_serve_evaluate_and_predict_use_the_champion(crowned_then_newer, tmp_path):
    url, a, b = crowned_then_newer
    evaluated = zeta("--db", url, "evaluate", "price", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["tag"] == a
    listings = tmp_path / "in.jsonl"
    listings.write_text(json.dumps({"id": "x1", "name": "ナイキ スニーカー 27cm", "condition": 3, "shipping": 1,
                                    "listed_at": "2026-03-05T00:00:00Z"}, ensure_ascii=False) + "\n")
    out = tmp_path / "out.jsonl"
    predicted = zeta("--db", url, "predict", "price", "--input", str(listings), "--output", str(out))
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(out.read_text())["model_tag"] == a

    port = free_port()
    proc = subprocess.Popen([ZETA, "--db", url, "serve", "price", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        answer = httpx.post(f"http://127.0.0.1:{port}/price", json={"name": "ナイキ スニーカー 27cm"}, timeout=30)
        assert answer.status_code == 200 and answer.json()["model_tag"] == a != b
    finally:
        stop(proc)


def test_without_a_champion_nothing_is_served_by_default(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    ListingStore(url)
    done = zeta("--db", url, "serve", "price")
    assert done.returncode != 0
    assert "no price champion" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_two_stores_on_one_bentoml_home_keep_their_own_models(tmp_path, forget_new_models):
    first, second = seeded(tmp_path / "one.db", seed=21), seeded(tmp_path / "two.db", seed=22)
    trained = zeta("--db", first, "train", "tag", "--eval-days", "3", "--window-days", "7")
    assert trained.returncode == 0, trained.stderr
    theirs = trained.stdout.split()[1]

    up = zeta("--db", second, "up", "--no-serve", timeout=900)
    assert up.returncode == 0, up.stderr
    ours = ListingStore(second).id
    assert ours != ListingStore(first).id
    from zeta_serving.maintenance.ledger import Ledger

    champion = Ledger(ListingStore(second).engine).champion("tag")
    assert champion is not None and champion.tag != theirs  # trained its own, adopted nothing
    assert registry.describe(registry.get(champion.tag)).store == ours

    listed = zeta("--db", second, "models", "--json")
    rows = json.loads(listed.stdout)
    assert rows and {r["store"] for r in rows} == {ours} and theirs not in {r["tag"] for r in rows}
    everything = json.loads(zeta("--db", second, "models", "--json", "--all-stores").stdout)
    assert {r["tag"]: r["this_store"] for r in everything}[theirs] is False
    table = zeta("--db", second, "models").stdout
    assert "STORE" in table and ours in table and "*champion" in table
