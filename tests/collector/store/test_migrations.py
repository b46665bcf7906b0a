"""Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from kitlife.collector.store import Store, migrate
from kitlife.collector.store.schema import metadata


def test_migrations_match_the_declared_schema(db_url: str) -> None:
    store = Store.from_url(db_url)
    try:
        store.upgrade()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        assert "scores" in inspect(store.engine).get_table_names()
    finally:
        store.close()


def test_score_migration_goes_down_and_up(db_url: str) -> None:
    store = Store.from_url(db_url)
    try:
        store.upgrade()
        config = migrate.alembic_config(store.engine.url.render_as_string(hide_password=False))
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0001")
        assert "scores" not in inspect(store.engine).get_table_names()
        store.upgrade()
        assert (
            migrate.current(store.engine) == ScriptDirectory.from_config(config).get_current_head()
        )
    finally:
        store.close()


def test_rows_rewritten_by_every_batch_leave_room_for_in_place_updates(pg_url: str) -> None:
    store = Store.from_url(pg_url)
    try:
        store.upgrade()
        with store.engine.connect() as conn:
            options = dict(
                conn.execute(
                    text(
                        "SELECT c.relname, c.reloptions FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() "
                        "AND c.relname IN ('devices', 'device_state', 'device_days')"
                    )
                ).all()
            )
        assert options["devices"] == ["fillfactor=50"]
        for packed in ("device_state", "device_days"):
            assert options[packed] == ["fillfactor=50", "toast_tuple_target=8160"]
    finally:
        store.close()


_ROLLUP_PARAMS = ("d", "m", "c", "day", "n", "s", "lo", "hi", "l", "ls")


def test_packing_migration_moves_the_rows_both_ways(db_url: str) -> None:
    """0006 packs the per-row tables into device rows and unpacks them again, losing nothing."""
    store = Store.from_url(db_url)
    config = migrate.alembic_config(store.engine.url.render_as_string(hide_password=False))

    def migrate_to(revision: str, step: Callable[[Config, str], None]) -> None:
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            step(config, revision)

    rollups = [
        (1, 5, "", 20_500, 3, 60.5, 10.0, 30.0, 20.0, 1_771_200_100),
        (1, 5, "", 20_501, 1, 7.0, 7.0, 7.0, 7.0, 1_771_286_500),
        (1, 102, "BAT0", 20_500, 2, 80_000.0, 39_000.0, 41_000.0, 39_000.0, 1_771_200_200),
        (2, 9, "", 20_500, 1, 61.0, 61.0, 61.0, 61.0, 1_771_200_000),
    ]
    latest = [
        (1, 5, "", 1_771_286_500, 7.0, None),
        (1, 406, "", 1_771_200_000, None, "SER-1"),
        (2, 9, "", 1_771_200_000, 61.0, None),
    ]
    unavailable = [(1, "battery", "", "no battery", 1_771_200_000)]
    try:
        migrate_to("0005", command.upgrade)
        with store.engine.begin() as conn:
            for dev in (1, 2):
                conn.execute(
                    text("INSERT INTO devices (id, device_uid, enrolled_s) VALUES (:i, :u, 0)"),
                    {"i": dev, "u": f"dev-{dev}"},
                )
            conn.execute(
                text(
                    "INSERT INTO rollups_daily VALUES (:d, :m, :c, :day, :n, :s, :lo, :hi, :l, :ls)"
                ),
                [
                    dict(
                        zip(("d", "m", "c", "day", "n", "s", "lo", "hi", "l", "ls"), r, strict=True)
                    )
                    for r in rollups
                ],
            )
            conn.execute(
                text("INSERT INTO latest VALUES (:d, :m, :c, :t, :num, :txt)"),
                [dict(zip(("d", "m", "c", "t", "num", "txt"), r, strict=True)) for r in latest],
            )
            conn.execute(
                text("INSERT INTO unavailable VALUES (:d, :s, :c, :r, :t)"),
                [dict(zip(("d", "s", "c", "r", "t"), r, strict=True)) for r in unavailable],
            )
        store.upgrade()
        cols = ("device_id", "metric_id", "component", "day")
        cols += ("n", "sum", "min", "max", "last", "last_s")
        assert sorted(
            tuple(r[c] for c in cols) for dev in (1, 2) for r in store.daily_rollups(dev)
        ) == sorted(rollups)
        assert sorted(
            tuple(r.values()) for dev in (1, 2) for r in store.latest_readings(dev)
        ) == sorted(latest, key=lambda r: (r[0], r[1], r[2]))
        assert [tuple(r.values()) for r in store.unavailable_sources(1)] == unavailable

        migrate_to("0005", command.downgrade)
        with store.engine.connect() as conn:
            assert sorted(map(tuple, conn.execute(text("SELECT * FROM rollups_daily")))) == sorted(
                rollups
            )
            assert sorted(map(tuple, conn.execute(text("SELECT * FROM latest")))) == sorted(
                latest, key=lambda r: (r[0], r[1], r[2])
            )
            assert list(map(tuple, conn.execute(text("SELECT * FROM unavailable")))) == unavailable
    finally:
        store.close()
