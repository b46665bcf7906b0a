"""A realistic synthetic estate, for demos, benchmarks and every fleet-level test.

Two halves, kept apart on purpose:

* :func:`generate_estate` and :func:`device_batches` are pure: given a seed
  they always return the same devices, the same asset register and the same
  batches. Nothing here touches a database.
* :func:`populate` writes an estate through the real storage path, exactly as
  agents would: it spends an enrolment token per device (``Store.enroll``) and
  stores real encoded batches (``encode_batch`` then ``Store.ingest``), one
  batch per device per ``batch_days`` of simulated time holding daily points.

What is modelled, and on what evidence (see docs/fleet.md, "Simulate"):

* models: real laptop models (vendor + model name) from the Boavizta
  product-footprint table, business lines only, 2019 onward (Latitude, ThinkPad,
  EliteBook, ProBook, MacBook, Surface), bought from their report year on;
* battery: capacity fades with cycles, linear then accelerating
  (health = 1 - a*c - b*c^2 - calendar fade, c in thousands of cycles), with
  a and b varying per pack so that a typical pack is near 80 % at 1000 cycles
  (Apple's and HP's long-life rating, REFERENCES.md "Battery");
* storage: NVMe "percentage used" grows with host writes against a rated
  endurance (TBW ~ 600 x capacity in TB); failures start at a rate in line
  with Backblaze's published annual failure rates (about 1 %/yr for SSDs,
  1.5-2 %/yr for hard drives) and then show as growing media errors or
  reallocated sectors; about 4 % of healthy hard drives carry a small static
  reallocated count, as Backblaze found among operational drives;
* OS: Windows 11 24H2 / 23H2, a remainder of Windows 10 22H2 (out of support:
  thresholds.csv ``os.windows10_end_of_support``), macOS on Apple hardware,
  Ubuntu LTS for some developers; every release one ``os_support_end`` knows;
* pressure: CPU busy, memory used and swap used follow the holder's role
  workload against the device's RAM and cores, four working-hour samples per
  weekday;
* the asset register: a pseudonymous holder, role, site, purchase date and
  route (new / refurbished / remanufactured), warranty end, ~3 % spare stock,
  retired devices with their end-of-life route, and ~5 % deliberately poor
  fits (a demanding role holding a light device, or a field worker holding a
  worn battery).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from kitlife.collector.policy.os_support import OsIdentity
from kitlife.collector.policy.register import REGISTER_COLUMNS
from kitlife.collector.policy.scoring.carbon import BoaviztaIndex, default_boavizta
from kitlife.protocol import Batch, Series, Text, encode_batch, metric_by_name

DAY_S = 86400
#: Sites and the region (logistics cluster) each belongs to; the default
#: roles.toml lists the same sites so that redeploy plans can price moves.
SITES: dict[str, str] = {
    "York": "north",
    "Newcastle": "north",
    "Leeds": "north",
    "London": "south-east",
    "Reading": "south-east",
    "Guildford": "south-east",
    "Bristol": "south-west",
    "Exeter": "south-west",
    "Worcester": "midlands",
    "Nottingham": "midlands",
    "Peterborough": "east",
    "Norwich": "east",
}
_SITE_WEIGHTS = (0.14, 0.06, 0.06, 0.16, 0.08, 0.05, 0.16, 0.07, 0.07, 0.05, 0.06, 0.04)

ROLE_MIX: dict[str, float] = {"office": 0.5, "field": 0.2, "analyst": 0.2, "developer": 0.1}
#: Typical working set (GB, apps only) and CPU busy % on a 4-core reference laptop.
ROLE_MEM_GB: dict[str, float] = {"office": 3.0, "field": 2.6, "analyst": 7.5, "developer": 12.0}
ROLE_CPU_PCT: dict[str, float] = {"office": 18.0, "field": 14.0, "analyst": 38.0, "developer": 45.0}
ROLE_CYCLES_PER_DAY: dict[str, float] = {
    "office": 0.22,
    "field": 0.45,
    "analyst": 0.2,
    "developer": 0.15,
}
ROLE_WRITES_GB_PER_DAY: dict[str, float] = {
    "office": 12.0,
    "field": 8.0,
    "analyst": 30.0,
    "developer": 60.0,
}
OS_BASE_GB = 2.5  # what the OS and agent hold before the user opens anything

# Annual failure rates; Backblaze drive stats (docs/simulate.md).
AFR_SSD = 0.01
AFR_HDD = 0.017
HEALTHY_HDD_NONZERO_SHARE = 0.042

# Windows builds as the agent reports them (platform.version()).
WIN10_22H2 = "10.0.19045"
WIN11_23H2 = "10.0.22631"
WIN11_24H2 = "10.0.26100"
WIN11_25H2 = "10.0.26200"

_LINES = ("latitude", "thinkpad", "elitebook", "probook", "macbook", "surface laptop")
_TIERS: dict[str, dict[str, tuple[int, ...]]] = {
    "basic": {"ram": (8,), "cores": (4,), "disk": (256,)},
    "standard": {"ram": (8, 16, 16), "cores": (4, 6), "disk": (256, 512)},
    "performance": {"ram": (16, 32, 32), "cores": (8, 10, 12), "disk": (512, 1024)},
}


@dataclass(frozen=True, slots=True)
class SimModel:
    vendor: str
    name: str
    year: int
    tier: str
    battery_design_mwh: int
    durability: float  # multiplies service life; the "which models last" signal


@dataclass(frozen=True, slots=True)
class SimDevice:
    index: int
    serial: str
    asset_tag: str
    hostname: str
    vendor: str
    model: str
    tier: str
    os_name: str
    os_version: str
    ram_gb: int
    cores: int
    disk_gb: int
    disk_kind: str  # nvme | hdd
    site: str
    holder_id: str
    role: str
    purchase_day: int
    purchase_route: str
    warranty_end_day: int
    previous_holders: int
    battery_design_mwh: int
    cycles_at_purchase: float
    cycles_per_day: float
    fade_a: float
    fade_b: float
    writes_gb_per_day: float
    disk_fail_day: int | None  # epoch day the drive starts failing, if it does
    static_realloc: int
    mem_demand_gb: float
    cpu_demand_pct: float
    injected_poor_fit: str  # "" or why it was injected


@dataclass(frozen=True, slots=True)
class RegisterRow:
    serial: str
    asset_tag: str
    holder_id: str
    role: str
    site: str
    purchase_date: str
    purchase_route: str
    warranty_end: str
    vendor: str = ""
    model: str = ""
    status: str = "in_use"
    retired_date: str = ""
    eol_route: str = ""
    retired_reason: str = ""
    previous_holders: int = 0


@dataclass(frozen=True, slots=True)
class Estate:
    seed: int
    start_day: int
    end_day: int  # exclusive
    devices: tuple[SimDevice, ...]
    register: tuple[RegisterRow, ...]
    models: tuple[SimModel, ...] = field(default=())


def _iso(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()


def epoch_day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def _tier(name: str) -> str:
    n = name.lower()
    if any(k in n for k in ("precision", "macbook pro", " p1", " p5", "x1", "zbook", "9", "1040")):
        return "performance"
    if any(k in n for k in ("latitude 3", "probook", "thinkpad e", "chromebook", "l1")):
        return "basic"
    return "standard"


def sim_models(table: BoaviztaIndex, rng: np.random.Generator) -> tuple[SimModel, ...]:
    """Business laptop models from the Boavizta table, 2017 onward."""
    seen: set[tuple[str, str]] = set()
    out: list[SimModel] = []
    for row in sorted(table.rows, key=lambda r: (r.vendor, r.name)):
        name = row.name
        if row.year is None or row.year < 2019 or len(name) > 60:
            continue
        if not any(k in name.lower() for k in _LINES) or "chromebook" in name.lower():
            continue
        if (row.vendor, name) in seen:
            continue
        seen.add((row.vendor, name))
        tier = _tier(name)
        design = int(rng.choice((50000, 54000, 58000, 63000, 72000, 86000)))
        out.append(
            SimModel(
                row.vendor,
                name,
                row.year,
                tier,
                design,
                float(np.clip(rng.lognormal(0.0, 0.15), 0.7, 1.4)),
            )
        )
    return tuple(out)


_SERIAL_PREFIX = {"Dell": "", "Lenovo": "PF", "HP": "5CG", "Apple": "C02", "Microsoft": "0F"}
_B36 = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _serial(vendor: str, index: int, seed: int) -> str:
    # A bijection on index (odd multiplier modulo 34**7) makes serials unique
    # without bookkeeping, and different seeds give different serials.
    n = (index * 7919 + seed * 104729 + 1) % (34**7)
    digits = ""
    for _ in range(7):
        n, r = divmod(n, 34)
        digits = _B36[r] + digits
    return _SERIAL_PREFIX.get(vendor, "SN") + digits


def _holder_id(seed: int, index: int) -> str:
    return "h-" + hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=5).hexdigest()


@dataclass(frozen=True, slots=True)
class _Window:
    """The simulated span: seed and UTC epoch days [start_day, end_day)."""

    seed: int
    start_day: int
    end_day: int


@dataclass(frozen=True, slots=True)
class _Catalogue:
    """The models on sale, how often each is bought, and which serve each tier."""

    models: tuple[SimModel, ...]
    weights: np.ndarray[Any, Any]
    by_tier: dict[str, list[int]]


@dataclass(slots=True)
class _Draft:
    """A holder and the hardware they were given, before the per-device physics."""

    model: SimModel
    tier: str
    ram: int
    cores: int
    disk: int
    role: str  # "" = spare stock
    work_role: str  # the role whose workload the device carries (spares: the last holder's)
    site: str
    purchase: int
    injected: str = ""


_WANT_TIER: dict[str, tuple[str, ...]] = {
    "office": ("basic", "standard"),
    "field": ("basic", "standard"),
    "analyst": ("standard", "performance"),
    "developer": ("performance",),
}
_HW_FIELDS = ("model", "tier", "ram", "cores", "disk", "purchase")
_WINDOWS_BUILDS = (WIN11_25H2, WIN11_24H2, WIN11_23H2, WIN10_22H2)
_WINDOWS_SHARES = (0.22, 0.74, 0.02, 0.02)
_MACOS_VERSIONS = ("25.1.0", "24.6.0")
_UBUNTU_VERSIONS = ("6.8.0-ubuntu24.04", "6.5.0-ubuntu22.04")
#: The rest of the OS identity agents send (inv.os_release_name, inv.os_build,
#: inv.os_edition), per (inv.os_name, inv.os_version): what a managed estate's
#: Windows Enterprise, macOS and Ubuntu LTS report (agent/platforms/*.py).
_OS_IDENTITY: dict[tuple[str, str], tuple[str, str, str]] = {
    ("Windows", WIN11_25H2): ("Microsoft Windows 11 Enterprise", "26200", "Enterprise"),
    ("Windows", WIN11_24H2): ("Microsoft Windows 11 Enterprise", "26100", "Enterprise"),
    ("Windows", WIN11_23H2): ("Microsoft Windows 11 Enterprise", "22631", "Enterprise"),
    ("Windows", WIN10_22H2): ("Microsoft Windows 10 Enterprise", "19045", "Enterprise"),
    ("Darwin", "25.1.0"): ("macOS 26.1", "25B78", ""),
    ("Darwin", "24.6.0"): ("macOS 15.6", "24G84", ""),
    ("Linux", "6.8.0-ubuntu24.04"): ("Ubuntu 24.04.3 LTS", "6.8.0-85-generic", ""),
    ("Linux", "6.5.0-ubuntu22.04"): ("Ubuntu 22.04.5 LTS", "6.5.0-45-generic", ""),
}
#: Every OS identity the simulator reports; a test checks the OS table knows each.
SIM_OS_RELEASES: tuple[OsIdentity, ...] = tuple(
    OsIdentity(name, version, build, edition, release_name)
    for (name, version), (release_name, build, edition) in _OS_IDENTITY.items()
)


def os_identity_texts(os_name: str, os_version: str) -> tuple[tuple[str, str], ...]:
    """The inv.os_* texts an agent on this OS sends, as (metric name, value)."""
    release_name, build, edition = _OS_IDENTITY[(os_name, os_version)]
    texts = (
        ("inv.os_name", os_name),
        ("inv.os_version", os_version),
        ("inv.os_release_name", release_name),
        ("inv.os_build", build),
        ("inv.os_edition", edition),
    )
    return tuple((name, value) for name, value in texts if value)


def _catalogue(table: BoaviztaIndex, end_day: int, rng: np.random.Generator) -> _Catalogue:
    """Models sold by the end of the window; newer models are bought more often."""
    end_year = (dt.date(1970, 1, 1) + dt.timedelta(days=end_day)).year
    models = tuple(m for m in sim_models(table, rng) if m.year <= end_year)
    weights = np.array([1.0 + max(0, m.year - 2016) ** 1.3 for m in models])
    by_tier: dict[str, list[int]] = {}
    for i, m in enumerate(models):
        by_tier.setdefault(m.tier, []).append(i)
    return _Catalogue(models, weights / weights.sum(), by_tier)


def _draft(cat: _Catalogue, spare_share: float, end_day: int, rng: np.random.Generator) -> _Draft:
    """One holder (or spare) and a device of a tier that matches their role."""
    spare = rng.random() < spare_share
    role = str(rng.choice(list(ROLE_MIX), p=np.array(list(ROLE_MIX.values()))))
    tier = str(rng.choice([t for t in _WANT_TIER[role] if t in cat.by_tier]))
    pool = cat.by_tier[tier]
    model = cat.models[int(rng.choice(pool, p=cat.weights[pool] / cat.weights[pool].sum()))]
    spec = _TIERS[tier]
    ram = int(rng.choice(spec["ram"]))
    if role == "developer":
        ram = max(ram, 32 if rng.random() < 0.7 else 16)
    elif role == "analyst":
        ram = max(ram, 16)
    first = epoch_day(dt.date(model.year, 3, 1))
    last = min(end_day - 30, epoch_day(dt.date(model.year + 2, 12, 31)))
    purchase = int(rng.integers(first, max(first + 1, last)))
    cores = int(rng.choice(spec["cores"]))
    disk = int(rng.choice(spec["disk"]))
    site_p = np.array(_SITE_WEIGHTS) / sum(_SITE_WEIGHTS)
    site = str(rng.choice(list(SITES), p=site_p))
    return _Draft(model, tier, ram, cores, disk, "" if spare else role, role, site, purchase)


def _swap_hardware(a: _Draft, b: _Draft) -> None:
    for name in _HW_FIELDS:
        mine, theirs = getattr(a, name), getattr(b, name)
        setattr(a, name, theirs)
        setattr(b, name, mine)
    b.site = a.site  # swaps stay within a site so that the planner can undo them cheaply


def _inject_poor_fits(
    drafts: list[_Draft], n_poor: int, end_day: int, rng: np.random.Generator
) -> None:
    """Swap devices so that ~70 % of ``n_poor`` demanding holders get a light device and
    the rest are field workers on an old office device with a worn battery."""
    heavy = [i for i, d in enumerate(drafts) if d.role in ("analyst", "developer")]
    light_basic = [i for i, d in enumerate(drafts) if d.role == "office" and d.ram <= 8]
    field_ids = [i for i, d in enumerate(drafts) if d.role == "field"]
    office_ids = [i for i, d in enumerate(drafts) if d.role == "office"]
    for ids in (heavy, light_basic, field_ids, office_ids):
        rng.shuffle(ids)
    made = 0
    for h, lb in zip(heavy, light_basic, strict=False):
        if made >= int(n_poor * 0.7):
            break
        a = drafts[h]
        _swap_hardware(a, drafts[lb])
        a.injected = f"{a.role} holder given a {a.ram} GB {a.tier} device"
        made += 1
    for f, o in zip(field_ids, office_ids, strict=False):
        if made >= n_poor:
            break
        a, b = drafts[f], drafts[o]
        if a.injected or b.injected:
            continue
        _swap_hardware(a, b)
        a.purchase = min(a.purchase, end_day - 4 * 365)  # the office device is old
        a.injected = "field holder given an office device with a worn battery"
        made += 1


def _purchase_route(purchase: int, rng: np.random.Generator) -> str:
    """New, refurbished or remanufactured: refurbished buying grew from 2024."""
    roll = rng.random()
    recent = purchase > epoch_day(dt.date(2024, 1, 1))
    if roll < (0.22 if recent else 0.08):
        return "refurbished"
    if roll < (0.34 if recent else 0.12):
        return "remanufactured"
    return "new"


def _os_release(model: SimModel, work_role: str, rng: np.random.Generator) -> tuple[str, str]:
    """The OS as the agent reports it (one of :data:`SIM_OS_RELEASES`)."""
    if model.vendor == "Apple":
        return "Darwin", str(rng.choice(_MACOS_VERSIONS))
    if work_role == "developer" and rng.random() < 0.3:
        return "Linux", str(rng.choice(_UBUNTU_VERSIONS))
    return "Windows", str(rng.choice(_WINDOWS_BUILDS, p=_WINDOWS_SHARES))


def _disk_fail_day(purchase: int, afr: float, w: _Window, rng: np.random.Generator) -> int | None:
    """The day the drive starts failing within the window, at its annual failure rate."""
    hazard_days = w.end_day - max(purchase, w.start_day)
    if hazard_days > 0 and rng.random() < 1 - (1 - afr) ** (hazard_days / 365.0):
        return int(rng.integers(max(purchase, w.start_day), w.end_day))
    return None


def _sim_device(i: int, d: _Draft, w: _Window, rng: np.random.Generator) -> SimDevice:
    """The per-device physics: route, OS, drive, battery use and fade, workload."""
    route = _purchase_route(d.purchase, rng)
    os_name, os_version = _os_release(d.model, d.work_role, rng)
    hdd = d.model.year <= 2018 and rng.random() < 0.25
    fail_day = _disk_fail_day(d.purchase, AFR_HDD if hdd else AFR_SSD, w, rng)
    age_at_start = max(0, w.start_day - d.purchase)
    cpd = ROLE_CYCLES_PER_DAY[d.work_role] * float(rng.lognormal(0.0, 0.35))
    if d.role == "":
        cpd *= 0.05  # on a shelf
    mem_demand = ROLE_MEM_GB[d.work_role] * float(rng.lognormal(0.0, 0.18))
    cpu_demand = ROLE_CPU_PCT[d.work_role] * float(rng.lognormal(0.0, 0.2))
    return SimDevice(
        index=i,
        serial=_serial(d.model.vendor, i, w.seed),
        asset_tag=f"KL{i + 1:06d}",
        hostname=f"KL-{d.site[:3].upper()}-{i + 1:06d}",
        vendor=d.model.vendor,
        model=d.model.name,
        tier=d.tier,
        os_name=os_name,
        os_version=os_version,
        ram_gb=d.ram,
        cores=d.cores,
        disk_gb=d.disk,
        disk_kind="hdd" if hdd else "nvme",
        site=d.site,
        holder_id="" if d.role == "" else _holder_id(w.seed, i),
        role=d.role,
        purchase_day=d.purchase,
        purchase_route=route,
        warranty_end_day=d.purchase + (1 if route == "refurbished" else 3) * 365,
        previous_holders=int(rng.random() < min(0.5, age_at_start / 365 * 0.08))
        + (1 if route != "new" else 0),
        battery_design_mwh=d.model.battery_design_mwh,
        cycles_at_purchase=(float(rng.integers(80, 400)) if route != "new" else 0.0),
        cycles_per_day=cpd,
        fade_a=float(np.clip(rng.normal(0.08, 0.02), 0.04, 0.16)) / d.model.durability,
        fade_b=float(np.clip(rng.normal(0.06, 0.02), 0.0, 0.14)) / d.model.durability,
        writes_gb_per_day=ROLE_WRITES_GB_PER_DAY[d.work_role] * float(rng.lognormal(0, 0.5)),
        disk_fail_day=fail_day,
        static_realloc=int(rng.integers(1, 5))
        if hdd and rng.random() < HEALTHY_HDD_NONZERO_SHARE
        else 0,
        mem_demand_gb=mem_demand,
        cpu_demand_pct=cpu_demand,
        injected_poor_fit=d.injected,
    )


def _register_row(dev: SimDevice) -> RegisterRow:
    return RegisterRow(
        serial=dev.serial,
        asset_tag=dev.asset_tag,
        holder_id=dev.holder_id,
        role=dev.role,
        site=dev.site,
        purchase_date=_iso(dev.purchase_day),
        purchase_route=dev.purchase_route,
        warranty_end=_iso(dev.warranty_end_day),
        vendor=dev.vendor,
        model=dev.model,
        status="in_use" if dev.holder_id else "spare",
        previous_holders=dev.previous_holders,
    )


_EOL_ROUTES = (("reuse", "refurbish", "donate", "recycle"), (0.25, 0.3, 0.1, 0.35))
_RETIRED_REASONS = (
    ("battery", "storage", "board", "screen", "performance", "age"),
    (0.3, 0.12, 0.14, 0.12, 0.17, 0.15),
)


def _retired_rows(
    n_retired: int, first_index: int, cat: _Catalogue, w: _Window, rng: np.random.Generator
) -> list[RegisterRow]:
    """Devices retired during the window (never enrolled, register only); service life
    scaled by model durability."""
    rows: list[RegisterRow] = []
    for j in range(n_retired):
        model = cat.models[int(rng.choice(len(cat.models), p=cat.weights))]
        life_days = int(rng.normal(4.5, 1.0) * model.durability * 365)
        retired = int(rng.integers(w.start_day, w.end_day))
        purchase = max(epoch_day(dt.date(model.year, 1, 1)), retired - max(180, life_days))
        idx = first_index + j
        rows.append(
            RegisterRow(
                serial=_serial(model.vendor, idx, w.seed),
                asset_tag=f"KL{idx + 1:06d}",
                holder_id="",
                role="",
                site=str(rng.choice(list(SITES))),
                purchase_date=_iso(purchase),
                purchase_route="new",
                warranty_end=_iso(purchase + 3 * 365),
                vendor=model.vendor,
                model=model.name,
                status="retired",
                retired_date=_iso(retired),
                eol_route=str(rng.choice(_EOL_ROUTES[0], p=_EOL_ROUTES[1])),
                retired_reason=str(rng.choice(_RETIRED_REASONS[0], p=_RETIRED_REASONS[1])),
            )
        )
    return rows


def generate_estate(
    n_devices: int,
    months: int,
    seed: int = 1,
    end: dt.date | None = None,
    poor_fit_share: float = 0.05,
    spare_share: float = 0.03,
    table: BoaviztaIndex | None = None,
) -> Estate:
    """Devices, holders and the matching asset register; pure and seeded.

    Steps, in the order they draw from the one seeded generator: the model
    catalogue, a holder and device per slot, the injected poor fits (~5 %), the
    per-device physics with its register row, and the devices retired in the window
    (~8 % of the estate a year).
    """
    if n_devices < 1 or months < 1:
        raise ValueError("an estate needs at least one device and one month")
    rng = np.random.default_rng(seed)
    end_day = epoch_day(end or dt.date(2026, 11, 25))
    window = _Window(seed, end_day - round(months * 30.44), end_day)
    cat = _catalogue(table or default_boavizta(), end_day, rng)
    drafts = [_draft(cat, spare_share, end_day, rng) for _ in range(n_devices)]
    _inject_poor_fits(drafts, round(poor_fit_share * n_devices), end_day, rng)
    devices = [_sim_device(i, d, window, rng) for i, d in enumerate(drafts)]
    register = [_register_row(dev) for dev in devices]
    register += _retired_rows(round(n_devices * 0.08 * months / 12), n_devices, cat, window, rng)
    return Estate(seed, window.start_day, end_day, tuple(devices), tuple(register), cat.models)


# -- telemetry ------------------------------------------------------------------------------
# Two working-hour samples per weekday, each standing for a half-day's mean:
# enough for daily rollups and p95s, and half the points of four.
_SAMPLE_HOURS = (11, 15)


@dataclass(frozen=True, slots=True)
class DeviceSeries:
    """Daily readings of one device over [first_day, end_day), as numpy arrays."""

    first_day: int
    cycles: np.ndarray[Any, Any]
    fcc_mwh: np.ndarray[Any, Any]
    nvme_used: np.ndarray[Any, Any]
    media_errors: np.ndarray[Any, Any]
    realloc: np.ndarray[Any, Any]
    cpu: np.ndarray[Any, Any]  # (days, 4)
    mem: np.ndarray[Any, Any]
    swap: np.ndarray[Any, Any]
    weekday: np.ndarray[Any, Any]


def battery_health(cycles: Any, years: Any, a: float, b: float) -> Any:
    """Share of design capacity: linear then accelerating with cycles, plus calendar fade."""
    c = np.asarray(cycles) / 1000.0
    return np.clip(1.0 - a * c - b * c * c - 0.01 * np.asarray(years), 0.3, 1.0)


def device_series(dev: SimDevice, estate: Estate) -> DeviceSeries:
    """The physics of one device, vectorised over its days in the window."""
    rng = np.random.default_rng((estate.seed, dev.index))
    first = max(estate.start_day, dev.purchase_day)
    days = np.arange(first, estate.end_day)
    n = len(days)
    age_days = days - dev.purchase_day
    weekday = (days + 3) % 7 < 5  # 1970-01-01 was a Thursday
    daily_cycles = dev.cycles_per_day * rng.lognormal(0.0, 0.3, n) * np.where(weekday, 1.2, 0.5)
    cycles = (
        dev.cycles_at_purchase
        + dev.cycles_per_day * max(0, first - dev.purchase_day)
        + np.cumsum(daily_cycles)
    )
    health = battery_health(cycles, age_days / 365.0, dev.fade_a, dev.fade_b)
    fcc = dev.battery_design_mwh * health * rng.normal(1.0, 0.006, n)
    tbw_gb = 600.0 * dev.disk_gb  # rated endurance: ~600 TBW per TB
    writes = dev.writes_gb_per_day * (age_days + 1)
    nvme_used = np.floor(100.0 * writes / tbw_gb)
    media = np.zeros(n)
    realloc = np.full(n, float(dev.static_realloc))
    if dev.disk_fail_day is not None:
        since = np.clip(days - dev.disk_fail_day, 0, None)
        growth = np.floor(np.expm1(since / 25.0))
        if dev.disk_kind == "hdd":
            realloc = realloc + np.minimum(growth * 3, 5000)
        else:
            media = np.minimum(growth, 5000)
    ram_pressure = (dev.mem_demand_gb + OS_BASE_GB) / dev.ram_gb
    shape = (n, len(_SAMPLE_HOURS))
    mem = np.clip(100 * ram_pressure * rng.lognormal(0, 0.08, shape), 15, 99.5)
    over = np.clip(ram_pressure * rng.lognormal(0, 0.1, shape) - 0.85, 0, None)
    swap = np.clip(over * 160, 0, 100)
    age_slow = 1.0 + 0.04 * np.clip(age_days / 365.0, 0, 8)[:, None]
    cpu = np.clip(
        dev.cpu_demand_pct * (4.0 / dev.cores) ** 0.7 * age_slow * rng.lognormal(0, 0.3, shape),
        0.5,
        100,
    )
    return DeviceSeries(first, cycles, fcc, nvme_used, media, realloc, cpu, mem, swap, weekday)


# -- experience signals ---------------------------------------------------------------------
#: The agent asks for a rating every this many days (collector setting
#: agent_feedback_ask_every_days, default 30) and about this share of users answer.
ASK_EVERY_DAYS = 30
ANSWER_SHARE = 0.6
#: feedback.reason codes (protocol registry): 0 none, 1 slow, 2 battery, 3 crashes, 7 other.
_REASON_NONE, _REASON_SLOW, _REASON_BATTERY, _REASON_CRASHES, _REASON_OTHER = 0, 1, 2, 3, 7


@dataclass(frozen=True, slots=True)
class ExperienceSeries:
    """What a device in use reports about its user's experience, one value per working day.

    Indexed like :class:`DeviceSeries` days, restricted to ``days`` (working days). The
    signals follow the device's own physics: CPU p95 from its CPU samples, memory
    available from its memory use, boot time and disk busy from its drive kind and age,
    application crashes with pressure, OS crashes with a failing drive; ratings (1-5)
    fall with slowness, a worn battery and crashes (docs/experience.md has the metrics).
    """

    days: np.ndarray[Any, Any]  # indices into the device's days
    cpu_p95_pct: np.ndarray[Any, Any]
    mem_available_pct: np.ndarray[Any, Any]
    disk_busy_pct: np.ndarray[Any, Any]
    boot_s: np.ndarray[Any, Any]
    psi_some_pct: np.ndarray[Any, Any] | None  # Linux only
    app_crashes_24h: np.ndarray[Any, Any]
    os_crashes_24h: np.ndarray[Any, Any]
    rating_days: np.ndarray[Any, Any]  # indices into the device's days
    rating_scores: np.ndarray[Any, Any]
    rating_reasons: np.ndarray[Any, Any]


def _clip01(x: Any) -> Any:
    return np.clip(x, 0.0, 1.0)


def _ratings(
    dev: SimDevice,
    s: DeviceSeries,
    days: np.ndarray[Any, Any],
    slowness: np.ndarray[Any, Any],
    app_crashes: np.ndarray[Any, Any],
    rng: np.random.Generator,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Ratings on the working days the agent asked and the user answered."""
    asked = np.arange(int(rng.integers(0, ASK_EVERY_DAYS)), len(days), ASK_EVERY_DAYS)
    answered = asked[rng.random(len(asked)) < ANSWER_SHARE]
    health = s.fcc_mwh[days[answered]] / dev.battery_design_mwh
    worn = _clip01((0.75 - health) / 0.25)
    crashy = app_crashes[answered] >= 2
    mood = (
        4.4
        - 2.5 * slowness[answered]
        - 1.5 * worn
        - 0.8 * crashy
        + rng.normal(0.0, 0.6, len(answered))
    )
    scores = np.clip(np.round(mood), 1, 5)
    reasons = np.where(
        slowness[answered] > 0.25,
        _REASON_SLOW,
        np.where(
            worn > 0,
            _REASON_BATTERY,
            np.where(crashy, _REASON_CRASHES, np.where(scores >= 4, _REASON_NONE, _REASON_OTHER)),
        ),
    )
    return days[answered], scores, reasons


