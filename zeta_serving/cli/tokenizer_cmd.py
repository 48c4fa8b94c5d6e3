"""`zeta tokenizer ...`: inspect the pinned MeCab layer and check it against a model's fingerprint."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zeta_serving.errors import ZetaError
from zeta_serving.tokenizer import Tokenizer, check_fingerprint, unwrap_fingerprint


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)  # keep Japanese readable


@click.group()
def tokenizer() -> None:
    """The MeCab tokenizer every model uses (dictionary from $ZETA_MECAB_DICT, default unidic-lite;
    binding from $ZETA_MECAB_BINDING, fugashi or mecab-python3, default fugashi)."""


@tokenizer.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full fingerprint as JSON.")
def fingerprint(as_json: bool) -> None:
    """Show what this process tokenizes with: dictionary, binding, versions, file hashes, canary, id."""
    fp = Tokenizer().fingerprint()
    if as_json:
        click.echo(_dumps(fp))
        return
    dictionary = fp["dictionary"] + (f" {fp['dictionary_version']}" if fp["dictionary_version"] else "")
    rows = [("dictionary", dictionary), ("mecab", fp["mecab_version"]),
            ("binding", f"{fp['binding']} {fp['binding_version']}"), ("normalization", fp["normalization_version"])]
    rows += [(name, (digest or "missing")[:12]) for name, digest in fp["dictionary_files"].items()]
    rows += [("canary", f"{len(fp['canary'])} titles, sha256 {fp['canary_sha256'][:12]}"), ("id", fp["id"])]
    for key, value in rows:
        click.echo(f"{key:<14}{value}")


@tokenizer.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Exit 0 if this process tokenizes like FILE says (a fingerprint or model metadata JSON), else show the diff and exit 1."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ZetaError(f"cannot read {file}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ZetaError(f"{file} is not JSON: {exc}") from None
    expected = unwrap_fingerprint(data)
    check_fingerprint(expected)  # TokenizerMismatch is a ZetaError: summary + diff, exit 1
    click.echo(f"tokenizer matches {file} (id {expected.get('id', '?')})")


@tokenizer.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the tokens as a JSON list.")
def tokenize(text: str, as_json: bool) -> None:
    """Normalize TEXT and print its tokens."""
    tokens = Tokenizer().tokenize(text)
    click.echo(json.dumps(tokens, ensure_ascii=False) if as_json else " | ".join(tokens))
