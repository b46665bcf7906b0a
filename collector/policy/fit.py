"""Role-based fit: how far a device sits from what its holder's role needs.

Pure functions. A role profile (collector/policy/data/roles.toml, or the file named
by KITLIFE_ROLES / --roles) sets minimum hardware (RAM, physical cores,
storage, battery health and runtime unplugged, months of OS support left) and
the pressure levels that count as "too slow" (95th percentile of daily mean
CPU busy, memory used and swap used). A device's *mismatch* for a role is the
sum of its relative shortfalls against each of those, e.g. 8 GB against a
16 GB minimum adds 0.5, memory used p95 93 % against 85 % adds 0.094. Zero
means it fits; anything above zero is a poor fit, explained in numbers.

The formula lives once, vectorised over devices (:func:`mismatch_by_role`),
because the redeploy planner prices tens of thousands of device/role pairs;
:func:`assess` runs the same code on one device and adds the reasons.

Pressure was measured under the current holder's workload. Judging a device
for another role scales it by the ratio of the two roles' workloads
(``cpu_workload``, ``mem_workload``): an estimate, stated as such in the
reasons. A device with no pressure data (spare stock) is judged on hardware.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kitlife.collector.policy.os_support import OsIdentity, support_end
from kitlife.collector.policy.scoring.thresholds import Thresholds, load_thresholds
from kitlife.collector.policy.tables import read_packaged

#: A small preference for right-sizing: each unit of surplus (RAM or cores
#: as multiples of the role's minimum) costs this much, so a 32 GB device
#: goes to a developer rather than to an office worker when both are possible.
SURPLUS_WEIGHT = 0.02
_OS_SHORTFALL_CAP = 2.0


@dataclass(frozen=True, slots=True)
class RoleProfile:
    name: str
    description: str
    device_class: str
    min_ram_gb: float
    min_cores: float
    min_storage_gb: float
    min_battery_health_pct: float
    min_runtime_h: float
    max_cpu_busy_p95: float
    max_mem_used_p95: float
    max_swap_used_p95: float
    cpu_workload: float = 1.0
    mem_workload: float = 1.0
    os_support_months: float | None = None  # None: the [defaults] value


@dataclass(frozen=True, slots=True)
class RolesConfig:
    roles: Mapping[str, RoleProfile]
    typical_draw_w: float = 8.0
    os_support_months: float = 6.0
    new_price_gbp: Mapping[str, float] = field(default_factory=dict)
    sites: Mapping[str, str] = field(default_factory=dict)
    move_same_site: float = 0.05
    move_same_region: float = 0.25
    source: str = "default"

    def region(self, site: str) -> str:
        return self.sites.get(site, f"site:{site}")

    def move_cost(self, from_site: str, to_site: str) -> float | None:
        """Mismatch units a move costs; None when the move is not allowed (other region)."""
        if from_site == to_site:
            return self.move_same_site
        if self.region(from_site) == self.region(to_site):
            return self.move_same_region
        return None

    def price_gbp(self, role: str) -> float:
        profile = self.roles.get(role)
        return float(self.new_price_gbp.get(profile.device_class if profile else "", 0.0))


_ROLE_FIELDS = {
    "min_ram_gb",
    "min_cores",
    "min_storage_gb",
    "min_battery_health_pct",
    "min_runtime_h",
    "max_cpu_busy_p95",
    "max_mem_used_p95",
    "max_swap_used_p95",
    "cpu_workload",
    "mem_workload",
}


def _role_value(
    v: object, where: str, thresholds: Thresholds | None
) -> tuple[float, Thresholds | None]:
    """A role field's number: written out, or the name of a thresholds-table row.

    A reference (``min_battery_health_pct = "battery.fleet_normal_min_health_pct"``) keeps
    a cited figure in its one home, the table; the role only says which line it follows.
    Returns the number and the table, loaded on first need.
    """
    if isinstance(v, str):
        table = thresholds or load_thresholds()
        try:
            return table.number(v), table
        except (KeyError, ValueError):
            reason = f"{where}: {v!r} is not a number row of the thresholds table"
            raise ValueError(reason) from None
    if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
        raise ValueError(f"{where} must be a number >= 0 or a thresholds-table key")
    return float(v), thresholds


def parse_roles(
    text: str, source: str = "roles.toml", thresholds: Thresholds | None = None
) -> RolesConfig:
    """Parse and check a roles file; ValueError names the file, role and key.

    A field may name a row of the thresholds table instead of a number (``thresholds``,
    default: the packaged table); the row's value is used.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{source}: not valid TOML: {err}") from err
    defaults = data.get("defaults", {})
    raw_roles = data.get("roles")
    if not isinstance(raw_roles, dict) or not raw_roles:
        raise ValueError(f"{source}: needs at least one [roles.NAME] table")
    roles: dict[str, RoleProfile] = {}
    for name, spec in raw_roles.items():
        if not isinstance(spec, dict):
            raise ValueError(f"{source}: roles.{name} must be a table")
        missing = sorted((_ROLE_FIELDS - {"cpu_workload", "mem_workload"}) - set(spec))
        if missing:
            raise ValueError(f"{source}: roles.{name} lacks {', '.join(missing)}")
        unknown = sorted(set(spec) - _ROLE_FIELDS - {"description", "class", "os_support_months"})
        if unknown:
            raise ValueError(f"{source}: roles.{name} has unknown keys {', '.join(unknown)}")
        values: dict[str, float] = {}
        for key in _ROLE_FIELDS:
            values[key], thresholds = _role_value(
                spec.get(key, 1.0), f"{source}: roles.{name}.{key}", thresholds
            )
        horizon = spec.get("os_support_months")
        if horizon is not None and (not isinstance(horizon, int | float) or horizon < 0):
            raise ValueError(f"{source}: roles.{name}.os_support_months must be a number >= 0")
        roles[name] = RoleProfile(
            name=name,
            description=str(spec.get("description", "")),
            device_class=str(spec.get("class", "standard")),
            os_support_months=None if horizon is None else float(horizon),
            **values,
        )
    sites = {str(k): str(v) for k, v in data.get("sites", {}).items()}
    moves = data.get("moves", {})
    prices = {str(k): float(v) for k, v in defaults.get("new_price_gbp", {}).items()}
    return RolesConfig(
        roles=roles,
        typical_draw_w=float(defaults.get("typical_draw_w", 8.0)),
        os_support_months=float(defaults.get("os_support_months", 6)),
        new_price_gbp=prices,
        sites=sites,
        move_same_site=float(moves.get("same_site", 0.05)),
        move_same_region=float(moves.get("same_region", 0.25)),
        source=source,
    )


