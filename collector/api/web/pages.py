"""The web pages: sign-in, search, a device, the fleet, and the admin's token list.

Server-rendered HTML (templates in ``collector/api/templates``, CSS in
``collector/api/static``), no script. A page needs a signed-in session (see
``session.py``); without one it redirects to sign-in and back. The service
desk and admins see every report; ``/web/admin/...`` is for admins only.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kitlife.collector.api.deps import get_roles
from kitlife.collector.api.web import session as sess
from kitlife.collector.api.web.render import page
from kitlife.collector.reports.device_view import device_view
from kitlife.collector.reports.fleet_view import fleet_view
from kitlife.collector.store import NotFoundError, Store
from kitlife.collector.store.search import search_devices

router = APIRouter(include_in_schema=False)
QueryText = Annotated[str, Query(max_length=200)]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _gate(request: Request, admin: bool = False) -> sess.Session | Response:
    """The session, or the response that replaces the page: sign-in, or 403 for a non-admin."""
    session = sess.current_session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"/web/sign-in?next={sess.safe_next(target)}", status.HTTP_303_SEE_OTHER
        )
    if admin and session.role != "admin":
        return page(
            request,
            "forbidden.html",
            {"session": session, "csrf": session.csrf},
            status.HTTP_403_FORBIDDEN,
        )
    return session


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/web/search", status.HTTP_303_SEE_OTHER)


@router.get("/web")
@router.get("/web/")
def web_root() -> RedirectResponse:
    return RedirectResponse("/web/search", status.HTTP_303_SEE_OTHER)


@router.get("/web/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: QueryText = "") -> Response:
    token, fresh = sess.presign_token(request)
    response = page(
        request, "sign_in.html", {"next": sess.safe_next(next), "error": "", "presign": token}
    )
    if fresh:
        sess.set_presign(response, token)
    return response


@router.post("/web/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    try:
        form = await sess.read_form(request)
    except sess.FormTooLarge:
        form = {}
    target = sess.safe_next(form.get("next"))
    token = form.get("token", "").strip()

    def again(error: str, code: int) -> Response:
        presign = request.cookies.get(sess.PRESIGN_COOKIE, "")
        return page(
            request,
            "sign_in.html",
            {"next": target, "error": error, "presign": presign},
            code,
        )

    if not sess.presign_ok(request, form.get("csrf", "")):
        return again(
            "The form had expired or came from another page. Sign in again.",
            status.HTTP_403_FORBIDDEN,
        )
    role = await run_in_threadpool(_store(request).role_for_token, token) if token else None
    if role is None:
        return again(
            "That token is not a live service-desk or admin token. Ask an admin for one: "
            "kitlife token create --role servicedesk",
            status.HTTP_401_UNAUTHORIZED,
        )
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    sess.sign_in(response, token)
    return response


@router.post("/web/sign-out")
async def sign_out(request: Request) -> Response:
    session = sess.current_session(request)
    try:
        form = await sess.read_form(request)
    except sess.FormTooLarge:
        form = {}
    if session is not None and not sess.csrf_ok(session, form.get("csrf", "")):
        return page(request, "forbidden.html", {"session": session, "csrf": session.csrf}, 403)
    response = RedirectResponse("/web/sign-in", status.HTTP_303_SEE_OTHER)
    sess.sign_out(response)
    return response


@router.get("/web/search", response_class=HTMLResponse)
def search(request: Request, q: QueryText = "") -> Response:
    session = _gate(request)
    if isinstance(session, Response):
        return session
    hits = search_devices(_store(request), q) if q.strip() else []
    return page(
        request,
        "search.html",
        {"session": session, "csrf": session.csrf, "q": q, "hits": hits, "now_s": time.time()},
    )


@router.get("/web/devices/{query}", response_class=HTMLResponse)
def device(request: Request, query: str) -> Response:
    session = _gate(request)
    if isinstance(session, Response):
        return session
    try:
        view = device_view(_store(request), query, time.time())
    except NotFoundError as err:
        return page(
            request,
            "not_found.html",
            {"session": session, "csrf": session.csrf, "q": query, "message": str(err)},
            status.HTTP_404_NOT_FOUND,
        )
    return page(request, "device.html", {"session": session, "csrf": session.csrf, "view": view})


@router.get("/web/fleet", response_class=HTMLResponse)
def fleet(request: Request) -> Response:
    session = _gate(request)
    if isinstance(session, Response):
        return session
    import datetime as dt

    view = fleet_view(_store(request), get_roles(request), dt.datetime.now(dt.UTC).date())
    return page(request, "fleet.html", {"session": session, "csrf": session.csrf, "view": view})


@router.get("/web/admin/tokens", response_class=HTMLResponse)
def admin_tokens(request: Request) -> Response:
    session = _gate(request, admin=True)
    if isinstance(session, Response):
        return session
    return page(
        request,
        "tokens.html",
        {"session": session, "csrf": session.csrf, "tokens": _store(request).list_tokens()},
    )