def experience_series(dev: SimDevice, estate: Estate, s: DeviceSeries) -> ExperienceSeries:
    """The experience signals of one device; its own random stream, so the physics of
    :func:`device_series` (and every estate already generated) stay as they were."""
    rng = np.random.default_rng((estate.seed, dev.index, 1))
    days = np.nonzero(s.weekday)[0] if dev.holder_id else np.zeros(0, dtype=np.int64)
    n = len(days)
    age_y = np.clip((s.first_day + days - dev.purchase_day) / 365.0, 0.0, None)
    hdd = dev.disk_kind == "hdd"
    failing = (s.media_errors[days] > 0) | (s.realloc[days] > dev.static_realloc)
    cpu_p95 = np.clip(s.cpu[days].max(axis=1) * rng.lognormal(0.15, 0.1, n), 1.0, 100.0)
    mem_available = np.clip(100.0 - s.mem[days].mean(axis=1) + rng.normal(0, 2, n), 0.5, 85.0)
    disk_busy = np.clip(
        (30.0 if hdd else 6.0) * (1 + 0.05 * age_y) * rng.lognormal(0, 0.35, n), 0.2, 100.0
    )
    boot = np.clip(
        ((75.0 if hdd else 22.0) + (8.0 if dev.os_name == "Windows" else 0.0))
        * (1 + 0.08 * age_y)
        * rng.lognormal(0, 0.25, n)
        + 40.0 * failing,
        5.0,
        600.0,
    )
    psi = (
        np.clip((80.0 - mem_available) * 0.3 + rng.lognormal(0, 0.5, n), 0.0, 100.0)
        if dev.os_name == "Linux"
        else None
    )
    slowness = 0.5 * _clip01((cpu_p95 - 50) / 50) + 0.5 * _clip01((20 - mem_available) / 20)
    app_crashes = rng.poisson(0.08 + 0.6 * slowness)
    os_crashes = rng.poisson(0.004 + 0.05 * failing)
    rating_days, scores, reasons = _ratings(dev, s, days, slowness, app_crashes, rng)
    return ExperienceSeries(
        days,
        cpu_p95,
        mem_available,
        disk_busy,
        boot,
        psi,
        app_crashes,
        os_crashes,
        rating_days,
        scores,
        reasons,
    )