def load_roles(path: str | Path | None = None) -> RolesConfig:
    """The role profiles in ``path``, else the shipped collector/policy/data/roles.toml.

    Callers pass --roles, else the settings' KITLIFE_ROLES; policy reads no environment.
    """
    if path:
        p = Path(path)
        return parse_roles(p.read_text(encoding="utf-8"), str(p))
    return parse_roles(read_packaged("roles.toml"), "collector/policy/data/roles.toml (default)")


# -- OS support horizon --------------------------------------------------------------------
def os_support_end(os_name: str, os_version: str) -> dt.date | None:
    """The date security updates stop for this OS release, from the one OS table."""
    found = support_end(OsIdentity(name=os_name, version=os_version))
    return found.end if found else None


def _months_between(a: dt.date, b: dt.date) -> float:
    return (b - a).days / 30.44


# -- facts and the vectorised formula ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What the collector knows about one device; None where it does not know."""

    key: str
    ram_gb: float | None = None
    cores: float | None = None
    storage_gb: float | None = None
    battery_health_pct: float | None = None
    battery_design_mwh: float | None = None
    os_name: str = ""
    os_version: str = ""
    cpu_p95: float | None = None
    mem_p95: float | None = None
    swap_p95: float | None = None
    measured_role: str | None = None  # the role whose holder produced the pressure


_COLS = (
    "ram",
    "cores",
    "storage",
    "health",
    "runtime",
    "os_left",
    "cpu",
    "mem",
    "swap",
    "cpu_w",
    "mem_w",
)


@dataclass(frozen=True, slots=True)
class FactArrays:
    """Device facts as columns (NaN = unknown), for pricing many pairs at once."""

    cols: dict[str, np.ndarray[Any, Any]]

    def __len__(self) -> int:
        return len(self.cols["ram"])

    def take(self, idx: Sequence[int] | np.ndarray[Any, Any]) -> FactArrays:
        ix = np.asarray(idx, dtype=np.int64)
        return FactArrays({k: v[ix] for k, v in self.cols.items()})


def _nan(v: float | None) -> float:
    return math.nan if v is None else float(v)


