"""Store access for amnesty days: campaigns, reminders exactly once, bookings, hand-backs.

Functions over a :class:`~kitlife.collector.store.Store`, like store/assets.py.
The rules (who, when, how many) come from :mod:`kitlife.collector.policy.amnesty`;
here is only how they are kept, and the two places where the database itself
is the guarantee:

* a reminder is one row per (campaign, person, lead time, channel) under a
  unique constraint, and is sent only by the worker whose conditional update
  moved it from ``pending`` to ``sending`` (on PostgreSQL the candidates are
  picked ``FOR UPDATE SKIP LOCKED``, so workers take different rows instead of
  queueing on the same ones; SQLite has one writer at a time);
* a booking increments its window's and its point's ``booked`` only while
  below ``capacity``, in the statement that checks it, and is one row per
  person (a unique audience id): a full locker bank is never over-booked, and
  a booking link books once, whatever runs at the same time.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, func, select, true, update
from sqlalchemy.exc import IntegrityError

from kitlife.collector.policy.amnesty import (
    HeldDevice,
    Member,
    Point,
    Rules,
    due_s,
    window_capacities,
    windows,
)
from kitlife.collector.policy.register import serial_key
from kitlife.collector.store import derived
from kitlife.collector.store.schema import (
    amnesty_audience,
    amnesty_bookings,
    amnesty_campaigns,
    amnesty_handbacks,
    amnesty_messages,
    amnesty_points,
    amnesty_windows,
    assets,
    audit_log,
    device_keys,
    devices,
    scores,
)
from kitlife.collector.store.store import NotFoundError, Store, StoreError
from kitlife.protocol import metric_by_name

DAY_S = 86_400
_ERROR_MAX = 255


class BookingError(StoreError):
    """A booking that cannot be made; ``code`` is the HTTP status the page answers with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _now() -> int:
    return int(time.time())


def _audit(conn: Connection, actor: str, action: str, detail: str, now: int) -> None:
    conn.execute(
        audit_log.insert().values(t_s=now, actor=actor, action=action, detail=detail[:2000])
    )


# -- what the audience rules read ---------------------------------------------------------
def known_sites(store: Store) -> set[str]:
    """Sites of the register's live rows."""
    with store.engine.connect() as conn:
        return {
            str(r.site)
            for r in conn.execute(
                select(assets.c.site).where(assets.c.status != "retired", assets.c.site != "")
            )
        }


