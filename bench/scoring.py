"""Full-fleet rescore benchmark: 72,000 synthetic devices with 18 months of daily rollups.

Builds the fleet in memory (battery fade with time on battery, NVMe wear, SATA
sector growth on a share of HDD/SATA machines), then times score_fleet.

    .venv/bin/python bench/scoring.py [--devices 72000] [--days 548] [--workers 2]
"""

from __future__ import annotations

import argparse
import gc
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date

import numpy as np

from kitlife.collector.policy.scoring import DailySeries, DeviceHistory, iter_scores, score_fleet
from kitlife.collector.policy.scoring.history import day_number

NOW = date(2026, 11, 25)
MODELS = (
    ("Dell Inc.", "Latitude 5420"),
    ("LENOVO", "ThinkPad T14 Gen 2"),
    ("HP", "EliteBook 840 G7"),
    ("Microsoft Corporation", "Surface Laptop 3"),
)


def build_fleet(n_devices: int, n_days: int, seed: int = 7) -> list[DeviceHistory]:
    rng = np.random.default_rng(seed)
    end = day_number(NOW)
    days = np.arange(end - n_days + 1, end + 1, dtype=np.float64)
    t = days - days[0]
    fleet: list[DeviceHistory] = []
    for i in range(n_devices):
        design = 50000.0
        start_health = rng.uniform(0.75, 1.0)
        fade_per_day = rng.uniform(0.0, 0.0008)
        full = design * (start_health - fade_per_day * t + rng.normal(0, 0.004, t.size))
        hours = rng.choice([0.1, 1.0, 3.0])
        unplugged = np.cumsum(np.full(t.size, hours * 3600.0))
        vendor, model = MODELS[i % len(MODELS)]
        latest: dict[tuple[str, str], float | str] = {
            ("battery.design_capacity_mwh", "BAT0"): design,
            ("battery.full_charge_capacity_mwh", "BAT0"): float(full[-1]),
            ("battery.cycle_count", "BAT0"): float(rng.integers(50, 1200)),
            ("battery.unplugged_s", "BAT0"): float(unplugged[-1]),
            ("inv.os_name", ""): "Windows",
            ("inv.os_version", ""): "10.0.19045" if i % 3 == 0 else "10.0.22631",
            ("inv.vendor", ""): vendor,
            ("inv.model", ""): model,
            ("mem.used_pct", ""): float(rng.uniform(30, 95)),
        }
        daily: dict[tuple[str, str], DailySeries] = {
            ("battery.full_charge_capacity_mwh", "BAT0"): DailySeries(days, full),
            ("battery.unplugged_s", "BAT0"): DailySeries(days, unplugged),
        }
        if i % 5:
            used = np.floor(rng.uniform(0, 60) + rng.uniform(0, 0.05) * t)
            latest |= {
                ("storage.smart_passed", "nvme0"): 1.0,
                ("nvme.percentage_used_pct", "nvme0"): float(used[-1]),
                ("nvme.available_spare_pct", "nvme0"): 100.0,
                ("nvme.available_spare_threshold_pct", "nvme0"): 10.0,
                ("nvme.critical_warning", "nvme0"): 0.0,
                ("nvme.media_errors", "nvme0"): 0.0,
            }
            daily[("nvme.percentage_used_pct", "nvme0")] = DailySeries(days, used)
        else:
            growth = rng.choice([0.0, 0.0, 0.0, 0.02])
            sectors = np.floor(growth * t)
            latest |= {
                ("storage.smart_passed", "sda"): 1.0,
                ("ata.reallocated_sectors", "sda"): float(sectors[-1]),
                ("ata.reported_uncorrect", "sda"): 0.0,
                ("ata.command_timeout", "sda"): 0.0,
                ("ata.pending_sectors", "sda"): 0.0,
                ("ata.offline_uncorrectable", "sda"): 0.0,
            }
            daily[("ata.reallocated_sectors", "sda")] = DailySeries(days, sectors)
        fleet.append(DeviceHistory(f"dev{i:05d}", latest, daily))
    return fleet


def _score_shard(args: tuple[int, int, int, bool]) -> tuple[int, float, float]:
    """Build one shard in this process (as a worker would read its shard) and time scoring it.

    ``stream`` consumes iter_scores and keeps only a count, as a store writing each result
    would; otherwise score_fleet keeps every assessment alive in one list.
    """
    n_devices, n_days, seed, stream = args
    fleet = build_fleet(n_devices, n_days, seed)
    # The fleet is built once and never changes: move it out of the cyclic collector's
    # generations so allocation-triggered collections do not rescan 72,000 histories.
    gc.collect()
    gc.freeze()
    began, began_cpu = time.perf_counter(), time.process_time()
    if stream:
        count = sum(1 for _ in iter_scores(fleet, now=NOW))
    else:
        count = len(score_fleet(fleet, now=NOW))
    return count, time.perf_counter() - began, time.process_time() - began_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=72000)
    parser.add_argument("--days", type=int, default=548)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--list",
        action="store_true",
        help="keep every assessment in one list (score_fleet) instead of streaming",
    )
    args = parser.parse_args()
    workers = max(args.workers, 1)
    shard = -(-args.devices // workers)
    sizes = [min(shard, args.devices - i * shard) for i in range(workers)]
    if workers == 1:
        results = [_score_shard((sizes[0], args.days, 0, not args.list))]
    else:
        with ProcessPoolExecutor(workers) as pool:
            jobs = [(n, args.days, k, not args.list) for k, n in enumerate(sizes)]
            results = list(pool.map(_score_shard, jobs))
    count = sum(r[0] for r in results)
    wall = max(r[1] for r in results)
    cpu = sum(r[2] for r in results)
    mode = "score_fleet list" if args.list else "iter_scores stream"
    print(f"{count} devices x {args.days} days of daily rollups, {workers} process(es), {mode}")
    print(
        f"full rescore: {wall:.2f} s wall (slowest shard); throughput {count / wall:,.0f} "
        f"devices/s; CPU {1000 * cpu / count:.3f} ms per device "
        f"({cpu / workers:.2f} s per process if each had a free core)"
    )


if __name__ == "__main__":
    main()
