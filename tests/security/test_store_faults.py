"""Store errors told apart: busy (retried), unavailable and full (503/507), and everything
else (not a store fault: a 500 stays a 500)."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg_pool
import pytest
from eventsourcing.persistence import (
    ConnectionUnavailableError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from psycopg import errors as pg

from domain.errors import VersionConflict
from security.store_faults import (
    StorageFull,
    StoreBusy,
    StoreUnavailable,
    as_store_fault,
    classify,
    retry_busy,
)

pytestmark = pytest.mark.unit


def wrapped(driver_error: Exception) -> Exception:
    """As the library raises it: its own error, the driver's as the cause."""
    try:
        try:
            raise driver_error
        except Exception as exc:
            raise OperationalError(str(exc)) from exc
    except OperationalError as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (sqlite3.OperationalError("database is locked"), "busy"),
        (sqlite3.OperationalError("database table is locked"), "busy"),
        (sqlite3.OperationalError("database or disk is full"), "full"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "unavailable"),
        (sqlite3.OperationalError("disk I/O error"), "unavailable"),
        (sqlite3.OperationalError("unable to open database file"), "unavailable"),
        (pg.SerializationFailure("could not serialize"), "busy"),
        (pg.DeadlockDetected("deadlock detected"), "busy"),
        (pg.LockNotAvailable("canceling statement due to lock timeout"), "busy"),
        (pg.QueryCanceled("canceling statement due to statement timeout"), "busy"),
        (pg.DiskFull("could not extend file"), "full"),
        (pg.AdminShutdown("terminating connection due to administrator command"), "unavailable"),
        (pg.CannotConnectNow("the database system is starting up"), "unavailable"),
        (pg.TooManyConnections("too many clients"), "unavailable"),
        (psycopg.OperationalError("connection refused"), "unavailable"),
        (psycopg.InterfaceError("the connection is closed"), "unavailable"),
        (psycopg_pool.PoolTimeout("couldn't get a connection after 5 sec"), "unavailable"),
        (ConnectionUnavailableError("timed out waiting for a connection"), "busy"),
        (InterfaceError("connection closed"), "unavailable"),
    ],
)
def test_store_errors_are_classified_raw_and_as_the_library_wraps_them(
    error: Exception, fault: str
) -> None:
    assert classify(error) == fault
    assert classify(wrapped(error)) == fault


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.IntegrityError("UNIQUE constraint failed: stored_events.originator_id"),
        sqlite3.OperationalError("no such table: stored_events"),
        pg.UniqueViolation("duplicate key value"),
        pg.UndefinedTable("relation does not exist"),
        IntegrityError("stale version"),
        ValueError("a bug"),
    ],
)
def test_anything_else_is_not_a_store_fault(error: Exception) -> None:
    assert classify(error) is None
    assert as_store_fault(error) is None


def test_a_domain_error_raised_from_none_does_not_inherit_the_store_error() -> None:
    try:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError:
            raise VersionConflict("stale") from None
    except VersionConflict as exc:
        assert classify(exc) is None


def test_faults_become_the_errors_the_api_answers_without_the_driver_text() -> None:
    busy = as_store_fault(wrapped(sqlite3.OperationalError("database is locked")))
    full = as_store_fault(sqlite3.OperationalError("database or disk is full"))
    down = as_store_fault(pg.AdminShutdown("terminating connection for 王小明"))
    assert isinstance(busy, StoreBusy) and busy.code == "store_busy" and busy.retry_after == 1
    assert isinstance(full, StorageFull) and full.code == "insufficient_storage"
    assert isinstance(down, StoreUnavailable) and down.code == "store_unavailable"
    assert "王小明" not in down.message and down.retry_after == 5


def test_retry_busy_retries_a_busy_store_with_growing_delays_then_succeeds() -> None:
    calls, sleeps = [], []

    def operation() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise wrapped(sqlite3.OperationalError("database is locked"))
        return "done"

    assert retry_busy(operation, sleep=sleeps.append) == "done"
    assert len(calls) == 3 and len(sleeps) == 2
    assert 0.025 <= sleeps[0] <= 0.075 and 0.05 <= sleeps[1] <= 0.15


def test_retry_busy_is_bounded_and_gives_up_with_the_busy_error() -> None:
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError):
        retry_busy(operation, attempts=4, sleep=lambda _: None)
    assert len(calls) == 4


@pytest.mark.parametrize(
    "error",
    [IntegrityError("stale version"), pg.AdminShutdown("terminated"), ValueError("bug")],
)
def test_retry_busy_never_retries_a_conflict_an_outage_or_a_bug(error: Exception) -> None:
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        retry_busy(operation, sleep=lambda _: None)
    assert len(calls) == 1
