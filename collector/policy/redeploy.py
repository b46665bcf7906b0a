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
* A move is only allowed when it lowers the holder's fit cost and does not
  raise their mismatch: every planned move is a better fit than today's.
* Moves stay within a region (a logistics cluster of sites, roles.toml
  ``[sites]``). Regions therefore never share a move, and solving one
  assignment per region gives the same optimum as one big assignment with
  cross-region moves forbidden (a test checks this). A region with more
  rows than ``max_block`` is split by site, which is then an approximation
  that only loses cross-site moves inside that region; the plan says so.

Each move says why in numbers (the fit before and after) and what it saves
against buying new: the embodied carbon of a new device of the same model
(Boavizta) and an indicative price for the role's device class.
"""

from __future__ import annotations

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
    mismatch_by_role,
    surplus_by_role,
)
from kitlife.collector.policy.scoring.carbon import BoaviztaIndex, default_boavizta

NO_DEVICE_COST = 5.0  # a holder without any device: worse than any shortfall
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


@dataclass(frozen=True, slots=True)
class PlanHolder:
    holder_id: str
    role: str
    site: str
    device_key: str | None


@dataclass(frozen=True, slots=True)
class Move:
    holder_id: str
    role: str
    site: str
    device_key: str
    device: str
    from_site: str
    from_holder: str  # "" = from spare stock
    replaces: str | None  # the holder's current device, which goes to someone else or stock
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder_id": self.holder_id,
            "role": self.role,
            "site": self.site,
            "device_key": self.device_key,
            "device": self.device,
            "from_site": self.from_site,
            "from_holder": self.from_holder or "spare stock",
            "replaces": self.replaces,
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
    exact: bool
    notes: list[str] = field(default_factory=list)

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
            "notes": self.notes,
        }


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
    """The cheapest set of moves that makes poor fits fit; see the module docstring."""
    t0 = time.perf_counter()
    notes: list[str] = []
    if site is not None:
        devices = [d for d in devices if d.site == site]
        holders = [h for h in holders if h.site == site]
    role_names = sorted(cfg.roles)
    role_ix = {r: i for i, r in enumerate(role_names)}
    dev_ix = {d.key: i for i, d in enumerate(devices)}
    arrays = fact_arrays([d.facts for d in devices], cfg, today)
    mm = mismatch_by_role(arrays, cfg, role_names)
    sp = surplus_by_role(arrays, cfg, role_names)
    cost_rd = mm + sp

    hs = [h for h in holders if h.role in role_ix]
    if len(hs) < len(holders):
        notes.append(f"{len(holders) - len(hs)} holders with a role not in {cfg.source} skipped")
    n_h = len(hs)
    h_role = np.array([role_ix[h.role] for h in hs], dtype=np.int64)
    h_dev = np.array(
        [dev_ix.get(h.device_key, -1) if h.device_key else -1 for h in hs], dtype=np.int64
    )
    has = h_dev >= 0
    cur_mm = np.full(n_h, NO_DEVICE_COST)
    cur_cost = np.full(n_h, NO_DEVICE_COST)
    cur_mm[has] = mm[h_role[has], h_dev[has]]
    cur_cost[has] = cost_rd[h_role[has], h_dev[has]]
    poor = cur_mm > 0
    held = set(int(i) for i in h_dev[has])
    spare_ix = [i for i, d in enumerate(devices) if not d.holder_id and i not in held]

    # Donors: good fits with the most surplus, per region, capped by poor count.
    region_of_site: dict[str, str] = {}

    def region(s: str) -> str:
        if s not in region_of_site:
            region_of_site[s] = cfg.region(s)
        return region_of_site[s]

    poor_by_region: dict[str, list[int]] = defaultdict(list)
    donor_cands: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for i, h in enumerate(hs):
        if poor[i]:
            poor_by_region[region(h.site)].append(i)
        elif has[i]:
            s = float(sp[h_role[i], h_dev[i]])
            if s >= min_donor_surplus:
                donor_cands[region(h.site)].append((-s, i))
    rows_by_region: dict[str, list[int]] = {}
    n_donors = 0
    for reg, prs in poor_by_region.items():
        cap = int(donor_ratio * len(prs))
        donors = [i for _, i in sorted(donor_cands.get(reg, []))[:cap]]
        n_donors += len(donors)
        rows_by_region[reg] = prs + donors
    spares_by_region: dict[str, list[int]] = defaultdict(list)
    for j in spare_ix:
        spares_by_region[region(devices[j].site)].append(j)

    site_code: dict[str, int] = {}

    def code(s: str) -> int:
        return site_code.setdefault(s, len(site_code))

    def blocks() -> list[tuple[list[int], list[int]]]:
        out: list[tuple[list[int], list[int]]] = []
        for reg, rows in sorted(rows_by_region.items()):
            spares = spares_by_region.get(reg, [])
            if len(rows) <= max_block:
                out.append((rows, spares))
                continue
            notes.append(
                f"region {reg}: {len(rows)} holders > max_block {max_block}; "
                "solved per site (cross-site moves inside it not considered)"
            )
            by_site: dict[str, list[int]] = defaultdict(list)
            for i in rows:
                by_site[hs[i].site].append(i)
            for s, site_rows in sorted(by_site.items()):
                site_spares = [j for j in spares if devices[j].site == s]
                # Still too big: deal the site's rows and spares into equal chunks.
                k = -(-len(site_rows) // max_block)
                for q in range(k):
                    out.append((site_rows[q::k], site_spares[q::k]))
        return out

    block_list = blocks()
    exact = not any("max_block" in n for n in notes)
    if not blocked:
        all_rows = [i for rows, _ in block_list for i in rows]
        all_sp = [j for _, sps in block_list for j in sps]
        block_list = [(all_rows, all_sp)] if all_rows else []

    assigned: dict[int, int] = {}  # holder row -> device index (or -1 for none)
    largest = (0, 0)
    for rows, spares in block_list:
        cols = sorted({int(h_dev[i]) for i in rows if has[i]} | set(spares))
        col_pos = {d: k for k, d in enumerate(cols)}
        r_arr = np.array(rows, dtype=np.int64)
        c_arr = np.array(cols, dtype=np.int64)
        nr, nc = len(rows), len(cols)
        no_dev_rows = [k for k, i in enumerate(rows) if not has[i]]
        largest = max(largest, (nr, nc + len(no_dev_rows)))
        # Index columns first: (roles x block columns) is small, (rows x fleet) is not.
        m = mm[:, c_arr][h_role[r_arr]] if nc else np.zeros((nr, 0))
        c = cost_rd[:, c_arr][h_role[r_arr]] if nc else np.zeros((nr, 0))
        hs_site = np.array([code(hs[i].site) for i in rows])
        hs_reg = np.array([code("R:" + region(hs[i].site)) for i in rows])
        ds_site = np.array([code(devices[d].site) for d in cols])
        ds_reg = np.array([code("R:" + region(devices[d].site)) for d in cols])
        same_site = hs_site[:, None] == ds_site[None, :]
        same_reg = hs_reg[:, None] == ds_reg[None, :]
        move = np.where(same_site, cfg.move_same_site, cfg.move_same_region)
        total = c + move
        ok = same_reg & (m <= cur_mm[r_arr][:, None] + _EPS) & (c < cur_cost[r_arr][:, None] - _EPS)
        total = np.where(ok, total, _BIG)
        for k, i in enumerate(rows):
            if has[i]:
                total[k, col_pos[int(h_dev[i])]] = cur_cost[i]
        if no_dev_rows:
            dummy = np.full((nr, len(no_dev_rows)), _BIG)
            for q, k in enumerate(no_dev_rows):
                dummy[k, q] = NO_DEVICE_COST
            total = np.hstack([total, dummy])
        ri, ci = linear_sum_assignment(total)
        for k, q in zip(ri, ci, strict=True):
            i = rows[int(k)]
            assigned[i] = cols[int(q)] if q < nc else -1

    # Moves, then chains (a move can free a device for the next), then --max-moves.
    holder_of_dev = {int(h_dev[i]): i for i in range(n_h) if has[i]}
    lap = table or default_boavizta()
    moves_by_row: dict[int, Move] = {}
    for i, j in assigned.items():
        if j < 0 or (has[i] and j == h_dev[i]):
            continue
        h = hs[i]
        d = devices[j]
        r = int(h_role[i])
        mc = cfg.move_cost(d.site, h.site)
        before = (
            assess(devices[int(h_dev[i])].facts, h.role, cfg, today).reasons
            if has[i]
            else ("no device",)
        )
        after = assess(d.facts, h.role, cfg, today).reasons
        fix = bool(poor[i])
        kg, method = lap.embodied_kg(d.vendor, d.model) if fix else (0.0, "")
        donor_from = holder_of_dev.get(j)
        moves_by_row[i] = Move(
            holder_id=h.holder_id,
            role=h.role,
            site=h.site,
            device_key=d.key,
            device=f"{d.vendor} {d.model}".strip(),
            from_site=d.site,
            from_holder=hs[donor_from].holder_id if donor_from is not None else "",
            replaces=devices[int(h_dev[i])].key if has[i] else None,
            mismatch_before=float(cur_mm[i]),
            mismatch_after=float(mm[r, j]),
            cost_before=float(cur_cost[i]),
            cost_after=float(cost_rd[r, j]),
            move_cost=float(mc if mc is not None else cfg.move_same_region),
            kind="fix" if fix else "right-size",
            why_before=before,
            why_after=after,
            saves_kg_co2e=kg,
            saves_gbp=cfg.price_gbp(h.role) if fix else 0.0,
            carbon_method=method,
        )
    chains = _chains(moves_by_row, holder_of_dev, dev_ix)
    if max_moves is not None:
        kept: list[list[int]] = []
        budget = max_moves
        ranked = sorted(
            chains,
            key=lambda ch: (
                -sum(
                    moves_by_row[i].cost_before
                    - moves_by_row[i].cost_after
                    - moves_by_row[i].move_cost
                    for i in ch
                )
                / len(ch)
            ),
        )
        for ch in ranked:
            if len(ch) <= budget:
                kept.append(ch)
                budget -= len(ch)
        dropped = len(moves_by_row) - sum(len(ch) for ch in kept)
        if dropped:
            notes.append(f"--max-moves {max_moves}: {dropped} lower-value moves left out")
        chains = kept
    final_rows = sorted((i for ch in chains for i in ch), key=lambda i: hs[i].holder_id)
    moves = [moves_by_row[i] for i in final_rows]

    rows_all = [i for rows, _ in block_list for i in rows]
    after_mm = {i: cur_mm[i] for i in rows_all}
    after_obj = {i: cur_cost[i] for i in rows_all}
    for i in final_rows:
        mv = moves_by_row[i]
        after_mm[i] = mv.mismatch_after
        after_obj[i] = mv.cost_after + mv.move_cost
    return Plan(
        moves=moves,
        holders_considered=n_h,
        poor_fit_holders=int(poor.sum()),
        donors=n_donors,
        spares=len(spare_ix),
        blocks=len(block_list),
        largest_block=largest,
        objective_before=float(sum(cur_cost[i] for i in rows_all)),
        objective_after=float(sum(after_obj.values())),
        mismatch_before=float(sum(cur_mm[i] for i in rows_all)),
        mismatch_after=float(sum(after_mm.values())),
        solve_s=time.perf_counter() - t0,
        exact=exact,
        notes=notes,
    )


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
        prev = holder_of_dev.get(dev_ix[mv.device_key])
        if prev is not None and prev in parent:
            parent[find(i)] = find(prev)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in moves:
        groups[find(i)].append(i)
    return [sorted(g) for g in groups.values()]
