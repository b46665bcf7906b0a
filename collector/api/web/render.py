"""Rendering a template into a page with the headers every page carries.

One Jinja2 environment with autoescaping on for every template (what a page
shows comes from agents and registers, so it is escaped without exception),
and one set of headers: a Content-Security-Policy that allows no script at
all and styles only from this server, no framing, no referrer, no caching of
pages that carry device data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kitlife import __version__
from kitlife.collector.api.web.charts import history_chart
from kitlife.collector.reports import units

HERE = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(
    chart=history_chart,
    human=units.human,
    when=units.when,
    ago=units.ago,
    months=units.months,
    version=__version__,
)
templates = Jinja2Templates(env=_env)


def page(
    request: Request, name: str, context: Mapping[str, Any], status_code: int = 200
) -> HTMLResponse:
    """``name`` rendered with ``context`` (plus ``session``, None when signed out)."""
    ctx = {"session": None, "csrf": "", "standalone": False, **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    return response