def _gib(n: float) -> float:
    return float(n) * 1024**3


_EXPERIENCE_COMPONENTS = {"resp.disk_busy_pct": "sda", "resp.psi_some_avg60_pct": "memory"}


def _series(name: str, first_day: int, days: np.ndarray[Any, Any], vals: Any, hour: int) -> Series:
    """One experience series: a value per day at ``hour`` UTC, quantised as the wire does."""
    m = metric_by_name(name)
    ts = tuple(int((first_day + int(d)) * DAY_S + hour * 3600) for d in days)
    q = np.round(np.asarray(vals, dtype=float), max(0, -m.exponent)).tolist()
    return Series(m.id, _EXPERIENCE_COMPONENTS.get(name, ""), ts, tuple(q), m.exponent)


def experience_batch_series(x: ExperienceSeries, first_day: int, sl: slice) -> list[Series]:
    """The experience series of the days in ``sl`` (one batch's worth)."""
    keep = (x.days >= sl.start) & (x.days < sl.stop)
    if not keep.any():
        return []
    days = x.days[keep]
    signals: list[tuple[str, Any]] = [
        ("resp.cpu_busy_p95_pct", x.cpu_p95_pct),
        ("resp.mem_available_pct", x.mem_available_pct),
        ("resp.disk_busy_pct", x.disk_busy_pct),
        ("boot.duration_s", x.boot_s),
        ("rel.app_crashes_24h", x.app_crashes_24h),
        ("rel.os_crashes_24h", x.os_crashes_24h),
    ]
    if x.psi_some_pct is not None:
        signals.append(("resp.psi_some_avg60_pct", x.psi_some_pct))
    out = [_series(name, first_day, days, vals[keep], 12) for name, vals in signals]
    rated = (x.rating_days >= sl.start) & (x.rating_days < sl.stop)
    if rated.any():
        rd = x.rating_days[rated]
        out.append(_series("feedback.score", first_day, rd, x.rating_scores[rated], 13))
        out.append(_series("feedback.reason", first_day, rd, x.rating_reasons[rated], 13))
    return out


