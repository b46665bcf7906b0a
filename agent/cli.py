"""``kitlife-agent``: the laptop side.

The commands parse and print; the work lives in the modules they call.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from kitlife import __version__
from kitlife.agent.config import AgentConfig, ConfigError, load_config
from kitlife.agent.credentials import NotEnrolledError, load_credentials, save_credentials
from kitlife.agent.spool import Spool, SpoolError

SPOOL_FILE = "spool.db"


def _config(ctx: click.Context) -> AgentConfig:
    config: AgentConfig = ctx.obj
    return config


def _spool(config: AgentConfig) -> Spool:
    try:
        return Spool(config.state_dir / SPOOL_FILE, config.spool_max_bytes)
    except (SpoolError, OSError) as err:
        raise click.ClickException(str(err)) from err


@click.group()
@click.version_option(__version__, prog_name="kitlife-agent")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    allow_from_autoenv=False,  # resolved with every other setting in load_config
    help="TOML config file [default: the system path; env KITLIFE_AGENT_CONFIG].",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    allow_from_autoenv=False,
    help="Where the key and spool live [env KITLIFE_AGENT_STATE_DIR].",
)
@click.option("-v", "--verbose", is_flag=True, help="Log to stderr at debug level.")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, state_dir: Path | None, verbose: bool
) -> None:
    """kitlife agent: device health gathered, spooled and uploaded.

    Every setting can also come from the environment as KITLIFE_AGENT_<KEY>
    (KITLIFE_AGENT_UPLOAD_INTERVAL_S ...), and every command option as
    KITLIFE_AGENT_<COMMAND>_<OPTION>; see docs/agent.md.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        ctx.obj = load_config(config_path, {"state_dir": state_dir})
    except ConfigError as err:
        raise click.UsageError(str(err)) from err


@cli.command()
@click.option("--url", required=True, help="The collector's base URL, e.g. https://kitlife.example")
@click.option("--token", required=True, help="An enrolment token from `kitlife token create`.")
@click.option("--force", is_flag=True, help="Enrol again even if this device has a key.")
@click.option(
    "--allow-http",
    is_flag=True,
    help="Allow a plain-http collector (a lab or loopback demo); remembered for uploads.",
)
@click.pass_context
def enroll(ctx: click.Context, url: str, token: str, force: bool, allow_http: bool) -> None:
    """Trade an enrolment token for this device's own key (kept mode 0600)."""
    from kitlife.agent.uploader import EnrolError
    from kitlife.agent.uploader import enroll as do_enroll

    config = _config(ctx)
    if not force:
        try:
            creds = load_credentials(config.state_dir)
        except NotEnrolledError:
            pass
        else:
            raise click.ClickException(
                f"already enrolled as {creds.device_id} with {creds.collector_url}; "
                "use --force to enrol again"
            )
    inventory = _facts()
    try:
        creds = do_enroll(config, url, token, inventory, allow_http)
    except EnrolError as err:
        raise click.ClickException(str(err)) from err
    path = save_credentials(config.state_dir, creds)
    click.echo(f"enrolled as {creds.device_id}; key stored in {path}")


def _facts() -> dict[str, str]:
    """What enrolment tells the collector: hostname, OS, CPU, and the hardware's identity.

    Vendor, model and serial let the collector recognise a laptop that was
    reimaged or whose agent state was wiped, and give it back its device and
    history instead of a second device (docs/collector.md, "Enrolling
    again"). A serial that cannot be read (not root on Linux) is left out.
    """
    from kitlife.agent.platforms import current_platform
    from kitlife.agent.sources.hardware import collect_inventory
    from kitlife.agent.sources.system import collect_basic_inventory

    facts = {r.metric: str(r.value) for r in collect_basic_inventory().readings}
    wanted = {"inv.vendor", "inv.model", "inv.serial"}
    for r in collect_inventory(current_platform()).readings:
        if r.metric in wanted and not r.component and str(r.value).strip():
            facts[r.metric] = str(r.value).strip()
    return facts


def _upload_spooled(config: AgentConfig, collect: bool) -> None:
    """Optionally collect a cycle, then seal and upload everything spooled.

    Exits 1 when the upload fails; the data stays spooled for the next try.
    """
    from kitlife.agent.cycle import collect_into, default_sources
    from kitlife.agent.uploader import UploadError, upload_pending

    try:
        creds = load_credentials(config.state_dir)
    except NotEnrolledError as err:
        raise click.ClickException(str(err)) from err
    with _spool(config) as spool:
        if collect:
            collect_into(spool, default_sources(0.5, config.report_crash_names))
        spool.seal_all(creds.device_id, __version__, config.batch_max_points)
        try:
            report = upload_pending(spool, creds, config)
        except UploadError as err:
            spool.set_meta("last_error", str(err))
            stats = spool.stats()
            click.echo(f"upload failed: {err}; {stats.batches} batch(es) stay spooled", err=True)
            sys.exit(1)
        spool.set_meta("last_error", "")
        from kitlife.agent.childjob import after_upload

        after_upload(spool, report.config)
    click.echo(
        f"uploaded {len(report.acked)} batch(es)"
        + (f", {len(report.rejected)} rejected" if report.rejected else "")
    )


@cli.command()
@click.pass_context
def once(ctx: click.Context) -> None:
    """Collect one cycle, spool it, upload everything spooled.

    Exits 1 when the upload fails; the data stays spooled for the next try.
    """
    _upload_spooled(_config(ctx), collect=True)


