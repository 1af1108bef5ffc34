"""The views of one process: built once per ledger, installed, queried, followed.

`read_models(ledger)` is the entry point for the web app, the CLI and the scheduler:
it opens the view store the configuration names, creates any missing table, and
caches the result on the ledger, so a process builds it once (after gunicorn's
fork, like the ledger itself). `follow()` starts this process's background projector.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from domain.errors import DomainError
from projections.base import ViewProjection
from projections.case_queries import CaseQueries
from projections.cases import CasesProjection
from projections.consents import ConsentsProjection
from projections.crises import CrisesProjection
from projections.crisis_queries import CrisisQueries
from projections.customers import CustomersProjection
from projections.field_encryption import BlindIndex, FieldCipher
from projections.follower import Follower
from projections.kpi_queries import KpiQueries
from projections.kpis import KpisProjection
from projections.projector import Fault, Projector
from projections.quality import QualityProjection, QualityQueries
from projections.rebuild import REBUILD_BATCH, Progress, Rebuilt, rebuild
from projections.satisfaction import SatisfactionProjection, SatisfactionQueries
from projections.status import (
    MAX_LAG_EVENTS,
    MAX_LAG_SECONDS,
    Readiness,
    ViewStatus,
    readiness,
    view_statuses,
)
from projections.store import ViewStore
from projections.tracking import PositionConflict, Tracking
from projections.value_strategies import ValueStrategiesProjection, ValueStrategyQueries
from projections.watch_queries import WatchLists
from security.bootstrap import Ledger

INLINE_BATCH = 200
CACHE_ATTRIBUTE = "_read_models"
VIEW_CLASSES: tuple[type[ViewProjection], ...] = (
    CustomersProjection,
    CasesProjection,
    ConsentsProjection,
    KpisProjection,
    QualityProjection,
    SatisfactionProjection,
    CrisesProjection,
    ValueStrategiesProjection,
)


class ViewLagging(DomainError):
    """A view did not reach the requested position in time (read-your-writes)."""

    code = "view_lagging"


class UnknownView(DomainError):
    """No view has that name."""

    code = "unknown_view"


class ReadModels:
    """Queries, status, waiting, rebuilding and following for one ledger's views."""

    def __init__(self, ledger: Ledger, store: ViewStore) -> None:
        self.ledger = ledger
        self.store = store
        self.projections = [cls() for cls in VIEW_CLASSES]
        self.tracking = Tracking(store)
        cipher = FieldCipher(ledger.keystore)
        index = BlindIndex(ledger.keyring.index_key())
        self.clock = self._clock()
        self.customers = WatchLists(store, cipher, index, self.clock)
        self.cases = CaseQueries(store, self.clock)
        self.crises = CrisisQueries(store, self.clock)
        self.kpis = KpiQueries(store, getattr(ledger.app, "settings", None))
        self.quality = QualityQueries(store)
        self.satisfaction = SatisfactionQueries(store)
        self.value_strategies = ValueStrategyQueries(store)
        self.follower: Follower | None = None
        self._lock = threading.Lock()

    def _clock(self) -> Callable[[], datetime]:
        now = getattr(self.ledger.app, "now", None)
        return now if callable(now) else (lambda: datetime.now(UTC))

    def named(self, names: Sequence[str] | None = None) -> list[ViewProjection]:
        """The views called `names` (all of them when None); UnknownView otherwise."""
        if names is None:
            return list(self.projections)
        known = {p.name: p for p in self.projections}
        missing = [n for n in names if n not in known]
        if missing:
            raise UnknownView(f"no view named {', '.join(missing)}; views: {', '.join(known)}")
        return [known[n] for n in names]

    def install(self) -> None:
        """Create the tracking table and every missing view table (idempotent)."""
        Projector(self.ledger, self.store, self.projections).install()

    def projector(self, *, batch_size: int = 500, fault: Fault | None = None) -> Projector:
        """A projector over every view whose tables match the code's schema."""
        found = self.tracking.positions()
        current = [
            p
            for p in self.projections
            if p.name in found and found[p.name].schema_hash == p.schema_hash()
        ]
        return Projector(self.ledger, self.store, current, batch_size=batch_size, fault=fault)

    def catch_up(self) -> int:
        """Bring every (current-schema) view to the head now, in this thread."""
        return self.projector().catch_up()

    def follow(self, poll_interval: float | None = None) -> Follower:
        """Start this process's background projector (once; later calls return it)."""
        with self._lock:
            if self.follower is None or not self.follower.running:
                self.follower = Follower(self.projector(), poll_interval).start()
            return self.follower

    def wait_for(self, names: Sequence[str], position: int, timeout: float) -> int:
        """Block until the views `names` reflect `position`; ViewLagging after `timeout`.

        With a follower in this process, wake it and wait; without one, run the
        projector here, batch by batch (safe beside projectors elsewhere: exactly
        once holds across processes). Returns the lowest of the views' positions.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        reached = self.position_of(names)
        while reached < position:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ViewLagging(
                    f"the views reflect the log up to {reached}, not yet {position}; retry shortly"
                )
            follower = self.follower
            if follower is not None and follower.running:
                follower.notify()
                reached = self.tracking.wait_for(list(names), position, min(left, 0.5))
                continue
            # another projector moving the view first is fine: read where it is now
            with contextlib.suppress(PositionConflict):
                self.projector(batch_size=INLINE_BATCH).run_once()
            reached = self.position_of(names)
        return reached

    def position_of(self, names: Sequence[str]) -> int:
        """The lowest position of the views `names` (what a read of them reflects)."""
        found = self.tracking.positions()
        return min((found[n].position if n in found else 0) for n in names)

    def statuses(self) -> list[ViewStatus]:
        """Position and lag of every view."""
        head = self.ledger.app.recorder.max_notification_id() or 0
        return view_statuses(self.tracking, self.projections, head)

    def readiness(
        self, *, max_lag_events: int = MAX_LAG_EVENTS, max_lag_seconds: float = MAX_LAG_SECONDS
    ) -> Readiness:
        """Whether the views are within the lag limits (see projections.status)."""
        return readiness(
            self.statuses(), max_lag_events=max_lag_events, max_lag_seconds=max_lag_seconds
        )

    def rebuild(
        self,
        names: Sequence[str] | None = None,
        *,
        progress: Progress | None = None,
        batch_size: int = REBUILD_BATCH,
    ) -> Rebuilt:
        """Rebuild views from zero while the old ones serve (projections.rebuild)."""
        return rebuild(
            self.ledger, self.store, self.named(names), progress=progress, batch_size=batch_size
        )

    def close(self) -> None:
        """Stop following and close the view store."""
        with self._lock:
            if self.follower is not None:
                self.follower.stop()
                self.follower = None
        self.store.close()


_models_lock = threading.Lock()


def read_models(ledger: Ledger) -> ReadModels:
    """The read models of `ledger`: built and installed on first use, then cached on the
    ledger itself (so they live exactly as long as it does, one per process)."""
    with _models_lock:
        models = vars(ledger).get(CACHE_ATTRIBUTE)
        if not isinstance(models, ReadModels):
            models = ReadModels(ledger, ViewStore.for_ledger(ledger))
            models.install()
            vars(ledger)[CACHE_ATTRIBUTE] = models
        return models


def start_following(ledger: Ledger, poll_interval: float | None = None) -> Follower:
    """Start this process's background projector for `ledger` (idempotent): the hook for
    a web worker or the scheduler process, called once the ledger is built."""
    return read_models(ledger).follow(poll_interval)


def views_ready(
    ledger: Ledger,
    *,
    max_lag_events: int = MAX_LAG_EVENTS,
    max_lag_seconds: float = MAX_LAG_SECONDS,
) -> Readiness:
    """The readiness signal for `/readyz`: every view current and within both lag limits."""
    return read_models(ledger).readiness(
        max_lag_events=max_lag_events, max_lag_seconds=max_lag_seconds
    )


def close_read_models(ledger: Ledger) -> None:
    """Stop the follower and close the view store of `ledger` (before `ledger.close()`)."""
    with _models_lock:
        models = vars(ledger).pop(CACHE_ATTRIBUTE, None)
    if isinstance(models, ReadModels):
        models.close()
