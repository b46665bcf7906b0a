"""Fleet-wide redeploy plans: give poor-fit holders devices that fit them.

An assignment problem, solved with scipy's ``linear_sum_assignment`` (the
Jonker-Volgenant shortest augmenting path algorithm), not a heuristic.

* Rows: holders whose device is a poor fit for their role, plus *donors*:
  holders whose device is well beyond their role's needs (a 32 GB machine on
  an office desk), capped at ``donor_ratio`` per poor holder, largest surplus
  first. A donor gets a right-sized device and frees theirs for someone who
  needs it.
* Columns: those holders' own devices and the spare stock (register rows
  with no holder).
* Cost of holder h on device d: d's mismatch for h's role + a small surplus
  penalty (right-sizing) + the cost of moving d from its site to h's site.
  Keeping one's own device costs its current mismatch + surplus and nothing
  for moving, so "no move" is always feasible and the optimum never leaves
  anyone worse off than today.
* Hard constraints: a holder is never offered a device below any of their role's
  minimums (RAM, cores, storage, battery health, runtime; ``fit.HARD_MINIMUMS``).
  A poor-fit holder's move must lower their mismatch by at least ``MIN_FIT_GAIN``
  (a "move" from 0.1486 to 0.1486 changes nothing for anyone); a donor's must keep
  them at no mismatch and lower their surplus, and is kept only in a chain of moves
  that fixes someone: a right-size alone is churn.
* Moves stay within a region (a logistics cluster of sites, roles.toml
  ``[sites]``). Regions therefore never share a move, and solving one
  assignment per region gives the same optimum as one big assignment with
  cross-region moves forbidden (a test checks this). A region with more
  rows than ``max_block`` is split by site, which is then an approximation
  that only loses cross-site moves inside that region; the plan says so.

Each move says why in numbers (the fit before and after) and what it saves
against buying new: the embodied carbon of a new device of the same model
(Boavizta) and an indicative price for the role's device class. It names both
devices (the one handed over and the one it replaces) by asset tag, serial and
hostname, and both people by the register's holder id, so a technician can act on
it without looking anything up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from kitlife.collector.policy.fit import (
    DeviceFacts,
    RolesConfig,
    assess,
    fact_arrays,
    meets_minimums_by_role,
    mismatch_by_role,
    surplus_by_role,
)
from kitlife.collector.policy.scoring.carbon import BoaviztaIndex, default_boavizta

NO_DEVICE_COST = 5.0  # a holder without any device: worse than any shortfall
#: The least a poor-fit holder's mismatch must fall for a move: one percent of one
#: minimum. Smaller gains are within the noise of the p95 pressure figures, and a
#: technician's visit for them changes nothing the holder would notice.
MIN_FIT_GAIN = 0.01
_BIG = 1e6
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class PlanDevice:
    key: str
    facts: DeviceFacts
    site: str
    holder_id: str = ""  # "" = spare stock
    vendor: str = ""
    model: str = ""
    asset_tag: str = ""  # the register's; "" when it has none
    serial: str = ""
    hostname: str = ""

    @property
    def label(self) -> str:
        """Vendor and model, as a move shows them."""
        return f"{self.vendor} {self.model}".strip()


@dataclass(frozen=True, slots=True)
class DeviceName:
    """What a technician finds a device by: asset tag, serial, hostname (and the key)."""

    key: str
    asset_tag: str
    serial: str
    hostname: str
    model: str

    @classmethod
    def of(cls, d: PlanDevice) -> DeviceName:
        return cls(d.key, d.asset_tag, d.serial, d.hostname, d.label)

    def fields(self, prefix: str) -> dict[str, str]:
        """Flat output fields (CSV needs them flat), each named ``prefix_...``."""
        return {
            f"{prefix}_asset_tag": self.asset_tag,
            f"{prefix}_serial": self.serial,
            f"{prefix}_hostname": self.hostname,
        }


_NO_DEVICE = DeviceName("", "", "", "", "")


@dataclass(frozen=True, slots=True)
class PlanHolder:
    holder_id: str
    role: str
    site: str
    device_key: str | None


@dataclass(frozen=True, slots=True)
class Move:
    """Holder ``holder_id`` takes ``device`` (from ``from_holder`` or spare stock) and
    gives up ``replaced`` (to ``replaced_to`` or spare stock)."""

    holder_id: str
    role: str
    site: str
    device: DeviceName
    from_site: str
    from_holder: str  # "" = from spare stock
    replaced: DeviceName | None  # the holder's current device; None: they had none
    mismatch_before: float
    mismatch_after: float
    cost_before: float
    cost_after: float
    move_cost: float
    kind: str  # "fix" (poor fit resolved or reduced) | "right-size" (a donor)
    why_before: tuple[str, ...]
    why_after: tuple[str, ...]
    saves_kg_co2e: float
    saves_gbp: float
    carbon_method: str
    replaced_to: str = ""  # holder id taking the replaced device; "" = spare stock

    @property
    def device_key(self) -> str:
        return self.device.key

    def to_dict(self) -> dict[str, Any]:
        replaced = self.replaced or _NO_DEVICE
        return {
            "holder_id": self.holder_id,
            "role": self.role,
            "site": self.site,
            "device_key": self.device.key,
            "device": self.device.model,
            **self.device.fields("device"),
            "from_site": self.from_site,
            "from_holder": self.from_holder or "spare stock",
            "replaces": self.replaced.key if self.replaced else None,
            **replaced.fields("replaces"),
            "replaced_to": (self.replaced_to or "spare stock") if self.replaced else None,
            "kind": self.kind,
            "mismatch_before": round(self.mismatch_before, 4),
            "mismatch_after": round(self.mismatch_after, 4),
            "move_cost": self.move_cost,
            "why": "; ".join(self.why_before) or "surplus hardware for this role",
            "after": "; ".join(self.why_after) or "fits the role profile",
            "saves_kg_co2e": round(self.saves_kg_co2e, 1),
            "saves_gbp": round(self.saves_gbp, 2),
            "carbon_method": self.carbon_method,
        }


@dataclass
class Plan:
    moves: list[Move]
    holders_considered: int
    poor_fit_holders: int
    donors: int
    spares: int
    blocks: int
    largest_block: tuple[int, int]
    objective_before: float
    objective_after: float
    mismatch_before: float
    mismatch_after: float
    solve_s: float
    exact: bool  # the optimum of the whole problem (see exact_reason)
    exact_reason: str = ""
    notes: list[str] = field(default_factory=list)
    below_minimum_pairs: int = 0  # better-fitting pairs ruled out by a role minimum
    churn_moves: int = 0  # right-size moves left out because they fixed no one

    @property
    def saves_kg_co2e(self) -> float:
        return sum(m.saves_kg_co2e for m in self.moves)

    @property
    def saves_gbp(self) -> float:
        return sum(m.saves_gbp for m in self.moves)

    def summary(self) -> dict[str, Any]:
        fixed = sum(1 for m in self.moves if m.kind == "fix")
        return {
            "moves": len(self.moves),
            "poor_fits_addressed": fixed,
            "right_sizing_moves": len(self.moves) - fixed,
            "holders_considered": self.holders_considered,
            "poor_fit_holders": self.poor_fit_holders,
            "donors": self.donors,
            "spares": self.spares,
            "blocks": self.blocks,
            "largest_block": list(self.largest_block),
            "mismatch_before": round(self.mismatch_before, 3),
            "mismatch_after": round(self.mismatch_after, 3),
            "objective_before": round(self.objective_before, 3),
            "objective_after": round(self.objective_after, 3),
            "saves_kg_co2e": round(self.saves_kg_co2e, 1),
            "saves_gbp": round(self.saves_gbp, 2),
            "solve_s": round(self.solve_s, 3),
            "exact": self.exact,
            "exact_reason": self.exact_reason,
            "below_minimum_pairs": self.below_minimum_pairs,
            "churn_moves": self.churn_moves,
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class Exactness:
    """Whether the plan is the optimum of the whole problem, and why (or why not)."""

    exact: bool
    reason: str


@dataclass(frozen=True, slots=True)
class _Priced:
    """Every device priced for every role: mismatch, surplus penalty and their sum."""

    role_ix: dict[str, int]
    dev_ix: dict[str, int]
    mismatch: np.ndarray[Any, Any]  # (roles, devices)
    surplus: np.ndarray[Any, Any]
    cost: np.ndarray[Any, Any]
    meets_minimums: np.ndarray[Any, Any]  # (roles, devices) booleans: the hard constraints


@dataclass(frozen=True, slots=True)
class _Holders:
    """The holders the plan can serve, with today's device and fit as arrays (row i)."""

    rows: list[PlanHolder]
    role: np.ndarray[Any, Any]  # role index
    device: np.ndarray[Any, Any]  # device index, -1 for none
    has: np.ndarray[Any, Any]  # has a device
    mismatch: np.ndarray[Any, Any]  # today's
    cost: np.ndarray[Any, Any]  # today's
    poor: np.ndarray[Any, Any]
    spares: list[int]  # device indices of spare stock


