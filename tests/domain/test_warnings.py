"""Warnings as events: each recorded once, only when due, by the application service."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.application import LedgerApplication
from domain.ids import interaction_log_id, kyc_file_id
from domain.interaction import CareFollowUpOverdue
from domain.kyc import IdentityDocumentExpiring, RiskRatingOverdue
from tests.domain.factories import COMPLIANCE, FRONT, RM, SYSTEM, Clock, individual

pytestmark = pytest.mark.unit


def kinds(app: LedgerApplication, stream: object) -> list[str]:
    return [type(e).__name__ for e in app.events_of(stream)]  # type: ignore[arg-type]


def test_an_id_document_is_noted_expiring_once_inside_its_window_and_never_once_expired(
    app: LedgerApplication, clock: Clock
) -> None:
    customer = individual(app)  # 2026-03-02
    app.record_identity_document(customer, "passport", "E12345678", date(2026, 6, 1), FRONT)
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))  # 91 days before
    assert not app.note_identity_document_expiring(customer, SYSTEM)
    clock.set(datetime(2026, 3, 3, 9, tzinfo=UTC))  # 90 days before
    assert app.note_identity_document_expiring(customer, SYSTEM)
    assert not app.note_identity_document_expiring(customer, SYSTEM)
    clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert not app.note_identity_document_expiring(customer, SYSTEM)
    assert kinds(app, kyc_file_id(customer)).count(IdentityDocumentExpiring.__name__) == 1
    assert app.get_kyc(customer).doc_status == "expiring"

    other = individual(app)
    app.record_identity_document(other, "passport", "E87654321", date(2026, 6, 2), FRONT)
    clock.set(datetime(2026, 6, 3, 9, tzinfo=UTC))
    app.check_identity_document(other, SYSTEM)  # expired: suspended, never "expiring"
    assert not app.note_identity_document_expiring(other, SYSTEM)
    assert IdentityDocumentExpiring.__name__ not in kinds(app, kyc_file_id(other))


def test_a_late_risk_rating_is_noted_once_and_a_rated_file_never(
    app: LedgerApplication, clock: Clock
) -> None:
    late = individual(app)  # rating due 2026-03-16
    rated = individual(app)
    app.assign_risk_rating(rated, "low", COMPLIANCE)
    clock.set(datetime(2026, 3, 16, 9, tzinfo=UTC))
    assert not app.note_risk_rating_overdue(late, SYSTEM)  # the deadline day is in time
    clock.set(datetime(2026, 3, 17, 9, tzinfo=UTC))
    assert app.note_risk_rating_overdue(late, SYSTEM)
    assert not app.note_risk_rating_overdue(late, SYSTEM)
    assert not app.note_risk_rating_overdue(rated, SYSTEM)
    assert kinds(app, kyc_file_id(late)).count(RiskRatingOverdue.__name__) == 1
    app.assign_risk_rating(late, "medium", COMPLIANCE)
    assert app.get_kyc(late).review_state == "current"


def test_the_care_due_date_counts_from_the_flagging_or_the_visit_not_from_a_profile_change(
    app: LedgerApplication, clock: Clock
) -> None:
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    elder = individual(app, date_of_birth=date(1950, 1, 20))
    assert app.review_special_care(elder, SYSTEM) == ("elderly",)
    clock.set(datetime(2026, 5, 1, 9, tzinfo=UTC))
    app.change_profile(elder, "email", "elder@example.cn", RM)
    app.flag_special_care(elder, ["elderly", "disabled"], ["home_service"], RM)
    assert app.care_follow_up_due(elder) == date(2026, 5, 31)  # flagged 2026-03-02
    clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert app.note_care_follow_up_overdue(elder, SYSTEM)
    assert not app.note_care_follow_up_overdue(elder, SYSTEM)
    (overdue,) = [
        e for e in app.events_of(interaction_log_id(elder)) if isinstance(e, CareFollowUpOverdue)
    ]
    assert (overdue.due_on, overdue.as_of) == (date(2026, 5, 31), date(2026, 6, 1))
    assert overdue.rule_version == "care_follow_up_due/2+care_follow_up_overdue/1"
    app.record_care_visit(elder, "home_visit", "Tea", RM)
    assert app.care_follow_up_due(elder) == date(2026, 8, 30)
    assert not app.note_care_follow_up_overdue(elder, SYSTEM)
