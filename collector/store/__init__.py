"""Storage behind one small interface, :class:`Store`, over SQLAlchemy Core."""

from kitlife.collector.store.store import AuthError, DeviceRef, NotFoundError, Store, StoreError

__all__ = ["AuthError", "DeviceRef", "NotFoundError", "Store", "StoreError"]
