"""Amnesty over HTTP on a real server: admin campaigns, agent reminders, the booking page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
import time
from typing import Any

import httpx
from click.testing import CliRunner

from kitlife.collector.cli.main import cli
from kitlife.collector.policy import amnesty as policy
from kitlife.collector.policy.register import AssetRow, day_of
from kitlife.collector.runtime.amnesty import ScheduleRequest, export_csv, schedule, sign_link
from kitlife.collector.store import Store
from kitlife.collector.store import amnesty as db
from kitlife.collector.store.assets import replace_register
from tests.collector.amnesty_estate import POINTS_CSV, build
from tests.collector.api.conftest import Live

TODAY = int(time.time()) // 86_400


def _date(day: int) -> str:
    return (policy.EPOCH + dt.timedelta(days=day)).isoformat()


def _body(**kw: Any) -> dict[str, Any]:
    return {
        "name": "Winter amnesty",
        "date": _date(TODAY + 2),
        "sites": ["London", "Bristol"],
        "points_csv": POINTS_CSV.decode(),
        "channels": ["agent"],
        **kw,
    }


def test_admin_schedules_lists_shows_and_cancels(live: Live) -> None:
    build(live.store)
    with live.client(live.admin) as c:
        r = c.post("/v1/amnesty/campaigns", json=_body())
        assert r.status_code == 201, r.text
        campaign = r.json()
        assert campaign["lead_days"] == [14, 3, 1] and len(campaign["points"]) == 2
        assert [x["id"] for x in c.get("/v1/amnesty/campaigns").json()] == [campaign["id"]]
        assert c.get(f"/v1/amnesty/campaigns/{campaign['id']}").json()["audience"]["people"] == 5
        assert c.post(f"/v1/amnesty/campaigns/{campaign['id']}/cancel").status_code == 200
        assert c.post(f"/v1/amnesty/campaigns/{campaign['id']}/cancel").status_code == 409
        assert c.get("/v1/amnesty/campaigns/999").status_code == 404
    with live.client(live.servicedesk) as c:
        assert c.get("/v1/amnesty/campaigns").status_code == 403


def test_bad_campaigns_are_refused_whole(live: Live) -> None:
    build(live.store)
    bad_points = "point_id,site,kind,name,slots,opens,closes\nA,London,desk,x,two,09:00,10:00\n"
    with live.client(live.admin) as c:
        for body, expected in (
            (_body(date=_date(TODAY - 1)), "is not in the future"),
            (_body(sites=["Mars"]), "unknown site Mars"),
            (_body(points_csv=bad_points), "line 2, column 5 (slots)"),
            (_body(channels=["email"]), "e-mail reminders need addresses"),
            (_body(channels=["fax"]), "channels: use some of agent, email, csv"),
        ):
            r = c.post("/v1/amnesty/campaigns", json=body)
            assert r.status_code == 422 and expected in r.json()["detail"], r.text
        assert c.get("/v1/amnesty/campaigns").json() == []


def _agent_link(live: Live, key: str) -> tuple[int, str]:
    """The holder's reminder as their agent fetches it; acknowledged as shown."""
    with live.client(key) as c:
        messages = c.get("/v1/messages").json()
        assert len(messages) == 1, messages
        assert c.post("/v1/messages/ack", json={"ids": [messages[0]["id"]]}).json() == {
            "delivered": 1
        }
        assert c.get("/v1/messages").json() == []  # once
    link = re.search(r"/amnesty/book/\d+/\S+", messages[0]["body"])
    assert link is not None and messages[0]["link"].endswith(link.group(0))
    return messages[0]["id"], link.group(0)


def test_a_holder_books_through_their_agents_link_once(live: Live) -> None:
    estate = build(live.store)
    with live.client(live.admin) as c:
        campaign_id = c.post("/v1/amnesty/campaigns", json=_body()).json()["id"]
    _id, path = _agent_link(live, estate.keys["pc-idle"])
    with httpx.Client(base_url=live.url, timeout=10) as web:  # no credentials at all
        page = web.get(path)
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "no active use for 45 days" in page.text and "pc-idle" in page.text
        for other in ("pc-ref", "pc-gone", "pc-ok", "h-ref", "h-gone"):
            assert other not in page.text  # only the holder's own device and reasons
        window = re.search(r'name="window" value="(\d+)"', page.text)
        assert window is not None
        booked = web.post(path, data={"window": window.group(1)})
        assert booked.status_code == 200 and "Booked: Locker bank A" in booked.text
        again = web.post(path, data={"window": window.group(1)})
        assert again.status_code == 409 and "already been used" in again.text
        assert "Booked: Locker bank A" in web.get(path).text
    shown = CliRunner().invoke(
        cli,
        [
            "--db",
            live.store.engine.url.render_as_string(False),
            "amnesty",
            "show",
            str(campaign_id),
        ],
    )
    assert shown.exit_code == 0, shown.output
    assert re.search(r"h-idle\s+Locker bank A\s+09:\d\d-\d\d:\d\d", shown.output), shown.output
    detail = db.campaign(live.store, campaign_id)
    assert detail["audience"]["opened"] == 1 and len(detail["bookings"]) == 1


