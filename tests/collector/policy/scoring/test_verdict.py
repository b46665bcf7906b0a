"""One verdict: the headline score, the action and the reasons cannot disagree.

Before December 2026 the headline was max(as-is, every-repair bound) while the action and
its reason used the planned repairs: the simulated 300-device estate had a device shown as
"life-extension score 90: refurbish" whose reason said "score 66 as-is, 66 after repairs
costing GBP 0", and CLI output listed a component's reason twice.
"""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kitlife.collector.cli.main import cli
from kitlife.collector.policy.scoring import Action, DeviceAssessment, score_device
from kitlife.collector.policy.scoring.score import default_thresholds
from tests.collector.policy.scoring.conftest import NOW, build_laptop

_MANY_DECIMALS = re.compile(r"\d\.\d{3,}")
_QUOTED_SCORE = re.compile(r"life-extension score (\d+)/100")


def check_verdict(a: DeviceAssessment) -> None:
    """Every way the headline, action and reasons could disagree, asserted."""
    t = default_thresholds()
    keep_min, refurbish_min = t.number("score.keep_min"), t.number("score.refurbish_min")
    texts = [r.text for r in a.reasons]
    assert len(texts) == len(set(texts)), texts
    if a.action is Action.INSUFFICIENT_DATA:
        assert a.score is None
        return
    assert a.score is not None and a.score_as_is is not None and a.score_planned is not None
    assert _QUOTED_SCORE.findall(texts[0]) == [str(a.score)], texts[0]
    assert not any(_QUOTED_SCORE.search(x) for x in texts[1:])
    best = max(a.score_as_is, a.score_planned)
    if a.action in (Action.KEEP, Action.REDEPLOY):
        assert a.score == a.score_as_is >= keep_min
    elif a.action is Action.REPAIR:
        assert a.score == a.score_planned and a.repairs and a.score_as_is < keep_min
    elif a.action is Action.DONATE:
        assert a.score >= keep_min > a.score_as_is
    elif a.action is Action.REFURBISH:
        assert a.score == best >= refurbish_min and a.score_as_is < keep_min
    else:
        assert a.action is Action.RECYCLE and a.score == best < refurbish_min
    every = texts + [r.text for c in a.components for r in c.reasons]
    assert not [x for x in every if _MANY_DECIMALS.search(x)], "numbers are rounded"


@settings(max_examples=150, deadline=None)
@given(
    battery_pct=st.one_of(st.none(), st.floats(20, 100)),
    fade=st.floats(-3, 0.5),
    hours=st.floats(0, 6),
    nvme_used=st.one_of(st.none(), st.integers(0, 160)),  # the log reports whole percent
    wear=st.floats(0, 4),
    media_errors=st.integers(0, 20),
    os_version=st.sampled_from(["10.0.22631", "10.0.19045"]),
    win11_ready=st.sampled_from([None, True, False]),
    mem_used=st.one_of(st.none(), st.floats(40, 100)),
    role_fit=st.sampled_from([None, "good", "poor"]),
)
def test_headline_action_and_reasons_agree_on_simulated_laptops(
    battery_pct: float | None,
    fade: float,
    hours: float,
    nvme_used: int | None,
    wear: float,
    media_errors: int,
    os_version: str,
    win11_ready: bool | None,
    mem_used: float | None,
    role_fit: str | None,
) -> None:
    history = build_laptop(
        battery_pct=battery_pct,
        fade_pct_per_month=fade,
        unplugged_h_per_day=hours,
        nvme_used_pct=nvme_used,
        wear_pct_per_month=wear,
        media_errors=float(media_errors),
        os_version=os_version,
        win11_ready=win11_ready,
        extra={("mem.used_pct", ""): mem_used} if mem_used is not None else None,
    )
    check_verdict(score_device(history, now=NOW, role_fit=role_fit))  # type: ignore[arg-type]


def test_a_worn_battery_outside_the_plan_is_not_a_refurbish_at_the_bound() -> None:
    """The estate's case: headline 90 (every repair) but refurbish on 66 with no repair."""
    history = build_laptop(battery_pct=71, fade_pct_per_month=0.0, history_days=20)
    a = score_device(history, now=NOW)
    check_verdict(a)
    assert a.score != a.score_after_repair or a.action in (Action.KEEP, Action.REPAIR)


def test_every_decision_of_a_simulated_estate_agrees_with_its_headline(sqlite_url: str) -> None:
    runner = CliRunner()
    args = ["--db", sqlite_url, "simulate", "--devices", "60", "--months", "3"]
    result = runner.invoke(cli, [*args, "--end", "2026-11-25", "--seed", "3"])
    assert result.exit_code == 0, result.output
    out = runner.invoke(cli, ["--db", sqlite_url, "decisions", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert len(rows) == 60
    for r in rows:
        assert len(r["reasons"]) == len(set(r["reasons"]))
        if r["score"] is not None:
            assert _QUOTED_SCORE.findall(r["reasons"][0]) == [str(round(r["score"]))]
