"""One exception type for every failure a user can fix; the CLI prints it as one line."""


class ZetaError(Exception):
    """A user-facing error: bad input, bad config, missing model, unreachable database."""


class ConfigError(ZetaError):
    """The project config is wrong: nothing runs, the CLI exits 2."""

    exit_code = 2
