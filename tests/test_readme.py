"""The README's command table is the CLI: every command is listed, and every option it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import click

from zeta_serving.cli import _register, cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _table_rows() -> list[str]:
    section = README.split("## The command line", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `zeta ")]


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    ctx = click.Context(group)
    found = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found.update(_commands(command, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = command
    return found


def test_every_command_is_in_the_table_and_every_listed_option_exists():
    _register()
    rows = _table_rows()
    commands = _commands(cli)
    listed = set()
    for row in rows:
        cell = re.split(r"(?<!\\)\|", row)[1]  # the first cell; `\|` inside code is not a border
        for usage in re.findall(r"`zeta ([^`]*)`", cell):
            words = [w for w in usage.split() if re.fullmatch(r"[a-z][a-z0-9-]*", w)]
            name = next((" ".join(words[:n]) for n in (2, 1) if " ".join(words[:n]) in commands), None)
            assert name, f"README lists `zeta {usage}`, which is not a command"
            listed.add(name)
            options = {o for param in commands[name].params for o in getattr(param, "opts", [])}
            for option in re.findall(r"(--[a-z][a-z0-9-]*)", usage):
                assert option in options, f"README lists {option} for `zeta {name}`, which has no such option"
    missing = set(commands) - listed
    assert not missing, f"commands missing from the README's command table: {sorted(missing)}"


def test_the_config_block_holds_real_keys_with_their_defaults_and_names_every_deployer():
    import dataclasses
    import tomllib

    from zeta_serving.maintenance.config import Policy
    from zeta_serving.maintenance.deployers import REGISTRY

    block = README.split("### Config", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    maintenance = tomllib.loads(block)["maintenance"]
    defaults = {f.name: f.default for f in dataclasses.fields(Policy)}
    for key, value in maintenance.items():
        if key == "models":
            continue
        assert key in defaults, f"README's config names {key}, which is not a key"
        shown = tuple(value) if isinstance(value, list) else value
        assert shown == defaults[key], f"README's config gives {key} = {value!r}, the default is {defaults[key]!r}"
    deployer_line = next(line for line in block.splitlines() if line.startswith("deployer"))
    assert all(f'"{name}"' in deployer_line for name in REGISTRY), deployer_line
