"""Helpers every command shares."""

from __future__ import annotations

import json
import sys

import click


def task_names() -> list[str]:
    """The registered tasks: every command that names a model offers these choices."""
    from zeta_serving import tasks

    return list(tasks.names())


def open_store(ctx: click.Context):
    from zeta_serving.store import ListingStore

    return ListingStore(ctx.find_root().obj.get("db_url"))


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def progress_enabled() -> bool:
    return sys.stderr.isatty()
