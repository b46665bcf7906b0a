"""The reminder job: send every due amnesty e-mail exactly once, however many workers run it.

One round (:func:`run_once`):

1. sweep: settle what needs no sending (stale claims become ``uncertain``,
   reminders superseded by a nearer one or for people who booked become
   ``skipped``);
2. claim a batch of due e-mail reminders (a conditional update in the
   database: a row goes to one worker only);
3. send each over one SMTP connection and record the outcome at once:
   ``delivered``, or back to ``pending`` to retry after ``delivery.retry_after_s``
   (``failed`` after ``delivery.max_attempts``).

An SMTP server that cannot be reached ends the round: its claims go back
unspent and the result says so in one line. A worker that dies between the
server's acceptance and the database update leaves a ``sending`` row that the
next sweep marks ``uncertain``: never sent twice, shown by ``kitlife amnesty
show`` for a person to decide. Each e-mail's Message-ID names its row
(``<amnesty.C.M@kitlife>``), so a mailbox can tell copies apart if a relay ever
duplicated one.

Python's smtplib (the standard library) speaks SMTP. The server runs a round
every ``KITLIFE_AMNESTY_REMIND_EVERY_S`` in each worker (runtime/jobs.py);
``kitlife amnesty remind`` runs one by hand or from cron.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

from kitlife.collector.policy import amnesty as policy
from kitlife.collector.policy.amnesty import Rules
from kitlife.collector.runtime.amnesty import reminder_content
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import Store
from kitlife.collector.store import amnesty as db

SMTP_TIMEOUT_S = 30.0
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8470"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where e-mail goes (``KITLIFE_SMTP_*`` settings, docs/collector.md)."""

    host: str
    port: int = 25
    sender: str = "kitlife@localhost"
    starttls: bool = False
    user: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = SMTP_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """None when no SMTP server is configured."""
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from or "kitlife@localhost",
            starttls=settings.smtp_starttls,
            user=settings.smtp_user or "",
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
        )


def public_url(settings: Settings) -> str:
    """The collector's address as holders reach it, for links."""
    return settings.public_url or DEFAULT_PUBLIC_URL


def server_round(settings: Settings) -> Callable[[Store], object]:
    """The server's background job (runtime/jobs.py): one round with these settings."""
    smtp = SmtpConfig.from_settings(settings)
    base_url = public_url(settings)

    def remind(store: Store) -> None:
        result = run_once(store, smtp, base_url)
        if result.delivered or result.retried or result.failed or result.smtp_error:
            log.info("amnesty reminders: %s", result.summary())

    return remind


@dataclass(slots=True)
class RoundResult:
    """What one round did, in counts; ``smtp_error`` is set when the server was unreachable."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    swept: dict[str, int] = field(default_factory=dict)
    smtp_error: str = ""

    def summary(self) -> str:
        swept = ", ".join(f"{k} {v}" for k, v in self.swept.items() if v)
        text = (
            f"e-mails delivered {self.delivered}, to retry {self.retried}, failed {self.failed}"
            + (f"; settled: {swept}" if swept else "")
        )
        if self.smtp_error:
            text += f"; e-mail not sent ({self.smtp_error}): {self.released} left pending"
        return text


def _message(r: db.Reminder, smtp: SmtpConfig, base_url: str, rules: Rules) -> EmailMessage:
    subject, body, _link = reminder_content(r, base_url, rules)
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = r.email
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = f"<amnesty.{r.campaign_id}.{r.message_id}@kitlife>"
    msg.set_content(body)
    return msg


def _connect(smtp: SmtpConfig) -> smtplib.SMTP:
    conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
    try:
        if smtp.starttls:
            conn.starttls(context=ssl.create_default_context())
        if smtp.user:
            conn.login(smtp.user, smtp.password)
    except (smtplib.SMTPException, OSError):
        conn.close()
        raise
    return conn


def run_once(
    store: Store,
    smtp: SmtpConfig | None,
    base_url: str,
    worker: str | None = None,
    now_s: int | None = None,
    rules: Rules | None = None,
) -> RoundResult:
    """One round of the reminder job (see the module's docstring)."""
    rules = rules or policy.load_rules()
    now = int(time.time()) if now_s is None else now_s
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    result = RoundResult(swept=db.sweep(store, rules, now))
    conn: smtplib.SMTP | None = None
    try:
        while True:
            batch = db.claim(store, "email", worker, now, rules.batch_max)
            if not batch:
                break
            if smtp is None:
                result.smtp_error = "no SMTP server configured (KITLIFE_SMTP_HOST)"
                result.released += db.not_delivered(
                    store, [r.message_id for r in batch], worker, "", rules, now, counts=False
                )
                break
            if conn is None:
                try:
                    conn = _connect(smtp)
                except (smtplib.SMTPException, OSError) as err:
                    result.smtp_error = f"{smtp.host}:{smtp.port}: {err}"
                    result.released += db.not_delivered(
                        store, [r.message_id for r in batch], worker, "", rules, now, counts=False
                    )
                    break
            for i, r in enumerate(batch):
                try:
                    conn.send_message(_message(r, smtp, base_url, rules))
                except smtplib.SMTPRecipientsRefused as err:
                    n = db.not_delivered(
                        store, [r.message_id], worker, f"refused: {err}", rules, now
                    )
                    _count(result, r, n, rules)
                    continue
                except (smtplib.SMTPException, OSError) as err:
                    # The connection broke: this one is retried, the rest go back unspent.
                    n = db.not_delivered(store, [r.message_id], worker, str(err), rules, now)
                    _count(result, r, n, rules)
                    rest = [x.message_id for x in batch[i + 1 :]]
                    result.released += db.not_delivered(
                        store, rest, worker, "", rules, now, counts=False
                    )
                    result.smtp_error = f"{smtp.host}:{smtp.port}: {err}"
                    return result
                result.delivered += db.delivered(store, [r.message_id], worker, now)
    finally:
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()
    return result


def _count(result: RoundResult, r: db.Reminder, n: int, rules: Rules) -> None:
    if n and r.attempts >= rules.max_attempts:
        result.failed += 1
    elif n:
        result.retried += 1