def fact_arrays(facts: Sequence[DeviceFacts], cfg: RolesConfig, today: dt.date) -> FactArrays:
    n = len(facts)
    cols = {c: np.full(n, np.nan) for c in _COLS}
    os_cache: dict[tuple[str, str], float] = {}
    for i, f in enumerate(facts):
        cols["ram"][i] = _nan(f.ram_gb)
        cols["cores"][i] = _nan(f.cores)
        cols["storage"][i] = _nan(f.storage_gb)
        cols["health"][i] = _nan(f.battery_health_pct)
        if f.battery_health_pct is not None and f.battery_design_mwh:
            cols["runtime"][i] = (
                f.battery_design_mwh * f.battery_health_pct / 100 / 1000 / cfg.typical_draw_w
            )
        k = (f.os_name, f.os_version)
        if k not in os_cache:
            end = os_support_end(*k)
            os_cache[k] = math.nan if end is None else _months_between(today, end)
        cols["os_left"][i] = os_cache[k]
        cols["cpu"][i] = _nan(f.cpu_p95)
        cols["mem"][i] = _nan(f.mem_p95)
        cols["swap"][i] = _nan(f.swap_p95)
        measured = cfg.roles.get(f.measured_role or "")
        if measured is not None:
            cols["cpu_w"][i] = measured.cpu_workload
            cols["mem_w"][i] = measured.mem_workload
    return FactArrays(cols)


def _short(have: np.ndarray[Any, Any], need: float) -> np.ndarray[Any, Any]:
    """Relative shortfall below a minimum; 0 when met or unknown."""
    if need <= 0:
        return np.zeros_like(have)
    return np.nan_to_num(np.clip((need - have) / need, 0, None), nan=0.0)


def _over(have: np.ndarray[Any, Any], limit: float) -> np.ndarray[Any, Any]:
    """Relative excess above a maximum; 0 when under or unknown."""
    if limit <= 0:
        return np.zeros_like(have)
    return np.nan_to_num(np.clip((have - limit) / limit, 0, None), nan=0.0)


def _terms(a: FactArrays, role: RoleProfile, cfg: RolesConfig) -> dict[str, np.ndarray[Any, Any]]:
    c = a.cols
    # Unknown measuring role: take the pressure as this role's own.
    cpu_w = np.where(np.isnan(c["cpu_w"]), role.cpu_workload, c["cpu_w"])
    mem_w = np.where(np.isnan(c["mem_w"]), role.mem_workload, c["mem_w"])
    cpu = np.minimum(100.0, c["cpu"] * role.cpu_workload / cpu_w)
    mem = np.minimum(100.0, c["mem"] * role.mem_workload / mem_w)
    swap = np.minimum(100.0, c["swap"] * role.mem_workload / mem_w)
    horizon = (
        role.os_support_months if role.os_support_months is not None else cfg.os_support_months
    )
    os_short = np.nan_to_num(
        np.clip((horizon - c["os_left"]) / max(horizon, 1.0), 0, _OS_SHORTFALL_CAP), nan=0.0
    )
    return {
        "ram": _short(c["ram"], role.min_ram_gb),
        "cores": _short(c["cores"], role.min_cores),
        "storage": _short(c["storage"], role.min_storage_gb),
        "battery": _short(c["health"], role.min_battery_health_pct),
        "runtime": _short(c["runtime"], role.min_runtime_h),
        "os": os_short,
        "cpu": _over(cpu, role.max_cpu_busy_p95),
        "mem": _over(mem, role.max_mem_used_p95),
        "swap": _over(swap, role.max_swap_used_p95),
        "_cpu": cpu,
        "_mem": mem,
        "_swap": swap,
    }


def _surplus(a: FactArrays, role: RoleProfile) -> np.ndarray[Any, Any]:
    c = a.cols
    ram = np.nan_to_num(np.clip(c["ram"] / max(role.min_ram_gb, 1) - 1, 0, 3), nan=0.0)
    cores = np.nan_to_num(np.clip(c["cores"] / max(role.min_cores, 1) - 1, 0, 2), nan=0.0)
    return ram + cores


_SHORTFALL_KEYS = ("ram", "cores", "storage", "battery", "runtime", "os", "cpu", "mem", "swap")


def mismatch_by_role(
    a: FactArrays, cfg: RolesConfig, role_names: Sequence[str]
) -> np.ndarray[Any, Any]:
    """(len(role_names), n_devices): shortfall sum, the fit the planner must improve."""
    out = np.zeros((len(role_names), len(a)))
    for i, name in enumerate(role_names):
        t = _terms(a, cfg.roles[name], cfg)
        out[i] = sum(t[k] for k in _SHORTFALL_KEYS)
    return out


