"""The redeploy plan never makes anyone worse off, and blocking loses nothing."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from kitlife.collector.policy.fit import DeviceFacts, assess, load_roles
from kitlife.collector.policy.redeploy import (
    MIN_FIT_GAIN,
    Move,
    Plan,
    PlanDevice,
    PlanHolder,
    build_plan,
)

CFG = load_roles()
TODAY = dt.date(2026, 11, 25)
ROLES = sorted(CFG.roles)
SITES = ["York", "Leeds", "London", "Reading", "Bristol"]


@st.composite
def estates(draw: st.DrawFn) -> tuple[list[PlanDevice], list[PlanHolder]]:
    n = draw(st.integers(2, 24))
    devices: list[PlanDevice] = []
    holders: list[PlanHolder] = []
    for i in range(n):
        role = draw(st.sampled_from(ROLES))
        spare = draw(st.booleans()) and draw(st.booleans())
        site = draw(st.sampled_from(SITES))
        facts = DeviceFacts(
            key=f"d{i}",
            ram_gb=draw(st.sampled_from([4, 8, 16, 32])),
            cores=draw(st.sampled_from([2, 4, 6, 8, 12])),
            storage_gb=draw(st.sampled_from([128, 256, 512, 1024])),
            battery_health_pct=draw(st.floats(40, 100)),
            battery_design_mwh=draw(st.sampled_from([45000, 60000, 80000])),
            os_name="Windows",
            os_version=draw(st.sampled_from(["10.0.19045", "10.0.26100", "10.0.26200"])),
            cpu_p95=None if spare else draw(st.floats(5, 100)),
            mem_p95=None if spare else draw(st.floats(20, 100)),
            swap_p95=None if spare else draw(st.floats(0, 100)),
            measured_role=None if spare else role,
        )
        holder = "" if spare else f"h{i}"
        devices.append(PlanDevice(f"d{i}", facts, site, holder, "Dell", "Latitude 5420"))
        if holder:
            holders.append(PlanHolder(holder, role, site, f"d{i}"))
    return devices, holders


@settings(max_examples=80, deadline=None)
@given(estates())
def test_every_move_is_a_better_fit_and_total_mismatch_never_rises(
    estate: tuple[list[PlanDevice], list[PlanHolder]],
) -> None:
    devices, holders = estate
    plan = build_plan(devices, holders, CFG, TODAY, min_donor_surplus=0.0)
    facts = {d.key: d.facts for d in devices}
    taken = [m.device_key for m in plan.moves]
    assert len(taken) == len(set(taken)), "a device given to two holders"
    for m in plan.moves:
        before = assess(facts[m.replaced.key], m.role, CFG, TODAY) if m.replaced else None
        after = assess(facts[m.device_key], m.role, CFG, TODAY)
        assert abs(after.mismatch - m.mismatch_after) < 1e-9
        assert_meets_minimums(facts[m.device_key], m.role)
        if m.kind == "fix":
            assert m.mismatch_after <= m.mismatch_before - MIN_FIT_GAIN + 1e-9
        else:
            assert m.mismatch_after == 0 and m.mismatch_before == 0
        if before is not None:
            assert after.mismatch <= before.mismatch + 1e-9
            assert after.mismatch + after.surplus < before.mismatch + before.surplus
    assert_no_churn(plan)
    assert plan.mismatch_after <= plan.mismatch_before + 1e-9


def assert_meets_minimums(facts: DeviceFacts, role: str) -> None:
    """The device handed over is at or above every known minimum of the holder's role."""
    p = CFG.roles[role]
    for have, need in (
        (facts.ram_gb, p.min_ram_gb),
        (facts.cores, p.min_cores),
        (facts.storage_gb, p.min_storage_gb),
        (facts.battery_health_pct, p.min_battery_health_pct),
    ):
        assert have is None or have >= need, (role, have, need)
    if facts.battery_health_pct is not None and facts.battery_design_mwh:
        runtime_h = facts.battery_design_mwh * facts.battery_health_pct / 1e5 / CFG.typical_draw_w
        assert runtime_h >= p.min_runtime_h - 1e-9


def assert_no_churn(plan: Plan) -> None:
    """Every right-size frees a device that someone with a poor fit takes (maybe via others)."""
    by_device = {m.device_key: m for m in plan.moves}
    for m in plan.moves:
        seen: set[str] = set()
        cur: Move | None = m
        while cur is not None and cur.kind != "fix" and cur.device_key not in seen:
            seen.add(cur.device_key)
            cur = by_device.get(cur.replaced.key) if cur.replaced else None
        assert cur is not None and cur.kind == "fix", f"{m.holder_id}'s move fixes no one"


@settings(max_examples=60, deadline=None)
@given(estates())
def test_blocks_give_the_same_optimum_as_one_big_assignment(
    estate: tuple[list[PlanDevice], list[PlanHolder]],
) -> None:
    devices, holders = estate
    blocked = build_plan(devices, holders, CFG, TODAY, min_donor_surplus=0.0)
    whole = build_plan(devices, holders, CFG, TODAY, min_donor_surplus=0.0, blocked=False)
    dense = build_plan(devices, holders, CFG, TODAY, min_donor_surplus=0.0, blocked=False)
    assert blocked.exact
    assert abs(blocked.objective_after - whole.objective_after) < 1e-6
    assert abs(whole.objective_after - dense.objective_after) < 1e-6