def device_batches(
    dev: SimDevice, estate: Estate, uid: str, batch_days: int = 7
) -> Iterator[Batch]:
    """The batches an agent on this device would have sent: one per ``batch_days``."""
    s = device_series(dev, estate)
    experience = experience_series(dev, estate, s)
    ids = {
        name: metric_by_name(name)
        for name in (
            "cpu.busy_pct",
            "mem.used_pct",
            "swap.used_pct",
            "mem.total_bytes",
            "disk.total_bytes",
            "battery.design_capacity_mwh",
            "battery.full_charge_capacity_mwh",
            "battery.cycle_count",
            "nvme.percentage_used_pct",
            "nvme.media_errors",
            "ata.reallocated_sectors",
            "inv.cpu_cores",
        )
    }
    in_use = bool(dev.holder_id)
    n = len(s.cycles)
    for seq, off in enumerate(range(0, n, batch_days)):
        sl = slice(off, min(n, off + batch_days))
        day0 = s.first_day + off
        day_ts = tuple(int((day0 + k) * DAY_S + 18 * 3600) for k in range(sl.stop - sl.start))
        series: list[Series] = []

        def add(
            name: str,
            ts: Sequence[int],
            vals: Sequence[float],
            component: str = "",
            out: list[Series] = series,
        ) -> None:
            m = ids[name]
            out.append(Series(m.id, component, tuple(ts), tuple(vals), m.exponent))

        if in_use:
            wd = np.nonzero(s.weekday[sl])[0]
            if len(wd):
                p_ts = tuple(
                    int((day0 + int(k)) * DAY_S + h * 3600) for k in wd for h in _SAMPLE_HOURS
                )
                for name, arr in (
                    ("cpu.busy_pct", s.cpu),
                    ("mem.used_pct", s.mem),
                    ("swap.used_pct", s.swap),
                ):
                    vals = np.round(arr[sl][wd].ravel(), 1).tolist()
                    add(name, p_ts, vals)
        series.extend(experience_batch_series(experience, s.first_day, sl))
        first_t = (day_ts[0],)
        add("mem.total_bytes", first_t, (_gib(dev.ram_gb),))
        add("disk.total_bytes", first_t, (float(dev.disk_gb) * 1e9,))
        add("inv.cpu_cores", first_t, (float(dev.cores),))
        add("battery.design_capacity_mwh", first_t, (float(dev.battery_design_mwh),), "BAT0")
        add(
            "battery.full_charge_capacity_mwh",
            day_ts,
            np.round(s.fcc_mwh[sl]).tolist(),
            "BAT0",
        )
        add("battery.cycle_count", day_ts, np.floor(s.cycles[sl]).tolist(), "BAT0")
        if dev.disk_kind == "nvme":
            add("nvme.percentage_used_pct", day_ts, s.nvme_used[sl].tolist(), "nvme0")
            add("nvme.media_errors", day_ts, s.media_errors[sl].tolist(), "nvme0")
        else:
            add("ata.reallocated_sectors", day_ts, s.realloc[sl].tolist(), "sda")
        texts: tuple[Text, ...] = ()
        if seq == 0:
            t0 = day_ts[0]
            texts = tuple(
                Text(metric_by_name(name).id, "", t0, value)
                for name, value in (
                    ("inv.hostname", dev.hostname),
                    ("inv.serial", dev.serial),
                    ("inv.vendor", dev.vendor),
                    ("inv.model", dev.model),
                    *os_identity_texts(dev.os_name, dev.os_version),
                )
            )
        yield Batch(
            device_id=uid,
            spool_id=f"sim{estate.seed}",
            seq=seq,
            sent_at_s=day_ts[-1] + 3600,
            agent_version="kitlife-sim/1",
            series=tuple(series),
            texts=texts,
        )


