"""The short-lived child of ``kitlife-agent run``: hardware probes, then the upload.

Run as ``python -m kitlife.agent.childjob COMMAND`` with the agent's resolved
configuration as JSON on stdin; prints exactly one JSON object on stdout and
exits. Why a child: httpx (for the upload) and the hardware parsers cost the
resident loop memory it needs for a few seconds an hour; a child imports them,
does the work, and gives all of it back to the OS when it exits. A crash or
hang in a child is contained: the loop logs it, kills a child that overruns,
and carries on. One child an hour does both jobs: the hardware sources due
before the next upload run first, so their readings leave in the same upload.

Commands:

``upload [NAME..]``  run those hardware sources and spool their readings, then
                     seal the spooled readings and send every sealed batch, then
                     show the collector's due amnesty reminders (agent/messages.py);
                     ``{"ok", "points", "acked", "rejected", "reminders", "config",
                     "retry_after_s", "error"}``
``probe NAME..``     only the sources (the device is not enrolled yet);
                     ``{"ok", "points"}``

The child never repairs the spool (``repair=False``): only the resident loop
may set a damaged file aside, because it holds the file open.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kitlife import __version__
from kitlife.agent.config import AgentConfig
from kitlife.agent.readings import SourceResult
from kitlife.agent.spool import SPOOL_FILE, Spool, SpoolError

if TYPE_CHECKING:  # the resident loop imports this module: keep its imports few
    from kitlife.agent.credentials import Credentials

log = logging.getLogger(__name__)


def config_to_json(config: AgentConfig) -> str:
    """The resolved config, so the child sees what the loop sees (incl. collector values)."""
    data = {
        f.name: (str(v) if isinstance(v := getattr(config, f.name), Path) else v)
        for f in fields(config)
        if f.name != "pinned"  # the loop's business: the child applies no collector config
    }
    return json.dumps(data)


def config_from_json(text: str) -> AgentConfig:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("config must be a JSON object")
    return AgentConfig().with_overrides(data, "parent")


def skip_httpx_cli() -> None:
    """Keep httpx from importing its command-line tool, which an upload never runs.

    ``import httpx`` tries ``httpx._main`` (click, rich, pygments) and falls
    back to a stub when those are missing; where they happen to be installed
    (click is one of ours) that costs the upload child ~45 ms of CPU and a few
    MB on every pass, every 15 minutes on every laptop. A ``None`` entry in
    :data:`sys.modules` makes that import fail at once, so httpx takes its own
    fallback. Nothing else changes: the client code is the same either way.
    """
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def upload(config: AgentConfig, probes: list[str] | None = None) -> dict[str, Any]:
    """Run and spool ``probes``, then one upload pass; never raises for an expected failure."""
    skip_httpx_cli()
    from kitlife.agent.credentials import NotEnrolledError, load_credentials
    from kitlife.agent.uploader import UploadError, upload_pending

    points = 0
    if probes:
        probed = probe(config, probes)
        if not probed["ok"]:
            return {**probed, "retry_after_s": None}
        points = probed["points"]
    try:
        creds = load_credentials(config.state_dir)
    except NotEnrolledError as err:
        return {"ok": False, "points": points, "error": str(err), "retry_after_s": None}
    try:
        spool = Spool(config.state_dir / SPOOL_FILE, config.spool_max_bytes, repair=False)
    except SpoolError as err:
        return {"ok": False, "error": str(err), "retry_after_s": None}
    with spool:
        try:
            spool.seal_all(creds.device_id, __version__, config.batch_max_points)
            report = upload_pending(spool, creds, config)
        except UploadError as err:
            spool.set_meta("last_error", str(err)[:500])
            return {
                "ok": False,
                "points": points,
                "error": str(err),
                "retry_after_s": err.retry_after_s,
            }
        spool.set_meta("last_error", "")
        after_upload(spool, report.config)
        return {
            "ok": True,
            "points": points,
            "acked": len(report.acked),
            "rejected": len(report.rejected),
            "reminders": show_reminders(config, creds),
            "config": report.config,
            "error": "",
            "retry_after_s": None,
        }


def after_upload(spool: Spool, collector_config: dict[str, Any]) -> None:
    """Keep the collector's rating schedule and ask the user when it is due.

    Here, in the short-lived child, so the resident loop never loads the
    notification code.
    """
    from kitlife.agent.feedback import maybe_prompt, remember_collector_config
    from kitlife.agent.notify import notify
    from kitlife.agent.platforms import current_platform

    remember_collector_config(spool, collector_config)
    maybe_prompt(spool, int(time.time()), lambda: notify(current_platform()))


def show_reminders(config: AgentConfig, creds: Credentials) -> int:
    """The collector's due amnesty reminders for this laptop's holder, shown on its desktop."""
    from kitlife.agent.messages import deliver
    from kitlife.agent.uploader import UploadError, make_client

    try:  # the upload itself has succeeded: nothing here may turn it into a failure
        client = make_client(config, creds.collector_url, creds.allow_http)
    except UploadError as err:
        log.warning("reminders not fetched: %s", err)
        return 0
    with client:
        return len(deliver(client, creds.device_key))


def probe(config: AgentConfig, names: list[str]) -> dict[str, Any]:
    """Run the named hardware sources and spool what they found, in one commit."""
    from kitlife.agent.cycle import run_source
    from kitlife.agent.platforms import current_platform
    from kitlife.agent.sources.table import BY_NAME, Options, Where

    platform = current_platform()
    options = Options(report_crash_names=config.report_crash_names)
    results = []
    for name in names:
        source = BY_NAME.get(name)
        if source is None or source.where is not Where.CHILD:
            result = SourceResult(name)
            result.missing("not a hardware source of this agent version")
            results.append(result)
            continue
        results.append(run_source(name, source.start(platform, options)))
    try:
        with Spool(config.state_dir / SPOOL_FILE, config.spool_max_bytes, repair=False) as spool:
            points = spool.add(results, int(time.time()))
    except SpoolError as err:
        return {"ok": False, "error": str(err)}
    return {"ok": True, "points": points}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args:
        print(json.dumps({"ok": False, "error": "no command"}))
        return 2
    command, rest = args[0], args[1:]
    out: dict[str, Any]
    try:
        config = config_from_json(sys.stdin.read())
        if command == "upload":
            out = upload(config, rest)
        elif command == "probe":
            out = probe(config, rest)
        else:
            out = {"ok": False, "error": f"unknown command {command!r}"}
    except Exception as err:  # the parent must always get one JSON line
        log.exception("child job %s failed", command)
        out = {"ok": False, "error": f"{type(err).__name__}: {err}"[:500]}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
