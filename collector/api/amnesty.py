"""Amnesty days over HTTP: campaigns and hand-backs (admin), reminders for agents, booking page.

* ``/v1/amnesty/campaigns...``: the same as ``kitlife amnesty``, admin only;
* ``/v1/handbacks``: ``kitlife handback``, admin; certificates readable by the service desk;
* ``/v1/messages``: an agent fetches its holder's due reminders and acknowledges
  the ones it showed (device key);
* ``/amnesty/book/{campaign}/{token}``: the booking page. No account: the signed,
  expiring, single-person link is the credential. It shows only that person's own
  devices and reasons, and the times at their site. The token is in the path,
  so the page tells browsers to send no referrer and to keep no copy.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, Field

from kitlife.collector.api.deps import Admin, DeviceDep, ServiceDesk, SettingsDep, StoreDep
from kitlife.collector.api.enroll import NO_NUL
from kitlife.collector.policy.amnesty import CHANNELS, ERASURE_METHODS, ROUTES, AmnestyError
from kitlife.collector.reports.certificate import render_html, render_pdf
from kitlife.collector.runtime import amnesty as service
from kitlife.collector.runtime.amnesty_job import public_url
from kitlife.collector.store import NotFoundError, Store, StoreError
from kitlife.collector.store import amnesty as db

router = APIRouter(tags=["amnesty"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
_FORM_MAX_BYTES = 4096
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}
_PAGES = Environment(
    loader=PackageLoader("kitlife.collector.api", "templates/amnesty"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
Text = Annotated[str, Field(max_length=255, pattern=NO_NUL)]


class CampaignRequest(BaseModel):
    name: Text = ""
    date: dt.date
    sites: list[Text] = Field(min_length=1, max_length=100)
    points_csv: str = Field(max_length=1_000_000, pattern=NO_NUL, description="As --points")
    lead_days: list[Annotated[int, Field(ge=1, le=365)]] | None = Field(None, max_length=10)
    channels: list[Text] = Field(
        default_factory=lambda: ["agent", "email"], max_length=3, description=", ".join(CHANNELS)
    )
    dormant_days: int | None = Field(None, ge=1, le=3650)
    contacts_csv: str | None = Field(None, max_length=16_000_000, pattern=NO_NUL)
    email_template: Text | None = None


class HandbackRequest(BaseModel):
    device: Text = Field(description="Hostname, serial or device id")
    route: Text = Field(description=", ".join(ROUTES))
    erasure: Text | None = Field(None, description=", ".join(ERASURE_METHODS))
    erasure_ref: Text | None = None
    erasure_date: dt.date | None = None


class Ack(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(max_length=100)


def _unprocessable(err: Exception) -> HTTPException:
    return HTTPException(422, str(err))


# -- campaigns (admin) -------------------------------------------------------------------------
@router.post(
    "/v1/amnesty/campaigns",
    status_code=status.HTTP_201_CREATED,
    summary="Schedule an amnesty day (admin)",
    responses={422: {"description": "bad date, site, points file or contacts; nothing stored"}},
)
def create_campaign(body: CampaignRequest, store: StoreDep, _role: Admin) -> dict[str, Any]:
    try:
        campaign_id = service.schedule(
            store,
            service.ScheduleRequest(
                name=body.name or f"Amnesty day {body.date.isoformat()}",
                date=body.date,
                sites=tuple(body.sites),
                points_csv=body.points_csv.encode(),
                lead_days=tuple(sorted(set(body.lead_days), reverse=True))
                if body.lead_days
                else None,
                channels=tuple(body.channels),
                dormant_days=body.dormant_days,
                contacts_csv=body.contacts_csv.encode() if body.contacts_csv is not None else None,
                email_template=body.email_template,
            ),
            actor="api",
        )
    except AmnestyError as err:
        raise _unprocessable(err) from err
    return db.campaign(store, campaign_id)


@router.get("/v1/amnesty/campaigns", summary="Every amnesty campaign (admin)")
def list_campaigns(store: StoreDep, _role: Admin) -> list[dict[str, Any]]:
    return db.list_campaigns(store)


@router.get(
    "/v1/amnesty/campaigns/{campaign_id}",
    summary="A campaign: points, reminders by state, bookings (admin)",
    responses={404: {"description": "no such campaign"}},
)
def show_campaign(campaign_id: Id, store: StoreDep, _role: Admin) -> dict[str, Any]:
    try:
        return db.campaign(store, campaign_id)
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err


@router.post(
    "/v1/amnesty/campaigns/{campaign_id}/cancel",
    summary="Cancel a campaign: no more reminders or bookings (admin)",
    responses={404: {"description": "no such campaign"}, 409: {"description": "not scheduled"}},
)
def cancel_campaign(campaign_id: Id, store: StoreDep, _role: Admin) -> dict[str, Any]:
    try:
        skipped = db.cancel_campaign(store, campaign_id, actor="api")
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except StoreError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    return {"cancelled": campaign_id, "reminders_not_sent": skipped}


# -- hand-backs ----------------------------------------------------------------------------------
@router.post(
    "/v1/handbacks",
    status_code=status.HTTP_201_CREATED,
    summary="A device handed back: close its record, return its health certificate (admin)",
    responses={
        404: {"description": "no such device"},
        409: {"description": "already handed back"},
        422: {"description": "bad route or erasure record"},
    },
)
def create_handback(body: HandbackRequest, store: StoreDep, _role: Admin) -> dict[str, Any]:
    try:
        return service.handback(
            store,
            body.device,
            body.route,
            body.erasure,
            body.erasure_ref,
            body.erasure_date,
            actor="api",
        )
    except AmnestyError as err:
        raise _unprocessable(err) from err
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except StoreError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err


@router.get(
    "/v1/handbacks/{certificate_uid}",
    summary="A health certificate as JSON, HTML or PDF (format=json|html|pdf)",
    responses={
        200: {"content": {"application/pdf": {}, "text/html": {}}},
        404: {"description": "no such certificate"},
    },
)
def get_certificate(
    certificate_uid: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    store: StoreDep,
    _role: ServiceDesk,
    format: str = "json",
) -> Response:
    try:
        cert = db.certificate(store, certificate_uid)
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    if format == "pdf":
        return Response(render_pdf(cert), media_type="application/pdf")
    if format == "html":
        return HTMLResponse(render_html(cert))
    if format != "json":
        raise HTTPException(422, "format: json, html or pdf")
    return Response(json.dumps(cert, indent=2), media_type="application/json")


# -- reminders for agents ----------------------------------------------------------------------
@router.get(
    "/v1/messages",
    summary="The due amnesty reminders for this device's holder (device key)",
    tags=["agents"],
)
def agent_messages(
    device: DeviceDep, store: StoreDep, settings: SettingsDep
) -> list[dict[str, Any]]:
    return service.agent_messages(
        store, device.id, device.uid, public_url(settings), int(time.time())
    )


@router.post(
    "/v1/messages/ack",
    summary="The agent showed these reminders to its user (device key)",
    tags=["agents"],
)
def agent_ack(body: Ack, device: DeviceDep, store: StoreDep) -> dict[str, int]:
    return {
        "delivered": service.agent_ack(store, device.id, device.uid, body.ids, int(time.time()))
    }


# -- the booking page (no account) ---------------------------------------------------------------
def _page(name: str, code: int = 200, **values: Any) -> HTMLResponse:
    html = _PAGES.get_template(name).render(**values)
    return HTMLResponse(html, status_code=code, headers=_PAGE_HEADERS)


def _problem(message: str, code: int) -> HTMLResponse:
    return _page("problem.html", code, message=message)


def _hhmm(t_s: int) -> str:
    return time.strftime("%H:%M", time.gmtime(t_s))


def _member(
    store: Store, campaign_id: int, token: str
) -> tuple[dict[str, Any], str] | HTMLResponse:
    try:
        audience_id, nonce = service.read_link(store, campaign_id, token, int(time.time()))
    except service.LinkError as err:
        return _problem(str(err), err.code)
    member = db.audience_member(store, audience_id)
    if member is None or member["campaign_id"] != campaign_id or member["link_nonce"] != nonce:
        return _problem("this booking link is not valid", 403)
    if member["campaign_status"] != "scheduled":
        return _problem("this amnesty day was cancelled", 410)
    return member, nonce


def _show(store: Store, member: dict[str, Any], message: str = "", code: int = 200) -> HTMLResponse:
    slots = db.open_windows(store, member["campaign_id"], member["site"])
    return _page(
        "booking.html",
        code,
        member=member,
        day=dt.datetime.fromtimestamp(member["day"] * 86400, dt.UTC).date().isoformat(),
        slots=[{**s, "when": f"{_hhmm(s['start_s'])}-{_hhmm(s['end_s'])}"} for s in slots],
        booking=member["booking"]
        and {
            **member["booking"],
            "when": f"{_hhmm(member['booking']['start_s'])}-{_hhmm(member['booking']['end_s'])}",
        },
        message=message,
    )


@router.get(
    "/amnesty/book/{campaign_id}/{token}",
    summary="The booking page of one person's link (no account)",
    response_class=HTMLResponse,
    tags=["booking"],
)
def booking_page(
    campaign_id: Id,
    token: Annotated[str, Path(max_length=512, pattern=NO_NUL)],
    store: StoreDep,
) -> HTMLResponse:
    found = _member(store, campaign_id, token)
    if isinstance(found, HTMLResponse):
        return found
    member, _nonce = found
    db.record_open(store, member["id"], int(time.time()))
    return _show(store, member)


@router.post(
    "/amnesty/book/{campaign_id}/{token}",
    summary="Book a time with one person's link, once (form field window)",
    response_class=HTMLResponse,
    tags=["booking"],
)
async def booking_submit(
    campaign_id: Id,
    token: Annotated[str, Path(max_length=512, pattern=NO_NUL)],
    request: Request,
    store: StoreDep,
) -> HTMLResponse:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _FORM_MAX_BYTES:
            return _problem("the form is too large", 413)
    found = _member(store, campaign_id, token)
    if isinstance(found, HTMLResponse):
        return found
    member, nonce = found
    values = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10).get("window", [""])
    if not values[0].isdigit() or not 0 < int(values[0]) < 2**31:
        return _show(store, member, "choose a time", 422)
    try:
        db.book(store, member["id"], nonce, int(values[0]), int(time.time()))
    except db.BookingError as err:
        if err.code == 409 and "full" in str(err):
            return _show(store, member, str(err), 409)
        return _problem(str(err), err.code)
    fresh = db.audience_member(store, member["id"])
    assert fresh is not None
    return _show(store, fresh, "booked", 200)