def enrol_facts(dev: SimDevice) -> dict[str, str]:
    return {
        "inv.hostname": dev.hostname,
        "inv.serial": dev.serial,
        "inv.vendor": dev.vendor,
        "inv.model": dev.model,
        "inv.os_name": dev.os_name,
        "inv.os_version": dev.os_version,
    }


# -- writing -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SimulateStats:
    devices: int
    batches: int
    points: int
    wire_bytes: int
    generate_s: float
    enrol_s: float
    ingest_s: float
    jobs: int = 1

    @property
    def batches_per_s(self) -> float:
        return self.batches / self.ingest_s if self.ingest_s else 0.0


def _ingest_devices(
    store: Any, estate: Estate, work: Sequence[tuple[int, Any]], batch_days: int
) -> tuple[int, int, int, float]:
    """Encode and ingest the batches of some devices: (batches, points, bytes, encode s)."""
    n_batches = n_points = n_bytes = 0
    gen_s = 0.0
    for index, ref in work:
        dev = estate.devices[index]
        g0 = time.perf_counter()
        encoded = [(b, encode_batch(b)) for b in device_batches(dev, estate, ref.uid, batch_days)]
        gen_s += time.perf_counter() - g0
        for batch, body in encoded:
            store.ingest(ref, body, now_s=batch.sent_at_s)
            n_batches += 1
            n_points += batch.n_points
            n_bytes += len(body)
    return n_batches, n_points, n_bytes, gen_s


