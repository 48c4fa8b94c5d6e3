"""The pinned MeCab tokenizer every model uses, at training and at serving.

A model is only as good as the agreement between the tokens it was trained on and the tokens it
sees in production. A different MeCab or dictionary (unidic-lite splits ルイ/ヴィトン,
ipadic keeps ルイヴィトン) silently degrades every model, so the tokenizer carries a
`fingerprint()` that a model stores at training and the service checks at load time.

MeCab is reached through one of two Python bindings (fugashi, the default, or mecab-python3 for
code that already uses it), chosen per process with $ZETA_MECAB_BINDING; both wheels bundle
libmecab 0.996 and tokenize identically over the same dictionary.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import shlex
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from zeta_serving.canary import CANARY_TITLES
from zeta_serving.errors import ZetaError
from zeta_serving.mecab import Binding, resolve_binding

NORMALIZATION_VERSION = "1"  # bump whenever normalize() changes behaviour: it is in the fingerprint

DICTIONARY_ENV = "ZETA_MECAB_DICT"
DEFAULT_DICTIONARY = "unidic-lite"

# Files whose bytes decide tokenization. dictionary_info's version is 102 for both unidic-lite and
# ipadic, so only the bytes can tell dictionaries apart.
DICTIONARY_FILES = ("sys.dic", "matrix.bin", "char.bin", "unk.dic", "dicrc", "mecabrc")

# Titles repeat a lot in marketplaces; ~16k entries costs a few tens of MB at most.
CACHE_SIZE = 1 << 14

MAX_DIFF_TITLES = 5


def normalize(text: str) -> str:
    """NFKC (ＮＩＫＥ→NIKE, ｶﾀｶﾅ→カタカナ, ２６→26), lowercase, whitespace runs → one space, strip."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


# --- dictionary resolution ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Dictionary:
    name: str  # "unidic-lite", "ipadic" or "path:/abs/dir"
    dicdir: str
    package: str | None  # distribution name, None for a plain directory
    tagger_args: str


def _accepted() -> str:
    return "expected 'unidic-lite', 'ipadic' or the path of a MeCab dictionary directory"


def _resolve(dictionary: str | None) -> _Dictionary:
    """Turn a Tokenizer's `dictionary` argument into a concrete dictionary, reading the env for None."""
    source = ""  # named in errors, so a bad $ZETA_MECAB_DICT is easy to spot
    if dictionary is None:
        from_env = os.environ.get(DICTIONARY_ENV)
        dictionary, source = (from_env, f" (from ${DICTIONARY_ENV})") if from_env else (DEFAULT_DICTIONARY, "")

    if dictionary == "unidic-lite":
        try:
            import unidic_lite
        except ImportError:
            raise ZetaError(f"MeCab dictionary 'unidic-lite'{source} is not installed "
                            "(pip install unidic-lite)") from None
        return _Dictionary("unidic-lite", unidic_lite.DICDIR, "unidic-lite",
                           _dir_args(unidic_lite.DICDIR))
    if dictionary == "ipadic":
        try:
            import ipadic
        except ImportError:
            raise ZetaError(f"MeCab dictionary 'ipadic'{source} is not installed "
                            "(pip install ipadic)") from None
        return _Dictionary("ipadic", ipadic.DICDIR, "ipadic", ipadic.MECAB_ARGS)

    path = Path(dictionary).expanduser()
    if path.is_dir():
        if not (path / "sys.dic").is_file():
            raise ZetaError(f"MeCab dictionary {dictionary!r}{source} is a directory without sys.dic; "
                            f"{_accepted()}")
        path = path.resolve()
        return _Dictionary(f"path:{path}", str(path), None, _dir_args(str(path)))
    if os.sep in dictionary or "/" in dictionary or dictionary.startswith((".", "~")):
        raise ZetaError(f"MeCab dictionary directory {dictionary!r}{source} does not exist; {_accepted()}")
    raise ZetaError(f"unknown MeCab dictionary {dictionary!r}{source}; {_accepted()}")


def _dir_args(dicdir: str) -> str:
    # An explicit -r keeps a system-wide mecabrc (which may add a user dictionary) out of the picture.
    args = f"-d {shlex.quote(dicdir)}"
    rc = os.path.join(dicdir, "mecabrc")
    if os.path.isfile(rc):
        args += f" -r {shlex.quote(rc)}"
    return args


# --- tagging --------------------------------------------------------------------------------------


class _Backend:
    """One per resolved dictionary and binding per process: per-thread taggers, a shared cache."""

    def __init__(self, dictionary: _Dictionary, binding: Binding) -> None:
        self.dictionary = dictionary
        self.binding = binding
        self._local = threading.local()  # MeCab taggers are not thread-safe
        self.tokenize = functools.lru_cache(maxsize=CACHE_SIZE)(self._tokenize_uncached)

    def _tagger(self):
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            tagger = self._local.tagger = self.binding.new_tagger(self.dictionary)
        return tagger

    def _tokenize_uncached(self, text: str) -> tuple[str, ...]:
        # Tuples, so a caller mutating its list cannot corrupt the cache.
        normalized = normalize(text)
        if not normalized:
            return ()
        # Wakati output is the surface forms joined by spaces; normalized text holds no other
        # whitespace, so split() is exact, and it skips building Node objects (see bench).
        return tuple(self._tagger().parse(normalized).split())


