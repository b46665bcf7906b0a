"""Amnesty-day commands: ``kitlife amnesty ...`` and ``kitlife handback``.

They parse and print; the work is in :mod:`kitlife.collector.runtime.amnesty`
and the reminder job in :mod:`kitlife.collector.runtime.amnesty_job`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import click

from kitlife.collector.cli.output import emit, format_option, table
from kitlife.collector.policy.amnesty import (
    CHANNELS,
    ERASURE_METHODS,
    ROUTES,
    AmnestyError,
    iso,
    load_rules,
    parse_lead_days,
)
from kitlife.collector.store import NotFoundError, Store, StoreError


def _store(ctx: click.Context) -> Store:
    from kitlife.collector.cli.main import _store as core_store

    store = core_store(ctx)
    store.upgrade()
    return store


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise click.UsageError(f"cannot read the {what} file {path}: {err.strerror}") from err


def _hhmm(t_s: int) -> str:
    return time.strftime("%H:%M", time.gmtime(t_s))


@click.group()
def amnesty() -> None:
    """Amnesty days: campaigns, reminders, bookings (docs/amnesty.md)."""


@amnesty.command("schedule")
@click.option("--date", "date_text", required=True, metavar="YYYY-MM-DD", help="The amnesty day.")
@click.option(
    "--sites", required=True, metavar="SITE[,SITE...]", help="Register sites taking part."
)
@click.option(
    "--points",
    "points_path",
    required=True,
    metavar="FILE.csv",
    help="Collection points: point_id,site,kind,name,location,slots,opens,closes.",
)
@click.option("--name", default=None, help="Campaign name [default: Amnesty day DATE].")
@click.option(
    "--lead-days",
    default=None,
    metavar="N[,N...]",
    help="Reminders this many days before [default: 14,3,1 from the rules table].",
)
@click.option(
    "--channels",
    default="agent,email",
    show_default=True,
    help=f"Some of {','.join(CHANNELS)}.",
)
@click.option(
    "--dormant-days", type=click.IntRange(1, 3650), default=None, help="Dormant after N days [30]."
)
@click.option(
    "--contacts", "contacts_path", default=None, metavar="FILE.csv", help="holder_id,email."
)
@click.option(
    "--email-template",
    default=None,
    metavar="TEXT",
    help="Address for holders not in --contacts, e.g. '{holder_id}@example.org'.",
)
@click.pass_context
def schedule_cmd(
    ctx: click.Context,
    date_text: str,
    sites: str,
    points_path: str,
    name: str | None,
    lead_days: str | None,
    channels: str,
    dormant_days: int | None,
    contacts_path: str | None,
    email_template: str | None,
) -> None:
    """Schedule an amnesty day: audience, reminders at each lead time, locker windows."""
    from kitlife.collector.runtime.amnesty import ScheduleRequest, schedule

    try:
        date = dt.date.fromisoformat(date_text)
    except ValueError as err:
        raise click.UsageError(f"--date {date_text!r} is not a date like 2027-03-15") from err
    rules = load_rules()
    try:
        lead = parse_lead_days(lead_days, rules) if lead_days else None
        campaign_id = schedule(
            _store(ctx),
            ScheduleRequest(
                name=name or f"Amnesty day {date.isoformat()}",
                date=date,
                sites=tuple(s.strip() for s in sites.split(",") if s.strip()),
                points_csv=_read(points_path, "points"),
                lead_days=lead,
                channels=tuple(c.strip() for c in channels.split(",") if c.strip()),
                dormant_days=dormant_days,
                contacts_csv=_read(contacts_path, "contacts") if contacts_path else None,
                email_template=email_template,
            ),
            rules,
        )
    except AmnestyError as err:
        raise click.UsageError(str(err)) from err
    click.echo(campaign_id)


@amnesty.command("list")
@format_option
@click.pass_context
def list_cmd(ctx: click.Context, fmt: str) -> None:
    """Every campaign: day, sites, status, people asked, bookings."""
    from kitlife.collector.store.amnesty import list_campaigns

    rows = list_campaigns(_store(ctx))
    shown = [{**r, "day": iso(r["day"]), "sites": ",".join(r["sites"])} for r in rows]
    emit(
        rows if fmt == "json" else shown,
        fmt,
        ["id", "day", "name", "sites", "status", "people", "booked"],
    )


@amnesty.command("show")
@click.argument("campaign_id", type=int)
@format_option
@click.pass_context
def show_cmd(ctx: click.Context, campaign_id: int, fmt: str) -> None:
    """A campaign: points and their fill, reminders by lead time and state, bookings
    (--format csv: the bookings)."""
    from kitlife.collector.store.amnesty import campaign

    try:
        c = campaign(_store(ctx), campaign_id)
    except NotFoundError as err:
        raise click.ClickException(str(err)) from err
    bookings = [
        {**b, "window": f"{_hhmm(b['start_s'])}-{_hhmm(b['end_s'])}"} for b in c["bookings"]
    ]
    if fmt == "json":
        click.echo(json.dumps(c, indent=2))
        return
    if fmt == "csv":
        emit(bookings, fmt, ["holder_id", "point_id", "point", "window", "booked_s"])
        return
    click.echo(f"campaign {c['id']}: {c['name']} on {iso(c['day'])} ({c['status']})")
    click.echo(
        f"  sites {', '.join(c['sites'])}; reminders {', '.join(map(str, c['lead_days']))} days "
        f"before by {', '.join(c['channels'])}; dormant after {c['dormant_days']} days"
    )
    click.echo(
        f"  people asked {c['audience']['people']}, opened their link {c['audience']['opened']}"
    )
    table(
        [
            [p["point_id"], p["site"], p["kind"], p["name"], f"{p['booked']}/{p['capacity']}"]
            for p in c["points"]
        ],
        ["point", "site", "kind", "name", "booked"],
        title="collection points:",
    )
    table(
        [[m["lead_days"], m["channel"], m["status"], m["n"]] for m in c["messages"]],
        ["lead days", "channel", "status", "n"],
        title="reminders:",
    )
    table(
        [[b["holder_id"], b["point"], b["window"]] for b in bookings],
        ["holder", "point", "window (UTC)"],
        title=f"bookings ({len(bookings)}):",
    )


@amnesty.command("cancel")
@click.argument("campaign_id", type=int)
@click.pass_context
def cancel_cmd(ctx: click.Context, campaign_id: int) -> None:
    """Cancel a campaign: no more reminders or bookings."""
    from kitlife.collector.store.amnesty import cancel_campaign

    try:
        skipped = cancel_campaign(_store(ctx), campaign_id)
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"cancelled campaign {campaign_id}; {skipped} pending reminders will not be sent")


@amnesty.command("remind")
@click.option("--base-url", default=None, help="Collector URL in links [env KITLIFE_PUBLIC_URL].")
@click.pass_context
def remind_cmd(ctx: click.Context, base_url: str | None) -> None:
    """Send the due e-mail reminders once (the server does it every 5 minutes too; any
    number of runs at once is safe).

    SMTP from KITLIFE_SMTP_HOST, _PORT, _FROM, _STARTTLS, _USER, _PASSWORD.
    Exits 1 when no SMTP server is set or it could not be reached (the reminders stay pending).
    """
    from kitlife.collector.cli.main import settings_of
    from kitlife.collector.runtime.amnesty_job import SmtpConfig, public_url, run_once

    settings = settings_of(ctx)
    result = run_once(
        _store(ctx), SmtpConfig.from_settings(settings), base_url or public_url(settings)
    )
    click.echo(result.summary())
    if result.smtp_error:
        ctx.exit(1)


@amnesty.command("export")
@click.argument("campaign_id", type=int)
@click.option("--base-url", default=None, help="Collector URL in links [env KITLIFE_PUBLIC_URL].")
@click.pass_context
def export_cmd(ctx: click.Context, campaign_id: int, base_url: str | None) -> None:
    """Due reminders of the csv channel as CSV, each handed over once."""
    from kitlife.collector.cli.main import settings_of
    from kitlife.collector.runtime.amnesty import export_csv
    from kitlife.collector.runtime.amnesty_job import public_url

    url = base_url or public_url(settings_of(ctx))
    click.echo(export_csv(_store(ctx), campaign_id, url, int(time.time())), nl=False)


@click.command("handback")
@click.argument("device", metavar="DEVICE")
@click.option("--route", required=True, type=click.Choice(list(ROUTES)))
@click.option("--erasure", "erasure_method", type=click.Choice(list(ERASURE_METHODS)), default=None)
@click.option("--erasure-ref", default=None, metavar="REF", help="The erasure tool's report id.")
@click.option("--erasure-date", default=None, metavar="YYYY-MM-DD", help="[default: today]")
@click.option(
    "--out",
    "out_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the certificate's .json, .html and .pdf.",
)
@click.pass_context
def handback(
    ctx: click.Context,
    device: str,
    route: str,
    erasure_method: str | None,
    erasure_ref: str | None,
    erasure_date: str | None,
    out_dir: str,
) -> None:
    """A device handed back: close its record and write its health certificate."""
    from kitlife.collector.reports.certificate import render_html, render_pdf
    from kitlife.collector.runtime.amnesty import handback as do_handback

    try:
        when = dt.date.fromisoformat(erasure_date) if erasure_date else None
    except ValueError as err:
        raise click.UsageError(f"--erasure-date {erasure_date!r} is not a date") from err
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise click.UsageError(f"cannot make {out}: {err.strerror}") from err
    try:
        cert: dict[str, Any] = do_handback(
            _store(ctx), device, route, erasure_method, erasure_ref, when
        )
    except AmnestyError as err:
        raise click.UsageError(str(err)) from err
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    stem = out / f"certificate-{cert['certificate_uid']}"
    stem.with_suffix(".json").write_text(json.dumps(cert, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".html").write_text(render_html(cert), encoding="utf-8")
    stem.with_suffix(".pdf").write_bytes(render_pdf(cert))
    click.echo(
        f"{cert['device']['hostname']} handed back for {route}; carbon avoided "
        f"{cert['carbon']['avoided_kgco2e']} kg CO2e; certificate {stem}.{{json,html,pdf}}"
    )


def register(cli: click.Group) -> None:
    cli.add_command(amnesty)
    cli.add_command(handback)
