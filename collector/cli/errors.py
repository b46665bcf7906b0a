"""Failures as one line: exit 2 for a wrong option value, 1 for a failure, never a traceback.

The ``kitlife`` group is a :class:`Group` whose ``invoke`` turns the store's
opening errors into click exceptions that name ``--db``; commands raise
:class:`OptionError` for a value that parses but cannot be used
(``--site NoSuchSite``). Both print ``Error: ...`` on one line, without
click's usage block, which for a value that parsed would only distract.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Sequence
from typing import Any

import click

from kitlife.collector.store.opening import BadDatabaseURL, OpenError


class OptionError(click.ClickException):
    """A bad option value, in one line: exit code 2, as click's own usage errors."""

    exit_code = 2

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")


class Group(click.Group):
    """The top-level group: every error is one line, database errors name --db.

    click's own usage errors print the usage block and a hint over three lines;
    here they print ``Error: <what>  (see: kitlife CMD --help)`` and exit 2.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as err:
            where = err.ctx.command_path if err.ctx else (prog_name or self.name)
            click.echo(f"Error: {err.format_message()}  (see: {where} --help)", err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            err.show()
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except OSError as err:
            if err.errno == errno.EPIPE:  # the reader of a pipe went away (| head)
                sys.exit(1)
            raise
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BadDatabaseURL as err:
            raise OptionError("--db", str(err)) from None
        except OpenError as err:
            raise click.ClickException(f"--db: {err}") from None


def hoist_db(argv: list[str]) -> list[str]:
    """Move ``--db URL`` given after a command name to the front, where the group reads it.

    So ``kitlife serve --db URL`` (the form people type, and the README used)
    works as ``kitlife --db URL serve`` does. Nothing after ``--`` moves.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--db" and i + 1 < len(argv):
            front += argv[i : i + 2]
            i += 2
            continue
        if arg.startswith("--db="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest
