"""Bento images in three tiers, so the MeCab layer exists once and is shared by digest.

    zeta-mecab-base:<pins>       Debian minbase + python3 + /opt/zeta/venv with fugashi, unidic-lite
    zeta-serving-runtime:<lock>  + every other locked package, installed into the same venv
    zeta-<task>:<bento version>  + the bento (code and packed models), run as uid 1034
    zeta-maintain-tools:<inputs> + buildah, debootstrap, the package's other dependencies (on the runtime)
    zeta-maintain:<commit>       + the project source: `zeta maintain` able to build the tiers above

The base is built from a debootstrap tree (Debian's package registry, no Docker Hub,
no daemon), or taken from `--base-image` when a registry is reachable. Each tier is
rebuilt only when its inputs change: the image carries an `io.zeta.inputs` label, the
digest of what built it. Python packages come from the local wheelhouse only.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from zeta_serving import wheelhouse
from zeta_serving.engine import Engine
from zeta_serving.errors import ZetaError

BASE_REPO = "zeta-mecab-base"
RUNTIME_REPO = "zeta-serving-runtime"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv")
INPUTS_LABEL = "io.zeta.inputs"
# Trimmed from the tree before it becomes a layer: nothing at run time reads them.
TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info",
        "usr/share/locale")


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def cache_dir() -> Path:
    return wheelhouse.default_dir().parent


def base_tag(root: Path) -> str:
    tokenizer, _ = wheelhouse.split(wheelhouse.read_lock(root))
    pins = {p.name: p.version for p in tokenizer}
    return f"{BASE_REPO}:fugashi{pins['fugashi']}-unidiclite{pins['unidic-lite']}"


def base_inputs(root: Path) -> str:
    tokenizer, _ = wheelhouse.split(wheelhouse.read_lock(root))
    return _digest((root / "containers/mecab-base/Containerfile").read_bytes(), SUITE, *PACKAGES,
                   *(f"{p.filename}={p.sha256}" for p in tokenizer))


def runtime_tag(root: Path) -> str:
    return f"{RUNTIME_REPO}:{runtime_inputs(root, base_tag(root))[:12]}"


def runtime_inputs(root: Path, base: str) -> str:
    return _digest((root / "containers/serving-runtime/Containerfile").read_bytes(), base,
                   wheelhouse.lock_digest(root))


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (`ZETA_DEBIAN_MIRROR` overrides it)."""
    if os.environ.get("ZETA_DEBIAN_MIRROR"):
        return os.environ["ZETA_DEBIAN_MIRROR"]
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources")) + [Path("/etc/apt/sources.list"),
                                                                          *sorted(Path("/etc/apt/sources.list.d")
                                                                                  .glob("*.list"))]
    for path in sources:
        text = path.read_text() if path.is_file() else ""
        uris = re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M)
        for uri in uris:
            if "security" not in uri and uri.rstrip("/").endswith("/debian"):
                return uri
    raise ZetaError("no Debian mirror in /etc/apt/sources.list*: pass --mirror or set ZETA_DEBIAN_MIRROR")


def rootfs_tar(mirror: str | None = None) -> Path:
    """A debootstrap minbase tree with python3, packed as a tar; cached by suite and packages."""
    key = _digest(SUITE, *PACKAGES, *TRIM)[:16]
    tar = cache_dir() / f"rootfs-{SUITE}-{key}.tar"
    if tar.is_file():
        return tar
    if not shutil.which("debootstrap"):
        raise ZetaError("debootstrap is not installed (apt-get install debootstrap), "
                        "or pass --base-image to build on a pulled base")
    tar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tar.parent, prefix="rootfs-") as tmp:
        tree = Path(tmp) / "tree"
        cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(tree),
               mirror or debian_mirror()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise ZetaError(f"debootstrap failed (exit {done.returncode}): "
                            + " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:]))
        for part in TRIM:
            for child in (tree / part).glob("*"):
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        partial = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "--numeric-owner", "-C", str(tree), "-cf", str(partial), "."], check=True)
        partial.replace(tar)
    return tar


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _wheels_context(ctx: Path, pins: list[wheelhouse.Pin], folder: Path) -> None:
    wheels = ctx / "wheels"
    wheels.mkdir(parents=True)
    for pin in pins:
        _link_or_copy(folder / pin.filename, wheels / pin.filename)
    (wheels / "requirements.txt").write_text("".join(f"{p.requirement} --hash=sha256:{p.sha256}\n" for p in pins))


