"""Amnesty rules, pure: points files, windows, audiences with reasons, carbon of a route."""

from __future__ import annotations

import pytest

from kitlife.collector.policy import amnesty as policy
from kitlife.collector.policy.amnesty import AmnestyError, HeldDevice, Point
from kitlife.collector.policy.scoring.carbon import default_boavizta

RULES = policy.load_rules()
DAY = 20_800
NOW = (DAY - 20) * 86_400


def test_rules_come_from_the_cited_table() -> None:
    assert RULES.lead_days == (14, 3, 1)
    assert RULES.dormant_days == 30
    for row in RULES.table.rows:
        assert row.source and row.note


def test_points_file_errors_name_line_and_column() -> None:
    data = (
        b"point_id,site,kind,name,location,slots,opens,closes\n"
        b"A,London,locker,Bank,Lobby,4,09:00,12:00\n"
        b"A,Mars,lockr,,x,0,9:60,08:00\n"
    )
    points, errors = policy.parse_points(data, ["London"], RULES)
    assert [p.point_id for p in points] == ["A"]
    text = [str(e) for e in errors]
    assert "line 3, column 1 (point_id): duplicate point id 'A' (first on line 2)" in text
    assert any(t.startswith("line 3, column 2 (site)") for t in text)
    assert any(t.startswith("line 3, column 3 (kind)") for t in text)
    assert any(t.startswith("line 3, column 4 (name)") for t in text)
    assert any(t.startswith("line 3, column 6 (slots)") for t in text)
    assert any(t.startswith("line 3, column 7 (opens)") for t in text)


def test_points_file_without_a_required_column_is_refused_whole() -> None:
    points, errors = policy.parse_points(b"point_id,site,kind\nA,London,desk\n", ["London"], RULES)
    assert points == []
    assert str(errors[0]).startswith("line 1: header lacks name, slots, opens, closes")


def test_points_file_that_is_not_utf8_names_the_line() -> None:
    data = b"point_id,site,kind,name,slots,opens,closes\nA,L\xe9,desk,x,1,09:00,10:00\n"
    _points, errors = policy.parse_points(data, ["London"], RULES)
    assert str(errors[0]) == "line 2: not UTF-8; save the file as UTF-8"


def _point(kind: str, slots: int, opens: int = 9 * 60, closes: int = 12 * 60) -> Point:
    return Point(2, "P", "London", kind, "n", "", slots, opens, closes)


def test_windows_cover_the_opening_hours_in_whole_windows() -> None:
    spans = policy.windows(_point("locker", 4, 9 * 60, 10 * 60 + 45), DAY, RULES)
    assert [(s - DAY * 86_400) // 60 for s, _e in spans] == [540, 570, 600]
    assert all(e - s == 30 * 60 for s, e in spans)


def test_a_locker_bank_shares_its_compartments_over_the_day() -> None:
    caps, total = policy.window_capacities(_point("locker", 10), 6, RULES)
    assert total == 10  # ten compartments, however many windows
    assert caps == [2] * 6  # ceil(10 / 6): no window can take them all


def test_a_desk_takes_its_slots_in_every_window() -> None:
    caps, total = policy.window_capacities(_point("desk", 3), 4, RULES)
    assert caps == [3, 3, 3, 3] and total == 12


def _dev(holder: str, **kw: object) -> HeldDevice:
    base = dict(device_uid=f"u-{holder}", hostname=f"pc-{holder}", vendor="Dell", model="X")
    return HeldDevice(holder_id=holder, site="London", **{**base, **kw})  # type: ignore[arg-type]


def test_audience_is_everyone_at_the_sites_each_once_with_reasons_in_numbers() -> None:
    devices = [
        _dev("a", decision="recycle", score=31.0, scored_s=NOW - 86_400),
        _dev("b", days_since_active=45.2),
        _dev("c", last_seen_s=NOW - 61 * 86_400),
        _dev("d", days_since_active=2.0, last_seen_s=NOW),
        _dev("a", device_uid="u-a2", days_since_active=90.0),
    ]
    people = {"a": "London", "b": "London", "c": "London", "d": "London", "e": "Leeds"}
    members = {m.holder_id: m for m in policy.build_audience(devices, people, ["London"], NOW, 30)}
    assert sorted(members) == ["a", "b", "c", "d"]  # e is at another site
    assert members["a"].codes == {"decision", "dormant_unused", "site"}
    assert "is recycle (score 31 of 100)" in members["a"].reasons[0].text
    assert "no active use for 45 days (dormant from 30 days)" in members["b"].reasons[0].text
    assert "not seen for 61 days" in members["c"].reasons[0].text
    assert members["d"].codes == {"site"}
    assert {d["device_uid"] for d in members["a"].devices} == {"u-a", "u-a2"}


def test_reminder_names_only_the_holders_own_reasons() -> None:
    subject, body = policy.reminder_text(
        day=DAY,
        lead_days=3,
        campaign_name="Spring amnesty",
        reasons=[{"text": "pc-a (Dell X): no active use for 45 days"}],
        link="http://x/amnesty/book/1/t",
    )
    assert "in 3 days" in subject
    assert (
        "pc-a (Dell X): no active use for 45 days" in body and "http://x/amnesty/book/1/t" in body
    )


@pytest.mark.parametrize(
    ("text", "expected"), [("14,3,1", (14, 3, 1)), ("1, 7", (7, 1)), ("3,3", (3,))]
)
def test_lead_days_parse(text: str, expected: tuple[int, ...]) -> None:
    assert policy.parse_lead_days(text, RULES) == expected


@pytest.mark.parametrize("text", ["0", "x", "14,,1", "400", "-1"])
def test_bad_lead_days_are_refused(text: str) -> None:
    with pytest.raises(AmnestyError):
        policy.parse_lead_days(text, RULES)


def test_schedule_refuses_a_past_day_and_unknown_sites() -> None:
    with pytest.raises(AmnestyError, match="not in the future"):
        policy.check_schedule(DAY, DAY, ["London"], {"London"})
    with pytest.raises(AmnestyError, match="unknown site Mars; sites in the register: London"):
        policy.check_schedule(DAY + 1, DAY, ["Mars"], {"London"})


def test_route_carbon_follows_the_scoring_footprint_rule() -> None:
    new = default_boavizta().embodied("Dell", "Latitude 5400")
    refurb = policy.route_carbon("refurbish", new, DAY)
    assert refurb.avoided_kgco2e == pytest.approx(new.kgco2e)
    assert f"{new.kgco2e:.0f} kg CO2e" in refurb.formula
    assert any("Boavizta" in s for s in refurb.sources)
    recycle = policy.route_carbon("recycle", new, DAY)
    assert recycle.avoided_kgco2e == 0 and "avoided = 0" in recycle.formula


def test_a_device_leaving_needs_its_erasure_record() -> None:
    with pytest.raises(AmnestyError, match="needs --erasure and --erasure-ref"):
        policy.check_handback("donate", None, None)
    with pytest.raises(AmnestyError, match="erasure method 'dd'"):
        policy.check_handback("recycle", "dd", "R1")
    policy.check_handback("redeploy", None, None)
    policy.check_handback("refurbish", "nist-800-88-purge", "BL-2026-0042")


def test_docs_show_the_rules_table_as_it_is() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parents[3] / "docs" / "amnesty.md"
    assert RULES.table.markdown_table() in docs.read_text()
