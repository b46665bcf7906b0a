"""Shared fixtures: real databases (an SQLite file, and a schema of the local PostgreSQL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

PG_BASE = os.environ.get("KITLIFE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_BASE.replace("+psycopg", ""), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    """A fresh schema in the local PostgreSQL, dropped afterwards.

    PostgreSQL is part of the project's test set-up (scripts/test starts it),
    so its absence fails loudly instead of skipping.
    """
    if not pg_available:
        pytest.fail(f"PostgreSQL not reachable at {PG_BASE}: run scripts/test, which starts it")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = PG_BASE.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'collector.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs once per supported database."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


# -- real processes ---------------------------------------------------------------------
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Collector:
    url: str
    db_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kitlife(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the admin CLI against this collector's database."""
        return subprocess.run(
            [str(BIN / "kitlife"), "--db", self.db_url, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_collector(db_url: str, log: Path, port: int | None = None) -> Collector:
    """`kitlife serve` as a real subprocess on a free loopback port, waited on until healthy."""
    port = port or free_port()
    handle = log.open("ab")
    process = subprocess.Popen(
        [str(BIN / "kitlife"), "--db", db_url, "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"collector exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Collector(url, db_url, process, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"collector did not become healthy: {log.read_text()[-2000:]}")


@pytest.fixture
def collector(db_url: str, tmp_path: Path) -> Iterator[Collector]:
    server = start_collector(db_url, tmp_path / "collector.log")
    yield server
    server.stop()


@dataclass
class Agent:
    state_dir: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KITLIFE_AGENT_STATE_DIR": str(self.state_dir),
            "KITLIFE_AGENT_ALLOW_HTTP": "1",
            "KITLIFE_AGENT_CONFIG": str(self.state_dir / "none.toml"),
        }

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(BIN / "kitlife-agent"), *args],
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "kitlife-agent"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    return Agent(tmp_path / "agent-state")
