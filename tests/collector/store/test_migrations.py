"""Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
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
                        "AND c.relname IN ('devices', 'latest', 'rollups_daily')"
                    )
                ).all()
            )
        assert options["devices"] == ["fillfactor=50"]
        assert options["latest"] == ["fillfactor=50"]
        assert options["rollups_daily"] is None  # the big table keeps full pages
    finally:
        store.close()
