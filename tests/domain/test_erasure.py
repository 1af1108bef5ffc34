"""The erasure lifecycle: request, restricted processing, retention, legal hold, shredding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Mapper, StoredEvent

from domain.application import LedgerApplication
from domain.errors import (
    LegalHoldActive,
    NotPermitted,
    ProcessingRestricted,
    RetentionRunning,
    SubjectErased,
    SubjectKeysUnavailable,
)
from tests.domain.factories import (
    COMPLIANCE,
    FRONT,
    RM,
    SYSTEM,
    Clock,
    RecordingKeys,
    grant_marketing,
    individual,
    new_app,
    recorded,
)

pytestmark = pytest.mark.unit


def test_an_erasure_request_restricts_processing_to_what_law_requires(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    grant_marketing(app, customer_id)
    assert app.request_erasure(customer_id, FRONT) == "restrict"
    assert app.get_customer(customer_id).processing_restricted
    before = recorded(app)
    with pytest.raises(ProcessingRestricted):
        app.log_interaction(customer_id, "sms", "outbound", "marketing", "offer", "x", RM)
    with pytest.raises(ProcessingRestricted):
        app.send_survey(customer_id, "NPS", SYSTEM)
    with pytest.raises(ProcessingRestricted):
        app.classify_customer(customer_id, RM)
    assert recorded(app) == before
    # What law requires still goes through: complaints, consent withdrawal, KYC.
    case_id = app.receive_feedback(customer_id, "complaint", "data_privacy", "Delete me", FRONT)
    app.acknowledge_case(case_id, FRONT)
    app.withdraw_consent(customer_id, "marketing", FRONT)
    app.assign_risk_rating(customer_id, "low", COMPLIANCE)
    assert app.live_consent(customer_id, "marketing") is None


def test_erasure_waits_for_retention_and_is_blocked_by_a_legal_hold(
    app: LedgerApplication, clock: Clock, keys: RecordingKeys
) -> None:
    customer_id = individual(app)
    app.request_erasure(customer_id, FRONT)
    app.end_relationship(customer_id, RM)
    before = recorded(app)
    with pytest.raises(RetentionRunning):
        app.erase_customer(customer_id, COMPLIANCE)
    clock.set(datetime(2036, 3, 2, 9, tzinfo=UTC))  # ten years after the end
    app.place_legal_hold(customer_id, "court-2036-88", "Beijing court", COMPLIANCE)
    with pytest.raises(LegalHoldActive):
        app.erase_customer(customer_id, COMPLIANCE)
    assert recorded(app) == before + 1  # only the hold
    assert app.erasure_status(customer_id) == "blocked_by_hold"
    app.lift_legal_hold(customer_id, "court-2036-88", COMPLIANCE)
    assert app.erasure_status(customer_id) == "erase"
    app.erase_customer(customer_id, COMPLIANCE)
    assert keys.shredded == [customer_id]
    view = app.get_customer(customer_id)
    assert view.erased and view.name is None and view.phone is None
    expired, erased = app.events_of(customer_id)[-2:]
    assert type(expired).__name__ == "RetentionExpired"
    assert type(erased).__name__ == "CustomerErased"
    assert erased.subject_id is None  # written after the key is gone: must stay readable


def test_only_compliance_may_erase_or_hold(app: LedgerApplication, clock: Clock) -> None:
    customer_id = individual(app)
    with pytest.raises(NotPermitted):
        app.erase_customer(customer_id, FRONT)
    with pytest.raises(NotPermitted):
        app.place_legal_hold(customer_id, "h1", "regulator", RM)


def test_erasure_without_a_key_store_is_refused_before_anything_is_recorded(
    clock: Clock,
) -> None:
    app = new_app(clock)
    customer_id = individual(app)
    app.request_erasure(customer_id, FRONT)
    app.end_relationship(customer_id, RM)
    clock.set(datetime(2037, 1, 1, tzinfo=UTC))
    before = recorded(app)
    with pytest.raises(SubjectKeysUnavailable):
        app.erase_customer(customer_id, COMPLIANCE)
    assert recorded(app) == before


class ShreddingMapper(Mapper[UUID]):
    """A stand-in for the encrypting mapper: events of a shredded subject cannot be read."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shredded: set[UUID] = set()
        self.subjects: dict[tuple[Any, int], UUID | None] = {}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        self.subjects[(stored.originator_id, stored.originator_version)] = domain_event.subject_id
        return stored

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        subject = self.subjects[(stored_event.originator_id, stored_event.originator_version)]
        if subject in self.shredded:
            raise SubjectErased("the subject's key was destroyed")
        return super().to_domain_event(stored_event)


class ShreddingApp(LedgerApplication):
    def construct_mapper(self) -> Mapper[UUID]:
        return ShreddingMapper(transcoder=self.construct_transcoder())


class ShreddingKeys(RecordingKeys):
    def __init__(self) -> None:
        super().__init__()
        self.mapper: ShreddingMapper | None = None

    def shred(self, subject_id: UUID) -> None:
        super().shred(subject_id)
        assert self.mapper is not None
        self.mapper.shredded.add(subject_id)


def test_reads_of_a_shredded_subject_raise_subject_erased_and_create_nothing(
    clock: Clock,
) -> None:
    keys = ShreddingKeys()
    app = ShreddingApp(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock, subject_keys=keys
    )
    assert isinstance(app.mapper, ShreddingMapper)
    keys.mapper = app.mapper
    customer_id, other = individual(app), individual(app, phone="13700000000")
    case_id = app.receive_feedback(customer_id, "complaint", "fees", "Charged twice", FRONT)
    app.request_erasure(customer_id, FRONT)
    app.end_relationship(customer_id, RM)
    clock.set(datetime(2036, 3, 3, tzinfo=UTC))
    app.erase_customer(customer_id, COMPLIANCE)
    before = recorded(app)
    for read in (app.get_customer, app.get_kyc):
        with pytest.raises(SubjectErased):
            read(customer_id)
    with pytest.raises(SubjectErased):
        app.get_case(case_id)
    with pytest.raises(SubjectErased):
        app.change_profile(customer_id, "phone", "13000000000", RM)
    assert recorded(app) == before
    assert app.get_customer(other).name == "王芳"
    # CustomerErased has no subject: it stays readable after the shredding.
    (erased,) = app.events.get(customer_id, gt=5)
    assert type(erased).__name__ == "CustomerErased"
