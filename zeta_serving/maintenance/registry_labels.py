"""What an image in a registry says about itself: its OCI labels, read over the registry's HTTP API.

    GET /v2/<repository>/manifests/<tag or digest>   (an index or list: the entry for linux/<this arch>)
    GET /v2/<repository>/blobs/<config digest>       the image config; labels are under config.Labels

This is the Docker Registry v2 / OCI distribution protocol every registry speaks, so the
loop can tell what a Deployment runs from the image reference alone, whoever set it
(zeta, `kubectl set image`, a Spinnaker pipeline). No container engine is needed.

Transport: plain HTTP for a registry on loopback (as `Engine.push` does) or listed in
`insecure`, HTTPS otherwise. Credentials, when the registry asks for them (401 with a
`WWW-Authenticate` challenge): $ZETA_REGISTRY_USERNAME / $ZETA_REGISTRY_PASSWORD, else the
entry for the registry's host in a docker config.json ($DOCKER_CONFIG/config.json,
~/.docker/config.json) or a containers auth.json ($REGISTRY_AUTH_FILE); sent as Basic, or
exchanged for a Bearer token at the challenge's realm.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

import httpx

from zeta_serving.engine import is_loopback
from zeta_serving.errors import ZetaError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPT = ", ".join((OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST))
DOCKER_HUB = "registry-1.docker.io"
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(platform.machine(), platform.machine())


class RegistryError(ZetaError):
    """The image's labels could not be read; the message names the image and why."""


@dataclass(frozen=True)
class ImageRef:
    registry: str  # host[:port], as in the reference ("docker.io" for Docker Hub's short names)
    repository: str
    reference: str  # a tag, or a digest (sha256:...)

    @classmethod
    def parse(cls, image: str) -> "ImageRef":
        """Docker's rules: the first part is a registry if it has a dot or a port, or is localhost."""
        name, digest = image.split("@", 1) if "@" in image else (image, "")
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, rest
        else:
            registry, path = "docker.io", name
        last = path.rsplit("/", 1)[-1]
        tag = ""
        if ":" in last:
            path, tag = path.rsplit(":", 1)
        if registry == "docker.io" and "/" not in path:
            path = f"library/{path}"
        if not path or not re.fullmatch(r"[a-z0-9]+(?:[._/-]+[a-z0-9]+)*", path):
            raise RegistryError(f"{image!r} is not an image reference")
        return cls(registry, path, digest or tag or "latest")

    @property
    def host(self) -> str:
        return DOCKER_HUB if self.registry == "docker.io" else self.registry