def people(store: Store, sites: Sequence[str]) -> dict[str, str]:
    """holder_id -> site for everyone holding a live register row at ``sites``."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(assets.c.holder_id, assets.c.site)
            .where(
                assets.c.status != "retired",
                assets.c.holder_id != "",
                assets.c.site.in_(list(sites)),
            )
            .order_by(assets.c.holder_id, assets.c.id)
        )
        out: dict[str, str] = {}
        for r in rows:
            out.setdefault(str(r.holder_id), str(r.site))
        return out


def held_devices(store: Store, sites: Sequence[str]) -> list[HeldDevice]:
    """Enrolled devices held at ``sites`` (register matched by serial), with decision and use."""
    active_id = metric_by_name("use.days_since_active").id
    with store.engine.connect() as conn:
        reg = {
            str(r.serial_key): r
            for r in conn.execute(
                select(assets.c.serial_key, assets.c.holder_id, assets.c.site).where(
                    assets.c.status != "retired",
                    assets.c.holder_id != "",
                    assets.c.site.in_(list(sites)),
                )
            )
        }
        devs = [
            r
            for r in conn.execute(
                select(
                    devices.c.id,
                    devices.c.device_uid,
                    devices.c.hostname,
                    devices.c.serial,
                    devices.c.vendor,
                    devices.c.model,
                    devices.c.decision,
                    devices.c.score,
                    devices.c.scored_s,
                    devices.c.last_seen_s,
                ).where(devices.c.revoked_s.is_(None), devices.c.serial != "")
            )
            if serial_key(r.serial) in reg
        ]
        latest = derived.latest(conn, [d.id for d in devs])
    out: list[HeldDevice] = []
    for d in devs:
        a = reg[serial_key(d.serial)]
        idle = [
            float(r.num)
            for r in latest.get(d.id, {}).values()
            if r.metric_id == active_id and r.num is not None
        ]
        out.append(
            HeldDevice(
                device_uid=str(d.device_uid),
                hostname=str(d.hostname),
                vendor=str(d.vendor),
                model=str(d.model),
                holder_id=str(a.holder_id),
                site=str(a.site),
                decision=str(d.decision),
                score=d.score,
                scored_s=d.scored_s,
                last_seen_s=d.last_seen_s,
                days_since_active=min(idle) if idle else None,
            )
        )
    return out


# -- campaigns ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NewCampaign:
    name: str
    day: int
    sites: tuple[str, ...]
    lead_days: tuple[int, ...]
    channels: tuple[str, ...]
    dormant_days: int


def create_campaign(
    store: Store,
    campaign: NewCampaign,
    points: Sequence[Point],
    members: Sequence[Member],
    emails: Mapping[str, str],
    agent_holders: Iterable[str],
    rules: Rules,
    actor: str = "cli",
    now_s: int | None = None,
) -> int:
    """Store a campaign whole, in one transaction: points, windows, audience, every reminder.

    ``emails``: holder_id -> address (people without one get no e-mail);
    ``agent_holders``: people with at least one enrolled device (only they can
    be reached through the agent). Every reminder row is made now, with the
    time it is due, so that sending is only ever a state change of an existing row.
    """
    now = _now() if now_s is None else now_s
    with_agent = set(agent_holders)
    with store.engine.begin() as conn:
        campaign_id = int(
            conn.execute(
                amnesty_campaigns.insert()
                .values(
                    name=campaign.name[:255],
                    day=campaign.day,
                    sites=json.dumps(list(campaign.sites)),
                    lead_days=json.dumps(list(campaign.lead_days)),
                    channels=json.dumps(list(campaign.channels)),
                    dormant_days=campaign.dormant_days,
                    link_secret=secrets.token_hex(32),
                    created_s=now,
                )
                .returning(amnesty_campaigns.c.id)
            ).scalar_one()
        )
        for p in points:
            spans = windows(p, campaign.day, rules)
            caps, total = window_capacities(p, len(spans), rules)
            point_id = conn.execute(
                amnesty_points.insert()
                .values(
                    campaign_id=campaign_id,
                    point_key=p.point_id[:64],
                    site=p.site[:128],
                    kind=p.kind,
                    name=p.name[:255],
                    location=p.location[:255],
                    slots=p.slots,
                    opens_min=p.opens_min,
                    closes_min=p.closes_min,
                    capacity=total,
                )
                .returning(amnesty_points.c.id)
            ).scalar_one()
            conn.execute(
                amnesty_windows.insert(),
                [
                    {"point_id": point_id, "start_s": s, "end_s": e, "capacity": c}
                    for (s, e), c in zip(spans, caps, strict=True)
                ],
            )
        for m in members:
            audience_id = conn.execute(
                amnesty_audience.insert()
                .values(
                    campaign_id=campaign_id,
                    holder_id=m.holder_id[:64],
                    site=m.site[:128],
                    email=emails.get(m.holder_id, "")[:255],
                    reasons=json.dumps([r.to_dict() for r in m.reasons]),
                    devices=json.dumps(list(m.devices)),
                    link_nonce=secrets.token_hex(16),
                )
                .returning(amnesty_audience.c.id)
            ).scalar_one()
            rows = [
                {
                    "campaign_id": campaign_id,
                    "audience_id": audience_id,
                    "lead_days": lead,
                    "channel": channel,
                    "due_s": due_s(campaign.day, lead),
                }
                for lead in campaign.lead_days
                for channel in campaign.channels
                if (channel != "email" or emails.get(m.holder_id))
                and (channel != "agent" or m.holder_id in with_agent)
            ]
            if rows:
                conn.execute(amnesty_messages.insert(), rows)
        _audit(
            conn,
            actor,
            "amnesty.schedule",
            f"campaign {campaign_id} {campaign.name!r} on day {campaign.day} at "
            f"{','.join(campaign.sites)}: {len(points)} points, {len(members)} people",
            now,
        )
    return campaign_id


def holders_with_agents(store: Store, holders: Iterable[str]) -> set[str]:
    """People (of ``holders``) who hold at least one enrolled, live device."""
    wanted = set(holders)
    with store.engine.connect() as conn:
        keys = {
            str(r.serial_key): str(r.holder_id)
            for r in conn.execute(
                select(assets.c.serial_key, assets.c.holder_id).where(
                    assets.c.status != "retired", assets.c.holder_id != ""
                )
            )
        }
        out = set()
        for r in conn.execute(
            select(devices.c.serial).where(devices.c.revoked_s.is_(None), devices.c.serial != "")
        ):
            holder = keys.get(serial_key(r.serial))
            if holder in wanted:
                out.add(holder)
    return out


def _campaign_dict(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "day": r.day,
        "sites": json.loads(r.sites),
        "lead_days": json.loads(r.lead_days),
        "channels": json.loads(r.channels),
        "dormant_days": r.dormant_days,
        "status": r.status,
        "created_s": r.created_s,
        "cancelled_s": r.cancelled_s,
    }


def list_campaigns(store: Store) -> list[dict[str, Any]]:
    a = amnesty_audience
    with store.engine.connect() as conn:
        counts = {
            r.campaign_id: (r.people, r.booked)
            for r in conn.execute(
                select(
                    a.c.campaign_id,
                    func.count().label("people"),
                    func.count(a.c.booked_s).label("booked"),
                ).group_by(a.c.campaign_id)
            )
        }
        out = []
        for r in conn.execute(select(amnesty_campaigns).order_by(amnesty_campaigns.c.id)):
            people_n, booked = counts.get(r.id, (0, 0))
            out.append({**_campaign_dict(r), "people": people_n, "booked": booked})
        return out


def campaign(store: Store, campaign_id: int) -> dict[str, Any]:
    """A campaign with its points, windows, reminder counts and bookings (no reasons)."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(amnesty_campaigns).where(amnesty_campaigns.c.id == campaign_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no amnesty campaign {campaign_id}")
        out = _campaign_dict(row)
        p, w = amnesty_points, amnesty_windows
        out["points"] = [
            {
                "point_id": r.point_key,
                "site": r.site,
                "kind": r.kind,
                "name": r.name,
                "location": r.location,
                "slots": r.slots,
                "capacity": r.capacity,
                "booked": r.booked,
            }
            for r in conn.execute(select(p).where(p.c.campaign_id == campaign_id).order_by(p.c.id))
        ]
        m = amnesty_messages
        out["messages"] = [
            {"lead_days": r.lead_days, "channel": r.channel, "status": r.status, "n": r.n}
            for r in conn.execute(
                select(m.c.lead_days, m.c.channel, m.c.status, func.count().label("n"))
                .where(m.c.campaign_id == campaign_id)
                .group_by(m.c.lead_days, m.c.channel, m.c.status)
                .order_by(m.c.lead_days.desc(), m.c.channel, m.c.status)
            )
        ]
        a, b = amnesty_audience, amnesty_bookings
        out["audience"] = {
            "people": conn.execute(
                select(func.count()).select_from(a).where(a.c.campaign_id == campaign_id)
            ).scalar_one(),
            "opened": conn.execute(
                select(func.count())
                .select_from(a)
                .where(a.c.campaign_id == campaign_id, a.c.opened_s.is_not(None))
            ).scalar_one(),
        }
        out["bookings"] = [
            {
                "holder_id": r.holder_id,
                "point_id": r.point_key,
                "point": r.name,
                "start_s": r.start_s,
                "end_s": r.end_s,
                "booked_s": r.booked_s,
            }
            for r in conn.execute(
                select(a.c.holder_id, p.c.point_key, p.c.name, w.c.start_s, w.c.end_s, b.c.booked_s)
                .join(a, a.c.id == b.c.audience_id)
                .join(w, w.c.id == b.c.window_id)
                .join(p, p.c.id == w.c.point_id)
                .where(b.c.campaign_id == campaign_id)
                .order_by(w.c.start_s, a.c.holder_id)
            )
        ]
        return out


