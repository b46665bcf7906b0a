"""Amnesty days, the pure part: who is asked and why, when, where, and what a return avoids.

No store, no HTTP, no SQL: facts in, decisions out, so every rule is tested
without a database. The numbers live once, in ``data/amnesty.csv`` (same
columns and checks as the thresholds table); docs/amnesty.md explains them.

* :func:`parse_points`: the collection points CSV, every error with its line
  and column, so a points file is used whole or not at all;
* :func:`build_audience`: one :class:`Member` per person at the campaign's
  sites, with every reason they are asked, in numbers;
* :func:`windows` and :func:`window_capacities`: the booking windows of a
  point, and how a locker bank's compartments are shared out over them;
* :func:`route_carbon`: the carbon a hand-back route avoids, by the scoring
  engine's own footprint rule (:func:`~kitlife.collector.policy.scoring.decide.footprint`);
* :func:`reminder_text`: what a reminder says (the holder's own devices and
  reasons, nothing about anyone else).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kitlife.collector.policy.scoring.carbon import EmbodiedEstimate
from kitlife.collector.policy.scoring.catalogue import load_catalogue
from kitlife.collector.policy.scoring.components import Context
from kitlife.collector.policy.scoring.decide import footprint
from kitlife.collector.policy.scoring.results import Action
from kitlife.collector.policy.scoring.thresholds import (
    Thresholds,
    load_thresholds,
    parse_thresholds_csv,
)
from kitlife.collector.policy.tables import read_packaged

DAY_S = 86_400
EPOCH = dt.date(1970, 1, 1)
RULES_TABLE = "amnesty.csv"

# What can happen to a device handed back, and the register's end-of-life route for it:
# redeploy keeps it inside the organisation (reuse); the others send it out.
ROUTES: dict[str, str] = {
    "refurbish": "refurbish",
    "donate": "donate",
    "recycle": "recycle",
    "redeploy": "reuse",
}
# NIST SP 800-88 Rev. 1, Guidelines for Media Sanitization, section 2.5: the three
# sanitisation categories (cryptographic erase is a purge technique, section 2.6).
ERASURE_SOURCE = "NIST SP 800-88 Rev. 1, Guidelines for Media Sanitization (2014), 2.5"
ERASURE_METHODS: dict[str, str] = {
    "nist-800-88-clear": "NIST 800-88 clear (overwrite through the drive's own interface)",
    "nist-800-88-purge": "NIST 800-88 purge (secure erase, sanitize or cryptographic erase)",
    "nist-800-88-destroy": "NIST 800-88 destroy (shred, disintegrate, incinerate)",
}
CHANNELS = ("agent", "email", "csv")
POINT_KINDS = ("locker", "desk")
POINT_COLUMNS = ("point_id", "site", "kind", "name", "location", "slots", "opens", "closes")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_POINTS = 10_000
MAX_SLOTS = 100_000


class AmnestyError(ValueError):
    """Input a campaign cannot be built from; the message says what and where."""


# -- the rules table ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Rules:
    """The amnesty numbers of ``data/amnesty.csv``, typed."""

    table: Thresholds
    dormant_days: int
    lead_days: tuple[int, ...]
    lead_max_days: int
    window_minutes: int
    locker_spread: float
    link_valid_after_day_s: int
    max_attempts: int
    retry_after_s: int
    claim_timeout_s: int
    batch_max: int

    def source(self, key: str) -> str:
        return self.table.row(key).source


def rules_from_text(text: str) -> Rules:
    t = parse_thresholds_csv(text)
    return Rules(
        table=t,
        dormant_days=int(t.number("dormant.days")),
        lead_days=tuple(
            int(t.number(k)) for k in ("lead.first_days", "lead.second_days", "lead.last_days")
        ),
        lead_max_days=int(t.number("lead.max_days")),
        window_minutes=int(t.number("window.minutes")),
        locker_spread=t.number("locker.spread_factor"),
        link_valid_after_day_s=int(t.number("link.valid_after_day_h") * 3600),
        max_attempts=int(t.number("delivery.max_attempts")),
        retry_after_s=int(t.number("delivery.retry_after_s")),
        claim_timeout_s=int(t.number("delivery.claim_timeout_s")),
        batch_max=int(t.number("delivery.batch_max")),
    )


@cache
def load_rules() -> Rules:
    """The packaged rules, read once per process."""
    return rules_from_text(read_packaged(RULES_TABLE))


# -- schedule checks ---------------------------------------------------------------------
def day_of(date: dt.date) -> int:
    return (date - EPOCH).days


def iso(day: int) -> str:
    return (EPOCH + dt.timedelta(days=day)).isoformat()


def parse_lead_days(text: str, rules: Rules) -> tuple[int, ...]:
    """'14,3,1' -> (14, 3, 1): whole days before the amnesty day, largest first."""
    out: set[int] = set()
    for raw in text.split(","):
        part = raw.strip()
        if not part.isdigit() or not 0 < int(part) <= rules.lead_max_days:
            raise AmnestyError(
                f"lead time {part!r} is not a whole number of days from 1 to {rules.lead_max_days}"
            )
        out.add(int(part))
    if not out:
        raise AmnestyError("give at least one lead time, e.g. 14,3,1")
    return tuple(sorted(out, reverse=True))


def check_schedule(
    day: int, today: int, sites: Sequence[str], known_sites: Collection[str]
) -> None:
    """A campaign day in the future, at sites the register knows."""
    if day <= today:
        raise AmnestyError(
            f"the amnesty day {iso(day)} is not in the future (today is {iso(today)} UTC)"
        )
    if not sites:
        raise AmnestyError("name at least one site (--sites)")
    unknown = [s for s in sites if s not in known_sites]
    if unknown:
        known = ", ".join(sorted(known_sites)[:20]) or "none: import the register first"
        raise AmnestyError(f"unknown site {', '.join(unknown)}; sites in the register: {known}")


def due_s(day: int, lead_days: int) -> int:
    """When the reminder ``lead_days`` ahead of the amnesty day is due: 00:00 UTC that day."""
    return (day - lead_days) * DAY_S


def link_expires_s(day: int, rules: Rules) -> int:
    return day * DAY_S + rules.link_valid_after_day_s


# -- collection points ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Point:
    """A locker bank (``slots`` compartments) or a service desk (``slots`` returns per window)."""

    line: int
    point_id: str
    site: str
    kind: str
    name: str
    location: str
    slots: int
    opens_min: int  # minutes after midnight UTC
    closes_min: int


@dataclass(frozen=True, slots=True)
class PointError:
    line: int
    column: int
    column_name: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.column:
            where += f", column {self.column} ({self.column_name})"
        return f"{where}: {self.message}"


def _minutes(text: str) -> int | None:
    m = _HHMM.match(text.strip())
    return int(m.group(1)) * 60 + int(m.group(2)) if m else None


def parse_points(
    data: bytes, sites: Collection[str], rules: Rules
) -> tuple[list[Point], list[PointError]]:
    """Every point that is right, and every error with line and column; use only if no errors.

    Columns (header names, any order; ``location`` may be left out): point_id,
    site, kind (locker | desk), name, location, slots, opens, closes (HH:MM
    UTC). ``sites`` are the campaign's sites: a point elsewhere is an error.
    """
    errors: list[PointError] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return [], [PointError(line, 0, "", "not UTF-8; save the file as UTF-8")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if not header:
        return [], [PointError(1, 0, "", "the file is empty; it needs a header row")]
    required = [c for c in POINT_COLUMNS if c != "location"]
    missing = [c for c in required if c not in header]
    if missing:
        return [], [PointError(1, 0, "", f"header lacks {', '.join(missing)}")]
    pos = {c: i for i, c in enumerate(header)}
    points: list[Point] = []
    seen: dict[str, int] = {}
    start = reader.line_num + 1
    for record in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in record):
            continue
        if len(points) + len(errors) >= MAX_POINTS:
            errors.append(PointError(line, 0, "", f"more than {MAX_POINTS} points"))
            break
        row_errors: list[PointError] = []

        def get(name: str, rec: list[str] = record) -> str:
            i = pos.get(name)
            return rec[i].strip() if i is not None and i < len(rec) else ""

        def bad(
            name: str, message: str, ln: int = line, out: list[PointError] = row_errors
        ) -> None:
            out.append(PointError(ln, pos.get(name, -1) + 1, name, message))

        point_id, site, kind = get("point_id"), get("site"), get("kind").lower()
        if not point_id:
            bad("point_id", "empty point id")
        elif point_id in seen:
            bad("point_id", f"duplicate point id {point_id!r} (first on line {seen[point_id]})")
        else:
            seen[point_id] = line
        if site not in sites:
            bad("site", f"site {site!r} is not one of the campaign's sites ({', '.join(sites)})")
        if kind not in POINT_KINDS:
            bad("kind", f"kind {kind!r}: use {' or '.join(POINT_KINDS)}")
        if not get("name"):
            bad("name", "empty name: holders choose points by name")
        slots_text = get("slots")
        slots = int(slots_text) if slots_text.isdigit() else 0
        if not 0 < slots <= MAX_SLOTS:
            bad("slots", f"{slots_text!r} is not a whole number from 1 to {MAX_SLOTS}")
        opens, closes = _minutes(get("opens")), _minutes(get("closes"))
        if opens is None:
            bad("opens", f"{get('opens')!r} is not a time like 08:30")
        if closes is None:
            bad("closes", f"{get('closes')!r} is not a time like 17:00")
        if opens is not None and closes is not None and closes - opens < rules.window_minutes:
            bad("closes", f"open less than one {rules.window_minutes}-minute window")
        if row_errors:
            errors.extend(row_errors)
            continue
        assert opens is not None and closes is not None
        points.append(
            Point(line, point_id, site, kind, get("name"), get("location"), slots, opens, closes)
        )
    if not points and not errors:
        errors.append(PointError(2, 0, "", "no collection points in the file"))
    return points, errors


def windows(point: Point, day: int, rules: Rules) -> list[tuple[int, int]]:
    """(start_s, end_s) of each booking window on the amnesty day, whole windows only."""
    step = rules.window_minutes
    base = day * DAY_S
    return [
        (base + m * 60, base + (m + step) * 60)
        for m in range(point.opens_min, point.closes_min - step + 1, step)
    ]


def window_capacities(point: Point, n_windows: int, rules: Rules) -> tuple[list[int], int]:
    """Capacity of each window and of the whole point.

    A desk takes ``slots`` returns in every window. A locker bank has ``slots``
    compartments for the day: its total is ``slots``, and each window takes at
    most ceil(slots / windows x spread factor), so early windows cannot take all
    the compartments and the returns are spread over the day.
    """
    if n_windows <= 0:
        return [], 0
    if point.kind == "desk":
        return [point.slots] * n_windows, point.slots * n_windows
    per = max(1, math.ceil(point.slots / n_windows * rules.locker_spread))
    return [min(per, point.slots)] * n_windows, point.slots


# -- audiences ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HeldDevice:
    """A device and what the store knows about it, as the audience rules read it."""

    device_uid: str
    hostname: str
    vendor: str
    model: str
    holder_id: str
    site: str
    decision: str = ""
    score: float | None = None
    scored_s: int | None = None
    last_seen_s: int | None = None
    days_since_active: float | None = None
    enrolled: bool = True

    @property
    def label(self) -> str:
        model = f"{self.vendor} {self.model}".strip()
        return f"{self.hostname} ({model})" if model else self.hostname


@dataclass(frozen=True, slots=True)
class Reason:
    """Why someone is asked, in numbers, and the rule (``key`` in amnesty.csv) and source."""

    code: str  # decision | dormant_unused | dormant_unseen | site
    device_uid: str
    text: str
    key: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "device_uid": self.device_uid,
            "text": self.text,
            "key": self.key,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Member:
    """One person in a campaign's audience: their own devices and reasons, nobody else's."""

    holder_id: str
    site: str
    reasons: tuple[Reason, ...]
    devices: tuple[dict[str, str], ...] = field(default=())

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.reasons)


RETURN_DECISIONS = ("refurbish", "donate", "recycle")
SCORING_SOURCE = "kitlife scoring (kitlife score; docs/scoring.md)"
REGISTER_SOURCE = "kitlife asset register (kitlife assets import)"


def _device_reasons(d: HeldDevice, now_s: int, dormant_days: int) -> list[Reason]:
    out: list[Reason] = []
    if d.decision in RETURN_DECISIONS:
        when = f" on {dt.datetime.fromtimestamp(d.scored_s, dt.UTC):%Y-%m-%d}" if d.scored_s else ""
        score = f" (score {d.score:.0f} of 100)" if d.score is not None else ""
        out.append(
            Reason(
                "decision",
                d.device_uid,
                f"{d.label}: kitlife's assessment{when} is {d.decision}{score}",
                "decision",
                SCORING_SOURCE,
            )
        )
    key = "dormant.days"
    if d.days_since_active is not None and d.days_since_active >= dormant_days:
        out.append(
            Reason(
                "dormant_unused",
                d.device_uid,
                f"{d.label}: no active use for {d.days_since_active:.0f} days "
                f"(dormant from {dormant_days} days)",
                key,
                "kitlife agent signal use.days_since_active",
            )
        )
    elif d.last_seen_s is not None and (now_s - d.last_seen_s) >= dormant_days * DAY_S:
        days = (now_s - d.last_seen_s) // DAY_S
        out.append(
            Reason(
                "dormant_unseen",
                d.device_uid,
                f"{d.label}: not seen for {days} days (dormant from {dormant_days} days)",
                key,
                "kitlife collector: the device's last upload",
            )
        )
    return out


def build_audience(
    devices: Iterable[HeldDevice],
    people: Mapping[str, str],
    sites: Sequence[str],
    now_s: int,
    dormant_days: int,
) -> list[Member]:
    """Everyone at ``sites`` (``people``: holder_id -> site, from the register), with reasons.

    Each person is asked once, whatever the number of reasons: everyone at a
    campaign site is asked for unused personal or spare devices; a holder of a
    device decided refurbish, donate or recycle, or of a dormant device, is also
    told which device and why, in numbers.
    """
    by_holder: dict[str, list[Reason]] = {}
    own: dict[str, list[dict[str, str]]] = {}
    for d in devices:
        if not d.holder_id or people.get(d.holder_id) not in sites:
            continue
        reasons = _device_reasons(d, now_s, dormant_days)
        if reasons:
            by_holder.setdefault(d.holder_id, []).extend(reasons)
            own.setdefault(d.holder_id, []).append({"device_uid": d.device_uid, "label": d.label})
    members = []
    for holder, site in sorted(people.items()):
        if site not in sites:
            continue
        site_reason = Reason(
            "site",
            "",
            f"you work at {site}, where the amnesty day collects unused personal and spare devices",
            "site",
            REGISTER_SOURCE,
        )
        members.append(
            Member(
                holder,
                site,
                (*by_holder.get(holder, []), site_reason),
                tuple(own.get(holder, [])),
            )
        )
    return members


def reminder_text(
    *,
    day: int,
    lead_days: int,
    campaign_name: str,
    reasons: Sequence[Mapping[str, Any]],
    link: str,
) -> tuple[str, str]:
    """Subject and body of a reminder: the holder's own devices and reasons, and their link."""
    when = "tomorrow" if lead_days == 1 else f"in {lead_days} days"
    subject = f"Amnesty day {iso(day)} ({when}): {campaign_name}"
    lines = [
        f"The amnesty day {campaign_name!r} is on {iso(day)}, {when}.",
        "",
        "You are asked because:",
        *(f"  - {r['text']}" for r in reasons),
        "",
        "Book a time to hand devices back at a locker or desk at your site",
        "(no login needed; the link is yours alone and books once):",
        f"  {link}",
        "",
        "Devices handed back are wiped to NIST 800-88, then redeployed,",
        "refurbished, donated or recycled. Bring them; nothing else to do.",
    ]
    return subject, "\n".join(lines) + "\n"


