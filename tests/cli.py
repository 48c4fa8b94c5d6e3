"""Run the `zeta` command in this process, as a user would: (exit code, stdout, stderr)."""

from __future__ import annotations


def run_cli(args, capsys):
    from zeta_serving.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