def cancel_campaign(
    store: Store, campaign_id: int, actor: str = "cli", now_s: int | None = None
) -> int:
    """Cancel: no more reminders (pending ones become skipped) and no more bookings."""
    now = _now() if now_s is None else now_s
    c, m = amnesty_campaigns, amnesty_messages
    with store.engine.begin() as conn:
        done = conn.execute(
            update(c)
            .where(c.c.id == campaign_id, c.c.status == "scheduled")
            .values(status="cancelled", cancelled_s=now)
        )
        if done.rowcount != 1:
            exists_ = conn.execute(select(c.c.status).where(c.c.id == campaign_id)).first()
            if exists_ is None:
                raise NotFoundError(f"no amnesty campaign {campaign_id}")
            raise StoreError(f"campaign {campaign_id} is already {exists_.status}")
        skipped = conn.execute(
            update(m)
            .where(m.c.campaign_id == campaign_id, m.c.status == "pending")
            .values(status="skipped", last_error="campaign cancelled")
        ).rowcount
        _audit(conn, actor, "amnesty.cancel", f"campaign {campaign_id}", now)
    return int(skipped)


# -- reminders: exactly once ----------------------------------------------------------------
def sweep(
    store: Store, rules: Rules, now_s: int, audience_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Settle what needs no sending: stale claims, superseded, booked, after the day.

    Each statement changes only rows in the state it names, so workers
    sweeping at the same time do the same thing once. ``audience_ids`` limits
    it to those people's rows (an agent's fetch settles its own holder's only;
    the reminder job settles everyone's).
    """
    m, a, c = amnesty_messages, amnesty_audience, amnesty_campaigns
    later = amnesty_messages.alias("later")
    mine = true() if audience_ids is None else m.c.audience_id.in_(list(audience_ids))
    out: dict[str, int] = {}
    with store.engine.begin() as conn:
        out["uncertain"] = conn.execute(
            update(m)
            .where(
                mine,
                m.c.status == "sending",
                m.c.claimed_s < now_s - rules.claim_timeout_s,
            )
            .values(
                status="uncertain",
                last_error="claimed but no outcome recorded: not sent again",
            )
        ).rowcount
        out["booked"] = conn.execute(
            update(m)
            .where(
                mine,
                m.c.status == "pending",
                m.c.audience_id.in_(select(a.c.id).where(a.c.booked_s.is_not(None))),
            )
            .values(status="skipped", last_error="booked: no reminder needed")
        ).rowcount
        out["superseded"] = conn.execute(
            update(m)
            .where(
                mine,
                m.c.status == "pending",
                exists(
                    # campaign first: the unique index (campaign, person, lead, channel) serves it
                    select(later.c.id).where(
                        later.c.campaign_id == m.c.campaign_id,
                        later.c.audience_id == m.c.audience_id,
                        later.c.channel == m.c.channel,
                        later.c.lead_days < m.c.lead_days,
                        later.c.due_s <= now_s,
                    )
                ),
            )
            .values(status="skipped", last_error="superseded by a nearer reminder")
        ).rowcount
        out["past"] = conn.execute(
            update(m)
            .where(
                mine,
                m.c.status == "pending",
                m.c.campaign_id.in_(select(c.c.id).where(c.c.day * DAY_S + DAY_S <= now_s)),
            )
            .values(status="skipped", last_error="the amnesty day has passed")
        ).rowcount
    return out


@dataclass(frozen=True, slots=True)
class Reminder:
    """A claimed reminder, with what its text needs: the person's own reasons only."""

    message_id: int
    campaign_id: int
    campaign_name: str
    day: int
    lead_days: int
    channel: str
    audience_id: int
    holder_id: str
    site: str
    email: str
    reasons: list[dict[str, Any]]
    devices: list[dict[str, str]]
    link_nonce: str
    link_secret: str
    attempts: int


def _claimable(channel: str, now_s: int) -> Any:
    m, c = amnesty_messages, amnesty_campaigns
    return and_(
        m.c.status == "pending",
        m.c.channel == channel,
        m.c.due_s <= now_s,
        m.c.next_try_s <= now_s,
        m.c.campaign_id.in_(select(c.c.id).where(c.c.status == "scheduled")),
    )


def _reminders(conn: Connection, ids: Sequence[int]) -> list[Reminder]:
    if not ids:
        return []
    m, a, c = amnesty_messages, amnesty_audience, amnesty_campaigns
    rows = conn.execute(
        select(
            m.c.id,
            m.c.campaign_id,
            c.c.name,
            c.c.day,
            m.c.lead_days,
            m.c.channel,
            m.c.audience_id,
            a.c.holder_id,
            a.c.site,
            a.c.email,
            a.c.reasons,
            a.c.devices,
            a.c.link_nonce,
            c.c.link_secret,
            m.c.attempts,
        )
        .join(a, a.c.id == m.c.audience_id)
        .join(c, c.c.id == m.c.campaign_id)
        .where(m.c.id.in_(list(ids)))
        .order_by(m.c.id)
    )
    return [
        Reminder(
            r.id,
            r.campaign_id,
            r.name,
            r.day,
            r.lead_days,
            r.channel,
            r.audience_id,
            r.holder_id,
            r.site,
            r.email,
            json.loads(r.reasons),
            json.loads(r.devices),
            r.link_nonce,
            r.link_secret,
            r.attempts,
        )
        for r in rows
    ]


def claim(
    store: Store,
    channel: str,
    worker: str,
    now_s: int,
    limit: int,
    campaign_id: int | None = None,
) -> list[Reminder]:
    """Move due ``pending`` reminders of ``channel`` to ``sending`` for ``worker``; return them.

    Only the rows this statement moved are returned: another worker's claim of
    the same row either happened first (the row is no longer pending) or
    skipped it (PostgreSQL ``SKIP LOCKED``).
    """
    m = amnesty_messages
    cond = _claimable(channel, now_s)
    if campaign_id is not None:
        cond = and_(cond, m.c.campaign_id == campaign_id)
    values = {"claimed_by": worker[:64], "claimed_s": now_s}
    with store.engine.begin() as conn:
        return _reminders(conn, _take(store, conn, cond, limit, values))


def _take(
    store: Store, conn: Connection, cond: Any, limit: int, values: Mapping[str, Any]
) -> list[int]:
    """Move up to ``limit`` rows matching ``cond`` from pending to sending; their ids.

    PostgreSQL: lock the candidates first (``FOR UPDATE SKIP LOCKED``, so another
    worker's candidates are passed over, not waited for), then update exactly
    those. Not one ``UPDATE .. WHERE id IN (SELECT .. LIMIT n FOR UPDATE SKIP
    LOCKED)``: PostgreSQL may rescan that subquery, skip the rows the update
    itself just changed, and so take more than ``n``. SQLite: one statement,
    under its single writer lock.
    """
    m = amnesty_messages
    pick = select(m.c.id).where(cond).order_by(m.c.id).limit(limit)
    move = update(m).values(status="sending", attempts=m.c.attempts + 1, **values)
    if store.dialect == "postgresql":
        ids = list(conn.execute(pick.with_for_update(skip_locked=True)).scalars())
        if not ids:
            return []
        move = move.where(m.c.id.in_(ids), m.c.status == "pending")
    else:
        move = move.where(m.c.id.in_(pick.scalar_subquery()), m.c.status == "pending")
    return sorted(conn.execute(move.returning(m.c.id)).scalars())


def delivered(
    store: Store,
    message_ids: Sequence[int],
    worker: str,
    now_s: int,
    device_id: int | None = None,
) -> int:
    """``sending`` -> ``delivered`` for rows this worker claimed."""
    if not message_ids:
        return 0
    m = amnesty_messages
    with store.engine.begin() as conn:
        return int(
            conn.execute(
                update(m)
                .where(
                    m.c.id.in_(list(message_ids)),
                    m.c.status == "sending",
                    m.c.claimed_by == worker[:64],
                )
                .values(status="delivered", delivered_s=now_s, device_id=device_id, last_error="")
            ).rowcount
        )


def not_delivered(
    store: Store,
    message_ids: Sequence[int],
    worker: str,
    error: str,
    rules: Rules,
    now_s: int,
    counts: bool = True,
) -> int:
    """``sending`` -> ``pending`` to retry later, or ``failed`` after the last attempt.

    ``counts=False`` hands a claim back without spending an attempt (the
    round stopped before trying it, e.g. the SMTP server was down).
    """
    if not message_ids:
        return 0
    m = amnesty_messages
    mine = and_(
        m.c.id.in_(list(message_ids)), m.c.status == "sending", m.c.claimed_by == worker[:64]
    )
    with store.engine.begin() as conn:
        if not counts:
            return int(
                conn.execute(
                    update(m)
                    .where(mine)
                    .values(status="pending", attempts=m.c.attempts - 1, claimed_by="")
                ).rowcount
            )
        failed = conn.execute(
            update(m)
            .where(mine, m.c.attempts >= rules.max_attempts)
            .values(status="failed", last_error=error[:_ERROR_MAX])
        ).rowcount
        retry = conn.execute(
            update(m)
            .where(mine)
            .values(
                status="pending",
                next_try_s=now_s + rules.retry_after_s,
                claimed_by="",
                last_error=error[:_ERROR_MAX],
            )
        ).rowcount
        return int(failed + retry)


def message_counts(store: Store, campaign_id: int | None = None) -> dict[str, int]:
    """Reminders by status (all campaigns, or one)."""
    m = amnesty_messages
    q = select(m.c.status, func.count()).group_by(m.c.status)
    if campaign_id is not None:
        q = q.where(m.c.campaign_id == campaign_id)
    with store.engine.connect() as conn:
        return {str(s): int(n) for s, n in conn.execute(q)}


# -- the agent channel ----------------------------------------------------------------------
def holder_of_device(store: Store, device_id: int) -> str | None:
    with store.engine.connect() as conn:
        serial = conn.execute(select(devices.c.serial).where(devices.c.id == device_id)).scalar()
        if not serial:
            return None
        holder = conn.execute(
            select(assets.c.holder_id).where(
                assets.c.serial_key == serial_key(serial),
                assets.c.status != "retired",
                assets.c.holder_id != "",
            )
        ).scalar()
    return str(holder) if holder else None


def claim_for_device(
    store: Store, device_id: int, device_uid: str, rules: Rules, now_s: int
) -> list[Reminder]:
    """The due agent reminders of the device's holder, claimed by this device."""
    holder = holder_of_device(store, device_id)
    if holder is None:
        return []
    m, a = amnesty_messages, amnesty_audience
    with store.engine.connect() as conn:
        people = list(conn.execute(select(a.c.id).where(a.c.holder_id == holder)).scalars())
    if not people:
        return []
    sweep(store, rules, now_s, people)  # this holder's rows only: every agent fetches hourly
    cond = and_(_claimable("agent", now_s), m.c.audience_id.in_(people))
    values = {"claimed_by": f"device:{device_uid}"[:64], "claimed_s": now_s, "device_id": device_id}
    with store.engine.begin() as conn:
        return _reminders(conn, _take(store, conn, cond, 10, values))


# -- the booking page -----------------------------------------------------------------------
def audience_member(store: Store, audience_id: int) -> dict[str, Any] | None:
    """One person's own row, their campaign, and their booking if any."""
    a, c, b = amnesty_audience, amnesty_campaigns, amnesty_bookings
    with store.engine.connect() as conn:
        r = conn.execute(
            select(
                a,
                c.c.name.label("campaign_name"),
                c.c.day,
                c.c.status.label("campaign_status"),
                c.c.link_secret,
            )
            .join(c, c.c.id == a.c.campaign_id)
            .where(a.c.id == audience_id)
        ).first()
        if r is None:
            return None
        out = dict(r._mapping)
        out["reasons"] = json.loads(r.reasons)
        out["devices"] = json.loads(r.devices)
        w, p = amnesty_windows, amnesty_points
        booking = conn.execute(
            select(p.c.name.label("point"), p.c.location, w.c.start_s, w.c.end_s)
            .join(w, w.c.id == b.c.window_id)
            .join(p, p.c.id == w.c.point_id)
            .where(b.c.audience_id == audience_id)
        ).first()
        out["booking"] = dict(booking._mapping) if booking else None
        return out


def link_secret(store: Store, campaign_id: int) -> str | None:
    with store.engine.connect() as conn:
        secret = conn.execute(
            select(amnesty_campaigns.c.link_secret).where(amnesty_campaigns.c.id == campaign_id)
        ).scalar()
    return str(secret) if secret else None


def record_open(store: Store, audience_id: int, now_s: int) -> None:
    """The first time a person's link is opened."""
    a = amnesty_audience
    with store.engine.begin() as conn:
        conn.execute(
            update(a).where(a.c.id == audience_id, a.c.opened_s.is_(None)).values(opened_s=now_s)
        )


def open_windows(store: Store, campaign_id: int, site: str) -> list[dict[str, Any]]:
    """Windows at the person's site with room left, earliest first."""
    w, p = amnesty_windows, amnesty_points
    with store.engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(
                    w.c.id,
                    w.c.start_s,
                    w.c.end_s,
                    (w.c.capacity - w.c.booked).label("free"),
                    p.c.name,
                    p.c.kind,
                    p.c.location,
                )
                .join(p, p.c.id == w.c.point_id)
                .where(
                    p.c.campaign_id == campaign_id,
                    p.c.site == site,
                    w.c.booked < w.c.capacity,
                    p.c.booked < p.c.capacity,
                )
                .order_by(w.c.start_s, p.c.name)
            )
        ]


