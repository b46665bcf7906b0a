"""Credentials over HTTP: nothing but /healthz without them, roles enforced, enrolment bounded."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import update

from kitlife.collector.api.app import create_app
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store.schema import devices
from tests.collector.api.conftest import Live

PUBLIC = {"/healthz"}
# The web pages answer without credentials only with the sign-in form, or a redirect to it
# (303; "/" and "/web" redirect to the search page, which then redirects to sign-in).
PAGES = {
    ("GET", "/web/sign-in"): 200,
    ("POST", "/web/sign-in"): 403,  # no CSRF value: refused before the token is looked at
    ("POST", "/web/sign-out"): 303,
}
# The amnesty booking page's credential is the signed link in its path (docs/amnesty.md).
SIGNED_LINK = {"/amnesty/book/{campaign_id}/{token}"}


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # fastapi.routing._IncludedRouter
            yield from api_routes(route.original_router.routes)


def test_every_route_but_healthz_wants_credentials(live: Live) -> None:
    app = create_app(Settings(db_url="sqlite://"))
    routes = list(api_routes(app.routes))
    assert {r.path for r in routes} >= set(app.openapi()["paths"]) | {"/openapi.json"}
    with live.client() as client:
        for route in routes:
            path = re.sub(r"\{[^}]+\}", "x", route.path)
            for method in route.methods:
                if route.path in SIGNED_LINK:
                    forged = client.request(method, "/amnesty/book/1/forged")
                    assert forged.status_code == 403, (method, route.path)
                    continue
                response = client.request(method, path)
                if not route.include_in_schema:
                    expected = PAGES.get((method, route.path), 303)
                    assert response.status_code == expected, (method, route.path)
                    if expected == 303 and route.path not in ("/", "/web", "/web/"):
                        assert response.headers["location"].startswith("/web/sign-in")
                    continue
                expected = 200 if route.path in PUBLIC else 401
                assert response.status_code == expected, (method, route.path)
        # No public documentation pages either: the spec is a protected route.
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            assert client.get(path).status_code == 404
        assert client.get("/openapi.json").status_code == 401


def test_wrong_token_kinds_are_refused(live: Live) -> None:
    _, device_key = live.enroll()
    with live.client(device_key) as c:  # a device key is no API token
        assert c.get("/v1/devices").status_code == 401
    with live.client(live.servicedesk) as c:  # and an API token is no device key
        assert (
            c.post(
                "/v1/batches",
                content=b"x",
                headers={"Content-Type": "application/vnd.kitlife.batch"},
            ).status_code
            == 401
        )


def test_servicedesk_may_read_but_not_administer(live: Live) -> None:
    live.enroll("pc-1")
    with live.client(live.servicedesk) as c:
        assert c.get("/v1/devices").status_code == 200
        assert c.get("/metrics").status_code == 200
        assert c.get("/openapi.json").status_code == 200
        assert c.post("/v1/tokens", json={"role": "servicedesk"}).status_code == 403
        assert c.get("/v1/tokens").status_code == 403
        assert c.post("/v1/devices/pc-1/revoke").status_code == 403
    assert live.store.find_device("pc-1")["revoked_s"] is None


def test_admin_creates_tokens_shown_once_and_revokes(live: Live) -> None:
    uid, key = live.enroll("pc-2")
    with live.client(live.admin) as c:
        r = c.post("/v1/tokens", json={"role": "servicedesk", "name": "desk 2"})
        assert r.status_code == 201
        secret = r.json()["token"]
        listed = c.get("/v1/tokens").json()
        assert all(secret not in str(row) for row in listed)  # stored hashed, never listed
        assert c.post("/v1/devices/pc-2/revoke").json() == {"revoked": uid}
        assert c.post("/v1/devices/nope/revoke").status_code == 404
    with live.client(secret) as c:
        assert c.get("/v1/devices").status_code == 200
    assert live.store.device_for_key(key) is None
    actions = [(e["actor"], e["action"]) for e in live.store.audit_entries()]
    admin = next(t["id"] for t in live.store.list_tokens() if t["name"] == "test admin")
    actor = f"token {admin}"  # the token that acted, not just "api"
    assert (actor, "device.revoke") in actions and (actor, "token.create") in actions


def test_revoked_api_token_stops(live: Live) -> None:
    secret = live.store.create_api_token("servicedesk", "short-lived")
    token_id = next(t["id"] for t in live.store.list_tokens() if t["name"] == "short-lived")
    with live.client(secret) as c:
        assert c.get("/v1/devices").status_code == 200
        live.store.revoke_token(token_id)
        assert c.get("/v1/devices").status_code == 401


def _enrol(live: Live, token: str) -> int:
    with live.client(token) as c:
        return c.post("/v1/enroll", json={"facts": {"inv.hostname": "new"}}).status_code


def test_used_up_enrolment_token_gets_401(live: Live) -> None:
    token = live.store.create_enrol_token(uses=1, expires_in_s=600)
    assert _enrol(live, token) == 200
    assert _enrol(live, token) == 401


@pytest.mark.slow
def test_expired_enrolment_token_gets_401(live: Live) -> None:
    token = live.store.create_enrol_token(uses=5, expires_in_s=1)
    time.sleep(1.1)
    assert _enrol(live, token) == 401


def test_reenrolment_returns_the_devices_uid_and_kills_the_old_key(live: Live) -> None:
    """A reimaged laptop enrols again: same device id back, its old (cached) key refused."""
    from tests.collector.api.test_ingest_http import body_for, post

    facts = {"inv.hostname": "pc-9", "inv.vendor": "HP", "inv.serial": "5CG1234XYZ"}

    def enrol() -> dict[str, str]:
        with live.client(live.store.create_enrol_token(1, 600)) as c:
            r = c.post("/v1/enroll", json={"facts": facts})
        assert r.status_code == 200
        data: dict[str, str] = r.json()
        return data

    first = enrol()
    assert post(live, first["device_key"], body_for(first["device_id"], 1))[0] == 200  # cached
    # Still uploading: enrolling the same serial again makes another device.
    intruder = enrol()
    assert intruder["device_id"] != first["device_id"]
    assert post(live, first["device_key"], body_for(first["device_id"], 2))[0] == 200
    live.store.revoke_device(intruder["device_id"])
    # Reimaged: the old agent went quiet two hours ago, then the laptop enrols again.
    with live.store.engine.begin() as conn:
        conn.execute(
            update(devices)
            .where(devices.c.device_uid == first["device_id"])
            .values(last_seen_s=int(time.time()) - 7200)
        )
    second = enrol()
    assert first["device_id"] == second["device_id"]
    assert post(live, first["device_key"], body_for(first["device_id"], 3))[0] == 401
    assert post(live, second["device_key"], body_for(second["device_id"], 3))[0] == 200
    live_devices = [d["device_uid"] for d in live.store.list_devices() if d["revoked_s"] is None]
    assert live_devices == [first["device_id"]]
