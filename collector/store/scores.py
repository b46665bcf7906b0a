"""Store access for assessments: the ``scores`` history and the newest score on each device.

The scorer (``kitlife.collector.policy.scoring``) is pure and the rescorer
(``kitlife.collector.runtime.rescore``) decides when to run it; this module is
where their results meet the database, so that no code above the store writes
SQL. An assessment travels as a plain dict (its ``to_dict()``) and is kept as
JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, select, update

from kitlife.collector.store.schema import devices, scores
from kitlife.collector.store.store import Store


@dataclass(frozen=True, slots=True)
class Assessed:
    """One device's assessment as the rescorer keeps it."""

    device_id: int
    score: float | None
    decision: str
    horizon_months: float
    assessment: dict[str, Any]  # the assessment's to_dict(), with "reasons"


def save_assessments(store: Store, results: Sequence[Assessed], now_s: int) -> None:
    """Append each result to the history and put its score and decision on the device row.

    One transaction for the lot, device rows in id order: the order in which
    the ingest locks them (see store/ingest.py), and two transactions that
    lock in one order cannot deadlock.
    """
    if not results:
        return
    ordered = sorted(results, key=lambda r: r.device_id)
    history_rows = [
        {
            "device_id": r.device_id,
            "t_s": now_s,
            "score": r.score,
            "decision": r.decision,
            "reasons": json.dumps(r.assessment.get("reasons", [])),
            "horizon": round(r.horizon_months),
            "assessment": json.dumps(r.assessment),
        }
        for r in ordered
    ]
    device_rows = [
        {"b_id": r.device_id, "b_score": r.score, "b_decision": r.decision, "b_t": now_s}
        for r in ordered
    ]
    with store.engine.begin() as conn:
        conn.execute(scores.insert(), history_rows)
        conn.execute(
            update(devices)
            .where(devices.c.id == bindparam("b_id"))
            .values(
                score=bindparam("b_score"),
                decision=bindparam("b_decision"),
                scored_s=bindparam("b_t"),
            ),
            device_rows,
        )


def scored_times(store: Store) -> dict[int, float]:
    """Device id -> when it was last scored (epoch seconds), for devices ever scored."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(devices.c.id, devices.c.scored_s).where(devices.c.scored_s.is_not(None))
        ).all()
    return {int(i): float(t) for i, t in rows}


def latest_assessment(store: Store, device_id: int) -> dict[str, Any] | None:
    """The device's newest assessment, or None while it was never scored."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(scores.c.assessment)
            .where(scores.c.device_id == device_id)
            .order_by(scores.c.t_s.desc(), scores.c.id.desc())
            .limit(1)
        ).first()
    return json.loads(row.assessment) if row else None


def scored_devices(
    store: Store, *, model: str | None = None, decision: str | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(device row, newest assessment) of every scored live device, by hostname.

    A device appears once even when two assessments share its newest time.
    The rows are read in one query before the first is yielded, so a caller
    may stop early without holding a connection.
    """
    query = (
        select(devices, scores.c.assessment)
        .join(
            scores,
            and_(scores.c.device_id == devices.c.id, scores.c.t_s == devices.c.scored_s),
        )
        .where(devices.c.revoked_s.is_(None))
        .order_by(devices.c.hostname, devices.c.id)
    )
    if model:
        query = query.where(devices.c.model == model)
    if decision:
        query = query.where(devices.c.decision == decision)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    seen: set[int] = set()
    for r in rows:
        if r.id in seen:
            continue
        seen.add(r.id)
        device = dict(r._mapping)
        yield device, json.loads(device.pop("assessment"))
