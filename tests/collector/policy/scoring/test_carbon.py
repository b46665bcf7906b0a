from __future__ import annotations

import pytest

from kitlife.collector.policy.scoring import score_device
from kitlife.collector.policy.scoring.carbon import default_boavizta
from tests.collector.policy.scoring.conftest import NOW, Build


def test_known_model_matches_its_boavizta_row() -> None:
    found = default_boavizta().embodied("Dell Inc.", "Latitude 5420")
    assert found.matched == "Dell Latitude 5420"
    assert "Boavizta row" in found.basis


def test_model_number_must_match_exactly() -> None:
    assert default_boavizta().embodied("Dell Inc.", "Latitude 5429").matched is None


def test_unknown_model_falls_back_to_the_laptop_median_and_says_so() -> None:
    index = default_boavizta()
    found = index.embodied("LENOVO", "20XW0026UK")
    assert found.matched is None
    assert found.kgco2e == index.median_kgco2e
    assert (
        f"median of the {index.measured_rows} Boavizta laptop rows with a measured" in found.basis
    )
    assert index.measured_rows < len(index.products)  # not all 452: only those with a share


def test_several_configurations_of_one_model_take_their_median() -> None:
    found = default_boavizta().embodied("Microsoft Corporation", "Surface Laptop 3")
    assert "median of" in found.basis


def test_rows_without_a_manufacturing_ratio_use_the_median_ratio() -> None:
    index = default_boavizta()
    estimated = [p for p in index.products if p.ratio_estimated]
    assert len(estimated) == 226
    assert 0 < index.median_ratio < 1


def test_water_and_raw_materials_come_from_the_defra_figures(laptop: Build) -> None:
    footprint = score_device(laptop(), now=NOW).footprint
    assert footprint is not None
    assert footprint.water_avoided_l == pytest.approx(12_000e6 / (0.9 * 72_000))
    assert footprint.raw_materials_avoided_kg == pytest.approx(51_000e3 / (0.9 * 72_000))


def test_fleet_and_scoring_read_one_index() -> None:
    """The fleet report's exact lookup and scoring's fuzzy one agree on a row both find."""
    index = default_boavizta()
    kg, basis = index.embodied_kg("Dell", "Latitude 5420")
    assert kg == index.embodied("Dell Inc.", "Latitude 5420").kgco2e
    assert basis == "Boavizta gwp_total x manufacturing ratio"
    assert len(index.rows) == len(index.products) == 452
    assert index.embodied_kg("LENOVO", "20XW0026UK")[0] == index.median_kgco2e
