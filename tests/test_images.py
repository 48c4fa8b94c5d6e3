"""Container images built for real with buildah and podman (vfs storage, chroot isolation: no daemon),
run and pushed.

The base image comes from debootstrap (Debian's package registry) and the local
wheelhouse; it is built once per machine and lock (cached under
$ZETA_TEST_IMAGE_CACHE, default /var/tmp/zeta-test-images); bento images built
here are removed at the end of the session. Each bento image is built once per session
(`bento_images`) and every test reads it; on vfs each image build and each working
container copies the ~850 MB below, so tests share those too (`_container`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.images_support import CACHE, layer_files, locked, missing_tools, registry, skopeo_inspect, timed
from tests.servers import free_port

MISSING = missing_tools()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"no image builder here: {MISSING}")

ROOT = Path(__file__).resolve().parents[1]
VENV_SITE = "/opt/zeta/venv/lib/python3.11/site-packages/"
# Built once per session, each one way the project builds images: price through the API with buildah,
# the all-in-one (every task's model) with podman, brand through `zeta build --containerize buildah
# --push`. The single-task images of category and tag come from the same Containerfile and code
# (each would cost CI another 1-2 minutes on vfs).
TARGETS = {"price": "buildah", "all": "podman"}
CLI_TARGET = "brand"
GRACE_SECONDS = 30  # the Deployment's terminationGracePeriodSeconds
DRAIN_SECONDS = 6  # ZETA_DRAIN_SECONDS for the SIGTERM test (the image's default is 20)
BUILT: list[str] = []  # bento images this session made, removed at its end
CONTAINERS: dict[str, str] = {}  # image -> working container, shared by the tests, removed at the end


@pytest.fixture(scope="session")
def engine():
    from zeta_serving import images
    from zeta_serving.engine import Engine

    key = images.runtime_inputs(ROOT, images.base_tag(ROOT))[:12]
    for stale in CACHE.glob("storage-*"):  # storages of older locks, untouched for two days
        if stale.name != f"storage-{key}" and time.time() - stale.stat().st_mtime > 2 * 86400:
            shutil.rmtree(stale, ignore_errors=True)
    saved = {k: os.environ.get(k) for k in ("ZETA_CONTAINER_ROOT", "ZETA_CONTAINER_RUNROOT", "ZETA_CACHE",
                                             "ZETA_STORAGE_DRIVER", "ZETA_ISOLATION")}
    os.environ.update(ZETA_CONTAINER_ROOT=str(CACHE / f"storage-{key}/root"),
                      ZETA_CONTAINER_RUNROOT=str(CACHE / f"storage-{key}/run"),
                      ZETA_CACHE=str(CACHE / "cache"), ZETA_STORAGE_DRIVER="vfs", ZETA_ISOLATION="chroot")
    engine = Engine.from_env("buildah")
    with locked(f"build-{key}"):
        with timed("base image (cached: 0 when current)"):
            images.ensure_base(engine, ROOT, log=lambda m: print(m, file=sys.stderr))
        with timed("runtime image (cached: 0 when current)"):
            images.ensure_runtime(engine, ROOT, log=lambda m: print(m, file=sys.stderr))
    yield engine
    try:
        if CONTAINERS:
            engine.run("rm", *CONTAINERS.values())
        if BUILT:
            engine.run("rmi", "-f", *BUILT)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture(scope="session")
def loopback_registry(tmp_path_factory):
    with registry(tmp_path_factory.mktemp("registry")) as host:
        yield host


@pytest.fixture(scope="session")
def built_images(engine, trained_store, loopback_registry):
    """The bento images, built once on the shared runtime: {target: (bento tag, image)}; and what
    `zeta build` printed for the one it built and pushed."""
    from zeta_serving import bentos

    _, results = trained_store
    pinned = {task: result.saved.tag for task, result in results.items()}
    out = {}
    for target, backend in TARGETS.items():
        tag = bentos.build(target, model_tags={t: pinned[t] for t in bentos.tasks_of(target)})
        with timed(f"{backend}: image of {tag}"):
            image = bentos.containerize(tag, backend=backend, root=ROOT)
        BUILT.append(image)
        out[target] = (tag, image)
    zeta = Path(sys.executable).parent / "zeta"
    env = {**os.environ, f"ZETA_{CLI_TARGET.upper()}_MODEL": pinned[CLI_TARGET]}
    with timed(f"zeta build {CLI_TARGET} --containerize buildah --push (bentoml build, image, push)"):
        done = subprocess.run([str(zeta), "build", CLI_TARGET, "--containerize", "buildah", "--push",
                               f"{loopback_registry}/zeta"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    bento_tag, image_line = done.stdout.strip().splitlines()[-2:]
    BUILT.append(bento_tag)
    out[CLI_TARGET] = (bento_tag, bento_tag)
    return out, image_line


@pytest.fixture(scope="session")
def bento_images(built_images) -> dict[str, tuple[str, str]]:
    return built_images[0]


def _container(engine, image: str) -> str:
    """A working container of `image`, made once per session (a vfs copy of the whole image)."""
    if image not in CONTAINERS:
        CONTAINERS[image] = engine.run("from", image).strip()
    return CONTAINERS[image]


def _run(engine, image: str, *cmd: str, options: tuple[str, ...] = ()) -> str:
    return engine.run("run", "--isolation", "chroot", *options, _container(engine, image), "--", *cmd)


def test_the_mecab_layer_exists_once_and_every_bento_image_shares_it(engine, bento_images):
    from zeta_serving import images

    base_layers = engine.layers(images.base_tag(ROOT))
    runtime_layers = engine.layers(images.runtime_tag(ROOT))
    assert runtime_layers[:len(base_layers)] == base_layers
    sizes = {}
    exported = layer_files(engine, [image for _, image in bento_images.values()])
    for target, (_, image) in bento_images.items():
        layers = exported[image]
        assert [d for d, _, _ in layers][:len(runtime_layers)] == runtime_layers, target  # shared, not copied
        base, runtime, own = layers[:len(base_layers)], layers[len(base_layers):len(runtime_layers)], \
            layers[len(runtime_layers):]
        dictionaries = [name for _, names, _ in base for name in names if name.endswith("/sys.dic")]
        assert dictionaries == [VENV_SITE.lstrip("/") + "unidic_lite/dicdir/sys.dic"], dictionaries
        assert any("/fugashi/" in n and ".so" in n for _, names, _ in base for n in names)
        assert any("libmecab" in n for _, names, _ in base for n in names)
        for diff_id, names, _ in runtime + own:  # above the base: no dictionary, no MeCab, no fugashi
            assert not any(n.endswith("sys.dic") or "/fugashi" in n or "/unidic_lite" in n or "libmecab" in n
                           or "/MeCab" in n or "mecab_python3" in n for n in names), (target, diff_id)
        sizes.update(base=sum(s for *_, s in base), runtime=sum(s for *_, s in runtime))
        sizes[target] = sum(s for *_, s in own)
    print("\nlayer bytes (base; runtime on it; each bento image's own added size): "
          + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()), file=sys.stderr)


def test_bento_images_import_fugashi_from_the_base_venv(engine, bento_images):
    for target in ("price", "all"):  # the all-in-one image is podman's: buildah runs it from the same storage
        out = _run(engine, bento_images[target][1], "python", "-c",
                   "import fugashi, unidic_lite, sys; print(fugashi.__file__); print(unidic_lite.DICDIR);"
                   "print(sys.prefix)")
        fugashi_file, dicdir, prefix = out.split()
        assert fugashi_file == VENV_SITE + "fugashi/__init__.py", target
        assert dicdir == VENV_SITE + "unidic_lite/dicdir"
        assert prefix == "/opt/zeta/venv"


def test_images_are_labelled_with_bento_models_tokenizer_and_revision(engine, bento_images, trained_store):
    from zeta_serving import images, registry
    from zeta_serving import tasks as registered

    _, results = trained_store
    for target, (tag, image) in bento_images.items():
        labels = engine.labels(image)
        assert labels["io.zeta.bento"] == tag == image
        tasks = registered.names() if target == "all" else (target,)
        assert labels["io.zeta.models"] == ",".join(sorted(results[t].saved.tag for t in tasks))
        fingerprint = registry.describe(registry.get(results[tasks[0]].saved.tag)).tokenizer_fingerprint["id"]
        assert labels["io.zeta.tokenizer"] == fingerprint
        assert labels["org.opencontainers.image.revision"] == images.source_revision(ROOT) != "unknown"
        assert labels["org.opencontainers.image.title"] == tag.split(":")[0]


def test_the_price_image_serves_its_golden_cases_as_a_non_root_user_and_drains_on_sigterm(
        engine, bento_images, trained_store, tmp_path):
    from zeta_serving import registry, tasks
    from zeta_serving.maintenance import golden

    _, results = trained_store
    image = bento_images["price"][1]
    entrypoint = engine.inspect(image)["OCIv1"]["config"]["Entrypoint"]
    assert entrypoint == ["/usr/local/bin/zeta-serve"]
    assert _run(engine, image, "id", "-u").strip() == "1034"
    port = free_port()
    log = tmp_path / "serve.log"
    servers: list = []
    # `buildah run` runs the command given, not the image's entrypoint: name it, with the flags a pod's
    # args would add (none in zeta's Deployments: ZETA_DRAIN_SECONDS is shortened here to keep the test short).
    proc = subprocess.Popen([*engine.base(), "run", "--isolation", "chroot", "--env",
                             f"ZETA_DRAIN_SECONDS={DRAIN_SECONDS}", _container(engine, image), "--", *entrypoint,
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        cases = registry.load_golden(registry.get(results["price"].saved.tag))
        with httpx.Client(base_url=url, timeout=30) as client:
            def call(route, body):
                response = client.post(route, json=body)
                response.raise_for_status()
                return response.json()

            assert golden.check("price", cases, call) == len(cases) > 0
        servers[:] = _servers(proc)
        assert servers and all(p.uids().real == 1034 for p in servers), [(p.pid, p.uids()) for p in servers]

        # SIGTERM to the container's main process, as a kubelet sends it to PID 1, while two requests
        # are in flight: a batch whose body is still arriving (a slow client) and one that never ends.
        spec = tasks.get("price")
        rows = [spec.golden_body(case["input"], case["output"]) for case in cases]
        batch = json.dumps({"listings": (rows * 256)[:256]}).encode()
        slow = _send_head(port, f"{spec.route}/batch", batch, len(batch) // 2)
        stuck = _send_head(port, spec.route, json.dumps(rows[0]).encode(), 5)
        time.sleep(1)  # both requests reached their handlers
        main = servers[0]  # `bentoml serve`, the circus arbiter: PID 1 in a pod
        assert len(servers) > 1 and all(p.ppid() == main.pid for p in servers[1:]), servers
        started = time.monotonic()
        main.send_signal(signal.SIGTERM)
        time.sleep(2)
        assert main.is_running() and main.status() != "zombie", "bentoml serve left before draining"
        slow.sendall(batch[len(batch) // 2:])
        status, answer = _read_response(slow)
        assert status == 200, answer[:500]
        assert len(json.loads(answer)["results"]) == 256
        finished = time.monotonic() - started
        main.wait(timeout=GRACE_SECONDS)  # the stuck request is cancelled after ZETA_DRAIN_SECONDS
        stopped = time.monotonic() - started
        print(f"\nSIGTERM: the in-flight batch answered 200 after {finished:.1f}s, bentoml serve exited after "
              f"{stopped:.1f}s (drain bound {DRAIN_SECONDS}s, grace {GRACE_SECONDS}s)", file=sys.stderr)
        assert DRAIN_SECONDS <= stopped < GRACE_SECONDS
        assert not [p for p in servers if p.is_running() and p.status() != "zombie"], "a worker outlived it"
        stuck.close()
        proc.wait(timeout=GRACE_SECONDS)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/readyz", timeout=2)
    finally:
        for server in servers:  # never leave a worker behind, whatever failed
            if server.is_running():
                server.kill()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _send_head(port: int, route: str, body: bytes, sent: int) -> socket.socket:
    """A POST whose headers and first `sent` bytes of body are on the wire; the rest is up to the test."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    conn.sendall(f"POST {route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:sent])
    return conn


