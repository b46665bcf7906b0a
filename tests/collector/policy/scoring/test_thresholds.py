from __future__ import annotations

import pytest

from kitlife.collector.policy.scoring import ThresholdsError, load_thresholds, parse_thresholds_csv

HEADER = "key,value,unit,source,note\n"


def test_packaged_table_loads_with_a_source_on_every_row() -> None:
    table = load_thresholds()
    assert len(table.rows) > 50
    assert all(row.source for row in table.rows)


def test_intune_and_fleet_battery_levels_are_in_the_table() -> None:
    table = load_thresholds()
    assert table.number("battery.health_most_impacted_below_pct") == 60
    assert table.number("battery.health_moderate_below_pct") == 80
    assert table.number("battery.fleet_normal_max_cycles") == 1000


def test_zero_reallocated_sectors_fall_in_scrutinys_zero_bucket() -> None:
    found = load_thresholds().afr["ata.reallocated_sectors"].lookup(0)
    assert found.key == "ata.afr.reallocated_sectors.0-0"
    assert found.afr_pct == pytest.approx(2.517)


def test_bucket_membership_is_low_exclusive_high_inclusive() -> None:
    buckets = load_thresholds().afr["ata.reallocated_sectors"]
    assert buckets.lookup(16).key == "ata.afr.reallocated_sectors.4-16"
    assert buckets.lookup(17).key == "ata.afr.reallocated_sectors.16-70"


def test_afr_never_falls_as_the_count_grows() -> None:
    # Scrutiny's 187 buckets give 33.9% at 1 but 24.1% at 2-3; kitlife keeps the higher.
    found = load_thresholds().afr["ata.reported_uncorrect"].lookup(2)
    assert found.key == "ata.afr.reported_uncorrect.1-3"
    assert found.afr_pct == pytest.approx(33.878)
    assert found.afr_key == "ata.afr.reported_uncorrect.1-1"


def test_one_reallocated_sector_closes_scrutinys_gap_into_bucket_1_4() -> None:
    found = load_thresholds().afr["ata.reallocated_sectors"].lookup(1)
    assert found.key == "ata.afr.reallocated_sectors.1-4"


def test_command_timeout_zero_is_in_the_first_bucket() -> None:
    found = load_thresholds().afr["ata.command_timeout"].lookup(0)
    assert found.key == "ata.afr.command_timeout.0-100"


def test_a_count_past_the_last_bucket_takes_the_highest_rate() -> None:
    found = load_thresholds().afr["ata.pending_sectors"].lookup(10**6)
    assert found.afr_pct == pytest.approx(332.034)


def test_os_dates_are_not_thresholds() -> None:
    """End-of-support dates live once, in the OS table (policy/data/os_support.csv)."""
    assert not [r.key for r in load_thresholds().rows if "end_of_support" in r.key]
    with pytest.raises(ThresholdsError, match="not a number"):
        parse_thresholds_csv(HEADER + "os.windows10_end_of_support,2025-10-14,date,x,y\n")


def test_wrong_header_is_rejected_on_row_1() -> None:
    with pytest.raises(ThresholdsError, match="row 1"):
        parse_thresholds_csv("key,value\n")


def test_non_number_names_its_row() -> None:
    with pytest.raises(ThresholdsError, match="row 3: b: 'x' is not a number"):
        parse_thresholds_csv(HEADER + "a,1,%,src,\nb,x,%,src,\n")


def test_duplicate_key_is_rejected() -> None:
    with pytest.raises(ThresholdsError, match="duplicate key a"):
        parse_thresholds_csv(HEADER + "a,1,%,src,\na,2,%,src,\n")


def test_row_without_source_is_rejected() -> None:
    with pytest.raises(ThresholdsError, match="source"):
        parse_thresholds_csv(HEADER + "a,1,%,,\n")


def test_afr_bucket_with_low_above_high_is_rejected() -> None:
    with pytest.raises(ThresholdsError, match="low <= high"):
        parse_thresholds_csv(HEADER + "ata.afr.x.5-1,2,% AFR,src,\n")


def test_unknown_key_names_itself() -> None:
    with pytest.raises(KeyError, match=r"no\.such\.key"):
        load_thresholds().number("no.such.key")