def book(store: Store, audience_id: int, nonce: str, window_id: int, now_s: int) -> dict[str, Any]:
    """Book ``window_id`` for the person, once; BookingError says why not (and its status).

    Everything happens in one transaction, so a refusal at any step leaves no
    trace: the window's and the point's counters move only with the booking row.
    """
    try:
        return _book(store, audience_id, nonce, window_id, now_s)
    except IntegrityError:  # the same link booking twice at once: the unique audience id
        raise BookingError("this link has already been used to book", 409) from None


def _book(store: Store, audience_id: int, nonce: str, window_id: int, now_s: int) -> dict[str, Any]:
    a, c, w, p = amnesty_audience, amnesty_campaigns, amnesty_windows, amnesty_points
    with store.engine.begin() as conn:
        who = conn.execute(
            select(a.c.campaign_id, a.c.site, a.c.link_nonce, a.c.booked_s, c.c.status)
            .join(c, c.c.id == a.c.campaign_id)
            .where(a.c.id == audience_id)
        ).first()
        if who is None or not secrets.compare_digest(str(who.link_nonce), nonce):
            raise BookingError("this booking link is not valid", 403)
        if who.status != "scheduled":
            raise BookingError("this amnesty day was cancelled", 410)
        if who.booked_s is not None:
            raise BookingError("this link has already been used to book", 409)
        slot = conn.execute(
            select(w.c.point_id, w.c.start_s, w.c.end_s, p.c.name, p.c.location)
            .join(p, p.c.id == w.c.point_id)
            .where(w.c.id == window_id, p.c.campaign_id == who.campaign_id, p.c.site == who.site)
        ).first()
        if slot is None:
            raise BookingError("no such time at your site", 404)
        # Window, then point: every booking takes its locks in this order.
        took = conn.execute(
            update(w)
            .where(w.c.id == window_id, w.c.booked < w.c.capacity)
            .values(booked=w.c.booked + 1)
        ).rowcount
        took_point = conn.execute(
            update(p)
            .where(p.c.id == slot.point_id, p.c.booked < p.c.capacity)
            .values(booked=p.c.booked + 1)
        ).rowcount
        if took != 1 or took_point != 1:
            raise BookingError("that time is full now; choose another", 409)
        conn.execute(
            amnesty_bookings.insert().values(
                campaign_id=who.campaign_id,
                audience_id=audience_id,
                window_id=window_id,
                booked_s=now_s,
            )
        )
        used = conn.execute(
            update(a).where(a.c.id == audience_id, a.c.booked_s.is_(None)).values(booked_s=now_s)
        ).rowcount
        if used != 1:
            raise BookingError("this link has already been used to book", 409)
        return {
            "point": slot.name,
            "location": slot.location,
            "start_s": slot.start_s,
            "end_s": slot.end_s,
        }


