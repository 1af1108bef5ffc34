"""Optimistic concurrency: a stale version is a VersionConflict and records nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import AggregateNotFoundError

from domain.application import LedgerApplication
from domain.errors import AlreadyExists, VersionConflict
from tests.domain.factories import FRONT, RM, SYSTEM, individual, recorded

pytestmark = pytest.mark.unit


def _serve_stale(app: LedgerApplication, aggregate_id: UUID, stale: Any) -> None:
    """Make the next read of `aggregate_id` return `stale`: what a second writer that
    read just before us would hold."""
    real_get = app.repository.get
    served = []

    def get(requested: UUID, **kwargs: Any) -> Any:
        if requested == aggregate_id and not served:
            served.append(True)
            if stale is None:
                raise AggregateNotFoundError(requested)
            return stale
        return real_get(requested, **kwargs)

    app.repository.get = get  # type: ignore[method-assign]


def test_a_writer_that_lost_the_race_gets_a_version_conflict(app: LedgerApplication) -> None:
    customer_id = individual(app)
    stale = app.repository.get(customer_id)
    app.change_profile(customer_id, "email", "first@example.cn", RM)
    before = recorded(app)
    _serve_stale(app, customer_id, stale)
    with pytest.raises(VersionConflict) as conflict:
        app.change_profile(customer_id, "email", "second@example.cn", FRONT)
    assert conflict.value.code == "version_conflict"
    assert recorded(app) == before
    assert app.get_customer(customer_id).email == "first@example.cn"


def test_a_case_update_with_the_version_seen_wins_once(app: LedgerApplication) -> None:
    customer_id = individual(app)
    case_id = app.receive_feedback(customer_id, "complaint", "fees", "Charged twice", FRONT)
    seen = app.get_case(case_id).version
    app.acknowledge_case(case_id, FRONT, expected_version=seen)
    with pytest.raises(VersionConflict):
        app.start_investigation(case_id, RM, expected_version=seen)
    app.start_investigation(case_id, RM, expected_version=seen + 1)


def test_two_schedulers_claiming_one_period_record_it_once(app: LedgerApplication) -> None:
    assert app.start_job_run("grading", "2026Q1", SYSTEM)
    before = recorded(app)
    run_id = app.get_job_run("grading", "2026Q1")
    assert run_id is not None
    # The second scheduler read the period before the first one claimed it.
    _serve_stale(app, run_id.id, None)
    assert not app.start_job_run("grading", "2026Q1", SYSTEM)
    assert recorded(app) == before


def test_registering_an_existing_id_again_is_refused(app: LedgerApplication) -> None:
    customer_id = individual(app)
    before = recorded(app)
    with pytest.raises(AlreadyExists):
        app.register_customer(
            "individual", {"name": "Li Lei", "branch": "BJ-01"}, FRONT, customer_id=customer_id
        )
    assert recorded(app) == before


def test_creating_a_case_under_an_id_taken_meanwhile_is_a_conflict(app: LedgerApplication) -> None:
    customer_id = individual(app)
    case_id = app.receive_feedback(customer_id, "praise", "service", "Lovely staff", FRONT)
    before = recorded(app)
    with pytest.raises(VersionConflict):
        app.receive_feedback(customer_id, "praise", "service", "Again", FRONT, case_id=case_id)
    assert recorded(app) == before
