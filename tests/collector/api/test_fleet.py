"""The fleet routes: service desk reads, only admins import, refusals name lines."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    # This starlette release deprecates its httpx-based TestClient at import time;
    # the client still works, and the project's filterwarnings=error would stop here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from kitlife.collector.api.app import create_app
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import Store

CSV = (
    "serial,holder_id,role,site,purchase_date,purchase_route,warranty_end\n"
    "SN1,h-1,office,York,2023-01-10,new,2026-01-10\n"
)


@pytest.fixture
def client(sqlite_url: str) -> Iterator[tuple[TestClient, str, str]]:
    store = Store.from_url(sqlite_url)
    store.upgrade()
    admin = store.create_api_token("admin")
    desk = store.create_api_token("servicedesk")
    with TestClient(create_app(Settings(db_url=sqlite_url), store)) as c:
        yield c, admin, desk
    store.close()


def test_only_admin_imports_and_desk_reads(client: tuple[TestClient, str, str]) -> None:
    c, admin, desk = client
    body = CSV.encode()
    assert (
        c.put("/v1/assets", content=body, headers={"Authorization": f"Bearer {desk}"}).status_code
        == 403
    )
    r = c.put("/v1/assets", content=body, headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200 and r.json() == {"imported": 1}
    rows = c.get("/v1/assets", headers={"Authorization": f"Bearer {desk}"}).json()
    assert [row["serial"] for row in rows] == ["SN1"]
    um = c.get("/v1/assets/unmatched", headers={"Authorization": f"Bearer {desk}"}).json()
    assert [row["serial"] for row in um["register_rows_without_device"]] == ["SN1"]


def test_bad_import_is_refused_with_lines_and_changes_nothing(
    client: tuple[TestClient, str, str],
) -> None:
    c, admin, _ = client
    auth = {"Authorization": f"Bearer {admin}"}
    assert c.put("/v1/assets", content=CSV.encode(), headers=auth).status_code == 200
    bad = CSV + "SN1,h-2,office,York,2023-01-10,new,2026-01-10\n"
    r = c.put("/v1/assets", content=bad.encode(), headers=auth)
    assert r.status_code == 422
    assert any("line 3" in e for e in r.json()["detail"]["errors"])
    assert len(c.get("/v1/assets", headers=auth).json()) == 1


def test_fleet_report_and_plan_routes(client: tuple[TestClient, str, str]) -> None:
    c, _, desk = client
    auth = {"Authorization": f"Bearer {desk}"}
    rep = c.get("/v1/fleet/report", headers=auth)
    assert rep.status_code == 200 and rep.json()["figures"]
    plan = c.get("/v1/fleet/redeploy-plan", headers=auth)
    assert plan.status_code == 200 and plan.json()["moves"] == []
    assert c.get("/v1/fleet/report").status_code == 401
