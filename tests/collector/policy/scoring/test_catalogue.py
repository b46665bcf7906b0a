from __future__ import annotations

import pytest

from kitlife.collector.policy.scoring import (
    CatalogueError,
    load_catalogue,
    load_thresholds,
    parse_catalogue_csv,
)

HEADER = "part,resets,cost_gbp,labour_min,embodied_kgco2e,indicative,source,note\n"


def test_default_catalogue_has_the_issue_parts() -> None:
    names = {p.part for p in load_catalogue().parts}
    assert {"battery", "ssd", "ram", "fan_thermal_service", "keyboard", "screen"} <= names


def test_default_battery_is_indicative_and_within_the_quoted_range() -> None:
    battery = load_catalogue().by_name("battery")
    assert battery is not None
    assert battery.indicative
    assert 67 <= battery.cost_gbp <= 90
    per_kg = load_thresholds().number("carbon.battery_kgco2e_per_kg")
    assert battery.embodied_kgco2e == pytest.approx(per_kg * 0.30, abs=0.01)


def test_ssd_carbon_follows_the_boavizta_factors_in_the_thresholds_table() -> None:
    t = load_thresholds()
    ssd = load_catalogue().by_name("ssd")
    assert ssd is not None
    dies_cm2 = 512 / t.number("carbon.ssd_density_gb_per_cm2")
    expected = dies_cm2 * t.number("carbon.ssd_kgco2e_per_cm2") + t.number(
        "carbon.ssd_fixed_kgco2e"
    )
    assert ssd.embodied_kgco2e == pytest.approx(expected, abs=0.01)


def test_ram_carbon_follows_the_boavizta_factors_in_the_thresholds_table() -> None:
    t = load_thresholds()
    ram = load_catalogue().by_name("ram")
    assert ram is not None
    dies_cm2 = 8 / t.number("carbon.ram_density_gb_per_cm2")
    expected = dies_cm2 * t.number("carbon.ram_kgco2e_per_cm2") + t.number(
        "carbon.ram_fixed_kgco2e"
    )
    assert ram.embodied_kgco2e == pytest.approx(expected, abs=0.01)


def test_cheapest_part_for_a_component_wins() -> None:
    text = HEADER + "big,battery,90,30,5,yes,s,\nsmall,battery,70,30,5,yes,s,\n"
    part = parse_catalogue_csv(text).cheapest_for("battery")
    assert part is not None
    assert part.part == "small"


def test_empty_carbon_means_not_measured() -> None:
    part = parse_catalogue_csv(HEADER + "screen,screen,120,45,,yes,s,\n").parts[0]
    assert part.embodied_kgco2e is None


def test_negative_cost_names_the_row() -> None:
    with pytest.raises(CatalogueError, match="row 3: cost_gbp '-5'"):
        parse_catalogue_csv(HEADER + "a,battery,5,1,,yes,s,\nb,battery,-5,1,,yes,s,\n")


def test_indicative_must_be_yes_or_no() -> None:
    with pytest.raises(CatalogueError, match="row 2: indicative 'maybe'"):
        parse_catalogue_csv(HEADER + "a,battery,5,1,,maybe,s,\n")


def test_short_row_is_rejected() -> None:
    with pytest.raises(CatalogueError, match="row 2: expected 8 fields, got 3"):
        parse_catalogue_csv(HEADER + "a,battery,5\n")


def test_duplicate_part_is_rejected() -> None:
    with pytest.raises(CatalogueError, match="duplicate part a"):
        parse_catalogue_csv(HEADER + "a,battery,5,1,,yes,s,\na,battery,6,1,,yes,s,\n")


def test_catalogue_without_parts_is_rejected() -> None:
    with pytest.raises(CatalogueError, match="no parts"):
        parse_catalogue_csv(HEADER)