def _current(engine: Engine, image: str, inputs: str) -> bool:
    return engine.exists(image) and engine.labels(image).get(INPUTS_LABEL) == inputs


def ensure_base(engine: Engine, root: Path, *, mirror: str | None = None, log=print) -> str:
    """The MeCab base image, built from Debian packages unless an up-to-date one is in storage."""
    tag, inputs = base_tag(root), base_inputs(root)
    if _current(engine, tag, inputs):
        return tag
    folder, fetched = wheelhouse.fill(root)
    tokenizer, _ = wheelhouse.split(wheelhouse.read_lock(root))
    started = time.monotonic()
    tar = rootfs_tar(mirror)
    log(f"rootfs {tar.name} ready in {time.monotonic() - started:.0f}s")
    with tempfile.TemporaryDirectory(dir=tar.parent, prefix="ctx-") as tmp:
        ctx = Path(tmp)
        _link_or_copy(tar, ctx / "rootfs.tar")
        _wheels_context(ctx, tokenizer, folder)
        started = time.monotonic()
        engine.build(str(root / "containers/mecab-base/Containerfile"), str(ctx), tag,
                     labels={INPUTS_LABEL: inputs, "org.opencontainers.image.title": BASE_REPO,
                             "io.zeta.tokenizer.packages": " ".join(p.requirement for p in tokenizer)})
    log(f"built {tag} in {time.monotonic() - started:.0f}s")
    return tag


def ensure_runtime(engine: Engine, root: Path, *, base_image: str | None = None, mirror: str | None = None,
                   log=print) -> str:
    """The serving runtime image on the base (built, or `base_image` as given), rebuilt when the lock changes."""
    base = base_image or ensure_base(engine, root, mirror=mirror, log=log)
    inputs = runtime_inputs(root, base)
    return _wheel_tier(engine, root, RUNTIME_REPO, inputs, "containers/serving-runtime/Containerfile",
                       lambda: wheelhouse.split(wheelhouse.read_lock(root))[1], build_args={"BASE_IMAGE": base},
                       labels={"io.zeta.lock": wheelhouse.lock_digest(root)}, log=log)


def _wheel_tier(engine: Engine, root: Path, repo: str, inputs: str, containerfile: str, pins, *,
                lock: str = wheelhouse.LOCK, build_args: dict[str, str], labels: dict[str, str], log) -> str:
    """A tier that pip-installs `pins()` from the wheelhouse: `repo:<inputs>`, built unless current."""
    tag = f"{repo}:{inputs[:12]}"
    if _current(engine, tag, inputs):
        return tag
    folder, _ = wheelhouse.fill(root, lock=lock)
    with tempfile.TemporaryDirectory(dir=cache_dir(), prefix="ctx-") as tmp:
        _wheels_context(Path(tmp), pins(), folder)
        started = time.monotonic()
        engine.build(str(root / containerfile), tmp, tag, build_args=build_args,
                     labels={INPUTS_LABEL: inputs, "org.opencontainers.image.title": repo, **labels})
    log(f"built {tag} in {time.monotonic() - started:.0f}s")
    return tag


def source_revision(root: Path) -> str:
    """The checkout's commit, `+dirty` when it has uncommitted changes; outside git (the zeta-maintain
    image) `$ZETA_SOURCE_REVISION`, the revision the image was built from, else `unknown`."""
    fallback = os.environ.get("ZETA_SOURCE_REVISION") or "unknown"
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=30)
        if rev.returncode != 0:
            return fallback
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return fallback
    return rev.stdout.strip() + ("+dirty" if dirty else "")


def image_labels(bento, root: Path) -> dict[str, str]:
    """OCI labels naming what is inside: bento, models, tokenizer fingerprint, source revision."""
    from zeta_serving import registry

    model_tags = sorted(str(m.tag) for m in bento.info.all_models)
    fingerprints = sorted({registry.describe(registry.get(tag)).tokenizer_fingerprint.get("id", "")
                           for tag in model_tags} - {""})
    labels = bento.info.labels or {}
    return {
        "org.opencontainers.image.title": bento.tag.name,
        "org.opencontainers.image.version": bento.tag.version or "",
        "org.opencontainers.image.revision": source_revision(root),
        "io.zeta.bento": str(bento.tag),
        "io.zeta.task": str(labels.get("task", "")),
        "io.zeta.models": ",".join(model_tags),
        "io.zeta.tokenizer": ",".join(fingerprints),
    }


