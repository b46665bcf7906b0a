"""The health certificate a device leaves with: JSON for the refurbisher, HTML and PDF for people.

:func:`build_certificate` gathers the facts once (identity, age, battery,
storage, scores, known faults, erasure, carbon of the route) into plain data;
that dict is what the store keeps and what the JSON export is. The HTML is
that dict through a Jinja2 template (autoescaped: hostnames and models are
device-supplied text), and the PDF is that HTML rendered by WeasyPrint, a
real layout engine, so the PDF and the HTML cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from kitlife.collector.policy.amnesty import ERASURE_METHODS, ERASURE_SOURCE, RouteCarbon, iso

FORMAT = "kitlife.health-certificate/1"


def _reading(readings: Sequence[Mapping[str, Any]], metric: str, worst: str = "first") -> Any:
    values = [r["value"] for r in readings if r["metric"] == metric and r["value"] is not None]
    if not values:
        return None
    if worst == "max":
        return max(values)
    if worst == "min":
        return min(values)
    return values[0]


def _count(value: Any) -> int | None:
    """Counts (cycles, hours, errors) read back as floats: whole numbers again."""
    return None if value is None else round(float(value))


def _date(t_s: int | None) -> str | None:
    return dt.datetime.fromtimestamp(t_s, dt.UTC).date().isoformat() if t_s else None


def build_certificate(
    report: Mapping[str, Any],
    register: Mapping[str, Any] | None,
    score_history: Sequence[Mapping[str, Any]],
    *,
    route: str,
    erasure: tuple[str, str, int | None],
    carbon: RouteCarbon,
    now_s: int,
) -> dict[str, Any]:
    """Every fact of the certificate, as JSON-ready data (``report``: reports.device's)."""
    d = report["device"]
    rd = report["readings"]
    design = _reading(rd, "battery.design_capacity_mwh")
    full = _reading(rd, "battery.full_charge_capacity_mwh")
    purchase_day = register.get("purchase_day") if register else None
    today = now_s // 86_400
    assessment = report.get("assessment") or {}
    faults = [
        {
            "component": c.get("component", ""),
            "name": c.get("name", ""),
            "status": c.get("status", ""),
            "level": c.get("level"),
            "unit": c.get("level_unit", ""),
        }
        for c in assessment.get("components", [])
        if c.get("status") in ("warn", "fail")
    ]
    method, ref, erasure_day = erasure
    return {
        "format": FORMAT,
        "issued": _date(now_s),
        "issuer": "kitlife collector",
        "device": {
            "device_uid": d["device_uid"],
            "hostname": d["hostname"],
            "serial": d["serial"],
            "vendor": d["vendor"],
            "model": d["model"],
            "asset_tag": (register or {}).get("asset_tag", ""),
            "os": f"{d['os_name']} {d['os_version']}".strip(),
            "cpu": _reading(rd, "inv.cpu_model"),
            "ram_bytes": _reading(rd, "mem.total_bytes"),
        },
        "age": {
            "purchase_date": iso(purchase_day) if purchase_day is not None else None,
            "age_years": round((today - purchase_day) / 365.25, 1)
            if purchase_day is not None
            else None,
            "enrolled": _date(d.get("enrolled_s")),
            "last_seen": _date(d.get("last_seen_s")),
        },
        "battery": {
            "health_pct": round(100 * full / design, 1) if design and full else None,
            "design_capacity_mwh": design,
            "full_charge_capacity_mwh": full,
            "cycle_count": _count(_reading(rd, "battery.cycle_count")),
        },
        "storage": {
            "wear_pct": _reading(rd, "nvme.percentage_used_pct", "max"),
            "power_on_hours": _count(_reading(rd, "storage.power_on_hours", "max")),
            "media_errors": _count(_reading(rd, "nvme.media_errors", "max")),
            "reallocated_sectors": _count(_reading(rd, "ata.reallocated_sectors", "max")),
            "smart_passed": _reading(rd, "storage.smart_passed", "min"),
            "capacity_bytes": _reading(rd, "storage.capacity_bytes"),
        },
        "scores": [
            {"date": _date(s["t_s"]), "score": s["score"], "decision": s["decision"]}
            for s in score_history
        ],
        "known_faults": faults,
        "erasure": {
            "method": method,
            "method_label": ERASURE_METHODS.get(method, ""),
            "standard": ERASURE_SOURCE if method else "",
            "reference": ref,
            "date": iso(erasure_day) if erasure_day is not None else None,
        },
        "route": route,
        "carbon": carbon.to_dict(),
    }


_ENV = Environment(
    loader=PackageLoader("kitlife.collector.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(cert: Mapping[str, Any]) -> str:
    return _ENV.get_template("certificate.html").render(c=cert)


def render_pdf(cert: Mapping[str, Any]) -> bytes:
    """The HTML laid out by WeasyPrint (imported here: it loads Pango, which only this needs)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(cert)).write_pdf()
    return pdf
