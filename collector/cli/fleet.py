"""Fleet commands: simulate, assets, redeploy plan, report fleet.

Kept out of cli.py so that the fleet work adds commands without growing the
core file; :func:`register` attaches them to the ``kitlife`` group.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import click

from kitlife.collector.cli.output import format_option, progress
from kitlife.collector.store import Store


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _store(ctx: click.Context, create: bool = False) -> Store:
    from kitlife.collector.cli.main import _store as core_store

    store = core_store(ctx, create)
    if create:
        store.upgrade()
    # Release pooled connections when the command ends (tests run many in one process).
    ctx.find_root().call_on_close(store.close)
    return store


def _roles(ctx: click.Context, path: str | None) -> Any:
    """--roles FILE, else the settings' KITLIFE_ROLES, else the shipped profiles."""
    from kitlife.collector.cli.main import settings_of
    from kitlife.collector.policy.fit import load_roles

    try:
        return load_roles(path or settings_of(ctx).roles_path)
    except (OSError, ValueError) as err:
        raise click.ClickException(f"roles: {err}") from err


roles_option = click.option(
    "--roles",
    "roles_path",
    default=None,
    metavar="FILE",
    help="Role profiles TOML [env KITLIFE_ROLES; default: the shipped roles.toml].",
)


# -- simulate ---------------------------------------------------------------------------------
@click.command()
@click.option("--devices", "n_devices", default=200, show_default=True, type=click.IntRange(1))
@click.option("--months", default=18, show_default=True, type=click.IntRange(1, 120))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option(
    "--batch-days",
    default=30,
    show_default=True,
    type=click.IntRange(1, 366),
    help="Simulated days per uploaded batch.",
)
@click.option("--end", default=None, metavar="YYYY-MM-DD", help="Last simulated day [today].")
@click.option(
    "--jobs",
    default=None,
    type=click.IntRange(1, 64),
    help="Processes: bulk, folding workers [one per core]; --through-ingest, writers "
    "(more than one needs PostgreSQL) [1].",
)
@click.option(
    "--through-ingest",
    is_flag=True,
    help="Send every batch through the collector's ingest (Store.ingest), a transaction "
    "each, instead of the bulk path that folds each device's batches with the same code "
    "and writes its rows once.",
)
@click.option(
    "--durable",
    is_flag=True,
    help="SQLite: keep the collector's fsync-per-commit (default: synchronous=NORMAL, "
    "as simulated data can be regenerated from its seed).",
)
@click.option(
    "--register-csv",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the matching asset register as CSV.",
)
@click.pass_context
def simulate(
    ctx: click.Context,
    n_devices: int,
    months: int,
    seed: int,
    batch_days: int,
    end: str | None,
    jobs: int | None,
    through_ingest: bool,
    durable: bool,
    register_csv: str | None,
) -> None:
    """Fill the database with a synthetic estate: real encoded batches, the ingest's rows."""
    from kitlife.collector.cli.main import settings_of
    from kitlife.collector.policy.register import parse_register
    from kitlife.collector.store.assets import replace_register
    from kitlife.collector.tools.simulate import (
        generate_estate,
        populate,
        register_csv_text,
        relax_sqlite_durability,
    )

    url = ctx.obj["db_url"]
    if jobs is None:
        jobs = 1 if through_ingest else os.cpu_count() or 1
    if through_ingest and jobs > 1 and url.startswith("sqlite"):
        raise click.UsageError("SQLite takes one writer: use --jobs 1, or PostgreSQL")
    end_date = dt.date.fromisoformat(end) if end else _today()
    t0 = time.perf_counter()
    estate = generate_estate(n_devices, months, seed, end_date)
    gen_s = time.perf_counter() - t0
    store = _store(ctx, create=True)
    existing = len(store.list_devices())
    if existing:
        # A second estate would enrol the same serials again and the register
        # would match each serial to two devices.
        raise click.ClickException(
            f"the database already holds {existing} devices; simulate into an empty one"
        )
    relaxed = not durable and relax_sqlite_durability(store)
    with progress(len(estate.devices), "writing devices") as advance:
        stats = populate(
            store,
            estate,
            batch_days,
            progress=lambda i, _n: advance(i),
            jobs=jobs,
            db_url=url,
            bulk=not through_ingest,
            keep_raw_days=settings_of(ctx).raw_retention_days,
        )
    text = register_csv_text(estate.register)
    rows, errors = parse_register(text.encode(), _roles(ctx, None).roles)
    if errors:  # pragma: no cover - the generator and the parser disagree
        raise click.ClickException(f"generated register does not parse: {errors[0]}")
    replace_register(store, rows, actor="simulate")
    if register_csv:
        Path(register_csv).write_text(text, encoding="utf-8")
    poor = sum(1 for d in estate.devices if d.injected_poor_fit)
    click.echo(
        f"simulated {stats.devices} devices x {months} months (seed {seed}): "
        f"{stats.batches} batches, {stats.points} points, {stats.wire_bytes / 1e6:.1f} MB of raw "
        f"chunks stored; {len(estate.register)} register rows, {poor} injected poor fits"
    )
    from kitlife.collector.runtime.rescore import rescore

    with progress(stats.devices, "scoring") as advance:
        scored = rescore(
            store,
            now_s=int(dt.datetime.combine(end_date, dt.time(12), dt.UTC).timestamp()),
            roles_path=settings_of(ctx).roles_path,
            progress=advance,
        )
    click.echo(
        f"scored {scored.devices} devices in {scored.seconds:.1f} s: "
        + ", ".join(f"{n} {d}" for d, n in sorted(scored.by_decision.items()))
    )
    click.echo(
        f"timing: generate {gen_s + stats.generate_s:.1f} s, enrol {stats.enrol_s:.1f} s, "
        f"{'ingest' if through_ingest else 'bulk write'} {stats.ingest_s:.1f} s with "
        f"{stats.jobs} {'writer(s)' if through_ingest else 'process(es)'}"
        f"{' (SQLite synchronous=NORMAL)' if relaxed else ''} "
        f"({stats.batches_per_s:.0f} batches/s, "
        f"{stats.points / max(stats.ingest_s, 1e-9):.0f} points/s)"
    )


