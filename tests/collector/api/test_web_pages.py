"""The web pages over HTTP: sign-in and its cookie, CSRF, roles, 404s, escaping, headers."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx

from kitlife.collector.api.web.session import safe_next
from kitlife.collector.store.search import register_row_for
from tests.collector.api.conftest import Live
from tests.collector.api.webutil import fill, form_csrf, signed_in


def test_a_page_without_a_session_goes_to_sign_in_and_back(live: Live) -> None:
    with live.client() as c:
        r = c.get("/web/devices/pc-1?x=1")
        assert r.status_code == 303
        assert r.headers["location"] == "/web/sign-in?next=/web/devices/pc-1?x=1"
        assert c.get("/").headers["location"] == "/web/search"


def test_sign_in_sets_a_secure_httponly_strict_cookie_and_goes_to_next(live: Live) -> None:
    with live.client() as c:
        form = c.get("/web/sign-in?next=/web/fleet")
        assert 'value="/web/fleet"' in form.text
        r = c.post(
            "/web/sign-in",
            data={"csrf": form_csrf(form.text), "token": live.servicedesk, "next": "/web/fleet"},
            headers={"Cookie": f"kitlife_csrf={form.cookies['kitlife_csrf']}"},
        )
    assert r.status_code == 303 and r.headers["location"] == "/web/fleet"
    session = [h for h in r.headers.get_list("set-cookie") if h.startswith("kitlife_session=")]
    morsel = SimpleCookie(session[0])["kitlife_session"]
    assert morsel["httponly"] and morsel["secure"]
    assert morsel["samesite"].lower() == "strict"
    assert not morsel["expires"] and not morsel["max-age"]  # ends with the browser session


def test_sign_in_without_the_form_csrf_value_is_refused(live: Live) -> None:
    with live.client() as c:
        form = c.get("/web/sign-in")
        r = c.post(
            "/web/sign-in",
            data={"csrf": "0" * 32, "token": live.admin},
            headers={"Cookie": f"kitlife_csrf={form.cookies['kitlife_csrf']}"},
        )
        assert r.status_code == 403 and "kitlife_session" not in r.cookies
        no_cookie = c.post("/web/sign-in", data={"csrf": form_csrf(form.text), "token": live.admin})
        assert no_cookie.status_code == 403


def test_a_wrong_token_says_what_to_do(live: Live) -> None:
    _, device_key = live.enroll("pc-1")
    for token in ("kls_nonsense", device_key):
        with live.client() as c:
            form = c.get("/web/sign-in")
            r = c.post(
                "/web/sign-in",
                data={"csrf": form_csrf(form.text), "token": token},
                headers={"Cookie": f"kitlife_csrf={form.cookies['kitlife_csrf']}"},
            )
        assert r.status_code == 401
        assert "kitlife token create --role servicedesk" in r.text


def test_revoking_the_token_ends_the_session(live: Live) -> None:
    token = live.store.create_api_token("servicedesk", "to revoke")
    with signed_in(live.url, token) as c:
        assert c.get("/web/search").status_code == 200
        token_id = next(t["id"] for t in live.store.list_tokens() if t["name"] == "to revoke")
        live.store.revoke_token(token_id)
        assert c.get("/web/search").status_code == 303


def test_servicedesk_cannot_reach_admin_pages(live: Live) -> None:
    with signed_in(live.url, live.servicedesk) as c:
        r = c.get("/web/admin/tokens")
        assert r.status_code == 403 and "for admins" in r.text
        assert "/web/admin/tokens" not in c.get("/web/search").text  # not offered either
    with signed_in(live.url, live.admin) as c:
        r = c.get("/web/admin/tokens")
        assert r.status_code == 200 and "test desk" in r.text
        assert "kls_" not in r.text and "kla_" not in r.text  # no secret is ever shown


def test_sign_out_needs_the_session_csrf_value(live: Live) -> None:
    with signed_in(live.url, live.servicedesk) as c:
        page = c.get("/web/search").text
        assert c.post("/web/sign-out", data={"csrf": "f" * 32}).status_code == 403
        assert c.get("/web/search").status_code == 200
        r = c.post("/web/sign-out", data={"csrf": form_csrf(page)})
        assert r.status_code == 303
        assert 'kitlife_session=""' in r.headers["set-cookie"]


def test_unknown_device_is_a_404_page_with_a_search_box(live: Live) -> None:
    with signed_in(live.url, live.servicedesk) as c:
        r = c.get("/web/devices/no-such-pc")
    assert r.status_code == 404
    assert "No such device" in r.text and 'id="q"' in r.text and 'value="no-such-pc"' in r.text


def test_pages_escape_what_they_show(live: Live) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    live.store.enroll(live.store.create_enrol_token(1, 600), {"inv.hostname": evil})
    with signed_in(live.url, live.servicedesk) as c:
        pages = [
            c.get("/web/search", params={"q": "<script>"}),
            c.get("/web/devices/" + httpx.URL(evil).raw_path.decode()),
            c.get("/web/search", params={"q": '"><b>q'}),
        ]
    for r in pages:
        assert r.status_code in (200, 404)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text and "<b>q" not in r.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages[0].text


def test_pages_allow_no_script_and_no_framing(live: Live) -> None:
    with signed_in(live.url, live.servicedesk) as c:
        r = c.get("/web/search")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp and r.headers["cache-control"] == "no-store"
    assert "<script" not in r.text


def test_search_finds_by_hostname_serial_asset_tag_and_holder(live: Live) -> None:
    fill(live.store, devices=4, months=3)
    with signed_in(live.url, live.servicedesk) as c:
        device = live.store.list_devices()[0]
        asset = register_row_for(live.store, device["serial"])
        assert asset is not None and asset["asset_tag"] and asset["holder_id"]
        for q in (
            device["hostname"],
            device["serial"].lower(),
            device["device_uid"][:8],
            asset["asset_tag"],
            asset["holder_id"],
        ):
            r = c.get("/web/search", params={"q": q})
            assert device["device_uid"] in r.text, q
        assert "0 devices" in c.get("/web/search", params={"q": "zz-nothing%_"}).text


def test_device_page_leads_with_the_verdict_and_draws_the_battery_chart(live: Live) -> None:
    fill(live.store, devices=3, months=8)
    device = live.store.list_devices()[0]
    with signed_in(live.url, live.servicedesk) as c:
        r = c.get(f"/web/devices/{device['hostname']}")
        fleet = c.get("/web/fleet")
    assert r.status_code == 200
    text = r.text
    assert text.index('id="verdict-h"') < text.index('id="identity-h"') < text.index("<svg")
    assert 'class="threshold"' in text and 'class="trend"' in text and "<polyline" in text
    assert fleet.status_code == 200 and "Decisions by model" in fleet.text
    for heading in ("Decisions by site", "Decisions by age", "Poor fits", "Redeploy plan"):
        assert heading in fleet.text


def test_next_is_only_ever_a_page_here() -> None:
    assert safe_next("/web/fleet") == "/web/fleet"
    bad_targets = ("https://evil.example/", "//evil.example/web/", "/web//evil", "/v1/tokens", "")
    for bad in (*bad_targets, None):
        assert safe_next(bad) == "/web/search"
