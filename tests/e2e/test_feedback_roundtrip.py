"""End to end: a rating given on the laptop shows up in the collector, through real processes.

``kitlife serve`` runs as a subprocess on a free loopback port over an SQLite
file; the agent commands run as the user would type them, with their state in
a temp KITLIFE_AGENT_STATE_DIR.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    db = f"sqlite:///{tmp_path / 'collector.sqlite3'}"
    env = {
        **os.environ,
        "KITLIFE_DB": db,
        "KITLIFE_AGENT_STATE_DIR": str(tmp_path / "agent-state"),
        "KITLIFE_AGENT_ALLOW_HTTP": "1",
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "kitlife"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"collector did not start: {server.stderr.read()!r}")
            time.sleep(0.2)
        yield url, db, env
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()


@pytest.mark.slow
def test_rating_reaches_the_collector(collector: tuple[str, str, dict[str, str]]) -> None:
    url, _db, env = collector
    token = _run([str(BIN / "kitlife"), "token", "create", "--role", "enroll"], env).strip()
    agent = str(BIN / "kitlife-agent")
    _run([agent, "enroll", "--url", url, "--token", token], env)
    thanks = _run([agent, "feedback", "2", "--reason", "slow"], env)
    assert "Thank you" in thanks
    _run([agent, "once"], env)

    host = socket.gethostname()
    report = json.loads(_run([str(BIN / "kitlife"), "devices", "show", host, "--json"], env))
    got = {r["metric"]: r["value"] for r in report["readings"]}
    assert got["feedback.score"] == 2
    assert got["feedback.reason"] == 1  # slow
    assert "resp.mem_available_pct" in got
    plain = _run([str(BIN / "kitlife"), "devices", "show", host], env)
    assert "feedback.score" in plain

    # The ack carried the rating schedule; the agent kept it.
    spool = Path(env["KITLIFE_AGENT_STATE_DIR"]) / "spool.db"
    with sqlite3.connect(spool) as db:
        (every,) = db.execute(
            "SELECT value FROM meta WHERE key='feedback_ask_every_days'"
        ).fetchone()
    assert every == "30"

    desk = _run([str(BIN / "kitlife"), "token", "create", "--role", "servicedesk"], env).strip()
    headers = {"Authorization": f"Bearer {desk}"}
    rows = httpx.get(f"{url}/v1/experience?by=device", headers=headers, timeout=10).json()
    assert [(r["hostname"], r["sentiment_avg"], r["ratings"]) for r in rows] == [(host, 2.0, 1)]
    assert httpx.get(f"{url}/v1/experience?by=site", headers=headers, timeout=10).status_code == 409
    assert httpx.get(f"{url}/v1/experience", timeout=10).status_code == 401
    table = _run([str(BIN / "kitlife"), "experience", "--by", "model", "--csv"], env)
    header = "model,devices,device_days,responsiveness_index,sentiment_avg,ratings"
    assert table.splitlines()[0] == header