# -- hand-back ------------------------------------------------------------------------------
def register_row(store: Store, serial: str) -> dict[str, Any] | None:
    if not serial:
        return None
    with store.engine.connect() as conn:
        r = conn.execute(select(assets).where(assets.c.serial_key == serial_key(serial))).first()
    return dict(r._mapping) if r else None


def score_history(store: Store, device_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The device's newest scores, newest first."""
    with store.engine.connect() as conn:
        return [
            {"t_s": r.t_s, "score": r.score, "decision": r.decision}
            for r in conn.execute(
                select(scores.c.t_s, scores.c.score, scores.c.decision)
                .where(scores.c.device_id == device_id)
                .order_by(scores.c.t_s.desc(), scores.c.id.desc())
                .limit(limit)
            )
        ]


def open_campaign_of(store: Store, holder_id: str) -> int | None:
    """The newest scheduled campaign the holder is in, for linking a hand-back to it."""
    if not holder_id:
        return None
    a, c = amnesty_audience, amnesty_campaigns
    with store.engine.connect() as conn:
        found = conn.execute(
            select(c.c.id)
            .join(a, a.c.campaign_id == c.c.id)
            .where(a.c.holder_id == holder_id, c.c.status == "scheduled")
            .order_by(c.c.day.desc())
            .limit(1)
        ).scalar()
    return int(found) if found is not None else None


def record_handback(
    store: Store,
    device: Mapping[str, Any],
    route: str,
    eol_route: str,
    erasure: tuple[str, str, int | None],
    certificate: Mapping[str, Any],
    carbon_avoided_kg: float,
    campaign_id: int | None,
    actor: str,
    now_s: int,
) -> str:
    """Close the device's record and keep its certificate, in one transaction.

    The register row follows the route: redeploy puts the device back in spare
    stock (no holder, one more previous holder); the other routes retire it
    with its end-of-life route, which the fleet report's end-of-life map reads.
    A device that leaves the organisation is revoked, so a stray agent on it
    can no longer upload, and any re-enrolment starts a new device.
    """
    uid = uuid.uuid4().hex
    device_id = int(device["id"])
    today = now_s // DAY_S
    method, ref, erasure_day = erasure
    with store.engine.begin() as conn:
        if route != "redeploy":
            live = conn.execute(
                update(devices)
                .where(devices.c.id == device_id, devices.c.revoked_s.is_(None))
                .values(revoked_s=now_s)
            ).rowcount
            if live != 1:
                raise StoreError(
                    f"device {device['device_uid']} was already handed back or revoked"
                )
            conn.execute(
                update(device_keys)
                .where(device_keys.c.device_id == device_id, device_keys.c.revoked_s.is_(None))
                .values(revoked_s=now_s)
            )
        if device.get("serial"):
            key = serial_key(str(device["serial"]))
            if route == "redeploy":
                conn.execute(
                    update(assets)
                    .where(assets.c.serial_key == key)
                    .values(
                        status="spare",
                        holder_id="",
                        previous_holders=assets.c.previous_holders + 1,
                    )
                )
            else:
                conn.execute(
                    update(assets)
                    .where(assets.c.serial_key == key)
                    .values(
                        status="retired",
                        retired_day=today,
                        eol_route=eol_route,
                        retired_reason="amnesty hand-back",
                    )
                )
        conn.execute(
            amnesty_handbacks.insert().values(
                certificate_uid=uid,
                device_id=device_id,
                campaign_id=campaign_id,
                route=route,
                erasure_method=method,
                erasure_ref=ref[:128],
                erasure_day=erasure_day,
                t_s=now_s,
                actor=actor[:255],
                carbon_avoided_kg=carbon_avoided_kg,
                certificate=json.dumps({**certificate, "certificate_uid": uid}),
            )
        )
        _audit(conn, actor, "amnesty.handback", f"{device['device_uid']} {route} {uid}", now_s)
    if route != "redeploy":
        store.revocations += 1
    return uid


def certificate(store: Store, certificate_uid: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        body = conn.execute(
            select(amnesty_handbacks.c.certificate).where(
                amnesty_handbacks.c.certificate_uid == certificate_uid
            )
        ).scalar()
    if body is None:
        raise NotFoundError(f"no certificate {certificate_uid!r}")
    out: dict[str, Any] = json.loads(body)
    return out


# -- what the report reads --------------------------------------------------------------------
def results(store: Store) -> list[dict[str, Any]]:
    """Per campaign: people, reminded, opened, booked, and hand-backs by route."""
    a, m, h, c = amnesty_audience, amnesty_messages, amnesty_handbacks, amnesty_campaigns
    with store.engine.connect() as conn:
        out = []
        for r in conn.execute(select(c).order_by(c.c.id)):
            people_n = conn.execute(
                select(func.count()).select_from(a).where(a.c.campaign_id == r.id)
            ).scalar_one()
            reminded = conn.execute(
                select(func.count(func.distinct(m.c.audience_id))).where(
                    m.c.campaign_id == r.id, m.c.status == "delivered"
                )
            ).scalar_one()
            opened = conn.execute(
                select(func.count())
                .select_from(a)
                .where(a.c.campaign_id == r.id, a.c.opened_s.is_not(None))
            ).scalar_one()
            booked = conn.execute(
                select(func.count())
                .select_from(a)
                .where(a.c.campaign_id == r.id, a.c.booked_s.is_not(None))
            ).scalar_one()
            routes = {
                str(route): int(n)
                for route, n in conn.execute(
                    select(h.c.route, func.count())
                    .where(h.c.campaign_id == r.id)
                    .group_by(h.c.route)
                )
            }
            carbon = conn.execute(
                select(func.coalesce(func.sum(h.c.carbon_avoided_kg), 0.0)).where(
                    h.c.campaign_id == r.id
                )
            ).scalar_one()
            flagged = [
                d["device_uid"]
                for reasons in conn.execute(select(a.c.reasons).where(a.c.campaign_id == r.id))
                for d in json.loads(reasons[0])
                if d.get("device_uid")
            ]
            returned = set(
                conn.execute(
                    select(devices.c.device_uid)
                    .join(h, h.c.device_id == devices.c.id)
                    .where(h.c.campaign_id == r.id)
                ).scalars()
            )
            out.append(
                {
                    **_campaign_dict(r),
                    "people": people_n,
                    "reminded": reminded,
                    "opened": opened,
                    "booked": booked,
                    "returned": sum(routes.values()),
                    "returned_by_route": routes,
                    "carbon_avoided_kg": round(float(carbon), 1),
                    "flagged_devices": len(set(flagged)),
                    "flagged_devices_still_out": len(set(flagged) - returned),
                }
            )
        return out
