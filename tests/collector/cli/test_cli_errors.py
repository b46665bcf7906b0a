"""Issue 17's CLI defects, each driven through the real ``kitlife`` entry point.

Every bad --db, unreachable database, busy port and bad option value is one
line naming the option, exit 2 for usage and 1 for failures, never a
traceback; read commands never create or migrate a database.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from kitlife.collector.cli.errors import hoist_db
from kitlife.collector.cli.main import _announce
from kitlife.collector.store import migrate
from tests.conftest import BIN


def kitlife(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "kitlife"), *args], capture_output=True, text=True, timeout=60, check=False
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert "Traceback" not in result.stderr + result.stdout
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture
def upgraded(sqlite_url: str) -> str:
    assert kitlife("--db", sqlite_url, "db", "upgrade").returncode == 0
    return sqlite_url


def test_db_option_works_after_the_command_too(upgraded: str) -> None:
    result = kitlife("devices", "list", "--db", upgraded, "--format", "json")
    assert result.returncode == 0 and result.stdout.strip() == "[]"
    assert hoist_db(["serve", "--db", "u", "--port", "1"]) == ["--db", "u", "serve", "--port", "1"]
    assert hoist_db(["x", "--db=u"]) == ["--db=u", "x"]
    assert hoist_db(["x", "--", "--db", "u"]) == ["x", "--", "--db", "u"]


@pytest.mark.parametrize("url", ["foo://bar", "notaurl", "postgresql+nosuchdriver://x@y/z"])
def test_a_bad_db_url_is_a_usage_error(url: str) -> None:
    one_line_error(kitlife("--db", url, "devices", "list"), 2, "--db")
    one_line_error(kitlife("--db", url, "serve"), 2, "--db")


def test_an_unreachable_postgresql_is_one_line() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    one_line_error(kitlife("--db", url, "decisions"), 1, "--db", "refused")


def test_a_mistyped_sqlite_path_is_refused_not_created(tmp_path: Path) -> None:
    path = tmp_path / "typo.sqlite3"
    for args in (["devices", "list"], ["decisions"], ["report", "fleet"], ["token", "list"]):
        one_line_error(kitlife("--db", f"sqlite:///{path}", *args), 1, "kitlife db upgrade")
    assert not path.exists()


def test_an_sqlite_path_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    url = f"sqlite:///{blocker}/sub/collector.sqlite3"
    one_line_error(kitlife("--db", url, "db", "upgrade"), 1, "--db", "cannot create")


def test_read_commands_never_migrate(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    migrate.upgrade(engine, "0005")
    one_line_error(kitlife("--db", sqlite_url, "devices", "list"), 1, "0005", "kitlife db upgrade")
    assert migrate.current(engine) == "0005"
    engine.dispose()


def test_a_busy_port_is_one_line_naming_port(upgraded: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        one_line_error(
            kitlife("--db", upgraded, "serve", "--port", str(port)), 1, "--port", "in use"
        )


def test_bad_option_values_are_one_line_with_exit_2(upgraded: str) -> None:
    one_line_error(kitlife("--db", upgraded, "serve", "--port", "99999"), 2, "--port")
    one_line_error(
        kitlife("--db", upgraded, "serve", "--host", "no.such.host.invalid"), 2, "--host"
    )
    one_line_error(kitlife("--db", upgraded, "decisions", "--decision", "maybe"), 2, "--decision")
    one_line_error(kitlife("--db", upgraded, "decisions", "--json", "--csv"), 2, "one output form")
    one_line_error(kitlife("--db", upgraded, "token", "create", "--role", "x"), 2, "--role")


def test_decisions_at_an_unknown_site_says_so(sqlite_url: str, tmp_path: Path) -> None:
    args = ["--db", sqlite_url, "simulate", "--devices", "6", "--months", "2"]
    assert kitlife(*args).returncode == 0
    err = one_line_error(kitlife("--db", sqlite_url, "decisions", "--site", "NoSuchSite"), 2)
    assert "--site" in err and "sites:" in err


def test_serve_says_where_it_listens_and_warns_beyond_loopback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _announce("127.0.0.1", 8470, False, 1)
    quiet = capsys.readouterr().err
    assert "http://127.0.0.1:8470/" in quiet and "warning" not in quiet
    _announce("0.0.0.0", 8470, False, 2)
    loud = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0 without TLS" in loud
    _announce("0.0.0.0", 8470, True, 2)
    assert "warning" not in capsys.readouterr().err
