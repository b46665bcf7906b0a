"""``kitlife inspect FILE...``: judge captured outputs offline, the way a live device is judged.

For a technician checking a returned laptop, or a machine without the agent: each file
goes through the agent's own parser and the readings it emits (exactly what the agent
would upload), then the collector's scorer. Nothing is stored and nothing is sent.

Accepted captures, told apart by their content (not their name):

* ``smartctl -j -a`` / ``-x`` JSON, or the classic ``smartctl -a`` text;
* ``powercfg /batteryreport /xml``, ``ioreg -r -c AppleSmartBattery -a`` (plist),
  ``system_profiler SPPowerDataType -json`` (or its text form), ``upower -i``;
* a sysfs ``power_supply`` folder (the folder itself, or one supply such as ``BAT0``);
* a CSV history of readings, ``time,metric,value[,component]`` (time an ISO date or
  date-time, or UTC epoch seconds): the daily means give the trend and the forecast.

This is the one collector module allowed to import the agent, and only its pure parsers
(``kitlife.agent.parsers``) and reading type; the exception is declared in
pyproject.toml's import contracts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from kitlife.agent.parsers._common import ParseError, as_text
from kitlife.agent.parsers.emit import emit_battery, emit_disk
from kitlife.agent.parsers.ioreg import parse_ioreg_battery
from kitlife.agent.parsers.powercfg import parse_batteryreport
from kitlife.agent.parsers.smartctl import ata_fill, parse_smartctl
from kitlife.agent.parsers.sysfs_battery import read_power_supply_dir
from kitlife.agent.parsers.system_profiler import MacPower, parse_sppower, parse_sppower_text
from kitlife.agent.parsers.upower import parse_upower
from kitlife.agent.readings import Reading, SourceResult
from kitlife.collector.policy.scoring import DeviceAssessment, DeviceHistory, score_device
from kitlife.collector.policy.scoring.history import day_number
from kitlife.protocol import metric_by_name

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_HISTORY_ROWS = 2_000_000
_HISTORY_HEADER = ("time", "metric", "value")


class CaptureError(ValueError):
    """A file ``kitlife inspect`` cannot read: the message is one line, naming the file."""


@dataclass(slots=True)
class Capture:
    """What one file gave: its kind, the readings the agent would send, and daily series."""

    path: str
    kind: str
    readings: list[Reading] = field(default_factory=list)
    daily: dict[tuple[str, str], list[tuple[int, float]]] = field(default_factory=dict)
    last_day: int | None = None


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CaptureError(f"{path}: {size} bytes, more than {MAX_FILE_BYTES} (not a capture)")
        return path.read_bytes()
    except OSError as err:
        raise CaptureError(f"{path}: {err.strerror or err}") from err


def _disk_name(data: bytes, path: Path) -> str:
    """The device's own name (``/dev/sda`` -> ``sda``) as the agent labels it, else the stem."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return path.stem
    device = doc.get("device") if isinstance(doc, dict) else None
    name = device.get("name") if isinstance(device, dict) else None
    if isinstance(name, str) and name.strip("/"):
        return name.rstrip("/").rsplit("/", 1)[-1]
    return path.stem


def _battery_readings(packs: Sequence[Any]) -> list[Reading]:
    out = SourceResult("battery")
    for pack in packs:
        emit_battery(out, pack)
    return out.readings


def _mac_power_readings(power: MacPower) -> list[Reading]:
    """system_profiler's view, emitted as the macOS agent emits it (its own % and label)."""
    out = SourceResult("battery")
    if power.battery is not None:
        emit_battery(out, power.battery)
        out.add("battery.os_max_capacity_pct", power.max_capacity_pct, power.battery.name)
        out.add("battery.os_condition", power.condition, power.battery.name)
    return out.readings


