"""``kitlife``: the admin's command line. Commands parse and print; the store works."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

import click

from kitlife import __version__
from kitlife.collector.reports.export import csv_safe_rows
from kitlife.collector.runtime.settings import Settings, SettingsError, load_settings, open_store
from kitlife.collector.store import NotFoundError, Store

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int:
    """'90s', '15m', '12h', '7d', '2w' -> seconds."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise click.BadParameter(f"{text!r} is not a duration like 30m, 12h, 7d or 2w")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def settings_of(ctx: click.Context) -> Settings:
    """The settings the group callback read, with this run's flags on top."""
    settings: Settings = ctx.find_root().obj["settings"]
    return settings


def _store(ctx: click.Context) -> Store:
    """The command's store, opened on first use and closed when the command ends."""
    store: Store | None = ctx.obj["store"]
    if store is None:
        store = ctx.obj["store"] = open_store(settings_of(ctx))
        ctx.find_root().call_on_close(store.close)
    return store


def _when(t_s: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t_s)) if t_s else "-"


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _emit(
    rows: list[dict[str, Any]],
    fmt: str,
    columns: Sequence[str],
    headers: Sequence[str] | None = None,
) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(csv_safe_rows(rows))
        click.echo(out.getvalue(), nl=False)
    else:
        click.echo(_table([[r.get(c) for c in columns] for r in rows], headers or columns))


def format_options(fn: Any) -> Any:
    fn = click.option("--csv", "fmt", flag_value="csv", help="As CSV.")(fn)
    return click.option("--json", "fmt", flag_value="json", help="As JSON.")(fn)


@click.group()
@click.version_option(__version__, prog_name="kitlife")
@click.option(
    "--db",
    "db_url",
    default=None,
    metavar="URL",
    help="Database URL [env KITLIFE_DB; default: SQLite in the user data folder].",
)
@click.pass_context
def cli(ctx: click.Context, db_url: str | None) -> None:
    """kitlife collector administration."""
    # The one place the CLI reads KITLIFE_* settings; flags given override them.
    flags = {"db_url": db_url} if db_url is not None else {}
    try:
        settings = load_settings(**flags)
    except SettingsError as err:
        raise click.UsageError(f"bad setting: {err}") from err
    ctx.obj = {"settings": settings, "db_url": settings.db_url, "store": None}


# -- serve ------------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8470, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="uvicorn worker processes (on SQLite they take turns to write, through a file lock).",
)
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Proxies whose X-Forwarded-For/-Proto are believed (comma-separated, or *).",
)
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    forwarded_allow_ips: str,
    log_level: str,
) -> None:
    """Run the collector's HTTP API with uvicorn."""
    import os

    from kitlife.collector.store import writelock
    from kitlife.collector.store.engine import sqlite_file

    url = ctx.obj["db_url"]
    if (
        workers > 1
        and url.startswith("sqlite")
        and (sqlite_file(url) is None or not writelock.available())
    ):
        raise click.UsageError(
            "several workers on SQLite need a database file and POSIX file locks: run "
            "--workers 1, or use PostgreSQL (--db postgresql+psycopg://...)"
        )
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together")
    store = _store(ctx)
    store.upgrade()  # once, here, not in every worker
    store.close()
    # The workers read their settings from the environment when they start
    # (api/asgi.py): the rest of it is what this process read, --db goes with it.
    os.environ["KITLIFE_DB"] = url
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts on its own; this folder lets /metrics add them up.
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kitlife-metrics-")
    from kitlife.collector.api import server
    from kitlife.collector.runtime.logs import log_config

    server.serve(
        server.server_config(
            "kitlife.collector.api.asgi:app_from_environment",
            ctx.obj["settings"],
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            log_level=log_level,
            log_config=log_config(log_level),
            access_log=log_level in ("info", "debug"),
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            server_header=False,
        )
    )


# -- db ---------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Schema and retention."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the schema to the newest version."""
    store = _store(ctx)
    store.upgrade()
    click.echo(f"database at revision {store.revision()}")


@db.command("prune")
@click.option(
    "--days",
    default=None,
    type=click.IntRange(1, 36500),
    help="Keep raw batch chunks this many days [env KITLIFE_RAW_RETENTION_DAYS; default: 90].",
)
@click.pass_context
def db_prune(ctx: click.Context, days: int | None) -> None:
    """Delete raw batches past the retention window (rollups stay)."""
    if days is None:
        days = settings_of(ctx).raw_retention_days
    store = _store(ctx)
    store.upgrade()
    click.echo(f"pruned {store.prune(days)} batches older than {days} days")


