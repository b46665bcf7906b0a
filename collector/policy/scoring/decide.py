"""From component assessments to one action, with reasons in numbers and the footprint.

Rules, in order (thresholds keys in brackets):
1. as-is score >= keep_min: keep, or redeploy when the holder's role fit is poor;
2. planned-repair score >= keep_min and the repairs cost <= cheap_max_gbp: repair;
3. the hardware serves after repair but the OS leaves support: donate when it cannot be
   upgraded, repair (upgrade, after confirming readiness) when readiness is unknown;
4. planned-repair score >= refurbish_min: refurbish (more than a cheap fix);
5. otherwise recycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kitlife.collector.policy.footprint import DefraFactors
from kitlife.collector.policy.scoring.carbon import EmbodiedEstimate
from kitlife.collector.policy.scoring.catalogue import Part
from kitlife.collector.policy.scoring.components import Context
from kitlife.collector.policy.scoring.results import (
    Action,
    ComponentAssessment,
    Footprint,
    Reason,
)

RoleFit = Literal["poor", "good"]
CATALOGUE_KEY = "repair_catalogue.csv:"
BOAVIZTA_KEY = "boavizta-data-us.csv"
BOAVIZTA_SOURCE = "Boavizta environmental-footprint-data (ODbL), commit 61323eb5"


@dataclass(frozen=True, slots=True)
class Plan:
    """The cheapest repairs for the components that need one, and the score they lead to."""

    parts: tuple[Part, ...]
    repaired: frozenset[str]
    cost_gbp: float
    score: int
    hardware_score: int


def plan_repairs(components: Sequence[ComponentAssessment], ctx: Context) -> Plan:
    """Repair every component that needs it and has a catalogue part; score the result.

    ``repaired`` names the components reset, as ``component:name``.
    """
    t = ctx.thresholds
    parts: list[Part] = []
    repaired: set[str] = set()
    p_all = p_hardware = 1.0
    for c in components:
        part = ctx.catalogue.by_name(c.repair_part) if c.needs_repair and c.repair_part else None
        p = c.p_serves_repaired if part is not None else c.p_serves
        if part is None and c.waits_for is not None:
            # A healthy part a forecast says will wear: the plan relies on replacing it when
            # it does (so its forecast does not sink the device), but buys nothing now.
            p = max(c.p_serves, c.p_serves_repaired)
        if part is not None:
            parts.append(part)
            repaired.add(f"{c.component}:{c.name}")
        p_all *= p
        if c.component != "os":
            p_hardware *= p
    confidence = t.number("score.repair_confidence") if parts else 1.0
    return Plan(
        tuple(parts),
        frozenset(repaired),
        sum(p.cost_gbp for p in parts),
        round(100 * confidence * p_all),
        round(100 * confidence * p_hardware),
    )


def _repair_reason(part: Part, ctx: Context) -> Reason:
    carbon = (
        "carbon not measured"
        if part.embodied_kgco2e is None
        else f"{part.embodied_kgco2e:.1f} kg CO2e"
    )
    flag = " (indicative)" if part.indicative else ""
    return Reason(
        f"{part.part} GBP {part.cost_gbp:.0f}{flag}, {part.labour_min:.0f} min, {carbon}: "
        f"restores {part.resets} for {ctx.horizon_months:g}+ months",
        CATALOGUE_KEY + part.part,
        part.source,
    )


def choose_action(
    components: Sequence[ComponentAssessment],
    score_as_is: int,
    plan: Plan,
    role_fit: RoleFit | None,
    ctx: Context,
) -> tuple[Action, list[Reason]]:
    """The action and the reasons that led to it, then what any deferred repair waits for."""
    action, reasons = _choose(components, score_as_is, plan, role_fit, ctx)
    reasons.extend(ctx.reason(c.waits_for, "forecast.interval") for c in components if c.waits_for)
    return action, reasons


def _choose(
    components: Sequence[ComponentAssessment],
    score_as_is: int,
    plan: Plan,
    role_fit: RoleFit | None,
    ctx: Context,
) -> tuple[Action, list[Reason]]:
    t = ctx.thresholds
    keep_min = t.number("score.keep_min")
    cheap = t.number("repair.cheap_max_gbp")
    reasons: list[Reason] = []
    if score_as_is >= keep_min:
        if role_fit == "poor":
            reasons.append(
                ctx.reason(
                    f"serves {ctx.horizon_months:g} months as-is (score {score_as_is} >= "
                    f"{keep_min:g}) but fits its holder's role poorly",
                    "score.keep_min",
                )
            )
            return Action.REDEPLOY, reasons
        reasons.append(
            ctx.reason(
                f"serves {ctx.horizon_months:g} months as-is (score {score_as_is} >= {keep_min:g})",
                "score.keep_min",
            )
        )
        return Action.KEEP, reasons
    if plan.parts and plan.score >= keep_min and plan.cost_gbp <= cheap:
        reasons.append(
            ctx.reason(
                f"score {score_as_is} as-is, {plan.score} after repairs costing GBP "
                f"{plan.cost_gbp:.0f} (cheap: <= {cheap:g})",
                "repair.cheap_max_gbp",
            )
        )
        reasons.extend(_repair_reason(p, ctx) for p in plan.parts)
        return Action.REPAIR, reasons
    os_limit = next((c for c in components if c.component == "os" and c.p_serves < 1), None)
    if os_limit is not None and plan.hardware_score >= keep_min:
        if os_limit.repair_part is None:
            reasons.append(
                ctx.reason(
                    f"hardware serves {ctx.horizon_months:g} months (score {plan.hardware_score}) "
                    "but the OS leaves support and cannot be upgraded",
                    "os.months_left_min",
                )
            )
            return Action.DONATE, reasons
        if plan.cost_gbp <= cheap:
            reasons.append(
                ctx.reason(
                    f"hardware serves {ctx.horizon_months:g} months (score {plan.hardware_score}); "
                    "the OS leaves support and Windows 11 readiness is unknown: "
                    "confirm it, upgrade, and donate instead if it cannot upgrade",
                    "score.os_upgrade_p_unknown_readiness",
                )
            )
            reasons.extend(_repair_reason(p, ctx) for p in plan.parts)
            return Action.REPAIR, reasons
    refurbish_min = t.number("score.refurbish_min")
    if plan.score >= refurbish_min:
        reasons.append(
            ctx.reason(
                f"score {score_as_is} as-is, {plan.score} after repairs costing GBP "
                f"{plan.cost_gbp:.0f}: more than a cheap fix (> GBP {cheap:g} or below "
                f"{keep_min:g}), at least {refurbish_min:g}",
                "score.refurbish_min",
            )
        )
        reasons.extend(_repair_reason(p, ctx) for p in plan.parts)
        return Action.REFURBISH, reasons
    reasons.append(
        ctx.reason(
            f"score {score_as_is} as-is and {plan.score} after repair, below {refurbish_min:g}",
            "score.refurbish_min",
        )
    )
    return Action.RECYCLE, reasons


def footprint(
    action: Action, parts: Sequence[Part], new_device: EmbodiedEstimate, ctx: Context
) -> Footprint:
    """Carbon, water and raw materials avoided against buying a new device."""
    t = ctx.thresholds
    defra = DefraFactors.from_thresholds(t)
    water_l = defra.water_l_per_device
    raw_kg = defra.raw_kg_per_device
    reasons = [
        Reason(
            f"a new device embodies {new_device.kgco2e:.0f} kg CO2e: {new_device.basis}",
            BOAVIZTA_KEY + (f":{new_device.matched}" if new_device.matched else ":median"),
            BOAVIZTA_SOURCE,
        )
    ]
    if action is Action.RECYCLE:
        return Footprint(new_device.kgco2e, new_device.basis, 0.0, 0.0, 0.0, 0.0, reasons)
    used_parts = parts if action in (Action.REPAIR, Action.REFURBISH) else ()
    parts_kg = sum(p.embodied_kgco2e or 0.0 for p in used_parts)
    unmeasured = [p.part for p in used_parts if p.embodied_kgco2e is None]
    if used_parts:
        reasons.append(
            Reason(
                f"parts embody {parts_kg:.1f} kg CO2e"
                + (f" (not measured: {', '.join(unmeasured)})" if unmeasured else ""),
                CATALOGUE_KEY + "+".join(p.part for p in used_parts),
                "; ".join(sorted({p.source for p in used_parts})),
            )
        )
    reasons.append(
        ctx.reason(
            f"water avoided {water_l:.0f} L per reused device (Defra programme: "
            f"{defra.water_text})",
            "carbon.defra_water_avoided_ml",
        )
    )
    reasons.append(
        ctx.reason(
            f"raw materials avoided {raw_kg:.0f} kg per reused device (Defra programme: "
            f"{defra.raw_materials_text})",
            "carbon.defra_raw_materials_avoided_t",
        )
    )
    if action is Action.DONATE:
        reasons.append(
            Reason(
                "donated: the avoided purchase is the recipient's",
                "carbon.defra_reused_share",
                t.row("carbon.defra_reused_share").source,
            )
        )
    return Footprint(
        new_device.kgco2e,
        new_device.basis,
        parts_kg,
        max(0.0, new_device.kgco2e - parts_kg),
        water_l,
        raw_kg,
        reasons,
    )
