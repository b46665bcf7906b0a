"""The fleet page's data: the fleet report, the poor fits and a redeploy plan, in one dict.

Built from the same functions as ``kitlife report fleet``, ``kitlife redeploy
fit --poor`` and ``kitlife redeploy plan``, so the page and the CLI never
disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kitlife.collector.policy.fit import RolesConfig
from kitlife.collector.policy.fleet import plan_inputs
from kitlife.collector.policy.redeploy import build_plan
from kitlife.collector.reports.fleet_inputs import devices_from_store
from kitlife.collector.reports.fleet_service import fit_rows, fleet_report_from_store
from kitlife.collector.store import Store

DECISION_COLUMNS = (
    "keep",
    "repair",
    "redeploy",
    "refurbish",
    "donate",
    "recycle",
    "insufficient_data",
    "undecided",
)
PAGE_POOR_FITS = 50
PAGE_MOVES = 25


def fleet_view(store: Store, cfg: RolesConfig, today: dt.date) -> dict[str, Any]:
    """Report, poor fits (worst first, at most PAGE_POOR_FITS) and a plan of PAGE_MOVES moves."""
    report = fleet_report_from_store(store, cfg, today)
    poor = fit_rows(store, cfg, today, poor_only=True)
    devs, holders = plan_inputs(devices_from_store(store, today))
    plan = build_plan(devs, holders, cfg, today, max_moves=PAGE_MOVES)
    return {
        **report,
        "decision_columns": decision_columns(report),
        "poor_fits": poor[:PAGE_POOR_FITS],
        "poor_fits_total": len(poor),
        "plan": {"summary": plan.summary(), "moves": [m.to_dict() for m in plan.moves]},
    }


def decision_columns(report: dict[str, Any]) -> list[str]:
    """The decisions that occur in the report's breakdowns, in a fixed order."""
    present = {k for view in ("by_model", "by_site", "by_age") for row in report[view] for k in row}
    return [c for c in DECISION_COLUMNS if c in present]


def figures_csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The fleet report flattened for CSV: every figure, then every breakdown cell."""
    rows: list[dict[str, Any]] = []
    for f in report["figures"]:
        value = f["value"]
        if isinstance(value, dict):
            for k, v in value.items():
                rows.append(
                    {
                        "section": "figure",
                        "group": f["id"],
                        "name": k,
                        "value": v,
                        "unit": f["unit"],
                        "method": f["method"],
                        "source": f["source"],
                    }
                )
        else:
            rows.append(
                {
                    "section": "figure",
                    "group": f["id"],
                    "name": f["label"],
                    "value": value,
                    "unit": f["unit"],
                    "method": f["method"],
                    "source": f["source"],
                }
            )
    for view, key in (("by_model", "model"), ("by_site", "site"), ("by_age", "age")):
        for row in report[view]:
            for name, value in row.items():
                if name != key:
                    rows.append(
                        {
                            "section": view,
                            "group": row[key],
                            "name": name,
                            "value": value,
                            "unit": "devices",
                            "source": "kitlife",
                        }
                    )
    for m in report["models_that_last"]:
        for name, value in m.items():
            if name != "model":
                rows.append(
                    {
                        "section": "models_that_last",
                        "group": m["model"],
                        "name": name,
                        "value": value,
                        "unit": "",
                        "source": "kitlife asset register",
                    }
                )
    return rows


FIGURES_CSV_COLUMNS = ("section", "group", "name", "value", "unit", "method", "source")
