"""Helpers for the container image tests: engine storage, layer contents, a loopback registry."""

from __future__ import annotations

import fcntl
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.servers import free_port

# Base image, wheelhouse and rootfs survive across test runs on one machine, keyed by
# their inputs (a different lock or Containerfile builds afresh beside the old one).
CACHE = Path(os.environ.get("ZETA_TEST_IMAGE_CACHE", "/var/tmp/zeta-test-images"))


def missing_tools() -> str | None:
    for tool in ("buildah", "podman", "skopeo", "docker-registry", "debootstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/run installs buildah, podman, skopeo, docker-registry, debootstrap)"
    if os.geteuid() != 0:
        return "image tests run as root (debootstrap, buildah chroot isolation with vfs storage)"
    return None


@contextmanager
def timed(what: str):
    """Print a step's wall seconds and the CPU seconds (user+sys) of the commands it ran (the builders)."""
    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    wall, used = time.monotonic(), cpu()
    yield
    print(f"\n{what}: {time.monotonic() - wall:.0f} s wall, {cpu() - used:.0f} CPU-s", file=sys.stderr)


@contextmanager
def locked(name: str):
    """One builder at a time per cache key: two test runs never build the same base at once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def layer_files(engine, images: list[str]) -> dict[str, list[tuple[str, set[str], int]]]:
    """Per image: (diff id, file names, bytes of file content) per layer, bottom first.

    All images go into one OCI layout, so a layer they share is exported (and read) once.
    """
    out, seen = {}, {}
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="export-") as tmp:
        for number, image in enumerate(images):
            engine.run("push", "--disable-compression", image, f"oci:{tmp}/oci:image{number}",
                       what=f"export {image}")
        index = json.loads(Path(tmp, "oci/index.json").read_text())
        by_name = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
        for number, image in enumerate(images):
            manifest = json.loads(Path(tmp, "oci/blobs/sha256", by_name[f"image{number}"].split(":", 1)[1])
                                  .read_text())
            layers = []
            for diff_id, layer in zip(engine.layers(image), manifest["layers"]):
                if diff_id not in seen:
                    blob = Path(tmp, "oci/blobs/sha256", layer["digest"].split(":", 1)[1])
                    with tarfile.open(blob, "r:*") as tar:
                        members = tar.getmembers()
                    seen[diff_id] = ({m.name.lstrip("./") for m in members}, sum(m.size for m in members))
                layers.append((diff_id, *seen[diff_id]))
            out[image] = layers
    return out


@contextmanager
def registry(tmp: Path):
    """Debian's docker-registry on a free loopback port with its own config and storage."""
    port = free_port()
    storage = tmp / "registry-data"
    storage.mkdir()
    config = tmp / "registry.yml"
    config.write_text(f"""version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
""")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("docker-registry did not start")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def skopeo_inspect(reference: str, raw: bool = False) -> dict:
    cmd = ["skopeo", "inspect", "--tls-verify=false", *(["--raw"] if raw else []), f"docker://{reference}"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout)


class LabelledImages:
    """Images with no files, only labels (`buildah from scratch`), pushed to a registry with zeta's own push.

    Seconds to make, in a buildah storage of their own under `storage` (removed with it):
    what a cluster test needs to point a Deployment at an image whose labels are real.
    """

    def __init__(self, registry: str, storage: Path):
        from zeta_serving.engine import Engine

        self.registry = registry
        self.engine = Engine("buildah", str(storage / "root"), str(storage / "run"), "vfs", "chroot")

    def push(self, name: str, labels: dict[str, str], *, fmt: str = "oci") -> str:
        """Push `registry/name` (name is repo:tag) labelled `labels`; fmt oci, docker, or index (an OCI index of
        one linux image for this machine). Returns the full reference."""
        reference = f"{self.registry}/{name}"
        container = self.engine.run("from", "scratch").strip()
        try:
            args = [a for key, value in labels.items() for a in ("--label", f"{key}={value}")]
            self.engine.run("config", *args, "--os", "linux", "--arch", _arch(), container)
            local = f"localhost/labelled-{abs(hash((name, fmt)))}"
            self.engine.run("commit", "--quiet", "--format", "docker" if fmt == "docker" else "oci",
                            container, local)
        finally:
            self.engine.run("rm", container)
        if fmt == "index":
            listed = f"{local}-list"
            self.engine.run("manifest", "create", listed)
            self.engine.run("manifest", "add", listed, f"containers-storage:{local}")
            self.engine.run("manifest", "push", "--all", "--tls-verify=false", listed, f"docker://{reference}")
            self.engine.run("manifest", "rm", listed)
        else:
            self.engine.push(local, reference)
        self.engine.run("rmi", "-f", local)
        return reference


def _arch() -> str:
    import platform

    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
