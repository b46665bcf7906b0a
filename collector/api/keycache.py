"""A cache of device-key lookups (kept a day), so each batch costs no extra query.

Why it is safe: the cache only saves the *lookup*. The write itself checks in
the same SQL statement that the key and the device are still live (see
:mod:`kitlife.collector.store.ingest`), so a key revoked in this process,
another worker or the CLI stops at its next batch, whatever the cache holds.
A revocation through this process's store also bumps a generation counter
that empties the cache at once. Memory stays flat: the cache is bounded and
simply cleared when full (72,000 devices fit in the default).
"""

from __future__ import annotations

import time

from kitlife.collector.store import DeviceRef, Store
from kitlife.collector.store.secrets import hash_secret


class KeyCache:
    # A day, not a minute: every laptop uploads once per 15 minutes, so a short
    # life made nearly every lookup a miss (a thread hop and a query). Safety
    # does not rest on it: the write checks liveness itself.
    def __init__(self, store: Store, ttl_s: float = 86_400.0, max_entries: int = 131_072) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[DeviceRef, float]] = {}
        self._generation = store.revocations

    def get(self, key_hash: str) -> DeviceRef | None:
        """A cached live device for this key hash, or None (then look it up)."""
        if self._generation != self.store.revocations:
            self._entries.clear()
            self._generation = self.store.revocations
        hit = self._entries.get(key_hash)
        if hit is None:
            return None
        if hit[1] < time.monotonic():
            del self._entries[key_hash]
            return None
        return hit[0]

    def lookup(self, key: str) -> tuple[DeviceRef | None, str]:
        """Blocking: the device for ``key`` (from the database when not cached)."""
        key_hash = hash_secret(key)
        device = self.get(key_hash)
        if device is None:
            device = self.store.device_for_key(key)
            if device is not None:
                self.put(key_hash, device)
        return device, key_hash

    def put(self, key_hash: str, device: DeviceRef) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key_hash] = (device, time.monotonic() + self.ttl_s)

    def forget(self, key_hash: str) -> None:
        self._entries.pop(key_hash, None)
