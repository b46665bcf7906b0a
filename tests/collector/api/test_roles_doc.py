"""docs/collector.md's roles table names exactly the routes each API role reaches."""

from __future__ import annotations

import re
from pathlib import Path

from tests.collector.api.conftest import Live

DOC = Path(__file__).resolve().parents[3] / "docs" / "collector.md"


def documented(role_label: str) -> set[str]:
    lines = DOC.read_text().splitlines()
    row = next(line for line in lines if line.startswith(f"| {role_label} |"))
    return set(re.findall(r"`((?:GET|POST|PUT) /[^`]*)`", row))


def reachable(live: Live, token: str) -> set[str]:
    """Every route in the spec that this token gets past authorisation on."""
    with live.client(live.admin) as c:
        spec = c.get("/openapi.json").json()
    out = set()
    with live.client(token) as c:
        for path, methods in spec["paths"].items():
            for method in methods:
                if path in ("/healthz", "/v1/enroll", "/v1/batches"):
                    continue
                if path.startswith("/amnesty/book/"):
                    continue  # no API token: the signed link in the path is the credential
                r = c.request(method.upper(), re.sub(r"\{[^}]+\}", "x", path))
                if r.status_code not in (401, 403):
                    out.add(f"{method.upper()} {path}")
    return out


def test_servicedesk_row_lists_every_route_it_reaches(live: Live) -> None:
    assert reachable(live, live.servicedesk) == documented("service desk")


def test_admin_row_adds_every_admin_only_route(live: Live) -> None:
    admin_only = reachable(live, live.admin) - reachable(live, live.servicedesk)
    assert admin_only == documented("admin")
