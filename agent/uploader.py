"""Sends sealed batches to the collector and deletes each one only once acked.

Imported by the upload step only (``kitlife-agent once`` or the short-lived
upload child of ``kitlife-agent run``): httpx costs the resident loop about
12 MB it does not need between uploads.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from kitlife import __version__
from kitlife.agent.config import AgentConfig
from kitlife.agent.credentials import Credentials
from kitlife.agent.schedule import parse_retry_after
from kitlife.agent.spool import Spool
from kitlife.protocol import CONTENT_TYPE

log = logging.getLogger(__name__)


class UploadError(RuntimeError):
    """The collector could not be reached or refused us; the data stays spooled."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class EnrolError(RuntimeError):
    """Enrolment was refused or failed; the message says why."""


@dataclass(slots=True)
class UploadReport:
    acked: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    server_time_s: float | None = None


def _check_scheme(url: str, config: AgentConfig, allow_http: bool = False) -> None:
    """A collector URL is https://HOST[:PORT]; plain http only where it was allowed."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UploadError(f"{url!r} is not a collector URL: give https://HOST[:PORT]")
    if parts.scheme == "https" or config.allow_http or allow_http:
        return
    raise UploadError(
        f"refusing {url!r}: the collector must be https://. For a lab collector on plain "
        "http, enrol with `kitlife-agent enroll --allow-http` (remembered for later "
        "uploads), or set KITLIFE_AGENT_ALLOW_HTTP=1 or allow_http = true in the "
        "agent's config file (--config)"
    )


def make_client(config: AgentConfig, base_url: str, allow_http: bool = False) -> httpx.Client:
    """One client, reused for every request of an upload: keep-alive, TLS verified."""
    _check_scheme(base_url, config, allow_http)
    verify: str | bool = config.ca_bundle or True
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        verify=verify,
        timeout=config.request_timeout_s,
        headers={"User-Agent": f"kitlife-agent/{__version__}"},
        follow_redirects=False,
    )


def retry_after_s(value: str | None, now_s: float | None = None) -> float | None:
    """Parse Retry-After (seconds or an HTTP date); None when absent or nonsense."""
    return parse_retry_after(value, time.time() if now_s is None else now_s)


def _reason(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return f"HTTP {response.status_code}: {detail or response.reason_phrase}"


def enroll(
    config: AgentConfig, url: str, token: str, facts: dict[str, str], allow_http: bool = False
) -> Credentials:
    """Trade the token for a key; ``allow_http`` lets a plain-http collector in, and is kept."""
    try:
        with make_client(config, url, allow_http) as client:
            response = client.post(
                "/v1/enroll", json={"facts": facts}, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as err:
        raise EnrolError(f"cannot reach {url}: {err}") from err
    except UploadError as err:
        raise EnrolError(str(err)) from err
    if response.status_code != 200:
        raise EnrolError(f"enrolment refused: {_reason(response)}")
    data = response.json()
    return Credentials(
        url.rstrip("/"),
        str(data["device_id"]),
        str(data["device_key"]),
        allow_http and url.startswith("http://"),
    )


def upload_pending(
    spool: Spool, creds: Credentials, config: AgentConfig, client: httpx.Client | None = None
) -> UploadReport:
    """Send every sealed batch in order; stop at the first failure (data stays)."""
    report = UploadReport()
    own_client = client is None
    client = client or make_client(config, creds.collector_url, creds.allow_http)
    headers = {"Authorization": f"Bearer {creds.device_key}", "Content-Type": CONTENT_TYPE}
    try:
        for seq, body in spool.pending():
            try:
                response = client.post("/v1/batches", content=body, headers=headers)
            except httpx.HTTPError as err:
                raise UploadError(f"cannot reach {creds.collector_url}: {err}") from err
            status = response.status_code
            if status == 200:
                ack = response.json()
                accepted = ack.get("accepted", [])
                batch_id = f"{spool.meta('spool_id')}:{seq}"
                if batch_id not in accepted:
                    raise UploadError(f"collector did not acknowledge batch {batch_id}")
                spool.ack([seq])
                report.acked.append(seq)
                report.server_time_s = ack.get("server_time_s")
                if isinstance(ack.get("config"), dict):
                    report.config = ack["config"]
            elif status in (429, 503):
                raise UploadError(
                    _reason(response), retry_after_s(response.headers.get("Retry-After"))
                )
            elif status in (400, 413, 415, 422):
                # The collector will never take this batch: keep the queue moving,
                # and say so in the log and the spool's counters.
                reason = _reason(response)
                log.error("collector rejected batch %d for good: %s", seq, reason)
                spool.ack([seq])
                spool.set_meta("rejected_batches", spool.meta_int("rejected_batches") + 1)
                report.rejected.append((seq, reason))
            else:
                raise UploadError(_reason(response))
    finally:
        if own_client:
            client.close()
    if report.acked:
        spool.set_meta("last_upload_s", int(time.time()))
    return report
