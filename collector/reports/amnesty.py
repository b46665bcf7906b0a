"""The amnesty section of the fleet report: reminded, booked, returned by route, still out.

Read through the store, nothing computed twice: the per-campaign counts come
from :func:`kitlife.collector.store.amnesty.results`; this adds the totals and
the shares by route that the fleet report prints beside its end-of-life map.
"""

from __future__ import annotations

from typing import Any

from kitlife.collector.policy.amnesty import ROUTES
from kitlife.collector.store import Store
from kitlife.collector.store import amnesty as db

# The route's share in the words of the Greening government end-of-life map.
ROUTE_LABELS = {
    "redeploy": "reused",
    "refurbish": "refurbished",
    "donate": "donated",
    "recycle": "recycled",
}


def amnesty_section(store: Store) -> dict[str, Any]:
    """Every campaign's results and the totals; empty lists and zeros when none ran."""
    campaigns = db.results(store)
    returned = {route: 0 for route in ROUTES}
    for c in campaigns:
        for route, n in c["returned_by_route"].items():
            returned[route] = returned.get(route, 0) + n
    total = sum(returned.values())
    return {
        "campaigns": campaigns,
        "people_asked": sum(c["people"] for c in campaigns),
        "people_reminded": sum(c["reminded"] for c in campaigns),
        "people_booked": sum(c["booked"] for c in campaigns),
        "devices_returned": total,
        "returned_by_route": returned,
        "pct_by_route": {
            ROUTE_LABELS[r]: round(100 * n / total, 1) if total else 0.0
            for r, n in returned.items()
        },
        "carbon_avoided_kg": round(sum(c["carbon_avoided_kg"] for c in campaigns), 1),
        "flagged_devices_still_out": sum(c["flagged_devices_still_out"] for c in campaigns),
        "method": (
            "reminded: people with at least one delivered reminder; booked: people who booked "
            "through their link; returned: hand-backs recorded by kitlife handback for people "
            "in the campaign; still out: devices named in a reason (decided refurbish, donate "
            "or recycle, or dormant) with no hand-back; carbon: each hand-back's route, "
            "by the formula on its certificate"
        ),
    }
