"""What an installer carries so that a silent install enrols by itself.

The collector's URL and an optional CA go into the agent's config file; the
enrolment token is used once, by the install, to trade it for the device's own
key (``kitlife-agent enroll``), and is never written into the config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kitlife.installers.service import Layout


class InstallerError(ValueError):
    """An installer cannot be built from these inputs; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Enrolment:
    url: str
    token: str
    ca_pem: bytes | None = None
    # Plain-HTTP collectors are for labs and tests only; real fleets use HTTPS.
    allow_http: bool = False

    @classmethod
    def checked(
        cls, url: str, token: str, ca_file: Path | None = None, allow_http: bool = False
    ) -> Enrolment:
        """Refuse what would make an installer that cannot enrol, before anything is built."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise InstallerError(f"--url must be an http(s) URL, not {url!r}")
        if parts.scheme == "http" and not allow_http:
            raise InstallerError("--url is plain http: use https, or --allow-http for a lab")
        if not token.strip() or any(c.isspace() or c in "\"'\\" for c in token):
            raise InstallerError("--token must be one enrolment token without spaces or quotes")
        ca_pem = None
        if ca_file is not None:
            ca_pem = ca_file.read_bytes()
            if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
                raise InstallerError(f"--ca {ca_file} holds no PEM certificate")
        return cls(url.rstrip("/"), token.strip(), ca_pem, allow_http)


def _toml_string(value: str) -> str:
    # A JSON string with ASCII escapes is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def agent_toml(layout: Layout, enrolment: Enrolment) -> str:
    """The agent's config file for ``layout`` (never the token)."""
    lines = [
        "# Written by the kitlife-agent installer; see docs/install.md.",
        "[agent]",
        f"collector_url = {_toml_string(enrolment.url)}",
        f"state_dir = {_toml_string(str(layout.state_dir))}",
    ]
    if enrolment.ca_pem is not None:
        lines.append(f"ca_bundle = {_toml_string(str(layout.ca_file))}")
    if enrolment.allow_http:
        lines.append("allow_http = true")
    return "\n".join(lines) + "\n"
