"""Amnesty days, the services the CLI and the API share: schedule, links, reminders, hand-back.

Each function checks everything first and then writes once (the store does
each write in one transaction), so bad input leaves nothing half-done.

Booking links are signed with itsdangerous (Pallets' well-kept signing
library, HMAC-SHA1 with a derived key; not hand-written crypto) under a secret
kept per campaign in the database, carry their expiry, and are single-use in
the database (one booking row per person).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from kitlife.collector.policy import amnesty as policy
from kitlife.collector.policy.amnesty import AmnestyError, Rules
from kitlife.collector.policy.scoring.carbon import default_boavizta
from kitlife.collector.reports.certificate import build_certificate
from kitlife.collector.reports.device import device_report
from kitlife.collector.reports.export import csv_safe
from kitlife.collector.store import Store
from kitlife.collector.store import amnesty as db

_SALT = "kitlife.amnesty.booking"
CONTACT_COLUMNS = ("holder_id", "email")
MAX_CONTACTS_BYTES = 16 * 1024 * 1024


class LinkError(ValueError):
    """A booking link that is forged, expired or unknown; ``code`` is the HTTP status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# -- links ---------------------------------------------------------------------------------
def sign_link(secret: str, audience_id: int, nonce: str, expires_s: int) -> str:
    return str(URLSafeSerializer(secret, salt=_SALT).dumps([audience_id, nonce, expires_s]))


def booking_url(base_url: str, campaign_id: int, token: str) -> str:
    return f"{base_url.rstrip('/')}/amnesty/book/{campaign_id}/{token}"


def read_link(store: Store, campaign_id: int, token: str, now_s: int) -> tuple[int, str]:
    """(audience id, nonce) of a genuine, unexpired link; LinkError otherwise."""
    secret = db.link_secret(store, campaign_id)
    if secret is None or len(token) > 512:
        raise LinkError("this booking link is not valid", 403)
    try:
        payload = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        raise LinkError("this booking link is not valid", 403) from None
    if not (
        isinstance(payload, list)
        and len(payload) == 3
        and isinstance(payload[0], int)
        and isinstance(payload[1], str)
        and isinstance(payload[2], int)
    ):
        raise LinkError("this booking link is not valid", 403)
    audience_id, nonce, expires_s = payload
    if now_s >= expires_s:
        raise LinkError("this booking link has expired", 410)
    return audience_id, nonce


def link_for(reminder: db.Reminder, base_url: str, rules: Rules) -> str:
    token = sign_link(
        reminder.link_secret,
        reminder.audience_id,
        reminder.link_nonce,
        policy.link_expires_s(reminder.day, rules),
    )
    return booking_url(base_url, reminder.campaign_id, token)


def reminder_content(reminder: db.Reminder, base_url: str, rules: Rules) -> tuple[str, str, str]:
    """(subject, body, link) of one person's reminder."""
    link = link_for(reminder, base_url, rules)
    subject, body = policy.reminder_text(
        day=reminder.day,
        lead_days=reminder.lead_days,
        campaign_name=reminder.campaign_name,
        reasons=reminder.reasons,
        link=link,
    )
    return subject, body, link


