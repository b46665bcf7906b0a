"""The store: the collector's one small interface to its database.

Everything the API, the CLI and the jobs read or write goes through
:class:`Store`; nothing else writes SQL. One code path serves SQLite and
PostgreSQL: the few dialect differences (insert-or-ignore, upserts,
least/greatest) are settled in :mod:`kitlife.collector.store._dialect`.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from kitlife.collector.store import derived, migrate, writelock
from kitlife.collector.store.engine import make_engine, sqlite_file
from kitlife.collector.store.identity import REATTACH_AFTER_SILENT_S, hardware_identity, same_vendor
from kitlife.collector.store.ingest import INVENTORY_COLUMNS, Item, write_group
from kitlife.collector.store.schema import (
    api_tokens,
    audit_log,
    batches,
    device_keys,
    devices,
    enrol_tokens,
)
from kitlife.collector.store.secrets import hash_secret, new_secret
from kitlife.protocol import decode_summary

ROLES = ("admin", "servicedesk")
# First key of the PostgreSQL advisory lock that scheduled prunes take ("kl").
_PRUNE_LOCK = 0x6B6C
_INVENTORY_COLUMNS = INVENTORY_COLUMNS


class StoreError(RuntimeError):
    """Base of the store's own errors."""


class AuthError(StoreError):
    """A credential that is unknown, expired, used up or revoked."""


class NotFoundError(StoreError):
    """No such device or token."""


@dataclass(frozen=True, slots=True)
class DeviceRef:
    id: int
    uid: str


def _now() -> int:
    return int(time.time())


