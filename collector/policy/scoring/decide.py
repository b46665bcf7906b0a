"""From component assessments to one verdict: score, action and reasons made together.

Numbers (thresholds keys in brackets)::

    as_is    = round(100 x product of p_serves)
    planned  = round(100 x repair_confidence x product, with the planned repairs' components
               at p_serves_repaired)      # the repairs planned: components that need one
    hardware = planned without the OS

Rules, in order; the headline score is the number the rule rests on:

1. as_is >= keep_min: keep, or redeploy when the holder's role fit is poor (score: as_is);
2. planned >= keep_min and the repairs cost <= cheap_max_gbp: repair (score: planned);
3. the hardware serves after repair but the OS leaves support: donate when it cannot be
   upgraded (score: hardware, the life the recipient gets), repair (upgrade, after
   confirming readiness) when readiness is unknown (score: planned);
4. best = max(as_is, planned) >= refurbish_min: refurbish (score: best);
5. otherwise recycle (score: best, below refurbish_min).

The first reason is the headline sentence, written from the :class:`Verdict`'s own fields,
and the reasons are deduplicated: headline, action and reasons cannot disagree (a
hypothesis test over simulated devices checks it). ``score_after_repair`` (every repairable
component reset) is reported beside them as a bound; no rule and no reason uses it.
"""

from __future__ import annotations

import math
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
    Status,
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


#: What the headline score is, per basis (the words after "life-extension score N/100").
BASIS_WORDS = {
    "as_is": "as-is",
    "planned": "after the planned repairs",
    "hardware": "for its hardware (a recipient's, as the OS leaves support here)",
    "best": "at best",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The headline score, the action and the reasons, made together.

    ``score`` is the number the action rests on: ``score_as_is``, ``score_planned``, the
    hardware score or the best of as-is and planned, as ``basis`` says (module docstring).
    """

    score: int
    basis: str
    score_as_is: int
    score_planned: int
    action: Action
    reasons: tuple[Reason, ...]

    @property
    def headline(self) -> str:
        """The sentence the first reason opens with."""
        return f"life-extension score {self.score}/100 {BASIS_WORDS[self.basis]}"


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


@dataclass(frozen=True, slots=True)
class _Rule:
    """The rule that chose the action: its score and basis, words, key, whether parts apply."""

    action: Action
    score: int
    basis: str
    words: str
    key: str
    with_parts: bool = False


def _rule(
    components: Sequence[ComponentAssessment],
    as_is: int,
    plan: Plan,
    role_fit: RoleFit | None,
    ctx: Context,
) -> _Rule:
    """The first rule that holds (module docstring), in words, with the key it used."""
    t = ctx.thresholds
    keep_min = t.number("score.keep_min")
    cheap = t.number("repair.cheap_max_gbp")
    months = f"{ctx.horizon_months:g} months"
    if as_is >= keep_min:
        serves = f"serves {months} ({as_is} >= keep {keep_min:g})"
        if role_fit == "poor":
            poorly = f"{serves} but fits its holder's role poorly"
            return _Rule(Action.REDEPLOY, as_is, "as_is", poorly, "score.keep_min")
        return _Rule(Action.KEEP, as_is, "as_is", serves, "score.keep_min")
    cost = f"repairs costing GBP {plan.cost_gbp:.0f}"
    if plan.parts and plan.score >= keep_min and plan.cost_gbp <= cheap:
        words = (
            f"serves {months} after {cost} ({plan.score} >= keep {keep_min:g}; "
            f"as-is {as_is}; cheap: <= GBP {cheap:g})"
        )
        return _Rule(Action.REPAIR, plan.score, "planned", words, "repair.cheap_max_gbp", True)
    os_limit = next((c for c in components if c.component == "os" and c.p_serves < 1), None)
    if os_limit is not None and plan.hardware_score >= keep_min:
        if os_limit.repair_part is None:
            after = f" after {cost}" if plan.parts else ""
            words = (
                f"the hardware serves {months}{after} ({plan.hardware_score} >= keep "
                f"{keep_min:g}) but the OS leaves support and cannot be upgraded"
            )
            return _Rule(
                Action.DONATE, plan.hardware_score, "hardware", words, "os.months_left_min"
            )
        if plan.cost_gbp <= cheap:
            words = (
                f"hardware score {plan.hardware_score} >= keep {keep_min:g}; the OS leaves "
                "support and Windows 11 readiness is unknown: confirm it, upgrade, and donate "
                "instead if it cannot upgrade"
            )
            key = "score.os_upgrade_p_unknown_readiness"
            return _Rule(Action.REPAIR, plan.score, "planned", words, key, True)
    refurbish_min = t.number("score.refurbish_min")
    best = max(as_is, plan.score)
    both = f"as-is {as_is}, after {cost} {plan.score}" if plan.parts else f"as-is {as_is}"
    if best >= refurbish_min:
        words = (
            f"more than a cheap fix ({both}; below keep {keep_min:g} or above GBP {cheap:g}), "
            f"at least refurbish {refurbish_min:g}"
        )
        key = "score.refurbish_min"
        return _Rule(Action.REFURBISH, best, "best", words, key, bool(plan.parts))
    words = f"{both}: below refurbish {refurbish_min:g}"
    return _Rule(Action.RECYCLE, best, "best", words, "score.refurbish_min")


def decide(
    components: Sequence[ComponentAssessment],
    plan: Plan,
    role_fit: RoleFit | None,
    ctx: Context,
) -> Verdict:
    """Score, action and reasons in one pass over the same numbers.

    Reasons: the headline with the rule, the parts (when the action uses them), then the
    reasons of every component that warns, fails or needs repair; each text once.
    """
    as_is = round(100 * math.prod(c.p_serves for c in components))
    rule = _rule(components, as_is, plan, role_fit, ctx)
    draft = Verdict(rule.score, rule.basis, as_is, plan.score, rule.action, ())
    reasons = [ctx.reason(f"{draft.headline}: {rule.words}", rule.key)]
    if rule.with_parts:
        reasons.extend(_repair_reason(p, ctx) for p in plan.parts)
    # What any deferred repair waits for (a forecast's wear date), after the rule.
    reasons.extend(ctx.reason(c.waits_for, "forecast.interval") for c in components if c.waits_for)
    limiting = [c for c in components if c.status in (Status.WARN, Status.FAIL) or c.needs_repair]
    reasons.extend(r for c in limiting for r in c.reasons)
    return Verdict(rule.score, rule.basis, as_is, plan.score, rule.action, unique_reasons(reasons))


def unique_reasons(reasons: Sequence[Reason]) -> tuple[Reason, ...]:
    """Each reason's text once, first occurrence kept (two packs may say the same thing)."""
    seen: set[str] = set()
    out: list[Reason] = []
    for r in reasons:
        if r.text not in seen:
            seen.add(r.text)
            out.append(r)
    return tuple(out)


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
