"""A small estate for the amnesty tests: enrolled devices with readings, a register, decisions.

Built through the store's own paths (enrolment, ingest of encoded batches,
register import, recorded decisions), never by writing rows by hand.

People and why they are in (sites London and Bristol take part; Leeds does not):

| holder | site | device | reason |
|---|---|---|---|
| h-ref | London | pc-ref (Dell Latitude 5400) | decided refurbish |
| h-idle | London | pc-idle | no active use for 45 days |
| h-gone | London | pc-gone | not seen for 60 days |
| h-ok | London | pc-ok | site only |
| h-brs | Bristol | pc-brs | site only |
| h-lds | Leeds | pc-lds | not in the campaign |
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from kitlife.collector.policy.register import AssetRow, day_of
from kitlife.collector.store import Store
from kitlife.collector.store.assets import record_decisions, replace_register
from kitlife.protocol import Batch, Series, Text, encode_batch, metric_by_name

DAY_S = 86_400
PEOPLE = {
    "h-ref": ("London", "pc-ref"),
    "h-idle": ("London", "pc-idle"),
    "h-gone": ("London", "pc-gone"),
    "h-ok": ("London", "pc-ok"),
    "h-brs": ("Bristol", "pc-brs"),
    "h-lds": ("Leeds", "pc-lds"),
}
POINTS_CSV = (
    b"point_id,site,kind,name,location,slots,opens,closes\n"
    b"LDN-L1,London,locker,Locker bank A,Lobby,2,09:00,10:00\n"
    b"BRS-D1,Bristol,desk,IT desk,Reception,1,09:00,09:30\n"
)


@dataclass(frozen=True)
class Estate:
    devices: dict[str, tuple[int, str]]  # hostname -> (device row id, device uid)
    keys: dict[str, str]  # hostname -> device key


def _m(name: str) -> int:
    return metric_by_name(name).id


def build(store: Store, now_s: int | None = None) -> Estate:
    now = int(time.time()) if now_s is None else now_s
    devices: dict[str, tuple[int, str]] = {}
    keys: dict[str, str] = {}
    rows = []
    for i, (holder, (site, host)) in enumerate(PEOPLE.items()):
        serial = f"SN{i:04d}XYZ"
        token = store.create_enrol_token(1, 600)
        uid, key = store.enroll(
            token,
            {
                "inv.hostname": host,
                "inv.serial": serial,
                "inv.vendor": "Dell",
                "inv.model": "Latitude 5400",
            },
        )
        ref = store.device_for_key(key)
        assert ref is not None
        devices[host] = (ref.id, uid)
        keys[host] = key
        idle_days = 45.0 if host == "pc-idle" else 0.5
        t = now - 60 * DAY_S if host == "pc-gone" else now - 600
        series = (
            Series(_m("use.days_since_active"), "", (t,), (idle_days,), -2),
            Series(_m("battery.design_capacity_mwh"), "BAT0", (t,), (50_000.0,), 0),
            Series(_m("battery.full_charge_capacity_mwh"), "BAT0", (t,), (41_000.0,), 0),
            Series(_m("battery.cycle_count"), "BAT0", (t,), (612.0,), 0),
            Series(_m("nvme.percentage_used_pct"), "nvme0", (t,), (17.0,), 0),
            Series(_m("storage.power_on_hours"), "nvme0", (t,), (8_123.0,), 0),
        )
        texts = (Text(_m("inv.hostname"), "", t, host), Text(_m("inv.serial"), "", t, serial))
        body = encode_batch(Batch(uid, "spool", 1, t, "test", series, texts))
        store.ingest(ref, body, now_s=t)
        rows.append(
            AssetRow(
                line=i + 2,
                serial=serial,
                asset_tag=f"KL{i:04d}",
                holder_id=holder,
                role="office",
                site=site,
                purchase_day=day_of(dt.date(2021, 3, 1)),
                purchase_route="new",
                warranty_end_day=None,
                vendor="Dell",
                model="Latitude 5400",
            )
        )
    replace_register(store, rows)
    record_decisions(store, {devices["pc-ref"][0]: ("refurbish", "test")}, "test", now_s=now)
    return Estate(devices, keys)