class LabelReader:
    """`labels(image)` -> the image's OCI labels; `client` is the seam (any httpx.Client)."""

    def __init__(self, *, insecure: tuple[str, ...] | list[str] = (), timeout: float = 10.0,
                 client: httpx.Client | None = None, credentials: dict[str, tuple[str, str]] | None = None):
        self.insecure = set(insecure)
        self.client = client or httpx.Client(timeout=timeout, trust_env=False, follow_redirects=True)
        self._credentials = credentials  # host -> (user, password); None: from the environment when asked
        self._tokens: dict[tuple[str, str], str] = {}

    def labels(self, image: str) -> dict[str, str]:
        ref = ImageRef.parse(image)
        try:
            manifest = self._manifest(ref, ref.reference)
            config = json.loads(self._get(ref, f"blobs/{manifest['config']['digest']}", {}).content)
        except RegistryError:
            raise
        except httpx.HTTPError as exc:
            raise RegistryError(f"registry {ref.host} did not answer for {image}: {type(exc).__name__}: "
                                f"{str(exc)[:200]}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise RegistryError(f"registry {ref.host} sent an unreadable manifest or config for {image}: "
                                f"{type(exc).__name__}: {str(exc)[:200]}") from None
        return dict((config.get("config") or {}).get("Labels") or {})

    # -- the protocol -------------------------------------------------------------------------
    def _manifest(self, ref: ImageRef, reference: str, depth: int = 0) -> dict:
        resp = self._get(ref, f"manifests/{reference}", {"Accept": ACCEPT})
        body = json.loads(resp.content)
        kind = body.get("mediaType") or resp.headers.get("content-type", "").split(";")[0]
        if kind in (OCI_INDEX, DOCKER_LIST) or ("manifests" in body and "config" not in body):
            if depth:
                raise RegistryError(f"{ref.repository}@{reference} is an index inside an index")
            return self._manifest(ref, _pick(body["manifests"], ref), depth + 1)
        if "config" not in body:
            raise RegistryError(f"{ref.host}/{ref.repository}:{reference} has a {kind or 'schema 1'} manifest, "
                                "which carries no image config (push it again with a current tool)")
        return body

    def _get(self, ref: ImageRef, path: str, headers: dict) -> httpx.Response:
        scheme = "http" if is_loopback(ref.host) or ref.host in self.insecure else "https"
        url = f"{scheme}://{ref.host}/v2/{ref.repository}/{path}"
        token = self._tokens.get((ref.host, ref.repository))
        resp = self.client.get(url, headers={**headers, **({"Authorization": token} if token else {})})
        if resp.status_code == 401:
            token = self._authorize(ref, resp.headers.get("www-authenticate", ""))
            resp = self.client.get(url, headers={**headers, "Authorization": token})
        if resp.status_code == 404:
            what = "image" if path.startswith("manifests/") else "config blob"
            raise RegistryError(f"registry {ref.host} has no {what} {ref.repository}:{path.split('/', 1)[1]} (404)")
        if not resp.is_success:
            raise RegistryError(f"registry {ref.host} answered {resp.status_code} to GET /v2/{ref.repository}/{path}"
                                + (" (credentials refused)" if resp.status_code in (401, 403) else ""))
        return resp

    def _authorize(self, ref: ImageRef, challenge: str) -> str:
        """The Authorization header the registry's challenge asks for (Basic, or a Bearer token)."""
        scheme, _, params = challenge.partition(" ")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        user = self._credentials_for(ref.host)
        basic = "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode() if user else None
        if scheme.lower() == "basic":
            if basic is None:
                raise RegistryError(f"{ref.host} wants credentials and none are set for it "
                                    "($ZETA_REGISTRY_USERNAME/PASSWORD or a docker config.json)")
            header = basic
        elif scheme.lower() == "bearer" and fields.get("realm"):
            query = {k: v for k, v in (("service", fields.get("service")),
                                       ("scope", fields.get("scope") or f"repository:{ref.repository}:pull")) if v}
            resp = self.client.get(fields["realm"], params=query,
                                   headers={"Authorization": basic} if basic else {})
            if not resp.is_success:
                raise RegistryError(f"the token service of {ref.host} answered {resp.status_code}")
            answer = resp.json()
            header = "Bearer " + (answer.get("token") or answer.get("access_token") or "")
        else:
            raise RegistryError(f"{ref.host} asks for an authentication zeta does not speak: {challenge[:80]!r}")
        self._tokens[(ref.host, ref.repository)] = header
        return header

    def _credentials_for(self, host: str) -> tuple[str, str] | None:
        if self._credentials is not None:
            return self._credentials.get(host)
        if os.environ.get("ZETA_REGISTRY_USERNAME"):
            return os.environ["ZETA_REGISTRY_USERNAME"], os.environ.get("ZETA_REGISTRY_PASSWORD", "")
        return docker_config_credentials(host)


def _pick(entries: list[dict], ref: ImageRef) -> str:
    """The digest of the index entry for linux on this machine's architecture (else the first image)."""
    images = [e for e in entries if (e.get("platform") or {}).get("os", "linux") != "unknown"]  # not attestations
    for entry in images:
        wanted = entry.get("platform") or {}
        if wanted.get("os", "linux") == "linux" and wanted.get("architecture", ARCH) == ARCH:
            return entry["digest"]
    if not images:
        raise RegistryError(f"the index of {ref.repository}:{ref.reference} lists no image")
    return images[0]["digest"]


def docker_config_credentials(host: str) -> tuple[str, str] | None:
    """(user, password) for `host` from a containers auth.json or a docker config.json, if either has it."""
    candidates = [os.environ.get("REGISTRY_AUTH_FILE", ""),
                  str(Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json")]
    keys = {host, f"https://{host}", f"http://{host}"} | ({"https://index.docker.io/v1/", "docker.io"}
                                                          if host == DOCKER_HUB else set())
    for path in filter(None, candidates):
        try:
            auths = json.loads(Path(path).read_text()).get("auths") or {}
        except (OSError, ValueError, AttributeError):
            continue
        for key, entry in auths.items():
            if key.rstrip("/") in keys and isinstance(entry, dict) and entry.get("auth"):
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                return user, password
    return None


MODELS_LABEL = "io.zeta.models"  # what zeta_serving.images writes: every model tag the image packs
BENTO_LABEL = "io.zeta.bento"


def served_model(labels: dict[str, str], task: str) -> str:
    """The tag of `task`'s model among the image's `io.zeta.models` (an all-in-one image packs several)."""
    from zeta_serving.registry import model_name

    name = model_name(task)
    found = [t for t in (labels.get(MODELS_LABEL) or "").split(",") if t.strip().split(":", 1)[0] == name]
    if len(found) != 1:
        listed = labels.get(MODELS_LABEL)
        raise RegistryError(f"its {MODELS_LABEL} label " + (f"({listed!r}) names no {name} model" if listed
                                                            else "is missing (not an image zeta built)")
                            if not found else f"its {MODELS_LABEL} label names {len(found)} {name} models")
    return found[0].strip()