def _parse_history(text: str, path: Path) -> Capture:
    """``time,metric,value[,component]`` rows -> the latest reading of each metric and the
    daily mean of each numeric one."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header[:3]) != _HISTORY_HEADER:
        raise CaptureError(f"{path}: a history needs the header time,metric,value[,component]")
    sums: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(dict)
    latest: dict[tuple[str, str], tuple[float, float | str]] = {}
    for line, row in enumerate(reader, start=2):
        if line > MAX_HISTORY_ROWS:
            raise CaptureError(f"{path}: more than {MAX_HISTORY_ROWS} rows")
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 3:
            raise CaptureError(f"{path}: line {line}: needs time, metric and value")
        when, metric, raw = (cell.strip() for cell in row[:3])
        component = row[3].strip() if len(row) > 3 else ""
        try:
            metric_by_name(metric)
        except KeyError:
            raise CaptureError(f"{path}: line {line}: unknown metric {metric!r}") from None
        stamp = _timestamp(when, path, line)
        value: float | str
        try:
            value = float(raw)
        except ValueError:
            value = raw
        if isinstance(value, float) and not math.isfinite(value):
            raise CaptureError(f"{path}: line {line}: value {raw!r} is not finite")
        key = (metric, component)
        if key not in latest or stamp >= latest[key][0]:
            latest[key] = (stamp, value)
        if isinstance(value, float):
            day = int(stamp // 86400)
            sums[key].setdefault(day, []).append(value)
    if not latest:
        raise CaptureError(f"{path}: the history has no rows")
    capture = Capture(str(path), "history")
    capture.readings = [Reading(m, v, c) for (m, c), (_, v) in sorted(latest.items())]
    capture.daily = {
        key: [(day, sum(vs) / len(vs)) for day, vs in sorted(days.items())]
        for key, days in sums.items()
    }
    capture.last_day = max(int(stamp // 86400) for stamp, _ in latest.values())
    return capture


def _timestamp(text: str, path: Path, line: int) -> float:
    """UTC epoch seconds from epoch seconds, an ISO date or an ISO date-time."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CaptureError(f"{path}: line {line}: time {text!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def read_capture(path: Path) -> Capture:
    """Parse one capture (or folder) with the agent's parser for its format."""
    if path.is_dir():
        supplies = read_power_supply_dir(path)
        if not supplies.batteries:
            raise CaptureError(f"{path}: no battery in this power_supply folder")
        return Capture(str(path), "sysfs power_supply", _battery_readings(supplies.batteries))
    data = _read_bytes(path)
    try:
        return _parse_file(data, path)
    except ParseError as err:
        raise CaptureError(f"{path}: {err}") from err


def _parse_file(data: bytes, path: Path) -> Capture:
    text = as_text(data)
    head = text.lstrip()[:4096]
    if head.startswith("<") or data.startswith(b"bplist"):
        if "BatteryReport" in head:
            return Capture(str(path), "powercfg", _battery_readings(parse_batteryreport(text)))
        packs = [p for p in parse_ioreg_battery(data) if p.has_capacity()]
        return Capture(str(path), "ioreg", _battery_readings(packs))
    if head.startswith("{"):
        if "SPPowerDataType" in head:
            return Capture(str(path), "system_profiler", _mac_power_readings(parse_sppower(text)))
        out = SourceResult("storage")
        emit_disk(out, _disk_name(data, path), ata_fill(parse_smartctl(text)))
        return Capture(str(path), "smartctl", out.readings)
    if "=== START OF" in head:
        out = SourceResult("storage")
        emit_disk(out, path.stem, ata_fill(parse_smartctl(text)))
        return Capture(str(path), "smartctl", out.readings)
    if "Battery Information:" in text or "AC Charger Information:" in text:
        return Capture(str(path), "system_profiler", _mac_power_readings(parse_sppower_text(text)))
    if "native-path:" in head or "energy-full:" in head:
        pack = parse_upower(text)
        if pack is None:
            raise CaptureError(f"{path}: upower device is not a system battery")
        return Capture(str(path), "upower", _battery_readings([pack]))
    if head.lower().startswith("time,"):
        return _parse_history(text, path)
    raise CaptureError(f"{path}: not a capture kitlife inspect reads (see kitlife inspect --help)")


@dataclass(frozen=True, slots=True)
class Inspection:
    """Every file's kind and readings, and the scorer's verdict on all of them together."""

    captures: list[Capture]
    assessment: DeviceAssessment
    now: dt.date

    def to_dict(self) -> dict[str, Any]:
        a = self.assessment.to_dict()
        return {
            "now": self.now.isoformat(),
            "files": [{"path": c.path, "kind": c.kind} for c in self.captures],
            "readings": [
                {"metric": r.metric, "component": r.component, "value": r.value}
                for c in self.captures
                for r in c.readings
            ],
            "components": a["components"],
            "action": a["action"],
            "score": a["score"],
            "score_as_is": a["score_as_is"],
            "repairs": a["repairs"],
            "reasons": a["reasons"],
            "data_quality": a["data_quality"],
        }


def inspect_files(
    paths: Sequence[Path], *, now: dt.date | None = None, horizon_months: float | None = None
) -> Inspection:
    """Read every capture, merge their readings into one device, and score it.

    ``now`` defaults to the last day of a history file, else today (UTC)."""
    captures = [read_capture(p) for p in paths]
    latest: dict[tuple[str, str], float | str] = {}
    daily: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for capture in captures:
        daily.update(capture.daily)
        for r in capture.readings:
            latest[(r.metric, r.component)] = r.value
    last_days = [c.last_day for c in captures if c.last_day is not None]
    if now is None:
        now = (
            dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + max(last_days))
            if last_days
            else dt.datetime.now(dt.UTC).date()
        )
    today = day_number(now)
    daily = {key: [(d, v) for d, v in pairs if d <= today] for key, pairs in daily.items()}
    history = DeviceHistory("inspect", latest, daily)
    assessment = score_device(history, now=now, horizon_months=horizon_months)
    return Inspection(captures, assessment, now)


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return "-" if value is None else "never"
    return f"{value:.{digits}f}"


