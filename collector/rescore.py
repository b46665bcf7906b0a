"""Scoring devices from the store and keeping the result: history rows and the device row.

Used by ``kitlife score``, by the server's background rescorer after a batch
lands, and by ``kitlife simulate``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, update

from kitlife.collector.scoring import DeviceAssessment, Reason, score_device
from kitlife.collector.scoring.decide import RoleFit
from kitlife.collector.store.histories import device_ids, load_histories
from kitlife.collector.store.schema import devices, scores
from kitlife.collector.store.store import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RescoreSummary:
    devices: int = 0
    seconds: float = 0.0
    by_decision: dict[str, int] = field(default_factory=dict)


def rescore(
    store: Store,
    ids: Sequence[int] | None = None,
    *,
    horizon_months: float | None = None,
    now_s: int | None = None,
    fits: Mapping[str, tuple[RoleFit, list[Reason]]] | None = None,
) -> RescoreSummary:
    """Score the given devices (all live ones by default) and store the results.

    ``fits`` (from :func:`role_fits`) may be passed in by a caller that reuses
    them across calls; by default they are worked out afresh.
    """
    started = time.perf_counter()
    now_s = int(time.time()) if now_s is None else now_s
    today = datetime.fromtimestamp(now_s, UTC).date()
    ids = device_ids(store) if ids is None else list(ids)
    summary = RescoreSummary()
    fits = role_fits(store, today) if fits is None else fits
    pending: list[tuple[int, DeviceAssessment]] = []
    for device_id, history in load_histories(store, ids, now_s // 86400):
        verdict, fit_reasons = fits.get(history.device_id, (None, []))
        assessment = score_device(
            history, horizon_months=horizon_months, now=today, role_fit=verdict
        )
        if verdict == "poor":
            # The scorer hears only poor/good; the numbers behind it go with the decision.
            assessment.reasons.extend(fit_reasons)
        pending.append((device_id, assessment))
        summary.devices += 1
        action = str(assessment.action)
        summary.by_decision[action] = summary.by_decision.get(action, 0) + 1
        if len(pending) >= 500:
            _save(store, pending, now_s)
            pending = []
    if pending:
        _save(store, pending, now_s)
    summary.seconds = time.perf_counter() - started
    return summary


def role_fits(store: Store, today: date) -> dict[str, tuple[RoleFit, list[Reason]]]:
    """Device uid -> (poor/good, the fit's reasons in numbers), from the asset register.

    Empty while no register is imported: then no device is judged against a
    role, and none is sent to redeploy.
    """
    from kitlife.collector.fleet.fit import assess, load_roles
    from kitlife.collector.fleet.inputs import devices_from_store
    from kitlife.collector.store.assets import register_count

    if not register_count(store):
        return {}
    roles = load_roles()
    out: dict[str, tuple[RoleFit, list[Reason]]] = {}
    for f in devices_from_store(store, today):
        if not f.holder_id or f.role not in roles.roles:
            continue
        fit = assess(f.facts, f.role, roles, today)
        reasons = [
            Reason(f"{f.role} role: {text}", f"roles.toml:{f.role}", "collector/data/roles.toml")
            for text in fit.reasons
        ]
        out[f.key] = ("poor" if fit.poor else "good", reasons)
    return out


def _save(store: Store, results: Iterable[tuple[int, DeviceAssessment]], now_s: int) -> None:
    history_rows = []
    device_rows = []
    for device_id, a in results:
        data = a.to_dict()
        history_rows.append(
            {
                "device_id": device_id,
                "t_s": now_s,
                "score": a.score,
                "decision": str(a.action),
                "reasons": json.dumps(data["reasons"]),
                "horizon": round(a.horizon_months),
                "assessment": json.dumps(data),
            }
        )
        device_rows.append(
            {"b_id": device_id, "b_score": a.score, "b_decision": str(a.action), "b_t": now_s}
        )
    with store.engine.begin() as conn:
        conn.execute(scores.insert(), history_rows)
        conn.execute(
            update(devices)
            .where(devices.c.id == bindparam("b_id"))
            .values(
                score=bindparam("b_score"),
                decision=bindparam("b_decision"),
                scored_s=bindparam("b_t"),
            ),
            device_rows,
        )


class Rescorer:
    """Rescores devices in the background after their batches land.

    Ingest marks a device; a thread wakes, drains the marks and rescores those
    devices, so a burst of batches from one device costs one rescore and the
    ingest path never waits on scoring.
    """

    # Role fits read the whole register and pressure history: worked out at most
    # this often, not for every device that uploads.
    FITS_MAX_AGE_S = 600.0

    def __init__(self, store: Store, delay_s: float = 2.0) -> None:
        self._store = store
        self._delay_s = delay_s
        self._fits: dict[str, tuple[RoleFit, list[Reason]]] = {}
        self._fits_at = -self.FITS_MAX_AGE_S
        self._dirty: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kitlife-rescorer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def mark(self, device_ids_: Iterable[int]) -> None:
        with self._lock:
            self._dirty.update(device_ids_)
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.wait(self._delay_s):  # gather a burst; leave promptly on stop
                return
            with self._lock:
                batch, self._dirty = sorted(self._dirty), set()
            if not batch:
                continue
            try:
                now = time.monotonic()
                if now - self._fits_at >= self.FITS_MAX_AGE_S:
                    self._fits = role_fits(self._store, datetime.now(UTC).date())
                    self._fits_at = now
                rescore(self._store, batch, fits=self._fits)
            except Exception:  # a scoring bug must not kill the server's rescorer
                log.exception("rescoring %d devices failed", len(batch))
