"""Helpers for the web tests: a small scored estate, and signing in over plain HTTP.

httpx (like the standard cookie jar) keeps a Secure cookie off plain http, while
browsers send it to 127.0.0.1; the helpers carry the session cookie by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from kitlife.collector.policy.fit import load_roles
from kitlife.collector.policy.register import parse_register
from kitlife.collector.runtime.rescore import rescore
from kitlife.collector.store import Store
from kitlife.collector.store.assets import replace_register
from kitlife.collector.tools.simulate import generate_estate, populate, register_csv_text

END = dt.date(2026, 11, 30)


def fill(store: Store, devices: int = 6, months: int = 8) -> None:
    """A simulated estate through the real ingest path, its register, and scores."""
    estate = generate_estate(devices, months, 3, END)
    populate(store, estate, 30)
    rows, errors = parse_register(register_csv_text(estate.register).encode(), load_roles().roles)
    assert not errors
    replace_register(store, rows, actor="test")
    rescore(store, now_s=int(dt.datetime.combine(END, dt.time(12), dt.UTC).timestamp()))


def form_csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]*)"', html)
    assert match, "no csrf field in the form"
    return match.group(1)


@contextmanager
def signed_in(url: str, token: str) -> Iterator[httpx.Client]:
    """A client whose session cookie came from the real sign-in form."""
    with httpx.Client(base_url=url, timeout=30) as client:
        client.headers["Cookie"] = _session_cookie(client, token)
        yield client


def _session_cookie(client: httpx.Client, token: str) -> str:
    form = client.get("/web/sign-in")
    presign = form.cookies["kitlife_csrf"]
    r = client.post(
        "/web/sign-in",
        data={"csrf": form_csrf(form.text), "token": token, "next": "/web/search"},
        headers={"Cookie": f"kitlife_csrf={presign}"},
    )
    assert r.status_code == 303, r.text
    return f"kitlife_session={r.cookies['kitlife_session']}"
