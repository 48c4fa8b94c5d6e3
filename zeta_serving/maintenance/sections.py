"""Deployer settings: their own tables in `zeta.toml` (`[kubernetes]`, `[spinnaker]`), validated.

Kept apart from `[maintenance]` so a deployer's keys live with the deployer: a new
deployer is one module, its settings model and a registry entry. Secrets never come
from the file: they are read from the environment (a Kubernetes Secret, mounted as env).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from zeta_serving.errors import ConfigError

Section = TypeVar("Section", bound=BaseModel)


def load_section(source: str | None, name: str, model: type[Section]) -> Section:
    """The `[name]` table of the config file at `source` ("defaults" or None: no file) as `model`.

    A bad key is one line naming it, like the [maintenance] table's (a ConfigError: exit 2).
    """
    from zeta_serving.maintenance.config import _did_you_mean, _shown, read_sections

    path = Path(source) if source and source != "defaults" else None
    raw = read_sections(path if path is not None and path.is_file() else None).get(name, {})
    where = f"{source} [{name}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table of keys")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"{where}: unknown key {key!r}{_did_you_mean(key, list(model.model_fields))}") from None
        raise ConfigError(f"{where}: {key} = {_shown(raw.get(key))}: {error['msg']}") from None
