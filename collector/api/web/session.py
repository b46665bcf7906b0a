"""Signing in to the web pages: an API token kept in a cookie, and CSRF tokens for forms.

The service desk signs in with the API token an admin gave it (``kitlife token
create --role servicedesk``). The token is kept in a cookie the page's scripts
cannot read (HttpOnly), that is sent only over HTTPS (Secure; browsers treat
http://127.0.0.1 and http://localhost as secure, so a loopback demo works) and
never on a request another site starts (SameSite=Strict), and that ends with the
browser session. Every page checks it against the store as a bearer token is
checked, so revoking the token signs the browser out at once; nothing about
sessions is stored on the server.

Forms carry a CSRF token as well (defence in depth beside SameSite): signed in,
it is an HMAC of the session token, which another site cannot compute without
reading the cookie; before sign-in, a random value in a second cookie that the
form must repeat (the double-submit pattern, which stops login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request, Response

SESSION_COOKIE = "kitlife_session"
PRESIGN_COOKIE = "kitlife_csrf"
MAX_FORM_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: its role and the CSRF token its forms must carry."""

    role: str
    csrf: str


def csrf_for(secret: str) -> str:
    return hmac.new(secret.encode(), b"kitlife web csrf", hashlib.sha256).hexdigest()[:32]


def current_session(request: Request) -> Session | None:
    """The signed-in session, or None (no cookie, or its token unknown, expired or revoked)."""
    secret = request.cookies.get(SESSION_COOKIE, "")
    if not secret:
        return None
    role = request.app.state.store.role_for_token(secret)
    return Session(role, csrf_for(secret)) if role else None


def _cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, secure=True, samesite="strict", path="/web")


def sign_in(response: Response, secret: str) -> None:
    _cookie(response, SESSION_COOKIE, secret)
    response.delete_cookie(PRESIGN_COOKIE, path="/web", secure=True, httponly=True)


def sign_out(response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/web", secure=True, httponly=True, samesite="strict"
    )


def presign_token(request: Request) -> tuple[str, bool]:
    """The sign-in form's CSRF value: the browser's own if it has one, else a new one."""
    value = request.cookies.get(PRESIGN_COOKIE, "")
    if len(value) == 32:
        return value, False
    return secrets.token_hex(16), True


def set_presign(response: Response, value: str) -> None:
    _cookie(response, PRESIGN_COOKIE, value)


def presign_ok(request: Request, form_value: str) -> bool:
    cookie = request.cookies.get(PRESIGN_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, form_value)


def csrf_ok(session: Session, form_value: str) -> bool:
    return hmac.compare_digest(session.csrf, form_value)


class FormTooLarge(ValueError):
    """A form body above MAX_FORM_BYTES."""


async def read_form(request: Request) -> dict[str, str]:
    """A small urlencoded form, first value of each field.

    Parsed here rather than with python-multipart: the pages post two or three
    short fields, urlencoded, and a bounded read is all they need.
    """
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge(f"form over {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=16)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in fields.items() if v}


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: only a path of these pages, never another site."""
    if target and target.startswith("/web/") and "//" not in target and "\\" not in target:
        return target
    return "/web/search"