_backends: dict[tuple[_Dictionary, str], _Backend] = {}
_backends_lock = threading.Lock()


def _backend_for(dictionary: _Dictionary, binding: Binding) -> _Backend:
    with _backends_lock:
        backend = _backends.get((dictionary, binding.name))
        if backend is None:
            backend = _backends[(dictionary, binding.name)] = _Backend(dictionary, binding)
        return backend


def clear_caches() -> None:
    """Empty every backend's token cache in this process (benchmarks and tests that need a cold cache)."""
    with _backends_lock:
        for backend in _backends.values():
            backend.tokenize.cache_clear()


class Tokenizer:
    """Normalize, then MeCab surface forms. Pass an instance as scikit-learn `analyzer=`.

    `dictionary` is stored as given and resolved on first use in the current process, so a pickled
    Tokenizer(None) follows $ZETA_MECAB_DICT of the process that loads it. The binding is always
    the loading process's ($ZETA_MECAB_BINDING).
    """

    def __init__(self, dictionary: str | None = None) -> None:
        self.dictionary = dictionary

    def __repr__(self) -> str:
        return f"Tokenizer(dictionary={self.dictionary!r})"

    def __getstate__(self) -> dict:
        return {"dictionary": self.dictionary}  # never the tagger, nor the resolved dictionary

    def __setstate__(self, state: dict) -> None:
        self.dictionary = state["dictionary"]

    @property
    def _backend(self) -> _Backend:
        backend = self.__dict__.get("_resolved")
        if backend is None:
            backend = _backend_for(_resolve(self.dictionary), resolve_binding())
            self.__dict__["_resolved"] = backend
        return backend

    @property
    def resolved_dictionary(self) -> str:
        """The dictionary this process uses: unidic-lite, ipadic or path:/abs/dir."""
        return self._backend.dictionary.name

    @property
    def resolved_binding(self) -> str:
        """The MeCab binding this process uses: fugashi or mecab-python3."""
        return self._backend.binding.name

    def tokenize(self, text: str) -> list[str]:
        return list(self._backend.tokenize(text))

    __call__ = tokenize

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        tokenize = self._backend.tokenize
        return [list(tokenize(text)) for text in texts]

    def fingerprint(self) -> dict:
        """Everything that can change a tokenization, the binding, and a short `id` (see BINDING_FIELDS)."""
        dictionary, binding = self._backend.dictionary, self._backend.binding
        canary = [" ".join(tokens) for tokens in self.tokenize_many(CANARY_TITLES)]
        fp = {
            "dictionary": dictionary.name,
            "dictionary_package": dictionary.package,
            "dictionary_version": _dist_version(dictionary.package) if dictionary.package else None,
            "dictionary_files": dict(_dictionary_file_hashes(dictionary.dicdir)),
            "mecab_version": binding.libmecab_version(),
            "binding": binding.name,
            "binding_version": _dist_version(binding.name),
            "normalization_version": NORMALIZATION_VERSION,
            "canary_titles_sha256": _sha256_text("\n".join(CANARY_TITLES)),
            "canary_sha256": _sha256_text("\n".join(canary)),
            "canary": canary,
        }
        return {"id": fingerprint_id(fp), **fp}


# --- fingerprint parts ----------------------------------------------------------------------------


# Which Python wrapper called libmecab does not decide a token; libmecab's version, the dictionary
# bytes, the normalisation and the canary tokens do. So the binding is recorded but kept out of the
# id and out of the mismatch verdict: a model trained under fugashi is served under mecab-python3
# when everything else (canary tokens included) is identical, and its `tokenizer` label still
# matches. `fugashi_version` is the field fingerprints had before the seam: leaving it out too lets
# compare_fingerprints (which recomputes the expected id) accept a model saved before the seam.
BINDING_FIELDS = ("binding", "binding_version", "fugashi_version")


def fingerprint_id(fp: dict) -> str:
    """First 16 hex chars of the sha256 of every field but `id` and the binding's (see above)."""
    body = {k: v for k, v in fp.items() if k != "id" and k not in BINDING_FIELDS}
    return _sha256_text(json.dumps(body, sort_keys=True, ensure_ascii=False))[:16]


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@functools.cache
def _dictionary_file_hashes(dicdir: str) -> tuple[tuple[str, str | None], ...]:
    # Hundreds of MB for unidic-lite: hashed once per process and dictionary directory.
    return tuple(
        (name, _sha256_file(os.path.join(dicdir, name)) if os.path.isfile(os.path.join(dicdir, name))
         else None)
        for name in DICTIONARY_FILES
    )


def _dist_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


# --- comparing fingerprints -----------------------------------------------------------------------


class TokenizerMismatch(ZetaError):
    """The running tokenizer does not tokenize like the one a model was trained with."""


_SCALAR_FIELDS = ("dictionary", "dictionary_package", "dictionary_version", "mecab_version",
                  "normalization_version")