# -- assets -----------------------------------------------------------------------------------
@click.group()
def assets() -> None:
    """The asset register: import, export, unmatched devices."""


@assets.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@roles_option
@click.pass_context
def assets_import(ctx: click.Context, file: str, roles_path: str | None) -> None:
    """Replace the register with FILE (CSV); nothing is imported if any row is wrong."""
    from kitlife.collector.policy.register import parse_register
    from kitlife.collector.store.assets import replace_register

    cfg = _roles(ctx, roles_path)
    rows, errors = parse_register(Path(file).read_bytes(), cfg.roles)
    if errors:
        for e in errors:
            click.echo(f"{file}: {e}", err=True)
        raise click.ClickException(
            f"{len(errors)} problem(s) in {file}; nothing imported, the register is unchanged"
        )
    n = replace_register(_store(ctx), rows)
    click.echo(f"imported {n} register rows from {file}")


@assets.command("export")
@format_option
@click.pass_context
def assets_export(ctx: click.Context, fmt: str) -> None:
    """The register as stored (--format csv writes what import reads)."""
    from kitlife.collector.cli.main import _emit
    from kitlife.collector.store.assets import EXPORT_COLUMNS, register_rows

    rows = register_rows(_store(ctx))
    cols = EXPORT_COLUMNS if fmt != "text" else ("serial", "holder_id", "role", "site", "status")
    _emit(rows, fmt, list(cols))


@assets.command("unmatched")
@format_option
@click.pass_context
def assets_unmatched(ctx: click.Context, fmt: str) -> None:
    """Devices with no register row, and register rows with no enrolled device."""
    from kitlife.collector.cli.main import _emit
    from kitlife.collector.store.assets import unmatched

    found = unmatched(_store(ctx))
    if fmt == "json":
        click.echo(json.dumps(found, indent=2))
        return
    if fmt == "csv":
        rows = [
            {"kind": "device_without_register_row", **r}
            for r in found["devices_without_register_row"]
        ] + [
            {"kind": "register_row_without_device", **r}
            for r in found["register_rows_without_device"]
        ]
        _emit(
            rows,
            "csv",
            [
                "kind",
                "hostname",
                "serial",
                "model",
                "device_uid",
                "asset_tag",
                "holder_id",
                "site",
                "status",
            ],
        )
        return
    a, b = found["devices_without_register_row"], found["register_rows_without_device"]
    click.echo(f"{len(a)} enrolled devices with no register row:")
    if a:
        _emit(a, "text", ["hostname", "serial", "model", "device_uid"])
    click.echo(f"{len(b)} register rows (not retired) with no enrolled device:")
    if b:
        _emit(b, "text", ["serial", "asset_tag", "holder_id", "site", "status"])