# -- e-mail addresses ------------------------------------------------------------------------
def parse_contacts(data: bytes) -> dict[str, str]:
    """holder_id -> e-mail from a two-column CSV; AmnestyError names the line and column."""
    if len(data) > MAX_CONTACTS_BYTES:
        raise AmnestyError(f"the contacts file is over {MAX_CONTACTS_BYTES // 2**20} MiB")
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise AmnestyError(f"contacts line {line}: not UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != list(CONTACT_COLUMNS):
        raise AmnestyError("contacts line 1: the header must be holder_id,email")
    out: dict[str, str] = {}
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        holder, email, *_ = [c.strip() for c in [*row, "", ""]]
        if not holder:
            raise AmnestyError(f"contacts line {line}, column 1 (holder_id): empty")
        if "@" not in email or " " in email or len(email) > 254:
            raise AmnestyError(
                f"contacts line {line}, column 2 (email): {email!r} is not an address"
            )
        out[holder] = email
    return out


def emails_for(
    holders: Sequence[str], contacts: Mapping[str, str] | None, template: str | None
) -> dict[str, str]:
    """Addresses from the contacts file, else from the template (``{holder_id}@example.org``)."""
    out: dict[str, str] = {}
    for holder in holders:
        if contacts is not None and holder in contacts:
            out[holder] = contacts[holder]
        elif template:
            out[holder] = template.replace("{holder_id}", holder)
    return out


def check_template(template: str | None) -> None:
    if template is not None and ("{holder_id}" not in template or "@" not in template):
        raise AmnestyError(
            f"e-mail template {template!r} needs {{holder_id}} and an @, e.g. "
            "{holder_id}@example.org"
        )


# -- scheduling ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    name: str
    date: dt.date
    sites: tuple[str, ...]
    points_csv: bytes
    lead_days: tuple[int, ...] | None = None
    channels: tuple[str, ...] = ("agent", "email")
    dormant_days: int | None = None
    contacts_csv: bytes | None = None
    email_template: str | None = None


def schedule(
    store: Store,
    req: ScheduleRequest,
    rules: Rules | None = None,
    actor: str = "cli",
    now_s: int | None = None,
) -> int:
    """Check the whole request, then store the campaign in one go; returns its id."""
    rules = rules or policy.load_rules()
    now = int(time.time()) if now_s is None else now_s
    day = policy.day_of(req.date)
    if not req.name.strip():
        raise AmnestyError("the campaign needs a name")
    policy.check_schedule(day, now // policy.DAY_S, req.sites, db.known_sites(store))
    unknown = [c for c in req.channels if c not in policy.CHANNELS]
    if unknown or not req.channels:
        raise AmnestyError(f"channels: use some of {', '.join(policy.CHANNELS)}")
    check_template(req.email_template)
    contacts = parse_contacts(req.contacts_csv) if req.contacts_csv is not None else None
    if "email" in req.channels and contacts is None and req.email_template is None:
        raise AmnestyError(
            "e-mail reminders need addresses: --contacts FILE.csv or --email-template"
        )
    lead = req.lead_days or rules.lead_days
    if any(not 0 < d <= rules.lead_max_days for d in lead):
        raise AmnestyError(f"lead times must be 1 to {rules.lead_max_days} days")
    dormant = rules.dormant_days if req.dormant_days is None else req.dormant_days
    if dormant < 1:
        raise AmnestyError("dormant days must be at least 1")
    points, errors = policy.parse_points(req.points_csv, req.sites, rules)
    if errors:
        shown = "; ".join(str(e) for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        raise AmnestyError(f"points file: {shown}{more}")
    missing = sorted(set(req.sites) - {p.site for p in points})
    if missing:
        raise AmnestyError(f"no collection point at {', '.join(missing)}")
    who = db.people(store, req.sites)
    members = policy.build_audience(db.held_devices(store, req.sites), who, req.sites, now, dormant)
    holders = [m.holder_id for m in members]
    return db.create_campaign(
        store,
        db.NewCampaign(
            req.name.strip(),
            day,
            req.sites,
            tuple(sorted(set(lead), reverse=True)),
            req.channels,
            dormant,
        ),
        points,
        members,
        emails_for(holders, contacts, req.email_template) if "email" in req.channels else {},
        db.holders_with_agents(store, holders) if "agent" in req.channels else (),
        rules,
        actor=actor,
        now_s=now,
    )


# -- channels without a server of their own: agent and CSV ----------------------------------
def agent_messages(
    store: Store, device_id: int, device_uid: str, base_url: str, now_s: int
) -> list[dict[str, Any]]:
    """The due reminders for the device's holder, claimed for this device to show."""
    rules = policy.load_rules()
    out = []
    for r in db.claim_for_device(store, device_id, device_uid, rules, now_s):
        subject, body, link = reminder_content(r, base_url, rules)
        out.append({"id": r.message_id, "title": subject, "body": body, "link": link})
    return out


def agent_ack(store: Store, device_id: int, device_uid: str, ids: Sequence[int], now_s: int) -> int:
    """The agent showed these: delivered (only rows this device claimed)."""
    return db.delivered(store, ids, f"device:{device_uid}", now_s, device_id=device_id)


CSV_COLUMNS = ("holder_id", "email", "site", "lead_days", "subject", "body", "link")


def export_csv(store: Store, campaign_id: int, base_url: str, now_s: int) -> str:
    """Due CSV-channel reminders as CSV, each marked delivered as it is handed over (once)."""
    rules = policy.load_rules()
    worker = f"csv:{now_s}"
    db.sweep(store, rules, now_s)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)  # every cell through csv_safe: holders and sites come from people
    while True:
        batch = db.claim(store, "csv", worker, now_s, rules.batch_max, campaign_id=campaign_id)
        if not batch:
            break
        for r in batch:
            subject, body, link = reminder_content(r, base_url, rules)
            cells = (r.holder_id, r.email, r.site, r.lead_days, subject, body, link)
            w.writerow([csv_safe(c) for c in cells])
        db.delivered(store, [r.message_id for r in batch], worker, now_s)
    return out.getvalue()


# -- hand-back ---------------------------------------------------------------------------------
def handback(
    store: Store,
    query: str,
    route: str,
    erasure_method: str | None = None,
    erasure_ref: str | None = None,
    erasure_date: dt.date | None = None,
    actor: str = "cli",
    now_s: int | None = None,
) -> dict[str, Any]:
    """Close a device's record for ``route`` and return its health certificate (as stored)."""
    now = int(time.time()) if now_s is None else now_s
    policy.check_handback(route, erasure_method, erasure_ref)
    report = device_report(store, query)  # NotFoundError names an unknown or ambiguous device
    device = store.find_device(query)
    if device["revoked_s"] is not None:
        raise AmnestyError(f"device {device['device_uid']} was already handed back or revoked")
    reg = db.register_row(store, str(device["serial"]))
    today = now // policy.DAY_S
    erasure_day = (
        policy.day_of(erasure_date) if erasure_date else (today if erasure_method else None)
    )
    if erasure_day is not None and erasure_day > today:
        raise AmnestyError("the erasure date is in the future")
    estimate = default_boavizta().embodied(
        str(device["vendor"]) or None, str(device["model"]) or None
    )
    carbon = policy.route_carbon(route, estimate, today)
    cert = build_certificate(
        report,
        reg,
        db.score_history(store, int(device["id"])),
        route=route,
        erasure=(erasure_method or "", erasure_ref or "", erasure_day),
        carbon=carbon,
        now_s=now,
    )
    uid = db.record_handback(
        store,
        device,
        route,
        policy.ROUTES[route],
        (erasure_method or "", erasure_ref or "", erasure_day),
        cert,
        carbon.avoided_kgco2e,
        db.open_campaign_of(store, str(reg["holder_id"]) if reg else ""),
        actor,
        now,
    )
    return {**cert, "certificate_uid": uid}
