"""Enrolling again with the same hardware keeps one device; placeholder serials never match."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from kitlife.collector.store import Store
from kitlife.collector.store.identity import hardware_identity, usable_serial
from kitlife.collector.store.schema import devices
from kitlife.protocol import Batch, Series, Text, encode_batch

T0 = 1_790_000_000
LAPTOP = {
    "inv.hostname": "pc-7",
    "inv.vendor": "LENOVO",
    "inv.model": "20XW",
    "inv.serial": "PF2ABCDE",
}


def enrol(store: Store, facts: dict[str, str]) -> tuple[str, str]:
    return store.enroll(store.create_enrol_token(1, 600), facts)


def upload(
    store: Store, uid: str, key: str, seq: int, *texts: Text, received_now: bool = False
) -> None:
    device = store.device_for_key(key)
    assert device is not None and device.uid == uid
    batch = Batch(
        uid, "spool", seq, T0 + seq, "t", (Series(5, "", (T0 + seq,), (1.0,), -1),), texts
    )
    # Received at T0 (weeks before the test runs), the laptop silent since; or
    # just now, a laptop still uploading.
    now_s = None if received_now else T0 + seq
    assert store.ingest(device, encode_batch(batch), now_s=now_s) is True


def test_same_hardware_enrols_again_into_its_own_device(store: Store) -> None:
    uid, old_key = enrol(store, LAPTOP)
    upload(store, uid, old_key, 1)
    # Reimaged: new hostname and OS, same firmware (vendor case as another OS reports it).
    again = {**LAPTOP, "inv.hostname": "pc-7-new", "inv.vendor": "Lenovo", "inv.os_name": "Linux"}
    uid2, new_key = enrol(store, again)
    assert uid2 == uid and new_key != old_key
    (row,) = store.list_devices()
    assert (row["hostname"], row["os_name"], row["model"]) == ("pc-7-new", "Linux", "20XW")
    assert store.device_for_key(old_key) is None  # the wiped state's key is dead
    upload(store, uid, new_key, 2)  # the history goes on under the same uid
    assert store.batch_count(row["id"]) == 2
    entry = store.audit_entries(1)[0]
    assert entry["action"] == "device.reenroll" and uid in entry["detail"]
    assert "1 older key(s) revoked" in entry["detail"]


def test_a_serial_claimed_in_uploads_is_not_identity(store: Store) -> None:
    """Issue 19.12: any device key can put any serial in its inventory texts.

    Only the enrolment's facts say what the hardware is: a serial claimed in
    batches neither makes `devices show SERIAL` ambiguous nor steers the real
    laptop's re-enrolment into the claimant's device.
    """
    victim_uid, _ = enrol(store, LAPTOP)
    uid, key = enrol(store, {"inv.hostname": "pc-8"})
    upload(
        store,
        uid,
        key,
        1,
        Text(404, "", T0, LAPTOP["inv.vendor"]),
        Text(406, "", T0, LAPTOP["inv.serial"]),
    )
    assert store.find_device(LAPTOP["inv.serial"])["device_uid"] == victim_uid
    row = next(d for d in store.list_devices() if d["device_uid"] == uid)
    assert (row["serial"], row["vendor"]) == ("", "")
    # The claimant enrolling "again" with the victim's serial is not given the victim's
    # device while it uploads (the silence rule), and never the claimant's own.
    uid2, _ = enrol(
        store, {"inv.hostname": "pc-8", **{k: LAPTOP[k] for k in ("inv.vendor", "inv.serial")}}
    )
    assert uid2 != uid


@pytest.mark.parametrize(
    "serial",
    ["To be filled by O.E.M.", "Default string", "0", "System Serial Number", "0000000", " ", ""],
)
def test_placeholder_serials_stay_separate_devices(store: Store, serial: str) -> None:
    a, _ = enrol(store, {"inv.hostname": "a", "inv.vendor": "ASUS", "inv.serial": serial})
    b, _ = enrol(store, {"inv.hostname": "b", "inv.vendor": "ASUS", "inv.serial": serial})
    assert a != b
    assert len(store.list_devices()) == 2
    assert "device.reenroll" not in {e["action"] for e in store.audit_entries()}


@pytest.mark.parametrize(
    "other",
    [
        {"inv.vendor": "HP", "inv.serial": LAPTOP["inv.serial"]},  # same serial, other vendor
        {"inv.serial": LAPTOP["inv.serial"]},  # no vendor: a serial alone is not unique
        {"inv.vendor": "LENOVO", "inv.serial": "PF2ZZZZZ"},
        {"inv.vendor": "To be filled by O.E.M.", "inv.serial": LAPTOP["inv.serial"]},
    ],
)
def test_other_hardware_gets_its_own_device(store: Store, other: dict[str, str]) -> None:
    uid, key = enrol(store, LAPTOP)
    uid2, _ = enrol(store, {"inv.hostname": "x", **other})
    assert uid2 != uid
    assert store.device_for_key(key) is not None


def test_a_revoked_device_is_not_revived(store: Store) -> None:
    uid, _ = enrol(store, LAPTOP)
    store.revoke_device(uid)
    uid2, key2 = enrol(store, LAPTOP)
    assert uid2 != uid and store.device_for_key(key2) is not None


def test_among_duplicates_the_last_seen_one_is_kept(store: Store) -> None:
    """Estates that double-counted before this change: the live, most recent row wins."""
    first, _ = enrol(store, {"inv.hostname": "dup"})
    second, key = enrol(store, {"inv.hostname": "dup"})
    upload(store, second, key, 1)
    with store.engine.begin() as conn:  # both enrolled as this hardware; the first seen long ago
        conn.execute(
            update(devices)
            .where(devices.c.device_uid.in_([first, second]))
            .values(vendor="LENOVO", serial="PF2ABCDE")
        )
        conn.execute(update(devices).where(devices.c.device_uid == first).values(last_seen_s=1))
    uid, _ = enrol(store, LAPTOP)
    assert uid == second


def test_usable_serial() -> None:
    assert usable_serial("  PF2ABCDE ") == "PF2ABCDE"
    for junk in ("To Be Filled By O.E.M.", "xxxxxxxxxxx", "NNNNNNN", "123456789", "N/A", "1"):
        assert usable_serial(junk) is None, junk
    assert hardware_identity({"inv.vendor": "Apple", "inv.serial": "C02XK1ZZJG5J"}) == (
        "Apple",
        "C02XK1ZZJG5J",
    )
    assert hardware_identity({"inv.serial": "C02XK1ZZJG5J"}) is None


def test_a_laptop_still_uploading_is_not_taken_over(store: Store) -> None:
    """A serial read off a sticker plus an installer's token must not steal a working device."""
    uid, key = enrol(store, LAPTOP)
    upload(store, uid, key, 1, received_now=True)
    uid2, key2 = enrol(store, {**LAPTOP, "inv.hostname": "intruder"})
    assert uid2 != uid
    assert store.device_for_key(key) is not None  # the working laptop keeps its key
    assert store.device_for_key(key2) is not None
    entry = store.audit_entries(1)[0]
    assert entry["action"] == "device.enroll"
    assert f"same hardware as {uid}" in entry["detail"] and "not re-attached" in entry["detail"]


def test_the_silence_needed_is_a_parameter(store: Store) -> None:
    uid, key = enrol(store, LAPTOP)
    upload(store, uid, key, 1, received_now=True)
    token = store.create_enrol_token(1, 600)
    uid2, _ = store.enroll(token, LAPTOP, reattach_after_silent_s=0)
    assert uid2 == uid