# -- redeploy ---------------------------------------------------------------------------------
@click.group()
def redeploy() -> None:
    """Fleet-wide redeploy plans."""


@redeploy.command("plan")
@click.option("--site", default=None, help="Only holders and devices at this site.")
@click.option("--max-moves", default=None, type=click.IntRange(1), help="At most N moves.")
@format_option
@roles_option
@click.pass_context
def redeploy_plan(
    ctx: click.Context,
    site: str | None,
    max_moves: int | None,
    fmt: str,
    roles_path: str | None,
) -> None:
    """Pair poor fits with devices that fit them; each move with its reasons and savings."""
    from kitlife.collector.cli.main import _emit
    from kitlife.collector.policy.fleet import plan_inputs
    from kitlife.collector.policy.redeploy import build_plan
    from kitlife.collector.reports.fleet_inputs import devices_from_store

    cfg = _roles(ctx, roles_path)
    today = _today()
    devs, holders = plan_inputs(devices_from_store(_store(ctx), today))
    plan = build_plan(devs, holders, cfg, today, site=site, max_moves=max_moves)
    rows = [m.to_dict() for m in plan.moves]
    if fmt == "json":
        click.echo(json.dumps({"summary": plan.summary(), "moves": rows}, indent=2))
        return
    cols = [
        "holder_id",
        "role",
        "site",
        "device",
        "device_asset_tag",
        "device_serial",
        "device_hostname",
        "device_key",
        "from_holder",
        "replaces_asset_tag",
        "replaces_serial",
        "replaces_hostname",
        "replaced_to",
        "kind",
        "mismatch_before",
        "mismatch_after",
        "why",
        "after",
        "saves_kg_co2e",
        "saves_gbp",
    ]
    if fmt == "csv":
        _emit(rows, "csv", cols)
        return
    for m in rows:
        click.echo(
            f"{m['holder_id']} ({m['role']}, {m['site']}) <- {m['device']} "
            f"[asset {m['device_asset_tag'] or '-'}, serial {m['device_serial'] or '-'}, "
            f"host {m['device_hostname'] or '-'}] from {m['from_holder']}: "
            f"mismatch {m['mismatch_before']} -> {m['mismatch_after']}"
        )
        if m["replaces"]:
            click.echo(
                f"    hands back [asset {m['replaces_asset_tag'] or '-'}, serial "
                f"{m['replaces_serial'] or '-'}, host {m['replaces_hostname'] or '-'}] "
                f"to {m['replaced_to']}"
            )
        click.echo(f"    why: {m['why']}")
        click.echo(f"    after: {m['after']}")
        if m["kind"] == "fix":
            click.echo(
                f"    saves vs buying new: {m['saves_kg_co2e']} kg CO2e, GBP {m['saves_gbp']:.0f}"
            )
    s = plan.summary()
    click.echo(
        f"{s['moves']} moves ({s['poor_fits_addressed']} poor fits addressed, "
        f"{s['right_sizing_moves']} right-sizing) of {s['poor_fit_holders']} poor-fit holders; "
        f"saves {s['saves_kg_co2e']:.0f} kg CO2e and GBP {s['saves_gbp']:.0f} against buying "
        f"new; solved in {s['solve_s']} s"
    )
    for note in s["notes"]:
        click.echo(f"note: {note}")