def _read_response(conn: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536) or b"EOF"
        assert not data.endswith(b"EOF"), data
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "connection closed mid-answer"
        body += chunk
    conn.close()
    return int(head.split()[1]), body


def _servers(proc: subprocess.Popen) -> list:
    """`bentoml serve` first, then its workers, under `buildah run` (chroot isolation shares the host's
    pid space). Not buildah's own helpers: `buildah-chroot-exec` (its argv names the entrypoint) forks
    the command and waits for it, so a SIGTERM sent to it kills it (and with it, by its parent-death
    signal, `bentoml serve`) at once, leaving the workers behind: what an earlier version of this test
    measured. In a pod the entrypoint's exec chain makes `bentoml serve` PID 1 itself."""
    import psutil

    main, workers = [], []
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            argv = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if argv[1:3] == ["/opt/zeta/venv/bin/bentoml", "serve"]:
            main.append(child)
        elif "_bentoml_impl.worker.service" in argv:
            workers.append(child)
    return main + workers


def test_zeta_build_containerizes_and_pushes_to_a_loopback_registry(engine, built_images, loopback_registry):
    from zeta_serving.maintenance.builder import BentoBuilder

    images, image_line = built_images  # `zeta build brand --containerize buildah --push REGISTRY/zeta`
    bento_tag = images[CLI_TARGET][0]
    host = loopback_registry
    pushed = image_line.removeprefix("image ")
    name, digest = pushed.split("@")
    assert name == f"{host}/zeta/{bento_tag}"
    remote = skopeo_inspect(name)
    assert remote["Digest"] == digest
    assert remote["Labels"]["io.zeta.bento"] == bento_tag
    assert len(remote["Layers"]) == len(engine.layers(bento_tag))
    image_id = engine.image_id(bento_tag)

    # The maintenance loop's builder: what the ledger records is the pushed reference with its digest.
    # (the image of that bento is built already: the builder only pushes it)
    builder = BentoBuilder("buildah", root=ROOT, container_registry=f"{host}/loop")
    recorded = builder.containerize(bento_tag)
    assert engine.image_id(bento_tag) == image_id
    assert recorded.startswith(f"{host}/loop/{bento_tag}@sha256:")
    assert skopeo_inspect(recorded.split("@")[0])["Digest"] == recorded.split("@")[1]