# -- hand-back -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RouteCarbon:
    """Carbon a hand-back route avoids against buying a new device, with the formula."""

    route: str
    new_device_kgco2e: float
    avoided_kgco2e: float
    water_avoided_l: float
    raw_materials_avoided_kg: float
    formula: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "new_device_kgco2e": round(self.new_device_kgco2e, 1),
            "avoided_kgco2e": round(self.avoided_kgco2e, 1),
            "water_avoided_l": round(self.water_avoided_l),
            "raw_materials_avoided_kg": round(self.raw_materials_avoided_kg, 1),
            "formula": self.formula,
            "sources": list(self.sources),
        }


def route_carbon(route: str, new_device: EmbodiedEstimate, today_day: int) -> RouteCarbon:
    """What the route avoids, by the same rule the scoring engine prices its decisions with.

    A device that goes on being used (redeployed here, refurbished or donated
    elsewhere) avoids making a new one: its embodied carbon, less the parts
    fitted (none at hand-back). Recycling recovers materials, but no cited
    figure for that credit is in the tables, so it counts 0.
    """
    if route not in ROUTES:
        raise AmnestyError(f"route {route!r}: use {', '.join(ROUTES)}")
    action = Action.REDEPLOY if route == "redeploy" else Action(route)
    ctx = Context(load_thresholds(), load_catalogue(), 24.0, today_day)
    fp = footprint(action, (), new_device, ctx)
    if route == "recycle":
        formula = "avoided = 0 (recycling: no cited credit for recovered materials)"
    else:
        formula = (
            f"avoided = embodied carbon of a new device of this model ({fp.new_device_kgco2e:.0f}"
            f" kg CO2e: {fp.new_device_basis}) - parts fitted (0 kg) = "
            f"{fp.carbon_avoided_kgco2e:.0f} kg CO2e"
        )
    return RouteCarbon(
        route,
        fp.new_device_kgco2e,
        fp.carbon_avoided_kgco2e,
        fp.water_avoided_l,
        fp.raw_materials_avoided_kg,
        formula,
        tuple(dict.fromkeys(r.source for r in fp.reasons)),
    )


def check_handback(route: str, erasure_method: str | None, erasure_ref: str | None) -> None:
    """A route kitlife knows; a device leaving the organisation needs its erasure record."""
    if route not in ROUTES:
        raise AmnestyError(f"route {route!r}: use {', '.join(ROUTES)}")
    if erasure_method is not None and erasure_method not in ERASURE_METHODS:
        raise AmnestyError(
            f"erasure method {erasure_method!r}: use {', '.join(ERASURE_METHODS)} "
            f"({ERASURE_SOURCE})"
        )
    if route != "redeploy" and not (erasure_method and erasure_ref):
        raise AmnestyError(
            f"a device leaving the organisation ({route}) needs --erasure and --erasure-ref: "
            "the record of how its storage was sanitised"
        )
    if erasure_ref is not None and not 0 < len(erasure_ref) <= 128:
        raise AmnestyError("the erasure reference must be 1 to 128 characters")
