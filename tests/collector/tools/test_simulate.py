"""The simulator is deterministic for a seed and writes through Store.ingest."""

from __future__ import annotations

import datetime as dt

from kitlife.collector.policy.fit import load_roles
from kitlife.collector.policy.register import parse_register
from kitlife.collector.store import Store
from kitlife.collector.tools.simulate import (
    device_batches,
    generate_estate,
    populate,
    register_csv_text,
)
from kitlife.protocol import decode_batch, encode_batch

END = dt.date(2026, 11, 25)


def test_same_seed_same_estate_and_batches() -> None:
    a = generate_estate(60, 3, seed=5, end=END)
    b = generate_estate(60, 3, seed=5, end=END)
    c = generate_estate(60, 3, seed=6, end=END)
    assert a == b
    assert a.devices != c.devices
    for da, db in zip(a.devices[:5], b.devices[:5], strict=True):
        ba = [encode_batch(x) for x in device_batches(da, a, "uid")]
        bb = [encode_batch(x) for x in device_batches(db, b, "uid")]
        assert ba == bb


def test_register_matches_devices_and_parses() -> None:
    estate = generate_estate(200, 6, seed=2, end=END)
    rows, errors = parse_register(register_csv_text(estate.register).encode(), load_roles().roles)
    assert errors == []
    serials = {d.serial for d in estate.devices}
    assert len(serials) == len(estate.devices)
    assert serials <= {r.serial for r in rows}
    poor = sum(1 for d in estate.devices if d.injected_poor_fit)
    assert 0.03 * 200 <= poor <= 0.06 * 200
    assert any(r.status == "retired" for r in rows) and any(r.status == "spare" for r in rows)


def test_populate_goes_through_store_ingest(sqlite_url: str) -> None:
    estate = generate_estate(5, 2, seed=9, end=END)
    store = Store.from_url(sqlite_url)
    store.upgrade()
    stats = populate(store, estate, batch_days=14)
    assert stats.devices == 5 and stats.batches == store.batch_count()
    devices = {d["serial"]: d for d in store.list_devices()}
    dev = estate.devices[0]
    row = devices[dev.serial]
    assert row["model"] == dev.model and row["os_version"] == dev.os_version
    bodies = store.batch_bodies(row["id"])
    first = decode_batch(bodies[0])
    assert first.spool_id == "sim9" and first.n_points > 0
    readings = {r["metric_id"] for r in store.latest_readings(row["id"])}
    assert readings  # derived rows came from the real ingest path
    store.close()


def test_simulate_refuses_a_database_that_already_has_devices(sqlite_url: str) -> None:
    from click.testing import CliRunner

    from kitlife.collector.cli.main import cli

    args = ["--db", sqlite_url, "simulate", "--devices", "3", "--months", "1"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "already holds 3 devices" in again.output


def test_every_simulated_os_release_is_one_the_os_table_knows() -> None:
    """Each simulated OS identity is one the table speaks for (a dated row, a Windows 11
    build it lists, or a macOS newer than its newest row), from the full identity the
    agents send and from name and version alone (what the role fit sees)."""
    from kitlife.collector.policy.os_support import OsIdentity, knows
    from kitlife.collector.tools.simulate import SIM_OS_RELEASES

    for ident in SIM_OS_RELEASES:
        assert knows(ident), ident
        assert knows(OsIdentity(ident.name, ident.version)), ident
    estate = generate_estate(300, 1, seed=2, end=END)
    simulated = {(i.name, i.version) for i in SIM_OS_RELEASES}
    assert {(d.os_name, d.os_version) for d in estate.devices} <= simulated


def test_windows_10_devices_are_out_of_support_for_the_role_fit() -> None:
    from kitlife.collector.policy.fit import os_support_end
    from kitlife.collector.tools.simulate import WIN10_22H2

    end = os_support_end("Windows", WIN10_22H2)
    assert end is not None and end < END


def test_experience_signals_follow_the_device() -> None:
    """Held devices report every working day; spares report nothing; ratings are 1-5."""
    from kitlife.collector.tools.simulate import device_series, experience_series

    estate = generate_estate(80, 4, seed=9, end=END)
    held = [d for d in estate.devices if d.holder_id]
    for dev in held[:20]:
        s = device_series(dev, estate)
        x = experience_series(dev, estate, s)
        assert len(x.days) == int(s.weekday.sum())
        assert ((x.mem_available_pct > 0) & (x.mem_available_pct < 100)).all()
        assert ((x.rating_scores >= 1) & (x.rating_scores <= 5)).all()
        assert (x.psi_some_pct is not None) == (dev.os_name == "Linux")
    stock = generate_estate(200, 1, seed=1, end=END)
    spare = next(d for d in stock.devices if not d.holder_id)
    assert len(experience_series(spare, stock, device_series(spare, stock)).days) == 0
