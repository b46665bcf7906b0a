"""``kitlife``: the admin's command line. Commands parse and print; the store works."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import click

from kitlife import __version__
from kitlife.collector.cli.errors import Group, OptionError, hoist_db
from kitlife.collector.cli.output import emit, format_option, progress, table
from kitlife.collector.reports.units import human, months, when
from kitlife.collector.runtime.settings import Settings, SettingsError, load_settings
from kitlife.collector.store import NotFoundError, Store
from kitlife.collector.store.opening import check_url, open_store

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


def _store(ctx: click.Context, create: bool = False) -> Store:
    """The command's store, opened on first use and closed when the command ends.

    Only ``create`` (db upgrade, serve, simulate) may make a new database;
    every other command needs one that exists at the newest schema, and says
    so in one line naming ``kitlife db upgrade`` (see store/opening.py).
    """
    store: Store | None = ctx.obj["store"]
    if store is None:
        settings = settings_of(ctx)
        store = ctx.obj["store"] = open_store(
            settings.db_url,
            create=create,
            reattach_after_silent_s=settings.reattach_after_silent_s,
        )
        ctx.find_root().call_on_close(store.close)
    return store


_when = when


_emit = emit
format_options = format_option


@click.group(cls=Group)
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
        if db_url is not None and "db_url" in str(err):
            raise OptionError("--db", str(err)) from None
        raise click.UsageError(f"bad setting: {err}") from err
    ctx.obj = {"settings": settings, "db_url": settings.db_url, "store": None}


# -- serve ------------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8470, show_default=True, type=click.IntRange(1, 65535))
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
    """Run the collector's HTTP API and web pages with uvicorn (creates or migrates the db)."""
    import os

    from kitlife.collector.store import writelock
    from kitlife.collector.store.engine import sqlite_file

    url = ctx.obj["db_url"]
    check_url(url)
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
    store = _store(ctx, create=True)
    store.upgrade()  # once, here, not in every worker
    store.close()
    _check_listen(host, port)
    # The workers read their settings from the environment when they start
    # (api/asgi.py): the rest of it is what this process read, --db goes with it.
    os.environ["KITLIFE_DB"] = url
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts on its own; this folder lets /metrics add them up.
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kitlife-metrics-")
    from kitlife.collector.api import server
    from kitlife.collector.runtime.logs import log_config

    _announce(host, port, bool(ssl_certfile), workers)
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


def _check_listen(host: str, port: int) -> None:
    """Fail in one line, before uvicorn starts, when the address cannot be listened on."""
    import errno
    import socket

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as err:
        raise OptionError("--host", f"{host!r} is not an address of this machine ({err})") from None
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind(addr)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"--port {port}: {host}:{port} is already in use; stop what holds it "
                    "or choose another --port"
                ) from None
            raise click.ClickException(
                f"--host {host} --port {port}: cannot listen there ({err.strerror})"
            ) from None


def _announce(host: str, port: int, tls: bool, workers: int) -> None:
    """Say where the collector listens, and warn when it is reachable without TLS."""
    import ipaddress

    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"kitlife collector listening on {scheme}://{shown}:{port}/ ({workers} worker"
        f"{'s' if workers > 1 else ''}); web pages at {scheme}://{shown}:{port}/web/; "
        "Ctrl-C stops it",
        err=True,
    )
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not tls and not loopback:
        click.echo(
            f"warning: listening on {host} without TLS: tokens and device data cross the "
            "network in clear. Give --ssl-certfile and --ssl-keyfile, or listen on 127.0.0.1 "
            "behind a TLS proxy.",
            err=True,
        )


# -- db ---------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Schema and retention."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the schema to the newest version."""
    store = _store(ctx, create=True)
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
    if role == "enroll":
        secret = store.create_enrol_token(uses, parse_duration(expires or "7d"), name)
    else:
        secret = store.create_api_token(role, name, parse_duration(expires) if expires else None)
    click.echo(secret)


