"""Bytes per device-day on the wire: kitlife v1 against plain JSON and JSON+zstd.

One simulated laptop day at the agent's default cadences (system metrics every
60 s, battery hourly, SMART every 4 h, inventory daily), uploaded every 15
minutes (96 batches). Each encoding carries the same readings; the JSON forms
use one object per reading, as a naive agent would send them.

    python bench/wire.py [--seed N]
"""

from __future__ import annotations

import argparse
import json
import random
import time

import zstandard

from kitlife.protocol import Batch, Series, Text, encode_batch, metric_by_name

DAY_S = 86400
UPLOAD_EVERY_S = 900

SYSTEM = {  # metric: (start, step) of a bounded random walk, every 60 s
    "cpu.busy_pct": (12.0, 6.0),
    "mem.available_bytes": (6e9, 2e8),
    "mem.used_pct": (55.0, 3.0),
    "swap.used_pct": (4.0, 0.5),
    "disk.used_pct": (61.0, 0.01),
    "uptime_s": (0.0, 60.0),
    "cpu.load1": (0.8, 0.3),
    "agent.rss_bytes": (17e6, 2e4),
    "agent.cpu_s": (0.0, 0.01),
}
CONSTANT = {
    "cpu.count_logical": 8,
    "mem.total_bytes": 16e9,
    "swap.total_bytes": 2e9,
    "disk.total_bytes": 512e9,
    "boot.time_s": 1_790_000_000,
    "agent.spool_dropped_total": 0,
}
BATTERY = {
    "battery.full_charge_capacity_mwh": 41230,
    "battery.design_capacity_mwh": 56000,
    "battery.remaining_capacity_mwh": 30000,
    "battery.cycle_count": 412,
    "battery.charge_pct": 70,
    "battery.on_ac": 1,
    "battery.voltage_mv": 12100,
}
SMART = {
    "storage.smart_passed": 1,
    "storage.power_on_hours": 8123,
    "storage.temperature_c": 38,
    "nvme.percentage_used_pct": 7,
    "nvme.available_spare_pct": 100,
    "nvme.available_spare_threshold_pct": 10,
    "nvme.media_errors": 0,
    "nvme.unsafe_shutdowns": 41,
    "nvme.data_units_written": 21_345_678,
    "nvme.critical_warning": 0,
    "nvme.error_log_entries": 3,
}
TEXTS = {
    "inv.hostname": "lt-004217",
    "inv.os_name": "Windows",
    "inv.os_version": "10.0.19045",
    "inv.cpu_model": "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz",
    "inv.vendor": "LENOVO",
    "inv.model": "20L5CTO1WW",
    "inv.serial": "PF1ABCDE",
    "inv.machine": "AMD64",
    "battery.chemistry": "LiP",
    "storage.model": "SAMSUNG MZVLB512HAJQ-000L7",
}


def day_of_readings(rng: random.Random, t0: int) -> list[tuple[str, str, int, float | str]]:
    out: list[tuple[str, str, int, float | str]] = []
    level = {m: start for m, (start, _) in SYSTEM.items()}
    for minute in range(DAY_S // 60):
        t = t0 + minute * 60
        for metric, (_, step) in SYSTEM.items():
            level[metric] = max(
                0.0,
                level[metric] + rng.uniform(-step, step)
                if metric not in ("uptime_s", "agent.cpu_s")
                else level[metric] + step,
            )
            out.append((metric, "", t, level[metric]))
        for metric, value in CONSTANT.items():
            out.append((metric, "", t, float(value)))
        if minute % 60 == 0:
            out.extend((m, "BAT0", t, float(v)) for m, v in BATTERY.items())
        if minute % 240 == 0:
            out.extend((m, "nvme0", t, float(v)) for m, v in SMART.items())
        if minute == 0:
            out.extend((m, "", t, v) for m, v in TEXTS.items())
    return out


def to_batch(readings: list[tuple[str, str, int, float | str]], seq: int) -> Batch:
    series: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
    texts = []
    for metric, comp, t, v in readings:
        m = metric_by_name(metric)
        if isinstance(v, str):
            texts.append(Text(m.id, comp, t, v))
        else:
            ts, vs = series.setdefault((metric, comp), ([], []))
            ts.append(t)
            vs.append(v)
    built = tuple(
        Series(metric_by_name(m).id, c, tuple(ts), tuple(vs), metric_by_name(m).exponent)
        for (m, c), (ts, vs) in series.items()
    )
    return Batch(
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "a1b2c3d4e5f60718",
        seq,
        readings[-1][2],
        "0.1.0",
        built,
        tuple(texts),
    )


def as_json(readings: list[tuple[str, str, int, float | str]], seq: int) -> bytes:
    return json.dumps(
        {
            "device_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "batch_id": f"a1b2c3d4e5f60718:{seq}",
            "agent_version": "0.1.0",
            "readings": [
                {"metric": m, "component": c, "t": t, "value": v} for m, c, t, v in readings
            ],
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    t0 = 1_790_000_000 - 1_790_000_000 % DAY_S
    readings = day_of_readings(rng, t0)
    windows: dict[int, list[tuple[str, str, int, float | str]]] = {}
    for r in readings:
        windows.setdefault((r[2] - t0) // UPLOAD_EVERY_S, []).append(r)
    zc = zstandard.ZstdCompressor(level=3)
    totals = {"JSON": 0, "JSON+zstd": 0, "kitlife v1": 0}
    encode_s = 0.0
    for seq, chunk in sorted(windows.items()):
        js = as_json(chunk, seq)
        totals["JSON"] += len(js)
        totals["JSON+zstd"] += len(zc.compress(js))
        start = time.perf_counter()
        totals["kitlife v1"] += len(encode_batch(to_batch(chunk, seq)))
        encode_s += time.perf_counter() - start
    ours = totals["kitlife v1"]
    print(
        f"one device-day: {len(readings)} readings in {len(windows)} batches "
        f"(upload every {UPLOAD_EVERY_S // 60} min)"
    )
    print(f"{'encoding':<12} {'bytes/day':>10} {'bytes/reading':>14} {'x kitlife':>10}")
    for name, size in totals.items():
        print(f"{name:<12} {size:>10,} {size / len(readings):>14.2f} {size / ours:>10.1f}")
    print(
        f"72,000 devices: kitlife v1 {ours * 72000 / 1e9:.2f} GB/day, "
        f"JSON {totals['JSON'] * 72000 / 1e9:.1f} GB/day"
    )
    print(f"encode time: {encode_s / len(windows) * 1e3:.2f} ms per batch")


if __name__ == "__main__":
    main()