def test_a_developer_on_a_light_device_gets_a_spare_that_fits_with_reasons() -> None:
    weak = DeviceFacts("w", 8, 4, 256, 95, 60000, "Windows", "10.0.26100", 60, 97, 40, "developer")
    strong = DeviceFacts("s", 32, 12, 1024, 98, 80000, "Windows", "10.0.26100")
    devices = [
        PlanDevice("w", weak, "York", "h1", "Dell", "Latitude 3520"),
        PlanDevice("s", strong, "Leeds", "", "Dell", "Precision 5560"),
    ]
    plan = build_plan(devices, [PlanHolder("h1", "developer", "York", "w")], CFG, TODAY)
    (move,) = plan.moves
    d = move.to_dict()
    assert d["device_key"] == "s" and d["from_holder"] == "spare stock"
    assert "RAM 8 GB < developer minimum 16 GB" in d["why"]
    assert "memory used p95 97% > 85%" in d["why"]
    assert d["saves_kg_co2e"] > 0 and d["saves_gbp"] == CFG.price_gbp("developer")


def test_moves_never_cross_regions() -> None:
    weak = DeviceFacts("w", 8, 4, 256, 95, 60000, "Windows", "10.0.26100", 60, 97, 40, "developer")
    strong = DeviceFacts("s", 32, 12, 1024, 98, 80000, "Windows", "10.0.26100")
    devices = [
        PlanDevice("w", weak, "York", "h1"),
        PlanDevice("s", strong, "Bristol", ""),
    ]
    plan = build_plan(devices, [PlanHolder("h1", "developer", "York", "w")], CFG, TODAY)
    assert plan.moves == []


def _simulated_inputs() -> tuple[list[PlanDevice], list[PlanHolder]]:
    from kitlife.collector.policy.fleet import plan_inputs
    from kitlife.collector.tools.estate_inputs import devices_from_estate
    from kitlife.collector.tools.simulate import generate_estate

    return plan_inputs(devices_from_estate(generate_estate(400, 3, seed=21, end=TODAY)))


def test_a_plan_solved_per_region_is_exact_and_says_why() -> None:
    devices, holders = _simulated_inputs()
    plan = build_plan(devices, holders, CFG, TODAY)
    assert plan.exact and "each region solved whole" in plan.exact_reason
    assert plan.summary()["exact_reason"] == plan.exact_reason


def test_a_region_split_by_max_block_makes_the_plan_approximate() -> None:
    devices, holders = _simulated_inputs()
    plan = build_plan(devices, holders, CFG, TODAY, max_block=5)
    assert not plan.exact
    assert "above max_block 5" in plan.exact_reason
    assert plan.blocks > len({CFG.region(h.site) for h in holders if h.role in CFG.roles})
    # One assignment over everything is exact again, whatever max_block says.
    whole = build_plan(devices, holders, CFG, TODAY, max_block=5, blocked=False)
    assert whole.exact and whole.blocks == 1 and whole.notes == []
    assert whole.objective_after <= plan.objective_after + 1e-9


def test_exactness_does_not_come_from_the_notes() -> None:
    """A note that happens to say max_block (here: the roles file's name) changes nothing."""
    import dataclasses

    devices, holders = _simulated_inputs()
    cfg = dataclasses.replace(CFG, source="roles-max_block.toml")
    stray = PlanHolder("h-unknown-role", "astronaut", holders[0].site, None)
    plan = build_plan(devices, [*holders, stray], cfg, TODAY)
    assert any("max_block" in n for n in plan.notes)
    assert plan.exact


def test_a_move_that_changes_nothing_for_the_holder_is_not_planned() -> None:
    """Same OS shortfall, less surplus: the old planner moved it ("0.1486 -> 0.1486")."""
    big = DeviceFacts("a", 64, 12, 1024, 95, 60000, "Windows", "10.0.19045")
    right = DeviceFacts("b", 16, 4, 512, 95, 60000, "Windows", "10.0.19045")
    devices = [PlanDevice("a", big, "York", "h1"), PlanDevice("b", right, "York", "")]
    plan = build_plan(devices, [PlanHolder("h1", "analyst", "York", "a")], CFG, TODAY)
    assert assess(big, "analyst", CFG, TODAY).poor
    assert plan.moves == []


def test_an_analyst_is_never_given_a_device_below_the_role_minimum() -> None:
    """8 GB against the analyst's 16 GB: fits the pressure better, breaks the minimum."""
    old = DeviceFacts("a", 16, 8, 512, 95, 60000, "Windows", "10.0.19045", 50, 70, 5, "analyst")
    small = DeviceFacts("b", 8, 8, 512, 95, 60000, "Windows", "10.0.26100")
    devices = [PlanDevice("a", old, "York", "h1"), PlanDevice("b", small, "York", "")]
    assert (
        assess(small, "analyst", CFG, TODAY).mismatch < assess(old, "analyst", CFG, TODAY).mismatch
    )
    plan = build_plan(devices, [PlanHolder("h1", "analyst", "York", "a")], CFG, TODAY)
    assert plan.moves == [] and plan.below_minimum_pairs == 1


def test_a_simulated_estate_plan_keeps_every_minimum_and_has_no_churn() -> None:
    """The 300-device estate's plan gave three analysts 8 GB and a developer 4 cores."""
    from kitlife.collector.policy.fleet import plan_inputs
    from kitlife.collector.tools.estate_inputs import devices_from_estate
    from kitlife.collector.tools.simulate import generate_estate

    devices, holders = plan_inputs(devices_from_estate(generate_estate(300, 12, seed=1, end=TODAY)))
    plan = build_plan(devices, holders, CFG, TODAY)
    facts = {d.key: d.facts for d in devices}
    assert plan.moves and plan.below_minimum_pairs > 0
    for m in plan.moves:
        assert_meets_minimums(facts[m.device_key], m.role)
    assert_no_churn(plan)
