"""Glue between the store and the pure fleet functions, shared by the CLI and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kitlife.collector.policy.fit import RolesConfig, assess
from kitlife.collector.policy.scoring.carbon import default_boavizta
from kitlife.collector.reports.amnesty import amnesty_section
from kitlife.collector.reports.experience import DAY_S, fleet_experience
from kitlife.collector.reports.fleet import fleet_report
from kitlife.collector.reports.fleet_inputs import devices_from_store
from kitlife.collector.store import Store
from kitlife.collector.store.assets import retired_rows


def fit_rows(
    store: Store, cfg: RolesConfig, today: dt.date, poor_only: bool = False
) -> list[dict[str, Any]]:
    """Every held device's fit for its holder's role, with the shortfalls in numbers."""
    out: list[dict[str, Any]] = []
    for f in devices_from_store(store, today):
        if not f.holder_id or f.role not in cfg.roles:
            continue
        fit = assess(f.facts, f.role, cfg, today)
        if poor_only and not fit.poor:
            continue
        out.append(
            {
                "device_uid": f.key,
                "model": f"{f.vendor} {f.model}".strip(),
                "site": f.site,
                "holder_id": f.holder_id,
                **fit.to_dict(),
                "reasons": "; ".join(fit.reasons),
            }
        )
    out.sort(key=lambda r: -float(r["mismatch"]))
    return out


def fleet_report_from_store(store: Store, cfg: RolesConfig, today: dt.date) -> dict[str, Any]:
    """The fleet report over what the database holds; decisions from the scorer (kitlife score).

    The experience section covers the window that ends with ``today`` (UTC).
    """
    fleet = devices_from_store(store, today)
    end_of_today_s = ((today - dt.date(1970, 1, 1)).days + 1) * DAY_S - 1
    decided = {f.key: f.decision for f in fleet if f.decision}
    report = fleet_report(
        fleet,
        retired_rows(store),
        default_boavizta(),
        cfg,
        today,
        decisions=decided or None,
        experience=fleet_experience(store, now_s=end_of_today_s),
    )
    report["amnesty"] = amnesty_section(store)
    return report