@dataclass(frozen=True, slots=True)
class _Regions:
    """Who takes part, by region: poor fits, then donors; and the spares there."""

    rows: dict[str, list[int]]
    spares: dict[str, list[int]]
    donors: int


Block = tuple[list[int], list[int]]  # holder rows, spare device indices


@dataclass(frozen=True, slots=True)
class _Blocking:
    blocks: list[Block]
    exactness: Exactness
    notes: list[str]


@dataclass(frozen=True, slots=True)
class _Solved:
    assigned: dict[int, int]  # holder row -> device index (or -1 for none)
    largest: tuple[int, int]
    below_minimums: int  # holder-device pairs that would fit better but break a minimum


def _price(devices: Sequence[PlanDevice], cfg: RolesConfig, today: dt.date) -> _Priced:
    role_names = sorted(cfg.roles)
    arrays = fact_arrays([d.facts for d in devices], cfg, today)
    mm = mismatch_by_role(arrays, cfg, role_names)
    sp = surplus_by_role(arrays, cfg, role_names)
    return _Priced(
        {r: i for i, r in enumerate(role_names)},
        {d.key: i for i, d in enumerate(devices)},
        mm,
        sp,
        mm + sp,
        meets_minimums_by_role(arrays, cfg, role_names),
    )


def _holders(
    holders: Sequence[PlanHolder], devices: Sequence[PlanDevice], priced: _Priced
) -> _Holders:
    """Holders with a known role, their device today, its fit, and the spare stock."""
    hs = [h for h in holders if h.role in priced.role_ix]
    role = np.array([priced.role_ix[h.role] for h in hs], dtype=np.int64)
    device = np.array(
        [priced.dev_ix.get(h.device_key, -1) if h.device_key else -1 for h in hs], dtype=np.int64
    )
    has = device >= 0
    mismatch = np.full(len(hs), NO_DEVICE_COST)
    cost = np.full(len(hs), NO_DEVICE_COST)
    mismatch[has] = priced.mismatch[role[has], device[has]]
    cost[has] = priced.cost[role[has], device[has]]
    held = set(int(i) for i in device[has])
    spares = [i for i, d in enumerate(devices) if not d.holder_id and i not in held]
    return _Holders(hs, role, device, has, mismatch, cost, mismatch > 0, spares)