#: The role minimums a move must meet (roles.toml ``min_*``): hard constraints. A device
#: below one is never handed to a holder of that role, however well it fits otherwise.
HARD_MINIMUMS = ("ram", "cores", "storage", "battery", "runtime")


def meets_minimums_by_role(
    a: FactArrays, cfg: RolesConfig, role_names: Sequence[str]
) -> np.ndarray[Any, Any]:
    """(roles, devices) booleans: no known fact below any of the role's ``min_*``.

    An unknown fact (no reading) does not break a minimum, as it adds no shortfall to the
    mismatch either; the move's reasons name what is known.
    """
    out = np.ones((len(role_names), len(a)), dtype=bool)
    for i, name in enumerate(role_names):
        t = _terms(a, cfg.roles[name], cfg)
        for k in HARD_MINIMUMS:
            out[i] &= t[k] <= 0
    return out


def surplus_by_role(
    a: FactArrays, cfg: RolesConfig, role_names: Sequence[str]
) -> np.ndarray[Any, Any]:
    """(roles, devices): SURPLUS_WEIGHT x hardware beyond the role's minimum."""
    out = np.zeros((len(role_names), len(a)))
    for i, name in enumerate(role_names):
        out[i] = SURPLUS_WEIGHT * _surplus(a, cfg.roles[name])
    return out


# -- one device, explained ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fit:
    role: str
    mismatch: float
    surplus: float
    reasons: tuple[str, ...]
    estimated: bool  # pressure was scaled from another role's workload

    @property
    def poor(self) -> bool:
        return self.mismatch > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "mismatch": round(self.mismatch, 4),
            "poor": self.poor,
            "reasons": list(self.reasons),
            "estimated": self.estimated,
        }


def _g(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def assess(facts: DeviceFacts, role_name: str, cfg: RolesConfig, today: dt.date) -> Fit:
    """The fit of one device for one role, with every shortfall in numbers."""
    role = cfg.roles[role_name]
    a = fact_arrays([facts], cfg, today)
    t = {k: float(v[0]) for k, v in _terms(a, role, cfg).items()}
    c = {k: float(v[0]) for k, v in a.cols.items()}
    est = facts.measured_role is not None and facts.measured_role != role_name
    tag = f" (estimated from its {facts.measured_role} holder's use)" if est else ""
    r: list[str] = []
    n = role.name
    if t["ram"] > 0:
        r.append(f"RAM {_g(c['ram'])} GB < {n} minimum {_g(role.min_ram_gb)} GB")
    if t["cores"] > 0:
        r.append(f"{_g(c['cores'])} cores < {n} minimum {_g(role.min_cores)}")
    if t["storage"] > 0:
        r.append(f"storage {_g(c['storage'])} GB < {n} minimum {_g(role.min_storage_gb)} GB")
    if t["battery"] > 0:
        r.append(
            f"battery health {_g(c['health'])}% < {n} minimum {_g(role.min_battery_health_pct)}%"
        )
    if t["runtime"] > 0:
        r.append(
            f"battery runtime ~{c['runtime']:.1f} h at {_g(cfg.typical_draw_w)} W "
            f"< {n} minimum {_g(role.min_runtime_h)} h"
        )
    if t["os"] > 0:
        end = os_support_end(facts.os_name, facts.os_version)
        left = c["os_left"]
        when = f"ended {end}" if left < 0 else f"ends {end} ({left:.0f} months)"
        r.append(
            f"OS {facts.os_name} {facts.os_version} support {when}; "
            f"{n} needs {_g(role.os_support_months or cfg.os_support_months)} months"
        )
    if t["cpu"] > 0:
        r.append(f"CPU busy p95 {_g(t['_cpu'])}% > {_g(role.max_cpu_busy_p95)}%{tag}")
    if t["mem"] > 0:
        r.append(f"memory used p95 {_g(t['_mem'])}% > {_g(role.max_mem_used_p95)}%{tag}")
    if t["swap"] > 0:
        r.append(f"swap used p95 {_g(t['_swap'])}% > {_g(role.max_swap_used_p95)}%{tag}")
    mismatch = sum(t[k] for k in _SHORTFALL_KEYS)
    surplus = SURPLUS_WEIGHT * float(_surplus(a, role)[0])
    return Fit(role_name, mismatch, surplus, tuple(r), est)
