"""What a store error means to a caller: a transient conflict, a store that is not
there, or a store that is full, told apart from everything else (a bug: a 500).

The library wraps the drivers' errors (`eventsourcing.persistence.OperationalError`
and its kin, with the sqlite3 or psycopg error as `__cause__`); some paths raise the
driver's own. `classify` looks at the whole chain:

- **busy** (transient, safe to retry the write that met it, since its transaction was
  rolled back): SQLite "database is locked"/"busy" past the busy timeout, the library's
  in-process pool having no connection in time; PostgreSQL serialization failure
  (40001), deadlock (40P01), lock timeout (55P03).
- **full**: SQLite "database or disk is full" (SQLITE_FULL); PostgreSQL `disk_full`
  (53100).
- **unavailable**: PostgreSQL unreachable, refusing connections, shutting down or the
  session terminated (SQLSTATE classes 08 and 57P, too many connections 53300, the
  pool timing out), a closed connection; SQLite read-only, I/O error, cannot open.

`StoreBusy`, `StoreUnavailable` and `StorageFull` are what the web layer answers
(503 with Retry-After, 507 for a full store: web/statuses.py, docs/api.md). Messages
name the kind of fault only, never the driver's text (which may quote parameters).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Literal, TypeVar

import psycopg
from eventsourcing.persistence import ConnectionUnavailableError, InterfaceError

from domain.errors import DomainError

Fault = Literal["busy", "unavailable", "full"]
T = TypeVar("T")

# seconds a client should wait before retrying, per fault
RETRY_AFTER: dict[Fault, int] = {"busy": 1, "unavailable": 5, "full": 60}

_PG_BUSY = {"40001", "40P01", "55P03", "57014"}
_PG_FULL = {"53100"}
_PG_UNAVAILABLE_CLASSES = ("08", "57P")
_PG_UNAVAILABLE = {"53300", "53400", "58030"}
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_FULL = ("database or disk is full",)
_SQLITE_UNAVAILABLE = (
    "attempt to write a readonly database",
    "disk i/o error",
    "unable to open database file",
    "database disk image is malformed",
)


class StoreFault(DomainError):
    """The store could not do what was asked, through no fault of the request."""

    fault: Fault = "unavailable"

    @property
    def retry_after(self) -> int:
        """Seconds a client should wait before it retries."""
        return RETRY_AFTER[self.fault]


class StoreBusy(StoreFault):
    """Writers kept conflicting past the busy timeout and the retries."""

    code = "store_busy"
    fault: Fault = "busy"


class StoreUnavailable(StoreFault):
    """The store cannot be reached or cannot write (down, session cut, read-only, I/O)."""

    code = "store_unavailable"
    fault: Fault = "unavailable"


class StorageFull(StoreFault):
    """The store's disk is full: nothing was written."""

    code = "insufficient_storage"
    fault: Fault = "full"


MESSAGES: dict[Fault, str] = {
    "busy": "the store is busy with other writers; nothing was recorded, retry later",
    "unavailable": "the store is unavailable; nothing was recorded, retry later",
    "full": "the store has no space left; nothing was recorded, retry once space is freed",
}
ERRORS: dict[Fault, type[StoreFault]] = {
    "busy": StoreBusy,
    "unavailable": StoreUnavailable,
    "full": StorageFull,
}


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        cause = current.__cause__
        if cause is None and not current.__suppress_context__:
            cause = current.__context__
        current = cause


def _of_one(error: BaseException) -> Fault | None:
    if isinstance(error, StoreFault):
        return error.fault
    if isinstance(error, ConnectionUnavailableError):
        return "busy"  # the library's in-process pool: every connection in use
    if isinstance(error, psycopg.Error):
        state = error.sqlstate or ""
        if state in _PG_BUSY:
            return "busy"
        if state in _PG_FULL:
            return "full"
        if state.startswith(_PG_UNAVAILABLE_CLASSES) or state in _PG_UNAVAILABLE:
            return "unavailable"
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) and not state:
            return "unavailable"  # no SQLSTATE: the connection failed or is closed
        return None
    if isinstance(error, sqlite3.Error):
        text = str(error).lower()
        if any(marker in text for marker in _SQLITE_BUSY):
            return "busy"
        if any(marker in text for marker in _SQLITE_FULL):
            return "full"
        if any(marker in text for marker in _SQLITE_UNAVAILABLE):
            return "unavailable"
        return None
    if isinstance(error, InterfaceError) and "closed" in str(error).lower():
        return "unavailable"
    return None


def classify(error: BaseException) -> Fault | None:
    """The fault `error` (or an error it was raised from) stands for; None when it is
    not one of the store's faults."""
    for link in _chain(error):
        fault = _of_one(link)
        if fault is not None:
            return fault
    return None


def as_store_fault(error: BaseException) -> StoreFault | None:
    """`error` as the StoreFault the caller should see, or None."""
    fault = classify(error)
    if fault is None:
        return None
    if isinstance(error, StoreFault):
        return error
    return ERRORS[fault](MESSAGES[fault])


def retry_busy(
    operation: Callable[[], T],
    *,
    attempts: int = 4,
    base_delay: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `operation`; while it fails with a transient conflict ("busy"), run it again
    after an exponential, jittered delay (0.05, 0.1, 0.2 s by default), `attempts` times
    in all. Only for an operation that is one transaction, rolled back when it failed:
    an optimistic-concurrency conflict (IntegrityError) is not busy and is never retried.
    """
    attempt = 1
    while True:
        try:
            return operation()
        except Exception as exc:
            if attempt >= attempts or classify(exc) != "busy":
                raise
        delay = base_delay * 2 ** (attempt - 1)
        sleep(delay * (0.5 + random.random()))  # jitter, not a secret
        attempt += 1