@cli.command()
@click.pass_context
def upload(ctx: click.Context) -> None:
    """Upload what is spooled, collecting nothing (the service runs this as a child).

    Exits 1 when the upload fails; the data stays spooled.
    """
    _upload_spooled(_config(ctx), collect=False)


@cli.command()
@click.argument("score", type=click.IntRange(1, 5))
@click.option(
    "--reason",
    type=click.Choice(
        ["slow", "battery", "crashes", "heat-noise", "screen-keyboard", "storage", "other"]
    ),
    default=None,
    help="The main reason, from a fixed list (no free text leaves the laptop).",
)
@click.pass_context
def feedback(ctx: click.Context, score: int, reason: str | None) -> None:
    """Rate this laptop from 1 (poor) to 5 (great); it goes with the next upload."""
    from kitlife.agent.feedback import record_feedback

    with _spool(_config(ctx)) as spool:
        record_feedback(spool, score, reason, int(time.time()))
    click.echo(f"Thank you: your rating of {score}/5 will be sent with the next upload.")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def _describe(batch: Any) -> list[str]:
    from kitlife.protocol import metric_by_id

    lines = [f"batch {batch.batch_id} from device {batch.device_id}, {batch.n_points} reading(s)"]
    for s in batch.series:
        m = metric_by_id(s.metric_id)
        name, unit, what = (m.name, m.unit, m.description) if m else (f"#{s.metric_id}", "", "")
        where = f" [{s.component}]" if s.component else ""
        values = ", ".join(_number(v) for v in s.values[-5:])
        more = f" (last 5 of {len(s.values)})" if len(s.values) > 5 else ""
        lines.append(f"  {name}{where}: {values} {unit}{more}  - {what}")
    for t in batch.texts:
        m = metric_by_id(t.metric_id)
        where = f" [{t.component}]" if t.component else ""
        lines.append(
            f"  {m.name if m else t.metric_id}{where}: {t.value!r}  - {m.description if m else ''}"
        )
    for u in batch.unavailable:
        where = f" [{u.component}]" if u.component else ""
        lines.append(f"  {u.source}{where}: unavailable ({u.reason})")
    return lines


def _batch_dict(batch: Any) -> dict[str, Any]:
    from kitlife.protocol import metric_by_id

    def name(mid: int) -> str:
        m = metric_by_id(mid)
        return m.name if m else f"#{mid}"

    return {
        "batch_id": batch.batch_id,
        "device_id": batch.device_id,
        "agent_version": batch.agent_version,
        "series": [
            {
                "metric": name(s.metric_id),
                "component": s.component,
                "timestamps_s": list(s.timestamps_s),
                "values": list(s.values),
            }
            for s in batch.series
        ],
        "texts": [
            {"metric": name(t.metric_id), "component": t.component, "t_s": t.t_s, "value": t.value}
            for t in batch.texts
        ],
        "unavailable": [
            {"source": u.source, "component": u.component, "reason": u.reason}
            for u in batch.unavailable
        ],
    }


def pending_batches(config: AgentConfig, collect: bool) -> list[Any]:
    """Every batch the next upload would send: the sealed ones, then the unsealed readings."""
    from kitlife.agent.cycle import collect_into, default_sources
    from kitlife.protocol import decode_batch

    try:
        device_id = load_credentials(config.state_dir).device_id
    except NotEnrolledError:
        device_id = "(not enrolled)"
    with _spool(config) as spool:
        if collect:
            collect_into(spool, default_sources(0.5, config.report_crash_names))
        batches = [decode_batch(body) for _, body in spool.pending()]
        preview = spool.preview(device_id, __version__, config.batch_max_points)
    if preview is not None:
        batches.append(preview)
    return batches


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The same, as data.")
@click.option(
    "--collect/--no-collect",
    default=True,
    show_default=True,
    help="Take one reading of every source first, as the next cycle would.",
)
@click.pass_context
def show(ctx: click.Context, as_json: bool, collect: bool) -> None:
    """Print exactly what the next upload would contain, decoded."""
    batches = pending_batches(_config(ctx), collect)
    if as_json:
        click.echo(json.dumps([_batch_dict(b) for b in batches], indent=2))
        return
    if not batches:
        click.echo("nothing spooled: the next upload would send nothing")
    else:
        click.echo(
            "Everything the next upload would send, and nothing else. Why each field is "
            "collected: docs/privacy.md. No file names, paths, URLs, window titles, user "
            "names, keystrokes or free text are ever sent."
        )
    for batch in batches:
        click.echo("\n".join(_describe(batch)))


def status_dict(config: AgentConfig) -> dict[str, Any]:
    from kitlife.agent.service import status_dict as service_status

    return service_status(config)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="As data.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Enrolment, spool depth and drops, the last upload and the next due jobs."""
    from kitlife.agent.service import format_status

    info = status_dict(_config(ctx))
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo("\n".join(format_status(info)))


@cli.command()
@click.option(
    "--in-process-upload",
    is_flag=True,
    hidden=True,
    help="Upload from the loop's own process instead of a child (costs resident memory).",
)
@click.pass_context
def run(ctx: click.Context, in_process_upload: bool) -> None:
    """Run in the foreground as the service: sample, spool, upload, until stopped."""
    from kitlife.agent.service import run_service

    sys.exit(run_service(_config(ctx), in_process_upload=in_process_upload))


def main() -> None:
    cli(auto_envvar_prefix="KITLIFE_AGENT")
