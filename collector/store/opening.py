"""Opening a database for a command: refuse in one line rather than create, migrate or crash.

A command that only reads must not create an empty database where a path was
mistyped, nor migrate a schema as a side effect; a URL that is not a database
URL, or a server that does not answer, must read as one sentence, not a driver
traceback. :func:`open_store` checks, cheapest first, and raises one of the
:class:`OpenError` subclasses with a message a person can act on:

- :class:`BadDatabaseURL`: not a URL, or a backend other than SQLite or PostgreSQL;
- :class:`DatabaseMissing`: an SQLite file that does not exist (reading);
- :class:`DatabaseUnreachable`: the server refused or the file cannot be opened
  or created (a folder that does not exist or is not writable);
- :class:`SchemaOutOfDate`: no kitlife schema, or an older one (reading).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from kitlife.collector.store import migrate
from kitlife.collector.store.store import Store, StoreError


class OpenError(StoreError):
    """The database cannot be used as asked; the message says what to do."""


class BadDatabaseURL(OpenError):
    """The URL itself is wrong (a usage error)."""


class DatabaseMissing(OpenError):
    pass


class DatabaseUnreachable(OpenError):
    pass


class SchemaOutOfDate(OpenError):
    pass


UPGRADE_HINT = "create or migrate it with `kitlife db upgrade`"


def shown(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def sqlite_path(url: str) -> Path | None:
    """The file an SQLite URL names, or None (in-memory, or not SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return None if parsed.database == ":memory:" else Path(parsed.database)


def check_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadDatabaseURL(
            f"{url!r} is not a database URL: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise BadDatabaseURL(
            f"{parsed.get_backend_name()!r} databases are not supported: use sqlite:///PATH "
            "or postgresql+psycopg://USER@HOST/DB"
        )
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise BadDatabaseURL(
            f"no driver {parsed.drivername!r} installed: use postgresql+psycopg:// "
            "(pip install 'kitlife[postgres]') or sqlite:///PATH"
        ) from None


def _one_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head: str | None = script.get_current_head()
    return head


def open_store(url: str, *, create: bool = False, **store_kwargs: Any) -> Store:
    """A store on ``url``: ``create`` makes (and later migrates) it; otherwise it must exist
    at the newest schema. Raises :class:`OpenError` with a one-line reason."""
    check_url(url)
    path = sqlite_path(url)
    if path is not None:
        if not create and not path.exists():
            raise DatabaseMissing(f"no database at {path}: {UPGRADE_HINT}, or check --db")
        folder = path.parent
        if create and not folder.exists():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise DatabaseUnreachable(
                    f"cannot create folder {folder}: {err.strerror}"
                ) from None
        if create and not path.exists() and not os.access(folder, os.W_OK):
            raise DatabaseUnreachable(f"cannot create {path}: folder {folder} is not writable")
        if path.exists() and not os.access(path, os.R_OK):
            raise DatabaseUnreachable(f"cannot read {path}: permission denied")
    store = Store.from_url(url, **store_kwargs)
    try:
        store.ping()
        revision = None if create else migrate.current(store.engine)
    except (DBAPIError, SQLAlchemyError, OSError) as err:
        store.close()
        raise DatabaseUnreachable(f"cannot open {shown(url)}: {_one_line(err)}") from None
    if not create:
        head = head_revision()
        if revision is None:
            store.close()
            raise SchemaOutOfDate(f"{shown(url)} holds no kitlife schema: {UPGRADE_HINT}")
        if revision != head:
            store.close()
            raise SchemaOutOfDate(
                f"{shown(url)} is at schema {revision}, this kitlife needs {head}: {UPGRADE_HINT}"
            )
    return store
