"""The pinned MeCab layer: normalisation, tokens, pickling, fingerprints, mismatch diffs, CLI."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from zeta_serving import tokenizer as tok_mod
from zeta_serving.canary import CANARY_TITLES
from zeta_serving.errors import ZetaError
from zeta_serving.tokenizer import (
    NORMALIZATION_VERSION,
    Tokenizer,
    TokenizerMismatch,
    check_fingerprint,
    compare_fingerprints,
    normalize,
)

ZETA = Path(sys.executable).parent / "zeta"
LV = "ルイヴィトン 長財布"
LV_UNIDIC = ["ルイ", "ヴィトン", "長", "財布"]
LV_IPADIC = ["ルイヴィトン", "長", "財布"]

FINGERPRINT_SCRIPT = ("import json; from zeta_serving.tokenizer import Tokenizer; "
                      "print(json.dumps(Tokenizer().fingerprint()))")


def _env(dictionary: str | None = None, binding: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ZETA_MECAB_DICT", "ZETA_MECAB_BINDING")}
    if dictionary is not None:
        env["ZETA_MECAB_DICT"] = dictionary
    if binding is not None:
        env["ZETA_MECAB_BINDING"] = binding
    return env


def _run(args: list[str], dictionary: str | None = None, binding: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=_env(dictionary, binding), capture_output=True, text=True, timeout=60)


def _python(code: str, dictionary: str | None = None, binding: str | None = None) -> str:
    result = _run([sys.executable, "-c", code], dictionary, binding)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(autouse=True)
def _default_env(monkeypatch):
    monkeypatch.delenv("ZETA_MECAB_DICT", raising=False)
    monkeypatch.delenv("ZETA_MECAB_BINDING", raising=False)


@pytest.fixture(scope="module")
def ipadic_fp_from_env() -> dict:
    """The fingerprint a process with ZETA_MECAB_DICT=ipadic computes."""
    return json.loads(_python(FINGERPRINT_SCRIPT, dictionary="ipadic"))


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("ＮＩＫＥ", "nike"),
    ("ｶﾀｶﾅ", "カタカナ"),
    ("ｴｱﾏｯｸｽ ９０", "エアマックス 90"),
    ("ｶﾞﾝﾀﾞﾑ", "ガンダム"),  # half-width dakuten composes
    ("ＵＮＩＱＬＯ　フリース　Ｌ", "uniqlo フリース l"),  # ideographic spaces
    ("  iPhone13 \t 128GB\nSIMフリー  ", "iphone13 128gb simフリー"),
    ("【新品未使用】", "【新品未使用】"),
    ("", ""),
    (" \u3000\t", ""),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_normalization_version_is_a_string():
    assert NORMALIZATION_VERSION == "1"


# --- tokenize ---------------------------------------------------------------------------------


def test_tokenize_basic():
    tokenizer = Tokenizer()
    assert tokenizer.tokenize(LV) == LV_UNIDIC
    assert tokenizer.tokenize("ＵＮＩＱＬＯ フリース Ｌ") == ["uniqlo", "フリース", "l"]
    assert tokenizer("NIKE エアマックス90") == ["nike", "エア", "マックス", "90"]
    assert tokenizer.tokenize("") == [] and tokenizer.tokenize(" \u3000 ") == []
    assert tokenizer.tokenize_many([LV, ""]) == [LV_UNIDIC, []]


def test_wakati_tokens_equal_node_surfaces():
    import fugashi

    tagger = fugashi.Tagger()
    tokenizer = Tokenizer("unidic-lite")
    for title in CANARY_TITLES:
        assert tokenizer.tokenize(title) == [w.surface for w in tagger(normalize(title))], title


def test_cached_tokens_cannot_be_mutated_by_callers():
    tokenizer = Tokenizer()
    tokenizer.tokenize(LV).append("junk")
    assert tokenizer.tokenize(LV) == LV_UNIDIC


def test_threads_get_the_same_tokens():
    tokenizer = Tokenizer()
    titles = [f"{t} {i}" for i, t in enumerate(CANARY_TITLES * 5)]  # unique: bypass the cache
    expected = Tokenizer().tokenize_many(titles)
    tok_mod._backends.clear()  # fresh backend, so each thread builds its own tagger
    results: dict[int, list] = {}

    def work(n: int) -> None:
        results[n] = Tokenizer().tokenize_many(titles)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[n] == expected for n in range(4))
    assert tokenizer.tokenize(LV) == LV_UNIDIC


def test_init_stores_only_the_argument():
    assert vars(Tokenizer()) == {"dictionary": None}
    assert vars(Tokenizer("ipadic")) == {"dictionary": "ipadic"}


def test_pickle_round_trip_gives_identical_tokens():
    tokenizer = Tokenizer()
    before = tokenizer.tokenize_many(CANARY_TITLES)
    data = pickle.dumps(tokenizer)
    assert b"fugashi" not in data  # no tagger inside
    loaded = pickle.loads(data)
    assert vars(loaded) == {"dictionary": None}
    assert loaded.tokenize_many(CANARY_TITLES) == before


def test_fitted_sklearn_vectorizer_pickles():
    feature_extraction = pytest.importorskip("sklearn.feature_extraction.text")
    vectorizer = feature_extraction.TfidfVectorizer(analyzer=Tokenizer()).fit(CANARY_TITLES)
    loaded = pickle.loads(pickle.dumps(vectorizer))
    assert (loaded.transform([LV]) != vectorizer.transform([LV])).nnz == 0
    assert "ヴィトン" in loaded.vocabulary_


def test_pickled_default_tokenizer_follows_env_of_loading_process(tmp_path):
    path = tmp_path / "tok.pkl"
    path.write_bytes(pickle.dumps(Tokenizer()))
    code = (f"import json, pickle; t = pickle.load(open({str(path)!r}, 'rb')); "
            f"print(json.dumps([t.resolved_dictionary, t.tokenize({LV!r})]))")
    assert json.loads(_python(code, dictionary="ipadic")) == ["ipadic", LV_IPADIC]


# --- dictionaries -----------------------------------------------------------------------------


def test_dictionary_from_env(monkeypatch):
    monkeypatch.setenv("ZETA_MECAB_DICT", "ipadic")
    assert Tokenizer().tokenize(LV) == LV_IPADIC
    assert Tokenizer().resolved_dictionary == "ipadic"


def test_dictionary_by_directory_path(tmp_path):
    import ipadic

    # A copy (by symlinks) under a path with a space, to exercise argument quoting.
    dicdir = tmp_path / "my dict"
    dicdir.mkdir()
    for f in Path(ipadic.DICDIR).iterdir():
        (dicdir / f.name).symlink_to(f)
    by_path = Tokenizer(str(dicdir))
    assert by_path.tokenize(LV) == LV_IPADIC
    fp, ipa = by_path.fingerprint(), Tokenizer("ipadic").fingerprint()
    assert fp["dictionary"] == f"path:{dicdir.resolve()}"
    assert fp["dictionary_package"] is None and fp["dictionary_version"] is None
    assert fp["dictionary_files"] == ipa["dictionary_files"]
    assert fp["canary"] == ipa["canary"]


@pytest.mark.parametrize("dictionary, words", [
    ("mecab-ko", ["unknown MeCab dictionary 'mecab-ko'", "unidic-lite", "ipadic"]),
    ("/no/such/dicdir", ["does not exist"]),
])
def test_unknown_dictionary_is_a_zeta_error(dictionary, words):
    with pytest.raises(ZetaError) as info:
        Tokenizer(dictionary).tokenize(LV)
    assert all(w in str(info.value) for w in words)


def test_directory_without_sys_dic_is_a_zeta_error(tmp_path):
    with pytest.raises(ZetaError, match="without sys.dic"):
        Tokenizer(str(tmp_path)).tokenize(LV)


def test_unknown_dictionary_from_env_names_the_variable(monkeypatch):
    monkeypatch.setenv("ZETA_MECAB_DICT", "juman")
    with pytest.raises(ZetaError, match=r"'juman' \(from \$ZETA_MECAB_DICT\)"):
        Tokenizer().tokenize(LV)


# --- fingerprints -----------------------------------------------------------------------------


def test_fingerprint_fields():
    fp = Tokenizer().fingerprint()
    json.dumps(fp)
    assert fp["dictionary"] == "unidic-lite"
    assert fp["dictionary_package"] == "unidic-lite" and fp["dictionary_version"] == "1.0.8"
    assert fp["binding"] == "fugashi" and fp["binding_version"] == "1.5.2"
    assert fp["mecab_version"] not in ("", "unknown")
    assert fp["normalization_version"] == NORMALIZATION_VERSION
    assert {"sys.dic", "matrix.bin", "char.bin", "unk.dic", "dicrc"} <= fp["dictionary_files"].keys()
    assert all(len(h) == 64 for h in fp["dictionary_files"].values())
    assert len(fp["canary"]) == len(CANARY_TITLES) >= 50
    assert fp["canary"][CANARY_TITLES.index(LV)] == " ".join(LV_UNIDIC)
    assert len(fp["id"]) == 16 and fp["id"] == tok_mod.fingerprint_id(fp)


def test_fingerprint_stable_across_processes():
    first, second = (json.loads(_python(FINGERPRINT_SCRIPT)) for _ in range(2))
    assert first == second == Tokenizer().fingerprint()


def test_big_files_hashed_once_per_process(monkeypatch):
    calls = []
    real = tok_mod._sha256_file
    monkeypatch.setattr(tok_mod, "_sha256_file", lambda path: calls.append(path) or real(path))
    tok_mod._dictionary_file_hashes.cache_clear()
    first = Tokenizer().fingerprint()
    hashed = len(calls)
    assert hashed >= 5
    assert Tokenizer().fingerprint() == first
    assert Tokenizer("unidic-lite").fingerprint() == first
    assert len(calls) == hashed


def test_ipadic_fingerprint_same_from_env_and_in_process(ipadic_fp_from_env):
    assert Tokenizer("ipadic").fingerprint() == ipadic_fp_from_env


def test_compare_shows_readable_diff(ipadic_fp_from_env):
    expected, running = Tokenizer().fingerprint(), ipadic_fp_from_env
    assert expected["id"] != running["id"]
    assert compare_fingerprints(expected, expected) == []
    lines = compare_fingerprints(expected, running)
    text = "\n".join(lines)
    assert "dictionary: expected unidic-lite, running ipadic" in lines
    assert any(line.startswith("sys.dic sha256 differs: expected ") for line in lines)
    assert ("  ルイヴィトン 長財布\n"
            "    expected: ルイ | ヴィトン | 長 | 財布\n"
            "    running:  ルイヴィトン | 長 | 財布") in lines
    differing = sum(e != r for e, r in zip(expected["canary"], running["canary"]))
    assert f"canary: {differing} of {len(CANARY_TITLES)} titles tokenize differently" in text
    assert sum(line.startswith("  ") for line in lines) == min(differing, 5)


def test_compare_only_id_differs():
    fp = Tokenizer().fingerprint()
    lines = compare_fingerprints(fp, {**fp, "id": "0" * 16})
    assert len(lines) == 1 and lines[0].startswith("id: expected")


def test_compare_skips_canary_when_titles_differ():
    fp = Tokenizer().fingerprint()
    other = {**fp, "canary_titles_sha256": "f" * 64, "canary": fp["canary"][:-1]}
    assert compare_fingerprints(fp, other) == [
        "canary titles differ (fingerprints made by different zeta versions): canary tokens are not comparable"]


def test_check_fingerprint(ipadic_fp_from_env):
    check_fingerprint(Tokenizer().fingerprint())
    check_fingerprint({"tokenizer_fingerprint": ipadic_fp_from_env}, Tokenizer("ipadic"))
    with pytest.raises(TokenizerMismatch) as info:
        check_fingerprint({"model": "price", "tokenizer_fingerprint": ipadic_fp_from_env})
    first, *rest = str(info.value).splitlines()
    assert first.startswith("tokenizer mismatch: expected ipadic") and "running unidic-lite" in first
    assert "dictionary: expected ipadic, running unidic-lite" in rest
    assert "    expected: ルイヴィトン | 長 | 財布" in rest
    assert isinstance(info.value, ZetaError)
    with pytest.raises(ZetaError, match="not a tokenizer fingerprint"):
        check_fingerprint({"model": "price"})


# --- CLI --------------------------------------------------------------------------------------


def test_cli_fingerprint():
    result = _run([str(ZETA), "tokenizer", "fingerprint", "--json"])
    assert result.returncode == 0, result.stderr
    fp = Tokenizer().fingerprint()
    assert json.loads(result.stdout) == fp
    assert LV_UNIDIC[1] in result.stdout  # Japanese not \u-escaped
    human = _run([str(ZETA), "tokenizer", "fingerprint"])
    assert human.returncode == 0 and "unidic-lite 1.0.8" in human.stdout and fp["id"] in human.stdout


def test_cli_check_own_fingerprint_passes(tmp_path):
    path = tmp_path / "model.json"
    fp = Tokenizer().fingerprint()
    path.write_text(json.dumps({"tokenizer_fingerprint": fp}, ensure_ascii=False), encoding="utf-8")
    result = _run([str(ZETA), "tokenizer", "check", str(path)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tokenizer matches {path} (id {fp['id']})"


def test_cli_check_ipadic_fingerprint_fails_with_diff(tmp_path, ipadic_fp_from_env):
    path = tmp_path / "ipadic.json"
    path.write_text(json.dumps(ipadic_fp_from_env, ensure_ascii=False), encoding="utf-8")
    result = _run([str(ZETA), "tokenizer", "check", str(path)])
    assert result.returncode == 1
    assert "dictionary: expected ipadic, running unidic-lite" in result.stderr
    assert "  ルイヴィトン 長財布\n    expected: ルイヴィトン | 長 | 財布\n    running:  ルイ | ヴィトン | 長 | 財布" \
        in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content", [None, "not json {", "[1, 2]"])
def test_cli_check_bad_file_is_one_line(tmp_path, content):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = _run([str(ZETA), "tokenizer", "check", str(path)])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("zeta: error: ")


def test_cli_tokenize():
    result = _run([str(ZETA), "tokenizer", "tokenize", LV])
    assert result.returncode == 0 and result.stdout.strip() == "ルイ | ヴィトン | 長 | 財布"
    result = _run([str(ZETA), "tokenizer", "tokenize", "--json", LV], dictionary="ipadic")
    assert result.returncode == 0 and json.loads(result.stdout) == LV_IPADIC
    assert "ルイヴィトン" in result.stdout


# --- MeCab bindings ---------------------------------------------------------------------------

MECAB_PYTHON3_FINGERPRINT = ("import json, sys; from zeta_serving.tokenizer import Tokenizer; "
                             "fp = Tokenizer().fingerprint(); "
                             "print(json.dumps([fp, 'fugashi' in sys.modules, 'MeCab' in sys.modules]))")


@pytest.fixture(scope="module")
def mecab_python3_run() -> tuple[dict, bool, bool]:
    """(fingerprint, fugashi imported?, MeCab imported?) of a process with ZETA_MECAB_BINDING=mecab-python3."""
    return tuple(json.loads(_python(MECAB_PYTHON3_FINGERPRINT, binding="mecab-python3")))


def _sample_titles() -> list[str]:
    import csv

    titles = list(CANARY_TITLES)
    for name in ("kaggle_sample.tsv", "mercari_jp_sample.tsv"):
        with open(Path(__file__).parent / "fixtures" / name, encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                titles += [row["name"], row["item_description"]]
    return titles


def test_mecab_python3_pinned_like_fugashi():
    import importlib.metadata
    import tomllib

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    serving = (root / "requirements/serving.txt").read_text().splitlines()
    assert "mecab-python3==1.0.12" in project and "fugashi==1.5.2" in project
    assert "mecab-python3==1.0.12" in serving and "fugashi==1.5.2" in serving
    assert importlib.metadata.version("mecab-python3") == "1.0.12"


def test_mecab_python3_binding_runs_on_MeCab_alone(mecab_python3_run):
    fp, fugashi_imported, mecab_imported = mecab_python3_run
    assert mecab_imported and not fugashi_imported  # the seam really switched libraries
    assert fp["binding"] == "mecab-python3" and fp["binding_version"] == "1.0.12"
    import MeCab

    assert fp["mecab_version"] == MeCab.VERSION == Tokenizer().fingerprint()["mecab_version"] == "0.996"


def test_both_bindings_give_identical_tokens_over_the_same_dictionary(monkeypatch, mecab_python3_run):
    titles = _sample_titles()
    by_fugashi = Tokenizer().tokenize_many(titles)
    fugashi_fp = Tokenizer().fingerprint()
    monkeypatch.setenv("ZETA_MECAB_BINDING", "mecab-python3")
    mecab = Tokenizer()
    assert mecab.resolved_binding == "mecab-python3" and mecab.resolved_dictionary == "unidic-lite"
    assert mecab.tokenize_many(titles) == by_fugashi
    assert mecab.tokenize(LV) == LV_UNIDIC
    mecab_fp = mecab.fingerprint()
    assert mecab_fp == mecab_python3_run[0]  # in-process and from the environment alike
    assert mecab_fp["canary"] == fugashi_fp["canary"]
    assert mecab_fp["dictionary_files"] == fugashi_fp["dictionary_files"]


def test_binding_is_recorded_but_does_not_change_the_id(mecab_python3_run):
    fugashi_fp, mecab_fp = Tokenizer().fingerprint(), mecab_python3_run[0]
    assert fugashi_fp["binding"] != mecab_fp["binding"]
    assert fugashi_fp["id"] == mecab_fp["id"]  # same tokens, same dictionary, same libmecab
    assert compare_fingerprints(fugashi_fp, mecab_fp) == []
    assert compare_fingerprints(mecab_fp, fugashi_fp) == []
    # Anything that does decide tokens still changes the id under either binding.
    assert tok_mod.fingerprint_id({**mecab_fp, "mecab_version": "0.997"}) != mecab_fp["id"]
    lines = compare_fingerprints(fugashi_fp, {**mecab_fp, "mecab_version": "0.997"})
    assert lines == ["mecab_version: expected 0.996, running 0.997",
                     "binding: expected fugashi 1.5.2, running mecab-python3 1.0.12"]


def test_fingerprint_from_before_the_binding_seam_still_matches():
    fp = Tokenizer().fingerprint()
    old = {k: v for k, v in fp.items() if k not in ("binding", "binding_version")}
    old["fugashi_version"] = "1.5.2"
    old["id"] = tok_mod._sha256_text(json.dumps({k: v for k, v in old.items() if k != "id"},
                                                sort_keys=True, ensure_ascii=False))[:16]
    assert old["id"] != fp["id"]  # the old id covered fugashi_version
    assert compare_fingerprints(old, fp) == []
    check_fingerprint({"tokenizer_fingerprint": old})


def test_model_trained_under_fugashi_is_served_under_mecab_python3(tmp_path):
    """Same dictionary: accepted. A different dictionary is still refused, under either binding."""
    path = tmp_path / "model.json"
    fp = Tokenizer().fingerprint()
    path.write_text(json.dumps({"tokenizer_fingerprint": fp}, ensure_ascii=False), encoding="utf-8")
    result = _run([str(ZETA), "tokenizer", "check", str(path)], binding="mecab-python3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tokenizer matches {path} (id {fp['id']})"

    refused = _run([str(ZETA), "tokenizer", "check", str(path)], dictionary="ipadic", binding="mecab-python3")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "dictionary: expected unidic-lite, running ipadic" in refused.stderr
    assert "    running:  ルイヴィトン | 長 | 財布" in refused.stderr  # MeCab.Tagger's own unidic default lost
    assert "binding: expected fugashi 1.5.2, running mecab-python3 1.0.12" in refused.stderr


def test_different_dictionary_refused_under_mecab_python3(monkeypatch, ipadic_fp_from_env):
    monkeypatch.setenv("ZETA_MECAB_BINDING", "mecab-python3")
    ipadic = Tokenizer("ipadic")
    assert ipadic.tokenize(LV) == LV_IPADIC
    assert ipadic.fingerprint()["canary"] == ipadic_fp_from_env["canary"]  # ipadic alike too
    with pytest.raises(TokenizerMismatch, match="dictionary: expected unidic-lite, running ipadic"):
        check_fingerprint(Tokenizer().fingerprint(), ipadic)
    with pytest.raises(TokenizerMismatch, match="dictionary: expected ipadic, running unidic-lite"):
        check_fingerprint(ipadic_fp_from_env, Tokenizer())


def test_serving_gate_accepts_the_other_binding_and_refuses_another_dictionary(tmp_path):
    """The gate every service runs at import, over a model saved under fugashi."""
    import bentoml

    fp = Tokenizer().fingerprint()
    with bentoml.models.create("zeta-binding-gate", metadata={
            "tokenizer_fingerprint": json.dumps(fp, ensure_ascii=False)}) as ref:
        (Path(ref.path) / "unused").write_text("")
    tag = str(ref.tag)
    try:
        code = ("from zeta_serving.serving.runtime import gate; print(gate('price'))")
        env = {**_env(binding="mecab-python3"), "ZETA_PRICE_MODEL": tag}
        served = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert served.returncode == 0, served.stderr
        assert served.stdout.strip() == tag
        refused = subprocess.run([sys.executable, "-c", code], env={**env, "ZETA_MECAB_DICT": "ipadic"},
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode == 4
        assert "dictionary: expected unidic-lite, running ipadic" in refused.stderr
    finally:
        bentoml.models.delete(tag)


@pytest.mark.parametrize("binding, words", [
    ("mecab", ["unknown MeCab binding 'mecab' (from $ZETA_MECAB_BINDING)", "'fugashi' or 'mecab-python3'"]),
])
def test_unknown_binding_is_one_line(binding, words):
    result = _run([str(ZETA), "tokenizer", "tokenize", LV], binding=binding)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert all(w in result.stderr for w in words)


def test_missing_binding_is_a_zeta_error(monkeypatch):
    monkeypatch.setenv("ZETA_MECAB_BINDING", "mecab-python3")
    monkeypatch.setitem(sys.modules, "MeCab", None)  # what an environment without the wheel sees
    with pytest.raises(ZetaError, match=r"MeCab binding 'mecab-python3' \(from \$ZETA_MECAB_BINDING\) "
                                        r"is not installed \(pip install mecab-python3"):
        Tokenizer().tokenize(LV)


def test_bad_dictionary_directory_under_mecab_python3_is_one_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("ZETA_MECAB_BINDING", "mecab-python3")
    (tmp_path / "sys.dic").write_bytes(b"not a dictionary")
    with pytest.raises(ZetaError) as info:
        Tokenizer(str(tmp_path)).tokenize(LV)
    message = str(info.value)
    assert message.startswith("MeCab (mecab-python3) could not load dictionary path:")
    assert "\n" not in message and "-----" not in message


def test_cli_fingerprint_names_the_binding():
    result = _run([str(ZETA), "tokenizer", "fingerprint"], binding="mecab-python3")
    assert result.returncode == 0, result.stderr
    assert "binding       mecab-python3 1.0.12" in result.stdout
    assert "binding       fugashi 1.5.2" in _run([str(ZETA), "tokenizer", "fingerprint"]).stdout
