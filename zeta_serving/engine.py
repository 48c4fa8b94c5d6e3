"""Container engines (buildah, podman, docker) driven as plain commands: no daemon needed for the first two.

buildah and podman take their storage from the environment, so a pod or a test can
keep its images apart: `ZETA_CONTAINER_ROOT` / `ZETA_CONTAINER_RUNROOT` (storage
folders), `ZETA_STORAGE_DRIVER` (default `vfs`: works unprivileged and inside a
container, no overlay mounts) and `ZETA_ISOLATION` (default `chroot`: RUN steps need
no user namespaces or runtime). docker uses its daemon and ignores all four.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

from zeta_serving.errors import ZetaError

ENGINES = ("buildah", "podman", "docker")
TIMEOUT = 1800


@dataclass(frozen=True)
class Engine:
    name: str
    root: str | None = None
    runroot: str | None = None
    driver: str | None = None
    isolation: str | None = None

    @classmethod
    def from_env(cls, name: str) -> Engine:
        if name not in ENGINES:
            raise ZetaError(f"unknown container engine {name!r} (choose from {', '.join(ENGINES)})")
        if name == "docker":
            return cls(name)
        env = os.environ
        return cls(name, env.get("ZETA_CONTAINER_ROOT") or None, env.get("ZETA_CONTAINER_RUNROOT") or None,
                   env.get("ZETA_STORAGE_DRIVER", "vfs") or None, env.get("ZETA_ISOLATION", "chroot") or None)

    def base(self) -> list[str]:
        cmd = [self.name]
        if self.root:
            cmd += ["--root", self.root]
        if self.runroot:
            cmd += ["--runroot", self.runroot]
        if self.driver:
            cmd += ["--storage-driver", self.driver]
        return cmd

    def run(self, *args: str, timeout: float = TIMEOUT, what: str | None = None) -> str:
        cmd = [*self.base(), *args]
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}  # docker: RUN --mount needs BuildKit
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except FileNotFoundError:
            raise ZetaError(f"container engine {self.name!r} is not installed") from None
        except subprocess.TimeoutExpired:
            raise ZetaError(f"{what or ' '.join(args[:2])} did not finish in {timeout:.0f}s") from None
        if done.returncode != 0:
            lines = [x for x in (done.stderr + done.stdout).strip().splitlines() if x.strip()]
            raise ZetaError(f"{what or self.name + ' ' + args[0]} failed (exit {done.returncode}): "
                            + (" | ".join(lines[-4:]) or "no output"))
        return done.stdout

    def build(self, containerfile: str, context: str, tag: str, *, labels: dict[str, str] | None = None,
              build_args: dict[str, str] | None = None) -> None:
        args = ["build", "-f", containerfile, "-t", tag]
        if self.name != "docker" and self.isolation:
            args += ["--isolation", self.isolation]
        if self.name == "podman":
            # buildah's default: the build is one committed layer. podman's (--layers) commits a cached
            # image after every instruction, and on vfs each is a full copy of the tree below.
            args.append("--layers=false")
        for key, value in (build_args or {}).items():
            args += ["--build-arg", f"{key}={value}"]
        for key, value in (labels or {}).items():
            args += ["--label", f"{key}={value}"]
        self.run(*args, context, what=f"{self.name} build {tag}")

    def exists(self, image: str) -> bool:
        try:
            self.inspect(image)
            return True
        except ZetaError:
            return False

    def inspect(self, image: str) -> dict:
        if self.name == "buildah":
            return json.loads(self.run("inspect", "--type", "image", image))
        return json.loads(self.run("image", "inspect", image))[0]

    def image_id(self, image: str) -> str:
        info = self.inspect(image)
        return info.get("FromImageID") or info.get("Id") or ""

    def labels(self, image: str) -> dict[str, str]:
        info = self.inspect(image)
        if self.name == "buildah":
            return info.get("OCIv1", {}).get("config", {}).get("Labels") or {}
        return (info.get("Config") or {}).get("Labels") or info.get("Labels") or {}

    def layers(self, image: str) -> list[str]:
        """The image's layer diff ids, bottom first."""
        info = self.inspect(image)
        if self.name == "buildah":
            return list(info["OCIv1"]["rootfs"]["diff_ids"])
        return list((info.get("RootFS") or {}).get("Layers") or [])

    def push(self, image: str, destination: str) -> str:
        """Push to `registry/repo:tag`; returns the pushed manifest digest."""
        insecure = is_loopback(destination)
        if self.name == "docker":
            self.run("tag", image, destination)
            self.run("push", destination, what=f"docker push {destination}")
            digests = self.inspect(destination).get("RepoDigests") or []
            for ref in digests:
                if ref.split("@")[0] == destination.rsplit(":", 1)[0]:
                    return ref.split("@", 1)[1]
            raise ZetaError(f"docker push {destination} reported no digest")
        with tempfile.TemporaryDirectory() as tmp:
            digest_file = os.path.join(tmp, "digest")
            args = ["push", "--digestfile", digest_file]
            if insecure:
                args.append("--tls-verify=false")
            self.run(*args, image, f"docker://{destination}", what=f"{self.name} push {destination}")
            return open(digest_file).read().strip()


def is_loopback(reference: str) -> bool:
    host = urlsplit("//" + reference.split("/", 1)[0]).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
