"""The reminder job: each reminder once, in the database and in a real SMTP server's mailbox."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select

from kitlife.collector.cli.main import cli
from kitlife.collector.policy import amnesty as policy
from kitlife.collector.policy.register import AssetRow, day_of
from kitlife.collector.runtime.amnesty import ScheduleRequest, schedule
from kitlife.collector.runtime.amnesty_job import SmtpConfig, run_once, server_round
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import Store
from kitlife.collector.store import amnesty as db
from kitlife.collector.store.assets import replace_register
from kitlife.collector.store.schema import amnesty_messages
from tests.collector.amnesty_estate import PEOPLE, POINTS_CSV, build
from tests.conftest import free_port

BASE = "http://127.0.0.1:8470"


@dataclass
class Mailbox:
    """What a real SMTP server (aiosmtpd) on loopback accepted, and whom it refuses."""

    port: int
    messages: list[Any] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 Message accepted for delivery"

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port, sender="amnesty@example.org")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def _campaign(store: Store, day: int, **kw: Any) -> int:
    req = ScheduleRequest(
        name="Winter amnesty",
        date=policy.EPOCH + dt.timedelta(days=day),
        sites=("London", "Bristol"),
        points_csv=POINTS_CSV,
        email_template="{holder_id}@example.org",
        **kw,
    )
    return schedule(store, req)


def _statuses(store: Store, campaign_id: int, channel: str = "email") -> dict[str, int]:
    m = amnesty_messages
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(m.c.status).where(m.c.campaign_id == campaign_id, m.c.channel == channel)
        ).scalars()
        out: dict[str, int] = {}
        for s in rows:
            out[s] = out.get(s, 0) + 1
        return out


def test_each_lead_time_delivers_each_reminder_once(store: Store, mailbox: Mailbox) -> None:
    build(store)
    day = int(time.time()) // 86_400 + 20
    campaign_id = _campaign(store, day)
    for lead in (14, 3, 1):
        at = policy.due_s(day, lead) + 60
        first = run_once(store, mailbox.config, BASE, worker="w1", now_s=at)
        again = run_once(store, mailbox.config, BASE, worker="w2", now_s=at + 3600)
        assert (first.delivered, again.delivered) == (5, 0), lead
    assert _statuses(store, campaign_id) == {"delivered": 15}
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert len(ids) == 15 == len(set(ids))
    to_ref = [m for m in mailbox.messages if m["To"] == "h-ref@example.org"]
    assert [m["Subject"].split("(")[1].split(")")[0] for m in to_ref] == [
        "in 14 days",
        "in 3 days",
        "tomorrow",
    ]
    body = to_ref[0].get_content()
    assert "kitlife's assessment" in body and "is refurbish" in body
    assert "/amnesty/book/" in body
    # Privacy: a reminder names the holder's own devices only, nobody else's.
    for m in mailbox.messages:
        holder = m["To"].split("@")[0]
        for other, (_site, host) in PEOPLE.items():
            if other != holder:
                assert other not in m.get_content() and host not in m.get_content()


def test_a_missed_lead_time_is_superseded_not_sent_late(store: Store, mailbox: Mailbox) -> None:
    build(store)
    day = int(time.time()) // 86_400 + 20
    campaign_id = _campaign(store, day)
    result = run_once(store, mailbox.config, BASE, now_s=policy.due_s(day, 3) + 60)
    assert result.delivered == 5
    assert result.swept["superseded"] == 10  # the 14-day e-mail and agent reminders
    assert _statuses(store, campaign_id) == {"delivered": 5, "skipped": 5, "pending": 5}


def test_smtp_server_down_is_one_clear_error_and_nothing_is_spent(
    store: Store, mailbox: Mailbox
) -> None:
    build(store)
    day = int(time.time()) // 86_400 + 20
    campaign_id = _campaign(store, day)
    at = policy.due_s(day, 14) + 60
    down = SmtpConfig(host="127.0.0.1", port=free_port())
    result = run_once(store, down, BASE, now_s=at)
    assert result.delivered == 0 and result.released == 5
    assert "e-mail not sent (127.0.0.1:" in result.summary()
    assert _statuses(store, campaign_id) == {"pending": 15}
    m = amnesty_messages
    with store.engine.connect() as conn:
        assert set(conn.execute(select(m.c.attempts)).scalars()) == {0}
    assert run_once(store, mailbox.config, BASE, now_s=at + 60).delivered == 5
    assert len(mailbox.messages) == 5


def test_a_refused_address_is_retried_later_then_failed_never_duplicated(
    store: Store, mailbox: Mailbox
) -> None:
    build(store)
    rules = policy.load_rules()
    day = int(time.time()) // 86_400 + 20
    campaign_id = _campaign(store, day, lead_days=(14,))
    mailbox.refuse.add("h-ok@example.org")
    at = policy.due_s(day, 14) + 60
    first = run_once(store, mailbox.config, BASE, now_s=at)
    assert (first.delivered, first.retried) == (4, 1)
    assert run_once(store, mailbox.config, BASE, now_s=at + 10).retried == 0  # not yet due again
    for i in range(1, rules.max_attempts):
        run_once(store, mailbox.config, BASE, now_s=at + i * rules.retry_after_s + 1)
    assert _statuses(store, campaign_id) == {"delivered": 4, "failed": 1}
    assert len(mailbox.messages) == 4


def test_a_worker_that_died_mid_send_leaves_an_uncertain_row_not_a_second_mail(
    store: Store, mailbox: Mailbox
) -> None:
    build(store)
    rules = policy.load_rules()
    day = int(time.time()) // 86_400 + 20
    campaign_id = _campaign(store, day, lead_days=(14,))
    at = policy.due_s(day, 14) + 60
    claimed = db.claim(store, "email", "dead-worker", at, 2)  # then the worker dies
    assert len(claimed) == 2
    later = run_once(store, mailbox.config, BASE, now_s=at + rules.claim_timeout_s + 1)
    assert later.delivered == 3 and later.swept["uncertain"] == 2
    assert _statuses(store, campaign_id) == {"delivered": 3, "uncertain": 2}


def _crowd(store: Store, n: int) -> None:
    """``n`` people at London in the register (no devices needed: everyone at a site is asked)."""
    rows = [
        AssetRow(
            line=i + 2,
            serial=f"CROWD{i:05d}",
            asset_tag="",
            holder_id=f"p{i:05d}",
            role="office",
            site="London",
            purchase_day=day_of(dt.date(2022, 1, 1)),
            purchase_route="new",
            warranty_end_day=None,
        )
        for i in range(n)
    ]
    replace_register(store, rows)


@pytest.mark.slow
def test_two_workers_at_once_send_each_reminder_once(
    db_url: str, store: Store, mailbox: Mailbox, tmp_path: Path
) -> None:
    """Two `kitlife amnesty remind` processes against one database at the same moment."""
    _crowd(store, 400)
    points = tmp_path / "points.csv"
    points.write_bytes(POINTS_CSV.split(b"\nBRS")[0] + b"\n")
    day = int(time.time()) // 86_400 + 2  # the 3-day reminder is due now; 14 is superseded
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "--db",
            db_url,
            "amnesty",
            "schedule",
            "--date",
            (policy.EPOCH + dt.timedelta(days=day)).isoformat(),
            "--sites",
            "London",
            "--points",
            str(points),
            "--channels",
            "email",
            "--email-template",
            "{holder_id}@example.org",
        ],
    )
    assert res.exit_code == 0, res.output
    campaign_id = int(res.output.strip())
    env = {
        **os.environ,
        "KITLIFE_DB": db_url,
        "KITLIFE_SMTP_HOST": "127.0.0.1",
        "KITLIFE_SMTP_PORT": str(mailbox.port),
    }
    kitlife = str(Path(sys.executable).parent / "kitlife")
    procs = [
        subprocess.Popen([kitlife, "amnesty", "remind"], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    sent = [int(o.split("e-mails delivered ")[1].split(",")[0]) for o in outs]
    assert sum(sent) == 400, outs
    assert _statuses(store, campaign_id) == {"delivered": 400, "skipped": 400, "pending": 400}
    to = [m["To"] for m in mailbox.messages]
    assert len(to) == 400 == len(set(to))


def test_the_servers_round_reads_smtp_and_links_from_the_settings(
    store: Store, mailbox: Mailbox, db_url: str
) -> None:
    build(store)
    day = int(time.time()) // 86_400 + 2  # the 3-day reminder is due now
    _campaign(store, day)
    unset = server_round(Settings(db_url=db_url))
    unset(store)  # no SMTP server configured: nothing sent, nothing spent
    assert mailbox.messages == []
    settings = Settings(
        db_url=db_url,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from="it@example.org",
        public_url="https://kitlife.example.org",
    )
    server_round(settings)(store)
    assert len(mailbox.messages) == 5
    assert mailbox.messages[0]["From"] == "it@example.org"
    assert "https://kitlife.example.org/amnesty/book/" in mailbox.messages[0].get_content()