# -- tokens -----------------------------------------------------------------------------
@cli.group()
def token() -> None:
    """Enrolment and API tokens."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(["enroll", "admin", "servicedesk"]))
@click.option(
    "--uses",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="Enrolment tokens: how many devices may use it.",
)
@click.option(
    "--expires",
    default=None,
    metavar="DURATION",
    help="e.g. 7d, 12h [enrolment tokens default to 7d; API tokens never expire].",
)
@click.option("--name", default="", help="A note to recognise the token by.")
@click.pass_context
def token_create(ctx: click.Context, role: str, uses: int, expires: str | None, name: str) -> None:
    """Create a token and print it alone on stdout (it is shown only this once)."""
    store = _store(ctx)
    store.upgrade()
    if role == "enroll":
        secret = store.create_enrol_token(uses, parse_duration(expires or "7d"), name)
    else:
        secret = store.create_api_token(role, name, parse_duration(expires) if expires else None)
    click.echo(secret)


@token.command("list")
@format_options
@click.pass_context
def token_list(ctx: click.Context, fmt: str | None) -> None:
    """Every token, without its secret."""
    rows = _store(ctx).list_tokens()
    for r in rows:
        r["created"], r["expires"] = _when(r["created_s"]), _when(r["expires_s"])
    _emit(
        rows,
        fmt or "text",
        ["id", "role", "name", "state", "uses", "uses_left", "created", "expires"],
    )


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def token_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke a token by the id `kitlife token list` shows."""
    try:
        _store(ctx).revoke_token(token_id)
    except NotFoundError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"revoked {token_id}")


# -- devices ----------------------------------------------------------------------------
@cli.group()
def devices() -> None:
    """Enrolled devices."""


@devices.command("list")
@format_options
@click.pass_context
def devices_list(ctx: click.Context, fmt: str | None) -> None:
    """Hostname, serial, model, OS, last seen and batches of every device."""
    from kitlife.collector.reports.device import LIST_FIELDS, device_rows

    store = _store(ctx)
    store.upgrade()
    rows = device_rows(store)
    if fmt:
        _emit(rows, fmt, LIST_FIELDS)
        return
    for r in rows:
        r["last_seen"] = _when(r["last_seen_s"])
        r["os"] = f"{r['os_name']} {r['os_version']}".strip()
    _emit(rows, "text", ["hostname", "serial", "model", "os", "last_seen", "batches"])


@devices.command("show")
@click.argument("query", metavar="HOST")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def devices_show(ctx: click.Context, query: str, as_json: bool) -> None:
    """One device's health report, by hostname, serial or device id."""
    from kitlife.collector.reports.device import device_report

    store = _store(ctx)
    store.upgrade()
    try:
        report = device_report(store, query)
    except NotFoundError as err:
        raise click.ClickException(str(err)) from err
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    d = report["device"]
    click.echo(f"{d['hostname']}  ({d['device_uid']})")
    click.echo(f"  {d['vendor']} {d['model']}  serial {d['serial'] or '-'}".rstrip())
    click.echo(
        f"  {d['os_name']} {d['os_version']}, agent {d['agent_version']}, "
        f"last seen {_when(d['last_seen_s'])}, {d['batches']} batches"
    )
    if d["revoked_s"]:
        click.echo(f"  REVOKED {_when(d['revoked_s'])}")
    rows = [
        [r["metric"], r["component"], _fmt_value(r["value"]), r["unit"], _when(r["t_s"])]
        for r in report["readings"]
    ]
    click.echo(_table(rows, ["reading", "component", "value", "unit", "at"]))
    for u in report["unavailable"]:
        where = f" [{u['component']}]" if u["component"] else ""
        click.echo(f"  {u['source']}{where}: unavailable ({u['reason']})")
    _print_assessment(report.get("assessment"))


def _print_assessment(a: dict[str, Any] | None) -> None:
    if not a:
        click.echo("not scored yet (kitlife score HOST)")
        return
    score = a["score"] if a["score"] is not None else "-"
    click.echo(f"\nlife-extension score {score} over {a['horizon_months']:g} months: {a['action']}")
    rows = [
        [
            c["component"],
            c["name"],
            c["status"],
            "-" if c["level"] is None else f"{c['level']:g} {c['level_unit']}",
            "-" if c["months_to_threshold"] is None else f"{c['months_to_threshold']:g}",
        ]
        for c in a["components"]
    ]
    click.echo(_table(rows, ["component", "name", "status", "level", "months left"]))
    for reason in a["reasons"] + [r for c in a["components"] for r in c["reasons"]]:
        click.echo(f"  - {reason['text']}  [{reason['source']}]")
    for note in a.get("data_quality", []):
        click.echo(f"  ! {note}")


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if not value.is_integer() else str(int(value))
    return str(value)


@devices.command("revoke")
@click.argument("query", metavar="HOST")
@click.pass_context
def devices_revoke(ctx: click.Context, query: str) -> None:
    """Stop a device's key at once (by hostname, serial or id)."""
    try:
        uid = _store(ctx).revoke_device(query)
    except NotFoundError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"revoked device {uid}")


