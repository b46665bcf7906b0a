"""How every ``kitlife`` command prints: one ``--format`` option, tables, progress bars.

- ``--format text|json|csv`` on every command that prints rows or a report.
  ``text`` is a table for people: drawn with rich when stdout is a terminal,
  plain aligned columns when it is piped (so ``| grep`` and ``| less`` work).
  ``json`` and ``csv`` are for programs and stable; CSV cells go through
  ``reports.export.csv_safe``. The older ``--json`` and ``--csv`` flags still
  work, hidden, and giving two forms at once is a usage error (exit 2), not a
  silent choice.
- :func:`progress`: a bar with time left on stderr for any job that can take
  over a second (scoring, simulating, importing, planning); on a pipe or in a
  log it prints a line at each tenth instead, so nothing is silent for long and
  nothing floods.

rich rather than hand-drawn tables and bars: it sizes columns to the terminal,
degrades to plain text, and estimates time left.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import click

from kitlife.collector.reports.export import csv_text

FORMATS = ("text", "json", "csv")


def format_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--format text|json|csv`` (default text), plus the hidden --json and --csv flags.

    The command receives ``fmt`` only; two different forms at once are a usage error.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {kwargs.pop("fmt"), kwargs.pop("as_json"), kwargs.pop("as_csv")} - {None}
        if len(given) > 1:
            raise click.UsageError(
                "choose one output form: " + " or ".join(f"--format {g}" for g in sorted(given))
            )
        return fn(*args, fmt=given.pop() if given else "text", **kwargs)

    wrapped: Callable[..., Any] = wrapper
    wrapped = click.option("--csv", "as_csv", flag_value="csv", default=None, hidden=True)(wrapped)
    wrapped = click.option("--json", "as_json", flag_value="json", default=None, hidden=True)(
        wrapped
    )
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="text (a table; the default), json or csv.",
    )(wrapped)


def is_terminal() -> bool:
    return sys.stdout.isatty()


def plain_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], title: str = "") -> None:
    """A table on stdout: rich in a terminal, plain columns on a pipe."""
    if not is_terminal():
        if title:
            click.echo(title)
        click.echo(plain_table(rows, headers))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title or None, title_justify="left", header_style="bold")
    for h in headers:
        t.add_column(str(h))
    for r in rows:
        t.add_row(*("" if c is None else str(c) for c in r))
    Console().print(t)


def emit(
    rows: list[dict[str, Any]],
    fmt: str,
    columns: Sequence[str],
    headers: Sequence[str] | None = None,
    text_rows: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Rows as JSON, CSV (``columns``) or a table (``text_rows`` if given: rounded for people)."""
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        click.echo(csv_text(rows, columns), nl=False)
    else:
        shown = rows if text_rows is None else text_rows
        table([[r.get(c) for c in columns] for r in shown], headers or columns)


@contextmanager
def progress(total: int, what: str) -> Iterator[Callable[[int], None]]:
    """``advance(done)`` as work goes; a bar with time left on a terminal, tenths on a pipe."""
    if total <= 0:
        yield lambda _done: None
        return
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn(what),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("time left"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task(what, total=total)
            yield lambda done: bar.update(task, completed=done)
        return
    started = time.monotonic()
    next_tenth = 1

    def advance(done: int) -> None:
        nonlocal next_tenth
        while done * 10 >= next_tenth * total and next_tenth <= 10:
            elapsed = time.monotonic() - started
            left = elapsed * (total - done) / done if done else 0.0
            click.echo(
                f"  {what}: {done}/{total} ({next_tenth * 10}%), about {left:.0f} s left",
                err=True,
            )
            next_tenth += 1

    yield advance
