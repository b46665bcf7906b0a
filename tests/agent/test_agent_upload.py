"""The upload pass (what the child runs) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kitlife.agent.childjob import config_from_json, config_to_json, upload
from kitlife.agent.config import AgentConfig
from kitlife.agent.credentials import Credentials, save_credentials
from kitlife.agent.readings import SourceResult
from kitlife.agent.spool import Spool
from kitlife.protocol import decode_batch
from tests.agent.agent_helpers import free_port

Reply = Callable[[str], tuple[int, dict[str, str], bytes]]


@dataclass
class Fake:
    url: str
    replies: list[Reply]
    seen: list[str]
    ports: list[int]


@pytest.fixture
def server() -> Iterator[Fake]:
    """A collector stand-in whose answers the test scripts, one per request."""
    replies: list[Reply] = []
    seen: list[str] = []
    ports: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            batch_id = decode_batch(body).batch_id
            seen.append(batch_id)
            ports.append(self.client_address[1])
            status, headers, payload = replies.pop(0)(batch_id)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Fake(f"http://127.0.0.1:{httpd.server_address[1]}", replies, seen, ports)
    httpd.shutdown()
    httpd.server_close()


def ack(ids: list[str] | None = None, config: object = None) -> Reply:
    def reply(batch_id: str) -> tuple[int, dict[str, str], bytes]:
        body = {
            "accepted": [batch_id] if ids is None else ids,
            "duplicate": False,
            "server_time_s": time.time(),
            "config": config if config is not None else {"sample_interval_s": 60},
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return reply


def status(code: int, headers: dict[str, str] | None = None) -> Reply:
    return lambda _id: (code, headers or {}, b'{"detail": "no"}')


def _setup(tmp_path: Path, url: str, points: int = 3, **kw: object) -> AgentConfig:
    save_credentials(tmp_path, Credentials(url, "dev1", "key1"))
    with Spool(tmp_path / "spool.db") as spool:
        result = SourceResult("system")
        for i in range(points):
            result.add("cpu.busy_pct", float(i), f"core{i}")
        spool.add([result], 1_750_000_000)
    base = AgentConfig(state_dir=tmp_path, allow_http=True, batch_max_points=100)
    return base.with_overrides(kw, "test")


def _batches(tmp_path: Path) -> int:
    with Spool(tmp_path / "spool.db", readonly=True) as spool:
        return spool.stats().batches


def test_batch_is_deleted_only_when_the_ack_names_it(tmp_path: Path, server: Fake) -> None:
    url, replies, seen = server.url, server.replies, server.seen
    config = _setup(tmp_path, url)
    replies.append(ack(["someone-else:1"]))
    out = upload(config)
    assert out["ok"] is False and "did not acknowledge" in out["error"]
    assert _batches(tmp_path) == 1
    replies.append(ack())
    out = upload(config)
    assert out["ok"] is True and out["acked"] == 1
    assert out["config"] == {"sample_interval_s": 60}
    assert _batches(tmp_path) == 0
    assert seen[0] == seen[1]  # the same batch id both times


def test_batches_are_capped_and_sent_oldest_first_on_one_connection(
    tmp_path: Path, server: Fake
) -> None:
    url, replies, seen = server.url, server.replies, server.seen
    config = _setup(tmp_path, url, points=250)
    replies.extend([ack(), ack(), ack()])
    out = upload(config)
    assert out["ok"] and out["acked"] == 3  # 250 points at 100 per batch
    assert [s.rsplit(":", 1)[1] for s in seen] == ["1", "2", "3"]
    assert len(set(server.ports)) == 1  # keep-alive: one connection for all three


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_reported_and_nothing_is_lost(
    tmp_path: Path, server: Fake, code: int
) -> None:
    url, replies = server.url, server.replies
    config = _setup(tmp_path, url)
    replies.append(status(code, {"Retry-After": "7"}))
    out = upload(config)
    assert out["ok"] is False and out["retry_after_s"] == 7.0
    replies.append(status(code, {"Retry-After": formatdate(time.time() + 120, usegmt=True)}))
    out = upload(config)
    assert 100 <= out["retry_after_s"] <= 121
    assert _batches(tmp_path) == 1


def test_server_error_without_retry_after_leaves_backoff_to_the_loop(
    tmp_path: Path, server: Fake
) -> None:
    url, replies = server.url, server.replies
    config = _setup(tmp_path, url)
    replies.append(status(500))
    out = upload(config)
    assert out["ok"] is False and out["retry_after_s"] is None
    assert _batches(tmp_path) == 1


def test_plain_http_needs_allow_http_and_says_how(tmp_path: Path) -> None:
    config = _setup(tmp_path, "http://127.0.0.1:9", allow_http=False)
    out = upload(config)
    assert out["ok"] is False and "must be https://" in out["error"]
    for how in ("kitlife-agent enroll --allow-http", "KITLIFE_AGENT_ALLOW_HTTP", "allow_http"):
        assert how in out["error"]


def test_allow_http_given_at_enrolment_is_remembered_for_uploads(
    tmp_path: Path, server: Fake
) -> None:
    config = _setup(tmp_path, server.url, allow_http=False)
    save_credentials(tmp_path, Credentials(server.url, "dev1", "key1", allow_http=True))
    server.replies.append(ack())
    assert upload(config)["ok"] is True


@pytest.mark.parametrize("url", ["collector.example", "ftp://x", "https://", "http://h:port"])
def test_a_malformed_collector_url_is_named_as_such(tmp_path: Path, url: str) -> None:
    out = upload(_setup(tmp_path, url))
    assert out["ok"] is False and "is not a collector URL" in out["error"]


def test_not_enrolled_is_an_error_not_a_crash(tmp_path: Path) -> None:
    out = upload(AgentConfig(state_dir=tmp_path, allow_http=True))
    assert out["ok"] is False and "not enrolled" in out["error"]


def test_config_round_trips_to_the_child(tmp_path: Path) -> None:
    config = AgentConfig(state_dir=tmp_path, sample_interval_s=17, allow_http=True, ca_bundle="x")
    assert config_from_json(config_to_json(config)) == config