def test_forged_expired_and_cancelled_links_are_refused(live: Live) -> None:
    estate = build(live.store)
    with live.client(live.admin) as c:
        campaign_id = c.post("/v1/amnesty/campaigns", json=_body()).json()["id"]
    _id, path = _agent_link(live, estate.keys["pc-ref"])
    secret = db.link_secret(live.store, campaign_id)
    assert secret is not None
    member = db.campaign(live.store, campaign_id)
    assert member
    with httpx.Client(base_url=live.url, timeout=10) as web:
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        assert web.get(forged).status_code == 403
        other_secret = sign_link("0" * 64, 1, "x", int(time.time()) + 600)
        assert web.get(f"/amnesty/book/{campaign_id}/{other_secret}").status_code == 403
        expired = sign_link(secret, 1, "n", int(time.time()) - 1)
        r = web.get(f"/amnesty/book/{campaign_id}/{expired}")
        assert r.status_code == 410 and "expired" in r.text
        assert (
            web.get(f"/amnesty/book/{campaign_id + 1}/{path.rsplit('/', 1)[1]}").status_code == 403
        )
        with live.client(live.admin) as c:
            c.post(f"/v1/amnesty/campaigns/{campaign_id}/cancel")
        r = web.post(path, data={"window": "1"})
        assert r.status_code == 410 and "cancelled" in r.text
    assert db.campaign(live.store, campaign_id)["bookings"] == []


def _crowd_links(store: Store, n: int, slots: int) -> tuple[int, list[str]]:
    rows = [
        AssetRow(
            line=i + 2,
            serial=f"CROWD{i:05d}",
            asset_tag="",
            holder_id=f"p{i:05d}",
            role="office",
            site="London",
            purchase_day=day_of(dt.date(2022, 1, 1)),
            purchase_route="new",
            warranty_end_day=None,
        )
        for i in range(n)
    ]
    replace_register(store, rows)
    points = (
        "point_id,site,kind,name,location,slots,opens,closes\n"
        f"L,London,locker,Small bank,Lobby,{slots},09:00,09:30\n"
    ).encode()
    campaign_id = schedule(
        store,
        ScheduleRequest(
            name="crowd",
            date=policy.EPOCH + dt.timedelta(days=TODAY + 2),
            sites=("London",),
            points_csv=points,
            channels=("csv",),
        ),
    )
    exported = export_csv(store, campaign_id, "", int(time.time()))
    links = [row["link"] for row in csv.DictReader(io.StringIO(exported))]
    assert len(links) == n
    return campaign_id, links


def test_concurrent_bookings_never_overbook_a_locker_bank(live: Live) -> None:
    """30 people press "book" at once for a bank of 7 compartments: exactly 7 get one."""
    campaign_id, links = _crowd_links(live.store, 30, 7)
    with httpx.Client(base_url=live.url, timeout=30) as web:
        window = re.search(r'name="window" value="(\d+)"', web.get(links[0]).text)
    assert window is not None
    codes: list[int] = []
    start = threading.Barrier(len(links))

    def press(path: str) -> None:
        with httpx.Client(base_url=live.url, timeout=30) as web:
            start.wait()
            codes.append(web.post(path, data={"window": window.group(1)}).status_code)

    threads = [threading.Thread(target=press, args=(p,)) for p in links]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200] * 7 + [409] * 23
    detail = db.campaign(live.store, campaign_id)
    assert detail["points"][0]["booked"] == detail["points"][0]["capacity"] == 7
    assert len(detail["bookings"]) == 7


def test_handback_over_the_api_returns_the_certificate_in_three_forms(live: Live) -> None:
    build(live.store)
    with live.client(live.admin) as c:
        r = c.post(
            "/v1/handbacks",
            json={
                "device": "pc-ref",
                "route": "refurbish",
                "erasure": "nist-800-88-purge",
                "erasure_ref": "BL-77",
            },
        )
        assert r.status_code == 201, r.text
        uid = r.json()["certificate_uid"]
        assert (
            c.post(
                "/v1/handbacks",
                json={
                    "device": "pc-ref",
                    "route": "refurbish",
                    "erasure": "nist-800-88-purge",
                    "erasure_ref": "BL-78",
                },
            ).status_code
            == 422
        )
        assert (
            c.post("/v1/handbacks", json={"device": "pc-ok", "route": "donate"}).status_code == 422
        )
        assert (
            c.post("/v1/handbacks", json={"device": "nope", "route": "redeploy"}).status_code == 404
        )
    with live.client(live.servicedesk) as c:
        assert c.get(f"/v1/handbacks/{uid}").json()["erasure"]["reference"] == "BL-77"
        pdf = c.get(f"/v1/handbacks/{uid}", params={"format": "pdf"})
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
        assert "BL-77" in c.get(f"/v1/handbacks/{uid}", params={"format": "html"}).text
        assert c.get("/v1/handbacks/" + "0" * 32).status_code == 404