def test_a_repeat_build_fetches_nothing_and_reuses_the_base(engine, bento_images):
    from zeta_serving import images, wheelhouse

    runtime = images.runtime_tag(ROOT)
    before = engine.image_id(runtime)
    folder, fetched = wheelhouse.fill(ROOT)
    assert fetched == 0 and not wheelhouse.missing(wheelhouse.read_lock(ROOT), folder)
    assert images.ensure_runtime(engine, ROOT, log=lambda m: None) == runtime
    assert engine.image_id(runtime) == before  # the same image: nothing was rebuilt


def test_the_maintain_image_runs_a_maintenance_cycle_and_builds_an_image_inside(engine, trained_store, session_dir,
                                                                     tmp_path):
    import uuid

    import sqlalchemy as sa

    from zeta_serving import images
    from zeta_serving.engine import Engine

    with timed("zeta-maintain image (its tools tier cached)"):
        image = images.build_maintain_image(engine, ROOT, image_tag=f"zeta-maintain:test-{uuid.uuid4().hex[:8]}",
                                            log=lambda m: print(m, file=sys.stderr))
    BUILT.append(image)
    assert engine.labels(image)["org.opencontainers.image.revision"] == images.source_revision(ROOT)

    # A copy of the trained store and model store, mounted where the image keeps its state.
    state = tmp_path / "state"
    state.mkdir()
    import sqlite3

    # The store runs in WAL mode: fold the log in first, or the copy misses recent writes (its store id).
    with sqlite3.connect(session_dir / "trained.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(session_dir / "trained.db", state / "zeta.db")
    shutil.copytree(session_dir / "bentoml", state / "bentoml", ignore=shutil.ignore_patterns("bentos"))
    (state / "zeta.toml").write_text('[maintenance]\ndeployer = "inprocess"\n')
    out = _run(engine, image, "zeta", "--db", "sqlite:////var/lib/zeta/zeta.db", "maintain", "--once",
               "--model", "price", "--json",
               options=("-v", f"{state}:/var/lib/zeta", "-e", "ZETA_CONFIG=/var/lib/zeta/zeta.toml"))
    assert '"decision"' in out, out[-2000:]
    with sa.create_engine(f"sqlite:///{state / 'zeta.db'}").connect() as conn:
        decisions = [row[0] for row in conn.execute(sa.text("select decision from maintenance_runs"))]
    assert len(decisions) == 1 and decisions[0] not in (None, "failed"), decisions

    # buildah inside it builds an image as it would in a pod: zeta's engine with the image's settings
    # (vfs storage on the state volume, chroot isolation), a RUN step included, granted only
    # CAP_SYS_ADMIN beyond a container's default capabilities (README: zeta-maintain).
    out = _run(engine, image, "sh", "-c", NESTED_BUILD, options=("-v", f"{state}:/var/lib/zeta",
                                                                 "--cap-add", "CAP_SYS_ADMIN"))
    assert "localhost/nested" in out, out[-2000:]  # a plain `buildah images` reads storage.conf: the same storage
    inner = Engine("buildah", str(state / "containers"), str(tmp_path / "inner-run"), "vfs")
    assert inner.labels("nested:test")["io.zeta.nested"] == "built inside"
    assert engine.labels(image)["io.zeta.runtime"] == images.runtime_tag(ROOT)
    assert engine.labels(image)["io.zeta.tools"].startswith(images.TOOLS_REPO + ":")


# A FROM scratch image of the maintain image's own dash and the libraries it links, with a RUN step,
# built by zeta's Engine inside the container; then `buildah images` as an operator would type it.
NESTED_BUILD = """set -e
mkdir -p /tmp/nested && cd /tmp/nested
tar -chf mini.tar /bin/dash $(ldd /bin/dash | grep -o '/[^ ]*') 2>/dev/null
printf 'FROM scratch\\nADD mini.tar /\\nRUN ["/bin/dash", "-c", "echo ok > /proof"]\\n' > Containerfile
python -c 'from zeta_serving.engine import Engine
Engine.from_env("buildah").build("Containerfile", ".", "nested:test", labels={"io.zeta.nested": "built inside"})'
buildah images
"""
