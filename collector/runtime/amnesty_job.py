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

Python's smtplib (the standard library) speaks SMTP; the job runs from
``kitlife amnesty remind`` (cron, or by hand) and needs no server.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

from kitlife.collector.policy import amnesty as policy
from kitlife.collector.policy.amnesty import Rules
from kitlife.collector.runtime.amnesty import reminder_content
from kitlife.collector.store import Store
from kitlife.collector.store import amnesty as db

SMTP_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where e-mail goes; from ``KITLIFE_SMTP_*`` (docs/amnesty.md)."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "kitlife@localhost"
    starttls: bool = False
    user: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = SMTP_TIMEOUT_S

    @classmethod
    def from_env(cls) -> SmtpConfig:
        env = os.environ
        return cls(
            host=env.get("KITLIFE_SMTP_HOST", "127.0.0.1"),
            port=int(env.get("KITLIFE_SMTP_PORT", "25")),
            sender=env.get("KITLIFE_SMTP_FROM", "kitlife@localhost"),
            starttls=env.get("KITLIFE_SMTP_STARTTLS", "0") == "1",
            user=env.get("KITLIFE_SMTP_USER", ""),
            password=env.get("KITLIFE_SMTP_PASSWORD", ""),
        )


def public_url() -> str:
    """The collector's address as holders reach it (``KITLIFE_PUBLIC_URL``), for links."""
    return os.environ.get("KITLIFE_PUBLIC_URL", "http://127.0.0.1:8470")


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
            text += f"; SMTP unreachable ({self.smtp_error}): {self.released} left pending"
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
    smtp: SmtpConfig,
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