@redeploy.command("fit")
@click.option("--poor", "poor_only", is_flag=True, help="Only devices that are a poor fit.")
@format_option
@roles_option
@click.pass_context
def redeploy_fit(ctx: click.Context, poor_only: bool, fmt: str, roles_path: str | None) -> None:
    """Each held device against its holder's role profile, worst first, in numbers."""
    from kitlife.collector.cli.main import _emit
    from kitlife.collector.reports.fleet_service import fit_rows

    rows = fit_rows(_store(ctx), _roles(ctx, roles_path), _today(), poor_only)
    _emit(
        rows,
        fmt,
        ["holder_id", "role", "site", "model", "mismatch", "reasons"]
        + (["device_uid", "poor", "estimated"] if fmt != "text" else []),
    )


# -- report fleet -----------------------------------------------------------------------------
@click.group()
def report() -> None:
    """Fleet reports."""


@report.command("fleet")
@format_option
@click.option(
    "--ledger",
    is_flag=True,
    help="The carbon ledger instead of the figures: one row per owned device (text, csv).",
)
@roles_option
@click.pass_context
def report_fleet(ctx: click.Context, fmt: str, ledger: bool, roles_path: str | None) -> None:
    """Greening-government figures, decisions by model/site/age, which models last."""
    from kitlife.collector.cli.main import _emit
    from kitlife.collector.cli.output import table
    from kitlife.collector.reports.fleet_service import fleet_report_from_store
    from kitlife.collector.reports.fleet_view import (
        FIGURES_CSV_COLUMNS,
        decision_columns,
        figures_csv_rows,
    )

    rep = fleet_report_from_store(_store(ctx), _roles(ctx, roles_path), _today())
    if fmt == "json":
        click.echo(json.dumps(rep, indent=2))
        return
    if ledger:
        cols = ["device_key", "asset_tag", "serial", "hostname", "decision", "kind", "kg_co2e"]
        rows = [
            {**r, "inputs": json.dumps(r["inputs"]), "sources": "; ".join(r["sources"])}
            for r in rep["carbon_ledger"]
        ]
        _emit(rows, fmt, [*cols, "formula", "inputs", "sources"] if fmt == "csv" else cols)
        return
    if fmt == "csv":
        _emit(figures_csv_rows(rep), "csv", FIGURES_CSV_COLUMNS)
        return
    click.echo(f"Fleet report as of {rep['as_of']}")
    for f in rep["figures"]:
        v = f["value"]
        shown = (
            ", ".join(f"{k} {n}" for k, n in v.items())
            if isinstance(v, dict)
            else f"{v:,}"
            if isinstance(v, int | float)
            else v
        )
        click.echo(f"  {f['label']}: {shown} {f['unit']}")
        click.echo(f"      method: {f['method']}")
        click.echo(f"      source: {f['source']}")
    columns = decision_columns(rep)
    for view, key, title in (
        ("by_model", "model", "Decisions by model"),
        ("by_site", "site", "Decisions by site"),
        ("by_age", "age", "Decisions by age"),
    ):
        table(
            [
                [r[key], r["devices"], *(r.get(c, 0) for c in columns), r.get("poor_fit", 0)]
                for r in rep[view]
            ],
            [key, "devices", *columns, "poor fit"],
            title=f"{title} ({rep['poor_fit_devices']} poor fits in all)"
            if view == "by_model"
            else title,
        )
    table(
        [
            [
                m["model"],
                m["retired"],
                "-" if m["median_age_at_retirement_y"] is None else m["median_age_at_retirement_y"],
                m["battery_below_service_line_per_100_device_years"],
                m["disk_errors_per_100_device_years"],
            ]
            for m in rep["models_that_last"][:10]
        ],
        [
            "model",
            "retired",
            "median age at retirement (years)",
            "battery below its service line per 100 device-years",
            "disk errors per 100 device-years",
        ],
        title="Models that last (top 10 by median age at retirement)",
    )
    if rep.get("amnesty", {}).get("campaigns"):
        a = rep["amnesty"]
        routes = ", ".join(f"{k} {v}" for k, v in a["returned_by_route"].items())
        click.echo(
            f"Amnesty days: {a['people_asked']} people asked, {a['people_reminded']} reminded, "
            f"{a['people_booked']} booked; {a['devices_returned']} devices returned ({routes}); "
            f"{a['flagged_devices_still_out']} flagged devices still out"
        )
    for c in rep["credits"]:
        click.echo(c)


def register(cli: click.Group) -> None:
    for command in (simulate, assets, redeploy, report):
        cli.add_command(command)
