"""Issue 19.8: the audit log names the API token that acted over HTTP, not just "api"."""

from __future__ import annotations

from tests.collector.api.conftest import Live


def _token_id(live: Live, name: str) -> str:
    return next(t["id"] for t in live.store.list_tokens() if t["name"] == name)


def test_http_admin_actions_record_the_acting_token(live: Live) -> None:
    live.enroll("pc-gone")
    admin_id = _token_id(live, "test admin")
    with live.client(live.admin) as c:
        assert c.post("/v1/tokens", json={"role": "servicedesk", "name": "desk"}).status_code == 201
        assert c.post("/v1/devices/pc-gone/revoke").status_code == 200
    entries = live.store.audit_entries(2)
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("device.revoke", f"token {admin_id}"),
        ("token.create", f"token {admin_id}"),
    ]