class Store:
    """The database behind one interface.

    What the store needs from the deployment's settings comes in as
    constructor arguments (it never reads the environment): the caller,
    the CLI or the app, holds the one settings object.
    """

    def __init__(
        self, engine: Engine, *, reattach_after_silent_s: int = REATTACH_AFTER_SILENT_S
    ) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.reattach_after_silent_s = reattach_after_silent_s
        # SQLite file: ingest writers of all worker processes queue on a file lock
        # (see writelock), opened at the first ingest so that stores that only
        # read (the CLI's reports) never create it; PostgreSQL has row locks.
        database = sqlite_file(engine.url)
        self._write_lock_path = (
            database + "-writers.lock" if database and writelock.available() else None
        )
        self._write_lock: writelock.WriteLock | None = None
        # Bumped by every revocation through this store: caches of key lookups
        # compare it and drop everything when it moved.
        self.revocations = 0

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        reattach_after_silent_s: int = REATTACH_AFTER_SILENT_S,
        **engine_kwargs: Any,
    ) -> Store:
        return cls(
            make_engine(url, **engine_kwargs), reattach_after_silent_s=reattach_after_silent_s
        )

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema's Alembic revision; None for an empty database."""
        return migrate.current(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()
            self._write_lock = None

    def ping(self) -> bool:
        """True when the database answers a query; False when it cannot be reached."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    # -- audit -----------------------------------------------------------------------
    @staticmethod
    def _audit(conn: Connection, actor: str, action: str, detail: str) -> None:
        conn.execute(
            audit_log.insert().values(t_s=_now(), actor=actor, action=action, detail=detail)
        )

    def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]

    # -- tokens ----------------------------------------------------------------------
    def create_enrol_token(
        self, uses: int, expires_in_s: int, note: str = "", actor: str = "cli"
    ) -> str:
        if uses < 1 or expires_in_s < 1:
            raise ValueError("an enrolment token needs at least one use and a future expiry")
        secret = new_secret("enroll")
        now = _now()
        with self.engine.begin() as conn:
            row_id = conn.execute(
                enrol_tokens.insert().values(
                    token_hash=hash_secret(secret),
                    created_s=now,
                    expires_s=now + expires_in_s,
                    uses_left=uses,
                    note=note,
                )
            ).inserted_primary_key
            self._audit(
                conn,
                actor,
                "token.create",
                f"enroll token {row_id[0] if row_id else '?'}: {uses} uses, "
                f"expires in {expires_in_s}s",
            )
        return secret

    def create_api_token(
        self, role: str, name: str = "", expires_in_s: int | None = None, actor: str = "cli"
    ) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        secret = new_secret(role)
        now = _now()
        with self.engine.begin() as conn:
            row_id = conn.execute(
                api_tokens.insert().values(
                    token_hash=hash_secret(secret),
                    role=role,
                    name=name,
                    created_s=now,
                    expires_s=now + expires_in_s if expires_in_s else None,
                )
            ).inserted_primary_key
            self._audit(
                conn, actor, "token.create", f"{role} token {row_id[0] if row_id else '?'} {name!r}"
            )
        return secret

    def list_tokens(self) -> list[dict[str, Any]]:
        now = _now()
        out: list[dict[str, Any]] = []
        with self.engine.connect() as conn:
            for r in conn.execute(select(enrol_tokens).order_by(enrol_tokens.c.id)):
                state = (
                    "revoked"
                    if r.revoked_s
                    else "expired"
                    if r.expires_s <= now
                    else "used up"
                    if r.uses_left <= 0
                    else "active"
                )
                out.append(
                    {
                        "id": f"e{r.id}",
                        "role": "enroll",
                        "name": r.note,
                        "created_s": r.created_s,
                        "expires_s": r.expires_s,
                        "uses": r.uses,
                        "uses_left": r.uses_left,
                        "state": state,
                    }
                )
            for r in conn.execute(select(api_tokens).order_by(api_tokens.c.id)):
                state = (
                    "revoked"
                    if r.revoked_s
                    else "expired"
                    if r.expires_s and r.expires_s <= now
                    else "active"
                )
                out.append(
                    {
                        "id": f"a{r.id}",
                        "role": r.role,
                        "name": r.name,
                        "created_s": r.created_s,
                        "expires_s": r.expires_s,
                        "uses": None,
                        "uses_left": None,
                        "state": state,
                    }
                )
        return out

    def revoke_token(self, token_id: str, actor: str = "cli") -> None:
        """Revoke by the id `token list` shows (e3 for enrolment, a2 for API)."""
        table = {"e": enrol_tokens, "a": api_tokens}.get(token_id[:1])
        if table is None or not token_id[1:].isdigit():
            raise NotFoundError(f"no token {token_id!r}: ids look like e3 or a2")
        with self.engine.begin() as conn:
            res = conn.execute(
                update(table).where(table.c.id == int(token_id[1:])).values(revoked_s=_now())
            )
            if res.rowcount == 0:
                raise NotFoundError(f"no token {token_id!r}")
            self._audit(conn, actor, "token.revoke", token_id)
        self.revocations += 1

    def role_for_token(self, secret: str) -> str | None:
        """The role of a live API token, or None."""
        caller = self.api_caller(secret)
        return caller[1] if caller else None

    def api_caller(self, secret: str) -> tuple[str, str] | None:
        """(id as `token list` shows it, e.g. ``a7``; role) of a live API token, or None.

        The id is what the audit log records as the actor of an HTTP action.
        """
        now = _now()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_tokens.c.id, api_tokens.c.role).where(
                    api_tokens.c.token_hash == hash_secret(secret),
                    api_tokens.c.revoked_s.is_(None),
                    or_(api_tokens.c.expires_s.is_(None), api_tokens.c.expires_s > now),
                )
            ).first()
        return (f"a{row.id}", str(row.role)) if row else None

    def credential_live(self, secret: str) -> bool:
        """Whether ``secret`` is a live enrolment or API token or device key, whatever its role.

        The HTTP layer asks this before it reads a request body, so a caller
        without a credential cannot make the collector read (and parse) one;
        which role may do what is the route's own check, after.
        """
        if self.role_for_token(secret) is not None or self.device_for_key(secret) is not None:
            return True
        now = _now()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(enrol_tokens.c.id).where(
                    enrol_tokens.c.token_hash == hash_secret(secret),
                    enrol_tokens.c.uses_left > 0,
                    enrol_tokens.c.expires_s > now,
                    enrol_tokens.c.revoked_s.is_(None),
                )
            ).first()
        return row is not None

    # -- devices ---------------------------------------------------------------------
    def enroll(
        self,
        enrol_secret: str,
        facts: Mapping[str, str],
        reattach_after_silent_s: int | None = None,
    ) -> tuple[str, str]:
        """Spend one use of an enrolment token on a device key; returns (uid, key).

        When the facts name the hardware (vendor and a real serial, see
        :mod:`~kitlife.collector.store.identity`) and a live device already has
        it, the laptop is enrolling again (reimaged, or its agent state wiped):
        the new key goes to that device, whose uid is returned, and its older
        keys are revoked. Otherwise a new device is made.

        Only a device silent for ``reattach_after_silent_s`` (by default the
        store's, from KITLIFE_REATTACH_AFTER_SILENT_S) is given back: a
        reimaged laptop's old agent has stopped, while a device still uploading
        is in use. Without this, anyone holding an enrolment token (which ships
        inside installers) could take over a working laptop's identity from a
        serial read off its sticker and lock its agent out. A match that is too
        recent enrols a new device and says so in the audit log.
        """
        if reattach_after_silent_s is None:
            reattach_after_silent_s = self.reattach_after_silent_s
        now = _now()
        key = new_secret("device")
        values = {
            col: str(facts.get(metric, ""))[:255] for metric, col in _INVENTORY_COLUMNS.items()
        }
        identity = hardware_identity(facts)
        with self.engine.begin() as conn:
            spent = conn.execute(
                update(enrol_tokens)
                .where(
                    enrol_tokens.c.token_hash == hash_secret(enrol_secret),
                    enrol_tokens.c.uses_left > 0,
                    enrol_tokens.c.expires_s > now,
                    enrol_tokens.c.revoked_s.is_(None),
                )
                .values(uses_left=enrol_tokens.c.uses_left - 1, uses=enrol_tokens.c.uses + 1)
            )
            if spent.rowcount != 1:
                raise AuthError("enrolment token unknown, expired, used up or revoked")
            same = self._same_hardware(conn, *identity) if identity else None
            refused = ""
            if (
                same is not None
                and same.last_seen_s is not None
                and now - int(same.last_seen_s) < reattach_after_silent_s
            ):
                refused = (
                    f"; same hardware as {same.device_uid}, seen {now - int(same.last_seen_s)} s "
                    f"ago (under {reattach_after_silent_s} s): not re-attached"
                )
                same = None
            if same is None:
                uid = uuid.uuid4().hex
                inserted = conn.execute(
                    devices.insert().values(device_uid=uid, enrolled_s=now, **values)
                ).inserted_primary_key
                assert inserted is not None
                device_id = int(inserted[0])
                action, detail = "device.enroll", f"{uid} {values['hostname']}{refused}"
            else:
                device_id, uid = int(same.id), str(same.device_uid)
                old_keys = conn.execute(
                    update(device_keys)
                    .where(device_keys.c.device_id == device_id, device_keys.c.revoked_s.is_(None))
                    .values(revoked_s=now)
                ).rowcount
                # What the laptop says now (a new hostname or OS after a reimage)
                # replaces what it said before; what it did not say is kept.
                fresh = {col: v for col, v in values.items() if v.strip() and col != "serial"}
                if fresh:
                    conn.execute(update(devices).where(devices.c.id == device_id).values(**fresh))
                action = "device.reenroll"
                detail = (
                    f"{uid} {values['hostname']}: same hardware ({identity[1] if identity else ''}"
                    f"), {old_keys} older key(s) revoked"
                )
            conn.execute(
                device_keys.insert().values(
                    device_id=device_id, key_hash=hash_secret(key), created_s=now
                )
            )
            self._audit(conn, "enrolment", action, detail)
        if same is not None:
            self.revocations += 1
        return uid, key

    @staticmethod
    def _same_hardware(conn: Connection, vendor: str, serial: str) -> Any | None:
        """The live device with this vendor and serial; the last seen if there are several."""
        rows = [
            r
            for r in conn.execute(
                select(devices.c.id, devices.c.device_uid, devices.c.vendor, devices.c.last_seen_s)
                .where(devices.c.serial == serial, devices.c.revoked_s.is_(None))
                .order_by(devices.c.id)
            )
            if same_vendor(r.vendor, vendor)
        ]
        if not rows:
            return None
        return max(rows, key=lambda r: (r.last_seen_s or 0, r.id))

    def device_for_key(self, key: str) -> DeviceRef | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(devices.c.id, devices.c.device_uid)
                .join(device_keys, device_keys.c.device_id == devices.c.id)
                .where(
                    device_keys.c.key_hash == hash_secret(key),
                    device_keys.c.revoked_s.is_(None),
                    devices.c.revoked_s.is_(None),
                )
            ).first()
        return DeviceRef(row.id, row.device_uid) if row else None

    def _match(self, conn: Connection, query: str) -> list[Any]:
        if "\0" in query:  # no stored name holds NUL, and PostgreSQL would refuse it
            return []
        return list(
            conn.execute(
                select(devices)
                .where(
                    or_(
                        devices.c.hostname == query,
                        devices.c.serial == query,
                        devices.c.device_uid == query,
                    )
                )
                .order_by(devices.c.id)
            )
        )

    def find_device(self, query: str) -> dict[str, Any]:
        """One device by hostname, serial or id; NotFoundError names the ambiguity."""
        with self.engine.connect() as conn:
            rows = self._match(conn, query)
        if not rows:
            raise NotFoundError(f"no device with hostname, serial or id {query!r}")
        live = [r for r in rows if r.revoked_s is None] or rows
        if len(live) > 1:
            ids = ", ".join(r.device_uid for r in live)
            raise NotFoundError(f"{query!r} matches {len(live)} devices ({ids}); use the id")
        return dict(live[0]._mapping)

    def revoke_device(self, query: str, actor: str = "cli") -> str:
        device = self.find_device(query)
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(update(devices).where(devices.c.id == device["id"]).values(revoked_s=now))
            conn.execute(
                update(device_keys)
                .where(device_keys.c.device_id == device["id"], device_keys.c.revoked_s.is_(None))
                .values(revoked_s=now)
            )
            self._audit(conn, actor, "device.revoke", f"{device['device_uid']} {query}")
        self.revocations += 1
        return str(device["device_uid"])

    def list_devices(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(devices).order_by(devices.c.hostname, devices.c.id))
            return [dict(r._mapping) for r in rows]

    def latest_readings(self, device_id: int) -> list[dict[str, Any]]:
        """The device's newest reading of each series and text, by metric and component."""
        with self.engine.connect() as conn:
            readings = derived.latest(conn, [device_id]).get(device_id, {})
        return [{"device_id": device_id, **readings[k]._asdict()} for k in sorted(readings)]

    def unavailable_sources(self, device_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            entries = derived.unavailable(conn, device_id)
        return [{"device_id": device_id, **e._asdict()} for e in entries]

    def daily_rollups(
        self, device_id: int, metric_ids: Iterable[int] | None = None
    ) -> list[dict[str, Any]]:
        """Every stored series-day of the device, by metric, component and day."""
        wanted = None if metric_ids is None else set(metric_ids)
        with self.engine.connect() as conn:
            rows = [
                derived.day_dict(dev, day, e)
                for dev, day, e in derived.days(conn, [device_id], metric_ids=wanted)
            ]
        return sorted(rows, key=lambda r: (r["metric_id"], r["component"], r["day"]))

    def batch_count(self, device_id: int | None = None) -> int:
        query = select(func.count()).select_from(batches)
        if device_id is not None:
            query = query.where(batches.c.device_id == device_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def batch_bodies(self, device_id: int) -> list[bytes]:
        with self.engine.connect() as conn:
            return [
                bytes(r.body)
                for r in conn.execute(
                    select(batches.c.body)
                    .where(batches.c.device_id == device_id)
                    .order_by(batches.c.id)
                )
            ]

    # -- ingest ----------------------------------------------------------------------
    def ingest(self, device: DeviceRef, body: bytes, now_s: int | None = None) -> bool:
        """Store one encoded batch exactly once, with its derived rows, in one transaction.

        Returns False when the batch id was already stored (a retry): nothing
        is written then. Metric ids this collector does not know stay in the
        raw chunk and are left out of the derived tables. Raises ProtocolError
        for bytes that do not decode.
        """
        summary = decode_summary(body)
        (result,) = self.ingest_many([Item(device.id, device.uid, summary, body)], now_s)
        if isinstance(result, Exception):
            raise AuthError(str(result)) from result
        return result

    def ingest_many(
        self, items: Sequence[Item], now_s: int | None = None
    ) -> list[bool | Exception]:
        """Several batches in one transaction (group commit); per item a result.

        True: stored; False: a retry of a stored batch; RevokedError: the key
        or device was revoked. A database error fails the whole group; the
        caller (the writer) then retries the items one by one so that one bad
        item cannot fail its neighbours.
        """
        now = _now() if now_s is None else now_s
        if self._write_lock is None and self._write_lock_path is not None:
            self._write_lock = writelock.WriteLock(self._write_lock_path)
        with self._write_lock or contextlib.nullcontext(), self.engine.begin() as conn:
            return write_group(conn, items, now)

    # -- retention -------------------------------------------------------------------
    def prune(self, retention_days: int, now_s: int | None = None, actor: str = "cli") -> int:
        """Delete raw batch chunks older than the window; rollups stay for the device's life."""
        with self.engine.begin() as conn:
            return self._prune(conn, retention_days, now_s, actor)

    def prune_if_free(
        self, retention_days: int, now_s: int | None = None, actor: str = "scheduler"
    ) -> int | None:
        """:meth:`prune`, unless another session is pruning this schema now: then None.

        Every uvicorn worker runs the schedule; on PostgreSQL a session-level
        advisory lock (per schema: advisory locks are per database) lets one
        of them delete while the others skip that round instead of queueing
        behind it to delete nothing. SQLite has one worker: it just prunes.
        """
        if self.dialect != "postgresql":
            return self.prune(retention_days, now_s, actor)
        key = (_PRUNE_LOCK, func.hashtext(func.current_schema()))
        with self.engine.connect() as conn:
            got = conn.execute(select(func.pg_try_advisory_lock(*key))).scalar_one()
            conn.commit()
            if not got:
                return None
            try:
                with conn.begin():
                    return self._prune(conn, retention_days, now_s, actor)
            finally:
                if not conn.invalidated:  # a lost session took its lock with it
                    conn.execute(select(func.pg_advisory_unlock(*key)))
                    conn.commit()

    def _prune(self, conn: Connection, retention_days: int, now_s: int | None, actor: str) -> int:
        cutoff = (_now() if now_s is None else now_s) - retention_days * 86400
        res = conn.execute(delete(batches).where(and_(batches.c.received_s < cutoff)))
        self._audit(
            conn, actor, "db.prune", f"{res.rowcount} batches older than {retention_days} days"
        )
        return int(res.rowcount)
