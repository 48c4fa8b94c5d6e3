"""The MeCab bindings zeta can run on: fugashi (the default) or mecab-python3.

Both are thin wrappers over the same C library, and both wheels bundle their own libmecab (0.996).
A team whose code already imports `MeCab` sets ZETA_MECAB_BINDING=mecab-python3 and gets the
same tokens; the tokenizer fingerprint records which binding (and libmecab) produced them.
"""

from __future__ import annotations

import abc
import ctypes
import ctypes.util
import functools
import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from zeta_serving.errors import ZetaError

if TYPE_CHECKING:
    from zeta_serving.tokenizer import _Dictionary as Dictionary

BINDING_ENV = "ZETA_MECAB_BINDING"
DEFAULT_BINDING = "fugashi"


class WakatiTagger(Protocol):
    def parse(self, text: str) -> str: ...


class Binding(abc.ABC):
    """The seam between zeta and a MeCab binding: a wakati tagger and the libmecab it runs on."""

    name = ""  # the distribution name, as pinned in pyproject.toml

    @abc.abstractmethod
    def new_tagger(self, dictionary: Dictionary) -> WakatiTagger:
        """A tagger whose `parse(text)` returns the surface forms joined by spaces."""

    @abc.abstractmethod
    def libmecab_version(self) -> str:
        """mecab_version() of the libmecab this binding calls."""

    def _failed(self, dictionary: Dictionary, exc: RuntimeError) -> ZetaError:
        # Both bindings wrap MeCab's one-line reason in a banner of dashes: keep only the reason.
        detail = next((line for line in reversed(str(exc).splitlines()) if line.strip("- ")), "")
        return ZetaError(f"MeCab ({self.name}) could not load dictionary {dictionary.name} from "
                         f"{dictionary.dicdir}: {detail.strip() or 'failed initializing MeCab'}")


class Fugashi(Binding):
    name = "fugashi"

    def new_tagger(self, dictionary: Dictionary) -> WakatiTagger:
        import fugashi

        try:
            if dictionary.name == "unidic-lite":
                return fugashi.Tagger(f"{dictionary.tagger_args} -Owakati")
            return fugashi.GenericTagger(f"{dictionary.tagger_args} -Owakati", quiet=True)
        except RuntimeError as exc:
            raise self._failed(dictionary, exc) from None

    def libmecab_version(self) -> str:
        return fugashi_mecab_version()


class MecabPython3(Binding):
    name = "mecab-python3"

    def new_tagger(self, dictionary: Dictionary) -> WakatiTagger:
        import MeCab

        # MeCab.Tagger puts `-r <unidic>/mecabrc -d <unidic>` first when unidic-lite is installed;
        # MeCab keeps the last value of an option, so our explicit -d/-r win (tested with ipadic).
        try:
            return MeCab.Tagger(f"{dictionary.tagger_args} -Owakati")
        except RuntimeError as exc:
            raise self._failed(dictionary, exc) from None

    def libmecab_version(self) -> str:
        import MeCab

        return MeCab.VERSION  # mecab_version() of the bundled libmecab


BINDINGS: dict[str, Binding] = {b.name: b for b in (Fugashi(), MecabPython3())}
_MODULES = {"fugashi": "fugashi", "mecab-python3": "MeCab"}


def resolve_binding() -> Binding:
    """The binding named by $ZETA_MECAB_BINDING (default fugashi), checked to be importable.

    Per process, never per Tokenizer: a pickled model follows the binding of the process that
    loads it, so a model trained under fugashi is served under mecab-python3 if tokens agree.
    """
    name = os.environ.get(BINDING_ENV) or DEFAULT_BINDING
    binding = BINDINGS.get(name)
    if binding is None:
        raise ZetaError(f"unknown MeCab binding {name!r} (from ${BINDING_ENV}); "
                        f"expected {' or '.join(repr(n) for n in BINDINGS)}")
    try:
        importlib.import_module(_MODULES[name])
    except ImportError:
        raise ZetaError(f"MeCab binding {name!r} (from ${BINDING_ENV}) is not installed "
                        f"(pip install {name}, at the version pyproject.toml pins)") from None
    return binding


@functools.cache
def fugashi_mecab_version() -> str:
    """The libmecab fugashi is linked against (fugashi exposes no API for it; the C library does)."""
    import fugashi

    package_dir = Path(fugashi.__file__).parent
    # Wheels bundle libmecab next to the extension (auditwheel / delocate / plain copy).
    bundled = [str(p) for d in (package_dir.parent / "fugashi.libs", package_dir / ".dylibs", package_dir)
               for p in sorted(d.glob("*mecab*"))]
    names = bundled + [ctypes.util.find_library("mecab")]
    for name in filter(None, names):
        try:
            lib = ctypes.CDLL(name)
            lib.mecab_version.restype = ctypes.c_char_p
            return lib.mecab_version().decode()
        except (OSError, AttributeError):
            continue
    return "unknown"
