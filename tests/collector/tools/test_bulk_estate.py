"""The bulk estate path writes what the HTTP ingest path writes.

The reference is a real ``kitlife serve`` on the same kind of database, fed
every encoded batch over loopback HTTP with the devices' keys; the bulk
path folds the same batches in-process. Devices are seeded with the same
uids and keys on both sides, so the raw chunks (which carry the uid) can be
compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from kitlife.collector.store import Store
from kitlife.collector.store.bulk import write_devices
from kitlife.collector.store.schema import batches, device_days, device_keys, device_state, devices
from kitlife.collector.store.secrets import hash_secret
from kitlife.collector.tools.bulk_estate import _fold, summarise
from kitlife.collector.tools.simulate import device_batches, generate_estate
from kitlife.protocol import CONTENT_TYPE, decode_summary, encode_batch
from tests.conftest import start_collector

END = dt.date(2026, 11, 25)


def test_summaries_equal_the_real_decoder_on_every_batch() -> None:
    estate = generate_estate(12, 4, seed=3, end=END)
    n = 0
    for batch_days in (30, 7, 1):
        for dev in estate.devices:
            for batch in device_batches(dev, estate, "u" * 32, batch_days):
                assert summarise(batch) == decode_summary(encode_batch(batch))
                n += 1
    assert n > 500


def _seed(store: Store, n: int) -> list[tuple[int, str, str]]:
    """n devices with known uids and keys: (row id, uid, key)."""
    out = []
    with store.engine.begin() as conn:
        for i in range(n):
            uid, key = f"{i:032x}", "kld_" + secrets.token_urlsafe(16)
            (dev,) = conn.execute(
                devices.insert()
                .values(device_uid=uid, hostname=f"d{i}", enrolled_s=0)
                .returning(devices.c.id)
            ).one()
            conn.execute(
                device_keys.insert().values(device_id=dev, key_hash=hash_secret(key), created_s=0)
            )
            out.append((int(dev), uid, key))
    return out


def _tables(store: Store) -> dict[str, list[tuple[object, ...]]]:
    c = devices.c
    with store.engine.connect() as conn:
        return {
            "devices": [
                tuple(r)
                for r in conn.execute(
                    select(
                        c.id, c.batches, c.points, c.agent_version, c.hostname, c.serial, c.model
                    ).order_by(c.id)
                )
            ],
            "batches": [
                (r.batch_uid, r.device_id, r.first_s, r.last_s, r.n_points, bytes(r.body))
                for r in conn.execute(select(batches).order_by(batches.c.batch_uid))
            ],
            "days": [
                (r.device_id, r.day, bytes(r.body))
                for r in conn.execute(
                    select(device_days).order_by(device_days.c.device_id, device_days.c.day)
                )
            ],
            "state": [
                (r.device_id, bytes(r.latest), bytes(r.unavailable))
                for r in conn.execute(select(device_state).order_by(device_state.c.device_id))
            ],
        }


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "pg_url"])
def test_bulk_rows_equal_the_http_ingest_path(
    url_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    estate = generate_estate(4, 3, seed=11, end=END)
    url_http: str = request.getfixturevalue(url_fixture)
    # SQLite: a second file; PostgreSQL: the same schema, emptied between the two paths.
    sqlite = url_fixture == "sqlite_url"
    url_bulk = f"sqlite:///{tmp_path / 'bulk.sqlite3'}" if sqlite else url_http
    http_store = Store.from_url(url_http)
    http_store.upgrade()
    seeded = _seed(http_store, len(estate.devices))
    server = start_collector(url_http, tmp_path / "collector.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for index, (_dev, uid, key) in enumerate(seeded):
                for batch in device_batches(estate.devices[index], estate, uid, 14):
                    r = client.post(
                        "/v1/batches",
                        content=encode_batch(batch),
                        headers={"authorization": f"Bearer {key}", "content-type": CONTENT_TYPE},
                    )
                    assert r.status_code == 200, r.text
    finally:
        server.stop()
    via_http = _tables(http_store)
    assert via_http["batches"] and via_http["days"]
    if url_bulk == url_http:  # PostgreSQL: empty the derived tables and write them again
        with http_store.engine.begin() as conn:
            for table in (batches, device_days, device_state):
                conn.execute(table.delete())
            conn.execute(devices.update().values(batches=0, points=0, agent_version=""))
        bulk_store = http_store
    else:
        bulk_store = Store.from_url(url_bulk)
        bulk_store.upgrade()
        # The same uids (made from the index) and row ids as the HTTP side.
        assert [d[:2] for d in _seed(bulk_store, len(estate.devices))] == [d[:2] for d in seeded]
    work = [(i, dev, uid) for i, (dev, uid, _key) in enumerate(seeded)]
    rows = _fold(estate, work, 14, keep_raw_from_s=0)
    with bulk_store.engine.begin() as conn:
        write_devices(conn, rows)
    assert _tables(bulk_store) == via_http
    for store in {id(http_store): http_store, id(bulk_store): bulk_store}.values():
        store.close()


def test_bulk_leaves_out_raw_chunks_past_retention() -> None:
    estate = generate_estate(2, 6, seed=4, end=END)
    now = int(time.mktime(END.timetuple()))
    keep_from = now - 90 * 86_400
    rows = _fold(estate, [(0, 1, "a" * 32), (1, 2, "b" * 32)], 30, keep_raw_from_s=keep_from)
    assert rows[0].n_batches > len(rows[0].batches) > 0
    assert all(r[2] >= keep_from for d in rows for r in d.batches)
