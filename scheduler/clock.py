"""The scheduler's clock: the one time source of the ledger and its jobs.

The ledger is built with a `JobClock` wrapping an injected base clock (the system
clock in production, a hand-moved one in tests). A run "as of" another moment (a
backfill, a replayed day) shifts the clock for the calling thread only: time then
starts at that moment and moves on at the base clock's pace, so the events of the run
keep their order and the rules see the as-of day. Runs in other threads (APScheduler's
pool) are never shifted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class JobClock:
    """A clock that is the base clock, or that base shifted to an as-of moment.

    Guarantees: always returns timezone-aware UTC times; a shift applies only to the
    thread that made it and ends with its `with` block.
    """

    def __init__(self, base: Callable[[], datetime]) -> None:
        self._base = base
        self._local = threading.local()

    def __call__(self) -> datetime:
        offset: timedelta = getattr(self._local, "offset", timedelta(0))
        return (self._base() + offset).astimezone(UTC)

    def base_now(self) -> datetime:
        """The base clock's time, ignoring any shift."""
        return self._base().astimezone(UTC)

    @contextmanager
    def shifted_to(self, moment: datetime) -> Iterator[None]:
        """Within the block, time in this thread starts at `moment` (and moves on)."""
        previous: timedelta | None = getattr(self._local, "offset", None)
        self._local.offset = moment - self._base()
        try:
            yield
        finally:
            if previous is None:
                del self._local.offset
            else:
                self._local.offset = previous