_HANDLED = {"id", *_SCALAR_FIELDS, *BINDING_FIELDS, "dictionary_files", "canary_titles_sha256",
            "canary_sha256", "canary"}


def _short(value) -> str:
    if isinstance(value, str) and len(value) == 64:  # a sha256
        return value[:12] + "…"
    return "none" if value is None else str(value)


def _tokens(joined: str) -> str:
    return " | ".join(joined.split(" ")) if joined else "(no tokens)"


def compare_fingerprints(expected: dict, actual: dict) -> list[str]:
    """Readable differences between two fingerprints; [] when they match."""
    lines: list[str] = []
    both = expected.keys() & actual.keys()

    for key in _SCALAR_FIELDS:
        if key in both and expected[key] != actual[key]:
            lines.append(f"{key}: expected {_short(expected[key])}, running {_short(actual[key])}")

    if "dictionary_files" in both:
        exp_files, act_files = expected["dictionary_files"] or {}, actual["dictionary_files"] or {}
        for name in [*exp_files, *(n for n in act_files if n not in exp_files)]:
            exp, act = exp_files.get(name), act_files.get(name)
            if exp != act:
                lines.append(f"{name} sha256 differs: expected {_short(exp)}, running {_short(act)}")

    for key in sorted(both - _HANDLED):  # fields added by later versions
        if expected[key] != actual[key]:
            lines.append(f"{key}: expected {_short(expected[key])}, running {_short(actual[key])}")

    if "canary_titles_sha256" in both and expected["canary_titles_sha256"] != actual["canary_titles_sha256"]:
        # Different canary lists (different zeta versions): the tokens cannot be compared title by title.
        lines.append("canary titles differ (fingerprints made by different zeta versions): "
                     "canary tokens are not comparable")
    elif "canary" in both and expected["canary"] != actual["canary"]:
        lines.extend(_canary_diff(expected["canary"], actual["canary"]))
    elif "canary" not in both and "canary_sha256" in both and expected["canary_sha256"] != actual["canary_sha256"]:
        lines.append(f"canary tokens differ: expected sha256 {_short(expected['canary_sha256'])}, "
                     f"running {_short(actual['canary_sha256'])}")

    # The id is recomputed on the expected side, so a fingerprint saved before the binding seam
    # (its id then covered fugashi_version) still matches when all its fields do.
    if not lines and "id" in both and fingerprint_id(expected) != actual["id"]:
        lines.append(f"id: expected {expected['id']}, running {actual['id']}, "
                     "though no compared field differs")
    if lines and _binding(expected) != _binding(actual):
        # Never a mismatch by itself (see BINDING_FIELDS), but worth knowing when reading a diff.
        lines.append(f"binding: expected {_binding(expected)}, running {_binding(actual)}")
    return lines


def _binding(fp: dict) -> str:
    if "binding" in fp:
        return f"{fp['binding']} {_short(fp.get('binding_version'))}"
    return f"fugashi {_short(fp['fugashi_version'])}" if "fugashi_version" in fp else "unknown"


def _canary_diff(expected: list[str], actual: list[str]) -> list[str]:
    if len(expected) != len(actual) or len(expected) != len(CANARY_TITLES):
        return [f"canary tokens differ: expected {len(expected)} titles, running {len(actual)}"]
    differing = [i for i, (e, a) in enumerate(zip(expected, actual)) if e != a]
    shown = differing[:MAX_DIFF_TITLES]
    lines = [f"canary: {len(differing)} of {len(expected)} titles tokenize differently"
             + (f" (first {len(shown)} shown)" if len(differing) > len(shown) else "") + ":"]
    for i in shown:
        lines.append(f"  {CANARY_TITLES[i]}\n"
                     f"    expected: {_tokens(expected[i])}\n"
                     f"    running:  {_tokens(actual[i])}")
    return lines


def unwrap_fingerprint(data) -> dict:
    """A fingerprint, or model metadata holding one under `tokenizer_fingerprint`."""
    if isinstance(data, dict) and isinstance(data.get("tokenizer_fingerprint"), dict):
        data = data["tokenizer_fingerprint"]
    if not isinstance(data, dict) or not ({"canary_sha256", "dictionary"} & data.keys()):
        raise ZetaError("not a tokenizer fingerprint (expected the JSON of `zeta tokenizer fingerprint "
                        "--json` or an object with a `tokenizer_fingerprint` key)")
    return data


def check_fingerprint(expected: dict, tokenizer: Tokenizer | None = None) -> None:
    """Raise TokenizerMismatch (summary line + readable diff) unless `tokenizer` matches `expected`."""
    expected = unwrap_fingerprint(expected)
    actual = (tokenizer or Tokenizer()).fingerprint()
    lines = compare_fingerprints(expected, actual)
    if lines:
        summary = (f"tokenizer mismatch: expected {expected.get('dictionary', '?')} "
                   f"(id {expected.get('id', '?')}), running {actual['dictionary']} (id {actual['id']})")
        raise TokenizerMismatch("\n".join([summary, *lines]))