def _worker_run(
    args: tuple[str, Estate, list[tuple[int, Any]], int],
) -> tuple[int, int, int, float]:
    from kitlife.collector.store import Store

    url, estate, work, batch_days = args
    store = Store.from_url(url)
    try:
        return _ingest_devices(store, estate, work, batch_days)
    finally:
        store.close()


def relax_sqlite_durability(store: Any) -> bool:
    """SQLite only: commit with synchronous=NORMAL instead of FULL for this store.

    The collector commits with FULL because an ack lets an agent delete its
    copy. A simulated estate can be regenerated from its seed, so simulate
    trades that per-commit fsync for speed (WAL + NORMAL is still consistent
    after a crash, it may only lose the newest commits). Same Store.ingest
    path otherwise. Returns True when it applied.
    """
    from kitlife.collector.store.engine import relax_sqlite_durability as relax

    return relax(store.engine)


def populate(
    store: Any,
    estate: Estate,
    batch_days: int = 7,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 1,
    db_url: str | None = None,
    bulk: bool = False,
    keep_raw_days: int | None = 90,
) -> SimulateStats:
    """Enrol every device and ingest its batches through the Store.

    With ``bulk`` the same rows are folded in ``jobs`` processes and written
    once per device instead (:mod:`kitlife.collector.tools.bulk_estate`;
    raw chunks older than ``keep_raw_days`` are left out, as retention would).

    ``store`` is a :class:`kitlife.collector.store.Store`; typed loosely to keep
    this module importable without the collector's database extras. With
    ``jobs`` > 1 (PostgreSQL: several writers, as several collector workers
    would be) devices are dealt to that many processes, each with its own
    Store on ``db_url``; enrolment stays in this process.
    """
    if bulk:
        from kitlife.collector.tools.bulk_estate import populate_bulk

        return populate_bulk(store, estate, batch_days, progress, jobs, keep_raw_days)
    t0 = time.perf_counter()
    token = store.create_enrol_token(
        uses=len(estate.devices), expires_in_s=3600, note=f"simulate seed {estate.seed}"
    )
    refs = []
    for dev in estate.devices:
        _uid, key = store.enroll(token, enrol_facts(dev))
        refs.append(store.device_for_key(key))
    t1 = time.perf_counter()
    work = list(enumerate(refs))
    if jobs > 1:
        if not db_url:
            raise ValueError("parallel simulate needs the database URL for its workers")
        import multiprocessing

        store.engine.dispose()  # no pooled connection may cross a fork
        chunks = [(db_url, estate, work[k::jobs], batch_days) for k in range(jobs)]
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_worker_run, chunks)
        t2 = time.perf_counter()
        return SimulateStats(
            len(estate.devices),
            sum(r[0] for r in results),
            sum(r[1] for r in results),
            sum(r[2] for r in results),
            sum(r[3] for r in results),
            t1 - t0,
            t2 - t1,
            jobs,
        )
    n_batches = n_points = n_bytes = 0
    gen_s = 0.0
    step = 100
    for start in range(0, len(work), step):
        b, p, n, g = _ingest_devices(store, estate, work[start : start + step], batch_days)
        n_batches, n_points, n_bytes, gen_s = n_batches + b, n_points + p, n_bytes + n, gen_s + g
        if progress:
            progress(min(start + step, len(work)), len(work))
    t2 = time.perf_counter()
    return SimulateStats(
        len(estate.devices), n_batches, n_points, n_bytes, gen_s, t1 - t0, t2 - t1 - gen_s
    )


def write_register_csv(rows: Sequence[RegisterRow], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REGISTER_COLUMNS)
    for r in rows:
        writer.writerow([getattr(r, c) for c in REGISTER_COLUMNS])


def register_csv_text(rows: Sequence[RegisterRow]) -> str:
    buf = io.StringIO()
    write_register_csv(rows, buf)
    return buf.getvalue()
