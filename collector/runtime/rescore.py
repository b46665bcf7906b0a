"""Scoring devices from the store and keeping the result: history rows and the device row.

Used by ``kitlife score``, by the server's background rescorer after a batch
lands, and by ``kitlife simulate``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from kitlife.collector.policy.scoring import DeviceAssessment, Reason, score_device
from kitlife.collector.policy.scoring.decide import RoleFit
from kitlife.collector.store.histories import device_ids, load_histories
from kitlife.collector.store.jobs import claim_devices
from kitlife.collector.store.scores import Assessed, save_assessments, scored_times
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
    roles_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> RescoreSummary:
    """Score the given devices (all live ones by default) and store the results.

    ``progress(done)`` is called every 50 devices and at the end (the CLI's bar).

    ``fits`` (from :func:`role_fits`) may be passed in by a caller that reuses
    them across calls; by default they are worked out afresh, against the
    role profiles in ``roles_path`` (None: the shipped roles.toml).
    """
    started = time.perf_counter()
    now_s = int(time.time()) if now_s is None else now_s
    today = datetime.fromtimestamp(now_s, UTC).date()
    ids = device_ids(store) if ids is None else list(ids)
    summary = RescoreSummary()
    fits = role_fits(store, today, roles_path) if fits is None else fits
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
        if progress is not None and summary.devices % 50 == 0:
            progress(summary.devices)
    if pending:
        _save(store, pending, now_s)
    if progress is not None:
        progress(summary.devices)
    summary.seconds = time.perf_counter() - started
    return summary


def role_fits(
    store: Store, today: date, roles_path: Path | None = None
) -> dict[str, tuple[RoleFit, list[Reason]]]:
    """Device uid -> (poor/good, the fit's reasons in numbers), from the asset register.

    Empty while no register is imported: then no device is judged against a
    role, and none is sent to redeploy.
    """
    from kitlife.collector.policy.fit import assess, load_roles
    from kitlife.collector.reports.fleet_inputs import devices_from_store
    from kitlife.collector.store.assets import register_count

    if not register_count(store):
        return {}
    roles = load_roles(roles_path)
    out: dict[str, tuple[RoleFit, list[Reason]]] = {}
    for f in devices_from_store(store, today):
        if not f.holder_id or f.role not in roles.roles:
            continue
        fit = assess(f.facts, f.role, roles, today)
        reasons = [
            Reason(
                f"{f.role} role: {text}", f"roles.toml:{f.role}", "collector/policy/data/roles.toml"
            )
            for text in fit.reasons
        ]
        out[f.key] = ("poor" if fit.poor else "good", reasons)
    return out


def _save(store: Store, results: Iterable[tuple[int, DeviceAssessment]], now_s: int) -> None:
    save_assessments(
        store,
        [
            Assessed(device_id, a.score, str(a.action), a.horizon_months, a.to_dict())
            for device_id, a in results
        ],
        now_s,
    )


class Rescorer:
    """Rescores devices in the background after their batches land.

    Ingest marks a device; a thread wakes, drains the marks and rescores those
    devices, so a burst of batches from one device costs one rescore and the
    ingest path never waits on scoring. Two limits keep it from competing
    with ingest for the process (measured: unthrottled, it took more CPU than
    ingest itself in bench/ingest.py):

    - ``min_interval_s``: a device is rescored at most this often. Scores
      move over weeks (histories are folded to weekly points), while every
      device uploads every 15 minutes: rescoring each upload would cost an
      estate of 72,000 about 72,000 x 5 ms = 6 CPU-minutes per 15 minutes.
      A mark inside the interval is kept and served when the interval ends,
      so the newest data is always scored eventually. A device never scored
      is due at once; at start the last-scored times come from the device
      rows, so a restart does not rescore the whole estate.
    - ``duty``: the thread works at most this share of wall time. After a
      chunk that took ``t`` seconds it rests ``t * (1 / duty - 1)``.
    - ``busy``: while it says ingest is busy (the server passes "requests in
      flight"), the thread waits until it has been quiet for ``quiet_s``, but
      never more than ``max_defer_s`` before its next chunk, so scoring still
      moves during a long boot storm.
    """

    # Role fits read the whole register and pressure history: worked out at most
    # this often, not for every device that uploads.
    FITS_MAX_AGE_S = 600.0

    def __init__(
        self,
        store: Store,
        delay_s: float = 2.0,
        min_interval_s: float = 6 * 3600.0,
        duty: float = 0.25,
        chunk: int = 50,
        busy: Callable[[], bool] | None = None,
        max_defer_s: float = 60.0,
        quiet_s: float = 2.0,
        roles_path: Path | None = None,
    ) -> None:
        self._store = store
        self._roles_path = roles_path
        self._delay_s = delay_s
        self._min_interval_s = min_interval_s
        self._duty = min(1.0, max(0.01, duty))
        self._chunk = max(1, chunk)
        self._busy = busy
        self._max_defer_s = max_defer_s
        self._quiet_s = quiet_s
        self._fits: dict[str, tuple[RoleFit, list[Reason]]] = {}
        self._fits_at = -self.FITS_MAX_AGE_S
        self._dirty: set[int] = set()
        self._last: dict[int, float] = {}  # device id -> wall time of its last score
        self._due: dict[int, float] = {}  # marked device id -> when it may be rescored
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kitlife-rescorer", daemon=True)
        self.rescored = 0  # devices rescored since start (for tests and logs)

    def start(self) -> None:
        self._last = scored_times(self._store)
        self._thread.start()

    def mark(self, device_ids_: Iterable[int]) -> None:
        with self._lock:
            self._dirty.update(device_ids_)
        if not self._wake.is_set():  # set() takes a lock and notifies: once is enough
            self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _take_ready(self) -> tuple[list[int], float | None]:
        """Devices due now, and seconds until the next one is due (None: none waiting)."""
        with self._lock:
            marked, self._dirty = self._dirty, set()
        now = time.time()
        for d in marked:
            if d not in self._due:
                self._due[d] = self._last.get(d, -math.inf) + self._min_interval_s
        ready = sorted(d for d, due in self._due.items() if due <= now)
        for d in ready:
            del self._due[d]
        wait = min(self._due.values(), default=None)
        return ready, None if wait is None else max(0.0, wait - now)

    def _yield_to_ingest(self) -> bool:
        """Wait until ingest has been quiet for ``quiet_s`` (at most max_defer_s).

        Quiet for a while, not just this instant: in-flight counts dip
        between group commits, and a chunk once started runs to its end.
        Returns True when asked to stop.
        """
        if self._busy is None:
            return False
        deadline = time.monotonic() + self._max_defer_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if self._busy():
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= self._quiet_s:
                return False
            if self._stop.wait(0.1):
                return True
        return False

    def _loop(self) -> None:
        wait: float | None = None
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.wait(self._delay_s):  # gather a burst; leave promptly on stop
                return
            ready, wait = self._take_ready()
            for i in range(0, len(ready), self._chunk):
                chunk = ready[i : i + self._chunk]
                if self._yield_to_ingest():
                    return
                t0 = time.monotonic()
                try:
                    if self._min_interval_s > 0:
                        # Another host may have rescored some of these (their batches
                        # reached it too): take only the ones nobody scored lately.
                        now = time.time()
                        chunk = claim_devices(
                            self._store, chunk, now - self._min_interval_s, int(now)
                        )
                    if t0 - self._fits_at >= self.FITS_MAX_AGE_S:
                        self._fits = role_fits(
                            self._store, datetime.now(UTC).date(), self._roles_path
                        )
                        self._fits_at = t0
                    rescore(self._store, chunk, fits=self._fits)
                except Exception:  # a scoring bug must not kill the server's rescorer
                    log.exception("rescoring %d devices failed", len(chunk))
                scored_at = time.time()
                for d in chunk:
                    self._last[d] = scored_at
                self.rescored += len(chunk)
                took = time.monotonic() - t0
                if self._stop.wait(took * (1 / self._duty - 1)):
                    return
            # Marks that came in meanwhile have set the event: the next wait returns at once.