@token.command("list")
@format_options
@click.pass_context
def token_list(ctx: click.Context, fmt: str) -> None:
    """Every token, without its secret."""
    rows = _store(ctx).list_tokens()
    for r in rows:
        r["created"], r["expires"] = _when(r["created_s"]), _when(r["expires_s"])
    _emit(rows, fmt, ["id", "role", "name", "state", "uses", "uses_left", "created", "expires"])


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
def devices_list(ctx: click.Context, fmt: str) -> None:
    """Hostname, serial, model, OS, last seen and batches of every device."""
    from kitlife.collector.reports.device import LIST_FIELDS, device_rows

    store = _store(ctx)
    rows = device_rows(store)
    if fmt != "text":
        _emit(rows, fmt, LIST_FIELDS)
        return
    for r in rows:
        r["last_seen"] = _when(r["last_seen_s"])
        r["os"] = f"{r['os_name']} {r['os_version']}".strip()
    _emit(rows, "text", ["hostname", "serial", "model", "os", "last_seen", "batches"])


@devices.command("show")
@click.argument("query", metavar="HOST")
@format_option
@click.pass_context
def devices_show(ctx: click.Context, query: str, fmt: str) -> None:
    """One device's health report, verdict first, by hostname, serial or device id."""
    import time

    from kitlife.collector.reports.device_view import (
        VIEW_CSV_COLUMNS,
        device_view,
        view_csv_rows,
    )

    store = _store(ctx)
    try:
        view = device_view(store, query, time.time())
    except NotFoundError as err:
        raise click.ClickException(str(err)) from err
    if fmt == "json":
        view.pop("panels")  # chart series: the web page's; the JSON report is the API's
        click.echo(json.dumps(view, indent=2))
        return
    if fmt == "csv":
        _emit(view_csv_rows(view), "csv", VIEW_CSV_COLUMNS)
        return
    d, v = view["device"], view["verdict"]
    click.echo(f"{d['hostname']}  ({d['device_uid']})")
    click.echo(f"  {v['headline'].rstrip('.')}. {v['todo']}".rstrip())
    if view.get("assessment"):
        click.echo(f"  useful life as it is: {v['life']}")
    model = f"{d['vendor']} {d['model']}".strip() or "model unknown"
    click.echo(f"  {model}, serial {d['serial'] or '-'}")
    click.echo(
        f"  {d['os_name']} {d['os_version']}, agent {d['agent_version']}, "
        f"last seen {_when(d['last_seen_s'])}, {d['batches']} batches"
    )
    if d["revoked_s"]:
        click.echo(f"  REVOKED {_when(d['revoked_s'])}")
    _print_assessment(view.get("assessment"), d["hostname"] or d["device_uid"])
    table(
        [[r["metric"], r["component"], r["shown"], _when(r["t_s"])] for r in view["readings"]],
        ["reading", "part", "value", "at (UTC)"],
        title="latest readings",
    )
    for u in view["unavailable"]:
        where = f" [{u['component']}]" if u["component"] else ""
        click.echo(f"  {u['source']}{where}: unavailable ({u['reason']})")