def build_bento_image(engine: Engine, root: Path, bento_tag: str, *, image_tag: str | None = None,
                      base_image: str | None = None, mirror: str | None = None, log=print) -> str:
    """The bento's image above the shared runtime; returns its tag (default: the bento tag)."""
    import bentoml
    from bentoml.models import BentoModel

    bento = bentoml.get(bento_tag)
    runtime = ensure_runtime(engine, root, base_image=base_image, mirror=mirror, log=log)
    image = image_tag or str(bento.tag)
    inputs = _digest(str(bento.tag), engine.image_id(runtime), (root / "containers/bento/Containerfile").read_bytes(),
                     (root / "containers/bento/serve.sh").read_bytes())
    if _current(engine, image, inputs):  # this bento on this runtime is built already
        return image
    with tempfile.TemporaryDirectory(dir=cache_dir(), prefix="ctx-") as tmp:
        folder = Path(tmp) / "bento"
        shutil.copytree(bento.path, folder)
        shutil.copy2(root / "containers/bento/serve.sh", Path(tmp) / "serve.sh")
        for model in bento.info.all_models:
            BentoModel(model.tag).resolve(folder / "models")
        started = time.monotonic()
        engine.build(str(root / "containers/bento/Containerfile"), tmp, image,
                     build_args={"RUNTIME_IMAGE": runtime},
                     labels={**image_labels(bento, root), INPUTS_LABEL: inputs})
    log(f"built {image} in {time.monotonic() - started:.0f}s")
    return image


def push(engine: Engine, image: str, repository: str) -> str:
    """Push `image` under `repository` (REGISTRY/REPO); returns `REGISTRY/REPO/name:tag@sha256:...`."""
    name = image.rsplit("/", 1)[-1]
    destination = f"{repository.rstrip('/')}/{name}"
    return f"{destination}@{engine.push(image, destination)}"


MAINTAIN_REPO = "zeta-maintain"
TOOLS_REPO = "zeta-maintain-tools"


def ensure_maintain_tools(engine: Engine, root: Path, runtime: str, log=print) -> str:
    """buildah, debootstrap and the package's other dependencies on the runtime: rebuilt only when
    the runtime, the maintain lock or the Containerfile changes, not for every source change."""
    inputs = _digest((root / "containers/maintain-tools/Containerfile").read_bytes(), engine.image_id(runtime),
                     wheelhouse.lock_digest(root, wheelhouse.MAINTAIN_LOCK))

    def pins():
        serving = {p.requirement for p in wheelhouse.read_lock(root)}
        return [p for p in wheelhouse.read_lock(root, wheelhouse.MAINTAIN_LOCK) if p.requirement not in serving]

    return _wheel_tier(engine, root, TOOLS_REPO, inputs, "containers/maintain-tools/Containerfile", pins,
                       lock=wheelhouse.MAINTAIN_LOCK, build_args={"RUNTIME_IMAGE": runtime},
                       labels={"io.zeta.runtime": runtime}, log=log)


def _source_files(root: Path) -> list[str]:
    """The project's tracked files (what a clean clone holds); everything but caches outside git."""
    done = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode == 0 and done.stdout:
        return [f for f in done.stdout.split("\0") if f and (root / f).is_file()]
    skip = {".git", ".venv", ".zeta", "__pycache__", ".pytest_cache"}
    return [str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(root).parts)]


def build_maintain_image(engine: Engine, root: Path, *, image_tag: str | None = None,
                         base_image: str | None = None, mirror: str | None = None, log=print) -> str:
    """The `zeta-maintain` image: `zeta maintain` with buildah inside, on the serving runtime."""
    runtime = ensure_runtime(engine, root, base_image=base_image, mirror=mirror, log=log)
    tools = ensure_maintain_tools(engine, root, runtime, log=log)
    revision = source_revision(root)
    commit, _, dirty = revision.partition("+")
    image = image_tag or f"{MAINTAIN_REPO}:{commit[:12]}{'-' + dirty if dirty else ''}"
    with tempfile.TemporaryDirectory(dir=cache_dir(), prefix="ctx-") as tmp:
        for name in _source_files(root):
            (Path(tmp, "src", name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, Path(tmp, "src", name))
        started = time.monotonic()
        engine.build(str(root / "containers/maintain/Containerfile"), tmp, image,
                     build_args={"TOOLS_IMAGE": tools, "ZETA_SOURCE_REVISION": revision},
                     labels={"org.opencontainers.image.title": MAINTAIN_REPO,
                             "org.opencontainers.image.revision": revision, "io.zeta.runtime": runtime,
                             "io.zeta.tools": tools})
    log(f"built {image} in {time.monotonic() - started:.0f}s")
    return image
