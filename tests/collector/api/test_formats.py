"""Reports as JSON, CSV and HTML over the API, chosen by ?format= or Accept."""

from __future__ import annotations

import csv
import io

import pytest

from kitlife.collector.reports.export import csv_safe, csv_text
from tests.collector.api.conftest import Live
from tests.collector.api.webutil import fill


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_format_parameter_and_accept_header_choose_the_form(live: Live) -> None:
    live.enroll("pc-1")
    with live.client(live.servicedesk) as c:
        assert c.get("/v1/devices").json()[0]["hostname"] == "pc-1"
        as_csv = c.get("/v1/devices", params={"format": "csv"})
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert rows(as_csv.text)[0]["hostname"] == "pc-1"
        assert c.get("/v1/devices", headers={"Accept": "text/csv"}).text == as_csv.text
        browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        page = c.get("/v1/devices", headers={"Accept": browser})
        assert page.headers["content-type"].startswith("text/html") and "pc-1" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        prefers_json = {"Accept": "text/html;q=0.5, application/json"}
        assert c.get("/v1/devices", headers=prefers_json).json()[0]["hostname"] == "pc-1"
        assert c.get("/v1/devices", params={"format": "xml"}).status_code == 422


def test_csv_cells_cannot_become_formulas(live: Live) -> None:
    live.enroll('=HYPERLINK("http://evil")')
    with live.client(live.servicedesk) as c:
        text = c.get("/v1/devices", params={"format": "csv"}).text
    assert rows(text)[0]["hostname"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("pc-1", "pc-1"),
        (-3.5, -3.5),
        (None, ""),
        (["a", "=b"], "a | =b"),
        (["=a"], "'=a"),
    ],
)
def test_csv_safe_neutralises_formula_starts(cell: object, shown: object) -> None:
    assert csv_safe(cell) == shown


def test_csv_text_writes_only_the_columns_asked() -> None:
    assert csv_text([{"a": 1, "b": "=x", "c": 3}], ["a", "b"]) == "a,b\n1,'=x\n"


def test_decisions_route_lists_what_the_cli_lists_with_filters(live: Live) -> None:
    fill(live.store, devices=6, months=8)
    with live.client(live.servicedesk) as c:
        every = c.get("/v1/decisions").json()
        assert len(every) == 6 and all(r["decision"] and r["reasons"] for r in every)
        one = every[0]
        by_model = c.get("/v1/decisions", params={"model": one["model"]}).json()
        assert one["device_uid"] in {r["device_uid"] for r in by_model}
        kept = c.get("/v1/decisions", params={"decision": one["decision"]}).json()
        assert {r["decision"] for r in kept} == {one["decision"]}
        assert c.get("/v1/decisions", params={"site": "NoSuchSite"}).json() == []
        assert c.get("/v1/decisions", params={"decision": "maybe"}).status_code == 422
        table = rows(c.get("/v1/decisions", params={"format": "csv"}).text)
        assert [r["device_uid"] for r in table] == [r["device_uid"] for r in every]
        assert " | " in table[0]["reasons"] or table[0]["reasons"] == every[0]["reasons"][0]
        assert c.get("/v1/decisions", params={"format": "html"}).status_code == 200


def test_site_filter_without_a_register_is_a_409(live: Live) -> None:
    with live.client(live.servicedesk) as c:
        r = c.get("/v1/decisions", params={"site": "York"})
    assert r.status_code == 409 and "kitlife assets import" in r.json()["detail"]


def test_device_report_csv_and_html_lead_with_the_verdict(live: Live) -> None:
    fill(live.store, devices=2, months=8)
    host = live.store.list_devices()[0]["hostname"]
    with live.client(live.servicedesk) as c:
        table = rows(c.get(f"/v1/devices/{host}", params={"format": "csv"}).text)
        page = c.get(f"/v1/devices/{host}", params={"format": "html"})
        assert c.get(f"/v1/devices/{host}").json()["device"]["hostname"] == host
        assert c.get("/v1/devices/nope", params={"format": "csv"}).status_code == 404
    assert table[0]["section"] == "verdict" and table[0]["name"] == "action"
    assert {r["section"] for r in table} >= {"verdict", "component", "reading"}
    assert page.status_code == 200 and "<svg" in page.text
    assert "Sign out" not in page.text  # a standalone report, no session around it


def test_fleet_report_csv_carries_the_breakdowns(live: Live) -> None:
    fill(live.store, devices=4, months=6)
    with live.client(live.servicedesk) as c:
        table = rows(c.get("/v1/fleet/report", params={"format": "csv"}).text)
        page = c.get("/v1/fleet/report", headers={"Accept": "text/html"})
        plan = c.get("/v1/fleet/redeploy-plan", params={"format": "csv"})
        fit = c.get("/v1/fleet/fit", params={"format": "html"})
        exp = c.get("/v1/experience", params={"format": "csv"})
        reg = c.get("/v1/assets", params={"format": "csv"})
    sections = {r["section"] for r in table}
    assert {"figure", "by_model", "by_site", "by_age"} <= sections
    assert page.status_code == 200 and "Decisions by site" in page.text
    assert plan.status_code == 200 and plan.text.startswith("holder_id,")
    assert fit.status_code == 200 and exp.status_code == 200
    assert rows(reg.text) and reg.text.startswith("serial,")
