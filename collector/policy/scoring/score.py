"""The public entry: score one device or a fleet.

Condition scores (0-100), documented in docs/scoring.md::

    P_as_is  = product over components of p_serves
    P_repair = product over components of max(p_serves, p_serves_repaired)
    score_as_is = round(100 * P_as_is); score_after_repair = round(100 * 0.9 * P_repair)

``p_serves`` is the chance a component serves the planning horizon; it never rises
when a reading gets worse, and neither do these two. The headline score, the action
and the reasons are one :class:`~kitlife.collector.policy.scoring.decide.Verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache

from kitlife.collector.policy.scoring.carbon import BoaviztaIndex, default_boavizta
from kitlife.collector.policy.scoring.catalogue import Catalogue, load_catalogue
from kitlife.collector.policy.scoring.components import JUDGES, Context
from kitlife.collector.policy.scoring.decide import RoleFit, decide, footprint, plan_repairs
from kitlife.collector.policy.scoring.history import DeviceHistory, day_number
from kitlife.collector.policy.scoring.results import (
    Action,
    ComponentAssessment,
    DeviceAssessment,
    Horizon,
    Repair,
    Status,
)
from kitlife.collector.policy.scoring.thresholds import Thresholds, load_thresholds

_HARDWARE = ("battery", "storage")


@cache
def default_thresholds() -> Thresholds:
    """The packaged thresholds table, loaded and validated once."""
    return load_thresholds()


@cache
def default_catalogue() -> Catalogue:
    """The packaged indicative repair catalogue, loaded once."""
    return load_catalogue()


def _horizon(components: Sequence[ComponentAssessment], skip: frozenset[str], note: str) -> Horizon:
    known = [
        c
        for c in components
        if c.months_to_threshold is not None and f"{c.component}:{c.name}" not in skip
    ]
    if not known:
        return Horizon(None, None, None, None, "no component has a known horizon")
    limiting = min(known, key=lambda c: c.months_to_threshold or 0.0)
    months = limiting.months_to_threshold
    if months is not None and math.isinf(months):
        return Horizon(
            None, None, None, None, "no component crosses its threshold on current trends" + note
        )
    return Horizon(
        months,
        limiting.months_low,
        limiting.months_high,
        f"{limiting.component}:{limiting.name}",
        "shortest component horizon" + note,
    )


def _insufficient(
    history: DeviceHistory,
    ctx: Context,
    components: list[ComponentAssessment],
    notes: list[str],
) -> DeviceAssessment:
    nothing = Horizon(None, None, None, None, "not enough data")
    reason = ctx.reason(
        "not enough data: no battery or storage reading could be judged", "trend.min_points"
    )
    return DeviceAssessment(
        device_id=history.device_id,
        horizon_months=ctx.horizon_months,
        score=None,
        score_as_is=None,
        score_after_repair=None,
        score_planned=None,
        rul_as_is=nothing,
        rul_after_repair=nothing,
        action=Action.INSUFFICIENT_DATA,
        repairs=[],
        repair_cost_gbp=0.0,
        footprint=None,
        components=components,
        reasons=[reason],
        data_quality=notes,
    )


def score_device(
    history: DeviceHistory,
    *,
    horizon_months: float | None = None,
    now: date | None = None,
    role_fit: RoleFit | None = None,
    catalogue: Catalogue | None = None,
    thresholds: Thresholds | None = None,
    boavizta: BoaviztaIndex | None = None,
) -> DeviceAssessment:
    """Judge one device: components, score, remaining life, action, reasons, footprint.

    ``now`` defaults to today (UTC); ``horizon_months`` to the table's
    ``score.horizon_months_default``. Never raises for bad readings: they become
    data-quality notes, and a device with too little data gets
    ``Action.INSUFFICIENT_DATA`` and no score.
    """
    t = thresholds or default_thresholds()
    horizon = (
        horizon_months if horizon_months is not None else t.number("score.horizon_months_default")
    )
    today = now or datetime.now(UTC).date()
    ctx = Context(t, catalogue or default_catalogue(), float(horizon), day_number(today))
    components = [c for judge in JUDGES for c in judge(history, ctx)]
    notes = [n for c in components for n in c.data_quality]
    if not any(c.component in _HARDWARE and c.status is not Status.UNKNOWN for c in components):
        return _insufficient(history, ctx, components, notes)

    p_repaired = math.prod(max(c.p_serves, c.p_serves_repaired) for c in components)
    plan = plan_repairs(components, ctx)
    verdict = decide(components, plan, role_fit, ctx)
    new_device = (boavizta or default_boavizta()).embodied(
        history.vendor or history.text("inv.vendor"), history.model or history.text("inv.model")
    )
    return DeviceAssessment(
        device_id=history.device_id,
        horizon_months=ctx.horizon_months,
        score=verdict.score,
        score_as_is=verdict.score_as_is,
        score_after_repair=round(100 * t.number("score.repair_confidence") * p_repaired),
        score_planned=verdict.score_planned,
        rul_as_is=_horizon(components, frozenset(), ""),
        rul_after_repair=_horizon(components, plan.repaired, " after the planned repairs"),
        action=verdict.action,
        repairs=[
            Repair(p.part, p.resets, p.cost_gbp, p.labour_min, p.embodied_kgco2e, p.indicative)
            for p in plan.parts
        ],
        repair_cost_gbp=plan.cost_gbp,
        footprint=footprint(verdict.action, plan.parts, new_device, ctx),
        components=components,
        reasons=list(verdict.reasons),
        data_quality=notes,
    )


def iter_scores(
    histories: Iterable[DeviceHistory],
    *,
    horizon_months: float | None = None,
    now: date | None = None,
    role_fits: Mapping[str, RoleFit] | None = None,
    catalogue: Catalogue | None = None,
    thresholds: Thresholds | None = None,
) -> Iterator[DeviceAssessment]:
    """Score devices one at a time with the same tables and the same ``now``.

    Streaming lets a caller store each result and drop it: holding 72,000 assessments
    alive makes Python's cyclic garbage collector rescan them, which costs more than a
    third of a full rescore (see bench/scoring.py).
    """
    today = now or datetime.now(UTC).date()
    fits = role_fits or {}
    t = thresholds or default_thresholds()
    cat = catalogue or default_catalogue()
    for history in histories:
        yield score_device(
            history,
            horizon_months=horizon_months,
            now=today,
            role_fit=fits.get(history.device_id),
            catalogue=cat,
            thresholds=t,
        )


def score_fleet(
    histories: Iterable[DeviceHistory],
    *,
    horizon_months: float | None = None,
    now: date | None = None,
    role_fits: Mapping[str, RoleFit] | None = None,
    catalogue: Catalogue | None = None,
    thresholds: Thresholds | None = None,
) -> list[DeviceAssessment]:
    """Score every device with the same tables and the same ``now``, in input order."""
    return list(
        iter_scores(
            histories,
            horizon_months=horizon_months,
            now=now,
            role_fits=role_fits,
            catalogue=catalogue,
            thresholds=thresholds,
        )
    )
