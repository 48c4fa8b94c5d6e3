"""The serving lock and the local wheelhouse every image is built from.

`requirements/serving.lock.txt` pins every package a bento runs with (bentoml and
all transitive dependencies) to one file hash each. Images are installed with
`pip --no-index` from a wheelhouse filled from that lock: a file is fetched from
the package index once, checked against its hash, and kept; a repeat build with
the lock unchanged fetches nothing. `python -m zeta_serving.wheelhouse lock`
rewrites the lock from `requirements/serving.txt` (a deliberate, reviewed step).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zeta_serving.errors import ZetaError

LOCK = "requirements/serving.lock.txt"
SOURCE = "requirements/serving.txt"
# The zeta-maintain image: the whole zeta package's dependencies, resolved with every serving
# pin held fixed, so its lock is a superset that agrees with the serving lock.
MAINTAIN_LOCK = "requirements/maintain.lock.txt"
BENTOML_PIN = "bentoml==1.4.40"
# The tokenizer layer: installed once, in the base image, never again above it.
TOKENIZER_PACKAGES = ("fugashi", "mecab-python3", "unidic-lite")
FETCH_TIMEOUT = 900


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sha256: str
    filename: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(root: Path, lock: str = LOCK) -> list[Pin]:
    """The lock's pins: `name==version --hash=sha256:H  # file` lines."""
    path = root / lock
    if not path.is_file():
        raise ZetaError(f"{lock} is missing: run `python -m zeta_serving.wheelhouse lock`")
    pins = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})\s+#\s+(\S+)", line)
        if not match:
            raise ZetaError(f"{lock}:{number}: not `name==version --hash=sha256:... # file`: {line}")
        pins.append(Pin(normalize(match.group(1)), match.group(2), match.group(3), match.group(4)))
    return pins


def split(pins: list[Pin]) -> tuple[list[Pin], list[Pin]]:
    """(tokenizer layer pins, everything else)."""
    tokenizer = [p for p in pins if p.name in TOKENIZER_PACKAGES]
    if {p.name for p in tokenizer} != set(TOKENIZER_PACKAGES):
        raise ZetaError(f"{LOCK} must pin {' and '.join(TOKENIZER_PACKAGES)}")
    return tokenizer, [p for p in pins if p.name not in TOKENIZER_PACKAGES]


def lock_digest(root: Path, lock: str = LOCK) -> str:
    return hashlib.sha256((root / lock).read_bytes()).hexdigest()


def default_dir() -> Path:
    cache = Path(os.environ.get("ZETA_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "zeta")
    return cache.expanduser() / "wheelhouse"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def missing(pins: list[Pin], folder: Path) -> list[Pin]:
    """Pins whose file is not in the wheelhouse with the locked hash."""
    return [p for p in pins if not (folder / p.filename).is_file() or _sha256(folder / p.filename) != p.sha256]


def fill(root: Path, folder: Path | None = None, *, lock: str = LOCK, runner=subprocess.run) -> tuple[Path, int]:
    """Make sure every locked file is in the wheelhouse; returns (folder, files fetched).

    Fetches only what is missing, with `pip download --require-hashes --no-deps`, so the
    index can never hand over anything but the locked bytes.
    """
    folder = folder or default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    needed = missing(read_lock(root, lock), folder)
    if needed:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            for pin in needed:
                req.write(f"{pin.requirement} --hash=sha256:{pin.sha256}\n")
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes",
               "-r", req.name, "-d", str(folder)]
        try:
            done = runner(cmd, capture_output=True, text=True, timeout=FETCH_TIMEOUT)
        finally:
            os.unlink(req.name)
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout or "").strip().splitlines()[-3:])
            raise ZetaError(f"could not fetch {len(needed)} locked packages into {folder}: {tail}")
        still = missing(needed, folder)
        if still:
            raise ZetaError(f"after fetching, the wheelhouse still lacks {', '.join(p.filename for p in still)}")
    return folder, len(needed)


def relock(root: Path) -> list[Path]:
    """Resolve `requirements/serving.txt` + bentoml afresh, then the whole package with those pins
    held, and rewrite both locks with file hashes."""
    source = [line.split("#")[0].strip() for line in (root / SOURCE).read_text().splitlines()]
    serving = _resolve(root, [BENTOML_PIN, *[s for s in source if s]], LOCK,
                       f"requirements/serving.txt plus {BENTOML_PIN}")
    return [serving, relock_maintain(root)]


def relock_maintain(root: Path) -> Path:
    import tomllib

    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    # The build tools too: the image installs the zeta package itself with --no-build-isolation.
    wanted = [*pyproject["project"]["dependencies"], *pyproject["build-system"]["requires"]]
    held = [p.requirement for p in read_lock(root)]
    return _resolve(root, [*held, *wanted], MAINTAIN_LOCK,
                    "pyproject.toml's dependencies and build tools, serving pins held")


def _resolve(root: Path, requirements: list[str], lock: str, what: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "in.txt"
        req.write_text("\n".join(requirements) + "\n")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-r", str(req), "-d", f"{tmp}/files"],
                       check=True, timeout=FETCH_TIMEOUT)
        lines = []
        for path in sorted(Path(tmp, "files").iterdir(), key=lambda p: p.name.lower()):
            name, version = _name_version(path.name)
            lines.append(f"{name}=={version} --hash=sha256:{_sha256(path)}  # {path.name}")
    out = root / lock
    out.write_text(f"# Generated by `python -m zeta_serving.wheelhouse lock` from {what},\n"
                   "# for CPython 3.11 on x86_64 Linux. One file per package.\n" + "\n".join(lines) + "\n")
    return out


def _name_version(filename: str) -> tuple[str, str]:
    if filename.endswith(".whl"):
        name, version = filename.split("-")[:2]
    else:
        name, version = filename.removesuffix(".tar.gz").rsplit("-", 1)
    return normalize(name), version


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    here = Path(__file__).resolve().parents[1]
    if sys.argv[1:] == ["lock"]:
        print(*relock(here))
    elif sys.argv[1:] == ["fill"]:
        print(*fill(here))
    else:
        sys.exit("usage: python -m zeta_serving.wheelhouse lock|fill")