def _regions(
    h: _Holders,
    devices: Sequence[PlanDevice],
    priced: _Priced,
    cfg: RolesConfig,
    donor_ratio: float,
    min_donor_surplus: float,
) -> _Regions:
    """Poor fits per region, plus donors: good fits with the most surplus, capped."""
    poor_by_region: dict[str, list[int]] = defaultdict(list)
    donor_cands: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for i, holder in enumerate(h.rows):
        if h.poor[i]:
            poor_by_region[cfg.region(holder.site)].append(i)
        elif h.has[i]:
            s = float(priced.surplus[h.role[i], h.device[i]])
            if s >= min_donor_surplus:
                donor_cands[cfg.region(holder.site)].append((-s, i))
    rows: dict[str, list[int]] = {}
    n_donors = 0
    for reg, prs in poor_by_region.items():
        donors = [i for _, i in sorted(donor_cands.get(reg, []))[: int(donor_ratio * len(prs))]]
        n_donors += len(donors)
        rows[reg] = prs + donors
    spares: dict[str, list[int]] = defaultdict(list)
    for j in h.spares:
        spares[cfg.region(devices[j].site)].append(j)
    return _Regions(rows, spares, n_donors)


def _split_region(
    rows: list[int], spares: list[int], h: _Holders, devices: Sequence[PlanDevice], max_block: int
) -> list[Block]:
    """A region too big to solve whole: per site, dealt into equal chunks if still too big."""
    by_site: dict[str, list[int]] = defaultdict(list)
    for i in rows:
        by_site[h.rows[i].site].append(i)
    out: list[Block] = []
    for s, site_rows in sorted(by_site.items()):
        site_spares = [j for j in spares if devices[j].site == s]
        k = -(-len(site_rows) // max_block)
        out.extend((site_rows[q::k], site_spares[q::k]) for q in range(k))
    return out


def _blocks(
    regions: _Regions,
    h: _Holders,
    devices: Sequence[PlanDevice],
    max_block: int,
    blocked: bool,
) -> _Blocking:
    """The assignment problems to solve, and whether together they give the optimum."""
    blocks: list[Block] = []
    split: list[str] = []
    for reg, rows in sorted(regions.rows.items()):
        spares = regions.spares.get(reg, [])
        if len(rows) <= max_block:
            blocks.append((rows, spares))
        else:
            split.append(f"region {reg}: {len(rows)} holders")
            blocks.extend(_split_region(rows, spares, h, devices, max_block))
    if not blocked:
        # One assignment over every row (in the same order as the blocks, so that ties
        # resolve as they did when this merged the blocks after splitting them).
        rows_all = [i for rows, _ in blocks for i in rows]
        spares_all = [j for _, spares in blocks for j in spares]
        exactness = Exactness(True, "all regions solved as one assignment (blocked=False)")
        return _Blocking([(rows_all, spares_all)] if rows_all else [], exactness, [])
    notes = [
        f"{what} > max_block {max_block}; solved per site (cross-site moves inside it not "
        "considered)"
        for what in split
    ]
    if split:
        exactness = Exactness(
            False,
            f"{len(split)} region(s) above max_block {max_block} holders solved per site: "
            "an approximation that leaves out cross-site moves inside them",
        )
    else:
        exactness = Exactness(
            True, "each region solved whole: moves never cross regions, so this is the optimum"
        )
    return _Blocking(blocks, exactness, notes)


def _block_costs(
    rows: list[int],
    cols: list[int],
    h: _Holders,
    devices: Sequence[PlanDevice],
    priced: _Priced,
    cfg: RolesConfig,
) -> tuple[np.ndarray[Any, Any], int]:
    """(rows, cols + one dummy per holder without a device): fit + move cost, or _BIG;
    and how many better-fitting pairs the role minimums ruled out.

    _BIG where a move is not allowed: another region, below a role minimum, or not a
    strict improvement (module docstring). Keeping one's own device is always allowed.
    """
    col_pos = {d: k for k, d in enumerate(cols)}
    r_arr = np.array(rows, dtype=np.int64)
    c_arr = np.array(cols, dtype=np.int64)
    nr, nc = len(rows), len(cols)
    # Index columns first: (roles x block columns) is small, (rows x fleet) is not.
    m = priced.mismatch[:, c_arr][h.role[r_arr]] if nc else np.zeros((nr, 0))
    c = priced.cost[:, c_arr][h.role[r_arr]] if nc else np.zeros((nr, 0))
    hard = priced.meets_minimums[:, c_arr][h.role[r_arr]] if nc else np.zeros((nr, 0), bool)
    codes: dict[str, int] = {}
    hs_site = np.array([codes.setdefault(h.rows[i].site, len(codes)) for i in rows])
    ds_site = np.array([codes.setdefault(devices[d].site, len(codes)) for d in cols])
    hs_reg = np.array(
        [codes.setdefault("R:" + cfg.region(h.rows[i].site), len(codes)) for i in rows]
    )
    ds_reg = np.array(
        [codes.setdefault("R:" + cfg.region(devices[d].site), len(codes)) for d in cols]
    )
    same_site = hs_site[:, None] == ds_site[None, :]
    same_reg = hs_reg[:, None] == ds_reg[None, :]
    total = c + np.where(same_site, cfg.move_same_site, cfg.move_same_region)
    poor = h.poor[r_arr][:, None]
    better = np.where(poor, m <= h.mismatch[r_arr][:, None] - MIN_FIT_GAIN, m <= _EPS)
    wanted = same_reg & better & (c < h.cost[r_arr][:, None] - _EPS)
    ok = wanted & hard
    total = np.where(ok, total, _BIG)
    for k, i in enumerate(rows):
        if h.has[i]:
            total[k, col_pos[int(h.device[i])]] = h.cost[i]
    no_dev_rows = [k for k, i in enumerate(rows) if not h.has[i]]
    if no_dev_rows:
        dummy = np.full((nr, len(no_dev_rows)), _BIG)
        for q, k in enumerate(no_dev_rows):
            dummy[k, q] = NO_DEVICE_COST
        total = np.hstack([total, dummy])
    return total, int((wanted & ~hard).sum())


def _solve(
    blocks: list[Block],
    h: _Holders,
    devices: Sequence[PlanDevice],
    priced: _Priced,
    cfg: RolesConfig,
) -> _Solved:
    """One linear_sum_assignment per block."""
    assigned: dict[int, int] = {}
    largest = (0, 0)
    below = 0
    for rows, spares in blocks:
        cols = sorted({int(h.device[i]) for i in rows if h.has[i]} | set(spares))
        total, ruled_out = _block_costs(rows, cols, h, devices, priced, cfg)
        below += ruled_out
        largest = max(largest, (len(rows), total.shape[1]))
        ri, ci = linear_sum_assignment(total)
        for k, q in zip(ri, ci, strict=True):
            assigned[rows[int(k)]] = cols[int(q)] if q < len(cols) else -1
    return _Solved(assigned, largest, below)


def _move(
    i: int,
    j: int,
    h: _Holders,
    devices: Sequence[PlanDevice],
    priced: _Priced,
    cfg: RolesConfig,
    today: dt.date,
    lap: BoaviztaIndex,
    donor_from: int | None,
) -> Move:
    """Holder row ``i`` takes device ``j``: the move with its reasons and savings."""
    holder = h.rows[i]
    d = devices[j]
    r = int(h.role[i])
    mc = cfg.move_cost(d.site, holder.site)
    current = devices[int(h.device[i])] if h.has[i] else None
    before = assess(current.facts, holder.role, cfg, today).reasons if current else ("no device",)
    fix = bool(h.poor[i])
    kg, method = lap.embodied_kg(d.vendor, d.model) if fix else (0.0, "")
    return Move(
        holder_id=holder.holder_id,
        role=holder.role,
        site=holder.site,
        device=DeviceName.of(d),
        from_site=d.site,
        from_holder=h.rows[donor_from].holder_id if donor_from is not None else "",
        replaced=DeviceName.of(current) if current else None,
        mismatch_before=float(h.mismatch[i]),
        mismatch_after=float(priced.mismatch[r, j]),
        cost_before=float(h.cost[i]),
        cost_after=float(priced.cost[r, j]),
        move_cost=float(mc if mc is not None else cfg.move_same_region),
        kind="fix" if fix else "right-size",
        why_before=before,
        why_after=assess(d.facts, holder.role, cfg, today).reasons,
        saves_kg_co2e=kg,
        saves_gbp=cfg.price_gbp(holder.role) if fix else 0.0,
        carbon_method=method,
    )


def _keep_best_chains(
    chains: list[list[int]], moves: dict[int, Move], max_moves: int
) -> tuple[list[list[int]], int]:
    """The chains worth most per move that fit in ``max_moves``, and how many moves dropped."""

    def value(ch: list[int]) -> float:
        gain = sum(moves[i].cost_before - moves[i].cost_after - moves[i].move_cost for i in ch)
        return gain / len(ch)

    kept: list[list[int]] = []
    budget = max_moves
    for ch in sorted(chains, key=lambda ch: -value(ch)):
        if len(ch) <= budget:
            kept.append(ch)
            budget -= len(ch)
    return kept, len(moves) - sum(len(ch) for ch in kept)


@dataclass(frozen=True, slots=True)
class _Totals:
    objective_before: float
    objective_after: float
    mismatch_before: float
    mismatch_after: float


def _totals(blocks: list[Block], h: _Holders, moves: list[Move], rows: list[int]) -> _Totals:
    """Fit cost and mismatch of everyone considered, today and after the kept moves."""
    considered = [i for block_rows, _ in blocks for i in block_rows]
    after_mm = {i: h.mismatch[i] for i in considered}
    after_obj = {i: h.cost[i] for i in considered}
    for i, mv in zip(rows, moves, strict=True):
        after_mm[i] = mv.mismatch_after
        after_obj[i] = mv.cost_after + mv.move_cost
    return _Totals(
        float(sum(h.cost[i] for i in considered)),
        float(sum(after_obj.values())),
        float(sum(h.mismatch[i] for i in considered)),
        float(sum(after_mm.values())),
    )


def build_plan(
    devices: Sequence[PlanDevice],
    holders: Sequence[PlanHolder],
    cfg: RolesConfig,
    today: dt.date,
    *,
    site: str | None = None,
    max_moves: int | None = None,
    max_block: int = 1000,
    donor_ratio: float = 1.0,
    min_donor_surplus: float = 0.04,
    blocked: bool = True,
    table: BoaviztaIndex | None = None,
) -> Plan:
    """The cheapest set of moves that makes poor fits fit; see the module docstring.

    Steps: price every device for every role, take today's fit of each holder, gather
    poor fits and donors per region, cut the regions into blocks, solve each block,
    turn assignments into moves grouped in chains, keep the best chains under
    ``max_moves``, and total the fit before and after.
    """
    t0 = time.perf_counter()
    notes: list[str] = []
    if site is not None:
        devices = [d for d in devices if d.site == site]
        holders = [h for h in holders if h.site == site]
    priced = _price(devices, cfg, today)
    h = _holders(holders, devices, priced)
    if len(h.rows) < len(holders):
        notes.append(
            f"{len(holders) - len(h.rows)} holders with a role not in {cfg.source} skipped"
        )
    regions = _regions(h, devices, priced, cfg, donor_ratio, min_donor_surplus)
    blocking = _blocks(regions, h, devices, max_block, blocked)
    notes += blocking.notes
    solved = _solve(blocking.blocks, h, devices, priced, cfg)

    holder_of_dev = {int(h.device[i]): i for i in range(len(h.rows)) if h.has[i]}
    lap = table or default_boavizta()
    moves_by_row = {
        i: _move(i, j, h, devices, priced, cfg, today, lap, holder_of_dev.get(j))
        for i, j in solved.assigned.items()
        if j >= 0 and not (h.has[i] and j == h.device[i])
    }
    useful = _leading_to_a_fix(moves_by_row)
    n_churn = len(moves_by_row) - len(useful)
    moves_by_row = {i: mv for i, mv in moves_by_row.items() if i in useful}
    chains = _chains(moves_by_row, holder_of_dev, priced.dev_ix)
    if max_moves is not None:
        chains, dropped = _keep_best_chains(chains, moves_by_row, max_moves)
        if dropped:
            notes.append(f"--max-moves {max_moves}: {dropped} lower-value moves left out")
    final_rows = sorted((i for ch in chains for i in ch), key=lambda i: h.rows[i].holder_id)
    taker = {moves_by_row[i].device.key: moves_by_row[i].holder_id for i in final_rows}
    final = [
        dataclasses.replace(mv, replaced_to=taker.get(mv.replaced.key, "") if mv.replaced else "")
        for mv in (moves_by_row[i] for i in final_rows)
    ]
    totals = _totals(blocking.blocks, h, final, final_rows)
    return Plan(
        moves=final,
        holders_considered=len(h.rows),
        poor_fit_holders=int(h.poor.sum()),
        donors=regions.donors,
        spares=len(h.spares),
        blocks=len(blocking.blocks),
        largest_block=solved.largest,
        objective_before=totals.objective_before,
        objective_after=totals.objective_after,
        mismatch_before=totals.mismatch_before,
        mismatch_after=totals.mismatch_after,
        solve_s=time.perf_counter() - t0,
        exact=blocking.exactness.exact,
        exact_reason=blocking.exactness.reason,
        notes=notes,
        below_minimum_pairs=solved.below_minimums,
        churn_moves=n_churn,
    )


def _leading_to_a_fix(moves: dict[int, Move]) -> set[int]:
    """Rows whose move is a fix, or a right-size whose freed device goes (maybe through
    other right-sizes) to a fix. The rest is churn: dropping it leaves every kept move's
    device free, since a kept move's supplier also leads to a fix."""
    taker = {mv.device.key: i for i, mv in moves.items()}
    useful: set[int] = set()
    for start in moves:
        seen: set[int] = set()
        cur: int | None = start
        while cur is not None and cur not in seen:
            mv = moves[cur]
            if mv.kind == "fix":
                useful.add(start)
                break
            seen.add(cur)
            cur = taker.get(mv.replaced.key) if mv.replaced else None
    return useful


def _chains(
    moves: dict[int, Move], holder_of_dev: dict[int, int], dev_ix: dict[str, int]
) -> list[list[int]]:
    """Groups of moves that only make sense together (a swap, or A takes B's, B takes C's)."""
    parent = {i: i for i in moves}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, mv in moves.items():
        prev = holder_of_dev.get(dev_ix[mv.device.key])
        if prev is not None and prev in parent:
            parent[find(i)] = find(prev)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in moves:
        groups[find(i)].append(i)
    return [sorted(g) for g in groups.values()]