# -- scores and decisions ------------------------------------------------------------------
@cli.command()
@click.argument("hosts", nargs=-1, metavar="[HOST]...")
@click.option("--all", "all_", is_flag=True, help="Rescore every live device.")
@click.option(
    "--horizon-months",
    type=click.FloatRange(1, 120),
    default=None,
    help="Planning horizon [default: the thresholds table's, 24].",
)
@click.pass_context
def score(
    ctx: click.Context, hosts: tuple[str, ...], all_: bool, horizon_months: float | None
) -> None:
    """Score devices now and keep the result (the server also rescores as batches land)."""
    from kitlife.collector.runtime.rescore import rescore

    if bool(hosts) == all_:
        raise click.UsageError("name devices or give --all (not both)")
    store = _store(ctx)
    store.upgrade()
    try:
        ids = None if all_ else [store.find_device(h)["id"] for h in hosts]
    except NotFoundError as err:
        raise click.ClickException(str(err)) from err
    if ids is None:
        from kitlife.collector.store.histories import device_ids

        ids = device_ids(store)
    with click.progressbar(length=len(ids), label="scoring", file=sys.stderr) as bar:
        summary = rescore(
            store,
            ids,
            horizon_months=horizon_months,
            roles_path=settings_of(ctx).roles_path,
            progress=bar.update,
        )
    per = summary.seconds / summary.devices * 1000 if summary.devices else 0.0
    click.echo(
        f"scored {summary.devices} devices in {summary.seconds:.2f} s ({per:.2f} ms each): "
        + ", ".join(f"{n} {d}" for d, n in sorted(summary.by_decision.items()))
    )


@cli.command()
@click.option("--site", default=None, help="Only devices registered at this site.")
@click.option("--model", default=None, help="Only this hardware model.")
@click.option(
    "--decision",
    default=None,
    type=click.Choice(
        ["keep", "repair", "redeploy", "refurbish", "donate", "recycle", "insufficient_data"]
    ),
)
@format_options
@click.pass_context
def decisions(
    ctx: click.Context, site: str | None, model: str | None, decision: str | None, fmt: str | None
) -> None:
    """Each device's newest decision, with its reasons in numbers and their sources."""
    from kitlife.collector.reports.decisions import DECISION_FIELDS, decision_rows

    store = _store(ctx)
    store.upgrade()
    ids = _site_device_ids(store, site) if site else None
    rows = decision_rows(store, model=model, decision=decision, device_ids=ids)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        flat = [{**r, "reasons": " | ".join(r["reasons"])} for r in rows]
        _emit(flat, "csv", DECISION_FIELDS)
    else:
        for r in rows:
            click.echo(
                f"{r['hostname'] or r['device_uid']}  {r['model']}  "
                f"score {r['score'] if r['score'] is not None else '-'}  {r['decision']}"
            )
            for reason in r["reasons"]:
                click.echo(f"    {reason}")


def _site_device_ids(store: Store, site: str) -> set[int]:
    """Devices the asset register places at ``site``."""
    from kitlife.collector.store.assets import device_ids_at_site, register_count

    if not register_count(store):
        raise click.UsageError("--site needs the asset register: kitlife assets import FILE.csv")
    return set(device_ids_at_site(store, site))


# -- experience -------------------------------------------------------------------------
@cli.command("experience")
@click.option(
    "--by",
    type=click.Choice(["device", "model", "site", "month"]),
    default="model",
    show_default=True,
)
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650))
@format_options
@click.pass_context
def experience_cmd(ctx: click.Context, by: str, days: int, fmt: str | None) -> None:
    """Responsiveness index (0-100) and sentiment average (1-5); see docs/experience.md."""
    from kitlife.collector.reports.experience import SiteUnavailableError, experience

    store = _store(ctx)
    store.upgrade()
    try:
        rows = experience(store, by, days)  # type: ignore[arg-type]
    except SiteUnavailableError as err:
        raise click.ClickException(str(err)) from err
    columns = [by, "devices", "device_days", "responsiveness_index", "sentiment_avg", "ratings"]
    if by == "device":
        columns[1:1] = ["hostname", "model"]
    _emit(rows, fmt or "text", columns)


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else sys.argv[1:], prog_name="kitlife")


# Fleet commands (simulate, assets, redeploy, report) live in their own module.
from kitlife.collector.cli.fleet import register as _register_fleet  # noqa: E402

_register_fleet(cli)

# `kitlife package`: agent installers with the collector URL and enrolment token inside.
from kitlife.installers.cli import package as _package  # noqa: E402

cli.add_command(_package)

# `kitlife inspect`: captured outputs judged offline (the one command that runs agent parsers).
from kitlife.collector.cli.inspect import inspect as _inspect  # noqa: E402

cli.add_command(_inspect)
