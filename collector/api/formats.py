"""One report, three forms: JSON for programs, CSV for spreadsheets, HTML for people.

A report route takes ``?format=json|csv|html``; without it the request's
``Accept`` header chooses (``text/csv``, ``text/html``; anything else is JSON),
so a browser opening a report URL gets a page and ``curl`` gets JSON. CSV cells
pass through :func:`~kitlife.collector.reports.export.csv_safe`; HTML is the
web pages' templates, escaped, with the pages' security headers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from kitlife.collector.reports.export import csv_text

Format = Literal["json", "csv", "html"]
FormatQuery = Annotated[
    Format | None,
    Query(
        alias="format",
        description="json, csv or html; without it the Accept header chooses (default json)",
    ),
]
_MEDIA: dict[str, Format] = {
    "application/json": "json",
    "text/csv": "csv",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
FORMAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report, as JSON, CSV or HTML",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
    }
}


def chosen(request: Request, fmt: Format | None) -> Format:
    """The explicit format, else the Accept header's most preferred form we serve."""
    if fmt:
        return fmt
    best: tuple[float, int, Format] | None = None
    for i, part in enumerate(request.headers.get("accept", "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        form = _MEDIA.get(media.lower())
        if form is None:
            continue
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or (q, -i) > (best[0], best[1])):
            best = (q, -i, form)
    return best[2] if best else "json"


def respond(
    request: Request,
    fmt: Format | None,
    data: Any,
    *,
    name: str,
    csv_rows: Iterable[Mapping[str, Any]] | None = None,
    columns: Sequence[str] = (),
    template: str = "table.html",
    context: Mapping[str, Any] | None = None,
) -> Response:
    """``data`` as JSON, or its rows as CSV (``columns``), or ``template`` as a page."""
    form = chosen(request, fmt)
    if form == "csv":
        rows = data if csv_rows is None else csv_rows
        return Response(
            csv_text(rows, columns),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if form == "html":
        from kitlife.collector.api.web.render import page

        ctx = {"title": name.replace("-", " ").capitalize(), "rows": data, "columns": columns}
        return page(request, template, {**ctx, **(context or {}), "standalone": True})
    return JSONResponse(data)