def render_text(result: Inspection) -> str:
    """The verdict as a person reads it: one line per component, then the action and why."""
    a = result.assessment
    lines = [f"{c.path}: {c.kind}, {len(c.readings)} readings" for c in result.captures]
    lines.append("")
    for c in a.components:
        level = f"{_fmt(c.level, 1)} {c.level_unit}".strip() if c.level is not None else "-"
        months = ""
        if c.months_to_threshold is not None:
            months = (
                f"; threshold in {_fmt(c.months_to_threshold)} months "
                f"({_fmt(c.months_low)}-{_fmt(c.months_high)})"
            )
        lines.append(f"{c.component} {c.name}: {c.status.value}, {level}{months}")
        if c.forecast is not None:
            low, mid, high = c.forecast.at(a.horizon_months)
            lines.append(
                f"  forecast in {a.horizon_months:g} months: {mid:.1f} "
                f"({c.forecast.interval:.0%} interval {low:.1f}-{high:.1f})"
            )
    lines.append("")
    lines.append(f"action: {a.action.value} (score {a.score})")
    lines.extend(f"  - {r.text}" for r in a.reasons)
    lines.extend(f"  ! {n}" for n in a.data_quality)
    return "\n".join(lines)


@click.command("inspect")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints the readings, each component's verdict and the forecast with its interval.",
)
@click.option(
    "--now",
    "now_text",
    metavar="YYYY-MM-DD",
    help="Judge as of this day (default: the last day of a history file, else today).",
)
@click.option("--horizon-months", type=click.FloatRange(1, 120), help="Planning horizon.")
def inspect(
    files: tuple[Path, ...], fmt: str, now_text: str | None, horizon_months: float | None
) -> None:
    """Judge captured outputs offline: smartctl JSON/text, battery reports (powercfg XML,
    ioreg plist, system_profiler, upower, a sysfs power_supply folder) and a CSV history
    (time,metric,value[,component]), through the agent's parsers and the collector's scorer.
    Nothing is stored or sent."""
    now = None
    if now_text is not None:
        try:
            now = dt.date.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(
                f"{now_text!r} is not YYYY-MM-DD", param_hint="--now"
            ) from None
    try:
        result = inspect_files(files, now=now, horizon_months=horizon_months)
    except CaptureError as err:
        raise click.UsageError(str(err)) from err
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(render_text(result))