def _print_assessment(a: dict[str, Any] | None, name: str) -> None:
    if not a:
        click.echo(f"  not scored yet: kitlife score {name}")
        return
    table(
        [
            [
                f"{c['component']} {c['name'] if c['name'] != c['component'] else ''}".strip(),
                c["status"],
                human(c["level"], c["level_unit"]) if c["level"] is not None else "-",
                months(c["months_to_threshold"]) if c.get("threshold_key") else "-",
            ]
            for c in a["components"]
        ],
        ["part", "status", "level", "reaches its threshold in"],
        title=f"parts, over a {a['horizon_months']:g}-month horizon",
    )
    # The verdict's reasons already carry the limiting components' own; each text once.
    shown: set[str] = set()
    for reason in a["reasons"] + [r for c in a["components"] for r in c["reasons"]]:
        if reason["text"] not in shown:
            shown.add(reason["text"])
            click.echo(f"  - {reason['text']}  [{reason['source']}]")
    for note in a.get("data_quality", []):
        click.echo(f"  ! {note}")


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
    try:
        ids = None if all_ else [store.find_device(h)["id"] for h in hosts]
    except NotFoundError as err:
        raise click.ClickException(str(err)) from err
    if ids is None:
        from kitlife.collector.store.histories import device_ids

        ids = device_ids(store)
    with progress(len(ids), "scoring") as advance:
        summary = rescore(
            store,
            ids,
            horizon_months=horizon_months,
            roles_path=settings_of(ctx).roles_path,
            progress=advance,
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
    ctx: click.Context, site: str | None, model: str | None, decision: str | None, fmt: str
) -> None:
    """Each device's newest decision, with its reasons in numbers and their sources."""
    from kitlife.collector.reports.decisions import DECISION_FIELDS, decision_rows

    store = _store(ctx)
    ids = _site_device_ids(store, site) if site else None
    rows = decision_rows(store, model=model, decision=decision, device_ids=ids)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        flat = [{**r, "reasons": " | ".join(r["reasons"])} for r in rows]
        _emit(flat, "csv", DECISION_FIELDS)
    else:
        table(
            [
                [
                    r["decision"],
                    r["hostname"] or r["device_uid"],
                    r["model"],
                    "-" if r["score"] is None else r["score"],
                    "; ".join(r["reasons"]),
                ]
                for r in rows
            ],
            ["decision", "device", "model", "score", "reasons"],
        )
        if not rows:
            click.echo("no scored devices match (kitlife score --all scores them)", err=True)


def _site_device_ids(store: Store, site: str) -> set[int]:
    """Devices the asset register places at ``site``."""
    from kitlife.collector.store.assets import device_ids_at_site, register_count
    from kitlife.collector.store.search import site_names

    if not register_count(store):
        raise OptionError("--site", "needs the asset register: kitlife assets import FILE.csv")
    ids = set(device_ids_at_site(store, site))
    if not ids:
        known = site_names(store)
        raise OptionError(
            "--site",
            f"no enrolled device is registered at {site!r}; sites: "
            + (", ".join(known[:20]) + (" ..." if len(known) > 20 else "") or "none"),
        )
    return ids


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
def experience_cmd(ctx: click.Context, by: str, days: int, fmt: str) -> None:
    """Responsiveness index (0-100) and sentiment average (1-5); see docs/experience.md."""
    from kitlife.collector.reports.experience import SiteUnavailableError, experience

    store = _store(ctx)
    try:
        rows = experience(store, by, days)  # type: ignore[arg-type]
    except SiteUnavailableError as err:
        raise click.ClickException(str(err)) from err
    columns = [by, "devices", "device_days", "responsiveness_index", "sentiment_avg", "ratings"]
    if by == "device":
        columns[1:1] = ["hostname", "model"]
    _emit(rows, fmt, columns)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(argv) if argv is not None else sys.argv[1:]
    cli.main(args=hoist_db(args), prog_name="kitlife")


# Fleet commands (simulate, assets, redeploy, report) live in their own module.
from kitlife.collector.cli.fleet import register as _register_fleet  # noqa: E402

_register_fleet(cli)

# `kitlife package`: agent installers with the collector URL and enrolment token inside.
from kitlife.installers.cli import package as _package  # noqa: E402

cli.add_command(_package)

# `kitlife inspect`: captured outputs judged offline (the one command that runs agent parsers).
from kitlife.collector.cli.inspect import inspect as _inspect  # noqa: E402

cli.add_command(_inspect)

# `kitlife amnesty ...` and `kitlife handback`.
from kitlife.collector.cli.amnesty import register as _register_amnesty  # noqa: E402

_register_amnesty(cli)
