"""Chapter 1, customer information: collect, analyse, update, protect."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.application import LedgerApplication
from domain.errors import (
    BusinessSuspended,
    IllegalTransition,
    ValidationFailed,
    VersionConflict,
)
from domain.kyc import KycFileOpened
from tests.domain.factories import (
    COMPLIANCE,
    FRONT,
    RM,
    SYSTEM,
    Clock,
    corporate,
    individual,
    quarter_of_trades,
    recorded,
    trade_on,
)

pytestmark = pytest.mark.unit


def test_registering_an_individual_opens_a_kyc_file_with_the_rating_deadline(
    app: LedgerApplication,
) -> None:
    customer_id = individual(app)
    view = app.get_customer(customer_id)
    assert (view.kind, view.status, view.name, view.branch) == (
        "individual",
        "active",
        "王芳",
        "BJ-01",
    )
    kyc = app.get_kyc(customer_id)
    # Registered Monday 2026-03-02: the 10th working day after is Monday 2026-03-16.
    assert kyc.rating_due_on == date(2026, 3, 16)
    assert kyc.rating_calendar == "CN"
    assert kyc.review_state == "pending_rating"


def test_the_rating_deadline_counts_working_days_of_the_customers_jurisdiction(
    app: LedgerApplication, clock: Clock
) -> None:
    # Thursday 2 April 2026: CN works Friday 3 April (Qingming is 4-6 April); the UK
    # rests on Good Friday 3 and Easter Monday 6 April, so its 10th working day is later.
    clock.set(datetime(2026, 4, 2, 9, tzinfo=UTC))
    cn = app.get_kyc(individual(app))
    uk = app.get_kyc(individual(app, jurisdiction="UK"))
    assert (cn.rating_calendar, cn.rating_due_on) == ("CN", date(2026, 4, 17))
    assert (uk.rating_calendar, uk.rating_due_on) == ("UK", date(2026, 4, 20))
    opened = next(e for e in app.events_of(uk.id) if isinstance(e, KycFileOpened))
    assert (opened.calendar, opened.rule_version) == ("UK", "risk_rating_deadline/2")


def test_kyc_files_opened_before_v2_counted_cn_working_days() -> None:
    state: dict[str, object] = {}
    KycFileOpened.upcast_v1_v2(state)
    assert state == {"calendar": "CN"}


def test_a_corporate_customer_keeps_its_registry_data(app: LedgerApplication) -> None:
    customer_id = corporate(app)
    view = app.get_customer(customer_id)
    assert view.kind == "corporate"
    assert view.credit_code == "91310000MA1FL3LQ2X"
    assert (view.company_size, view.industry, view.stage) == ("medium", "logistics", "growth")


def test_a_corporate_customer_needs_a_valid_credit_code(app: LedgerApplication) -> None:
    with pytest.raises(ValidationFailed) as refused:
        corporate(app, credit_code="123")
    assert set(refused.value.errors) == {"credit_code"}
    assert recorded(app) == 0


def test_invalid_profile_fields_are_named_and_nothing_is_recorded(app: LedgerApplication) -> None:
    with pytest.raises(ValidationFailed) as refused:
        individual(app, phone="call me", email="nope", shoe_size="42")
    assert set(refused.value.errors) == {"phone", "email", "shoe_size"}
    assert "call me" not in refused.value.message
    assert recorded(app) == 0


def test_a_prospect_becomes_active_and_only_then_gets_a_kyc_file(app: LedgerApplication) -> None:
    prospect = individual(app, status="prospect")
    assert app.get_customer(prospect).status == "prospect"
    with pytest.raises(IllegalTransition):
        quarter_of_trades(app, prospect, date(2025, 12, 1), 5, "1000", "b-1")
    app.activate_customer(prospect, RM)
    assert app.get_customer(prospect).status == "active"
    assert app.get_kyc(prospect).review_state == "pending_rating"


def test_every_profile_change_records_its_source_and_who(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    version = app.get_customer(customer_id).version
    clock.advance(days=3)
    new_version = app.change_profile(
        customer_id, "phone", "13900001111", RM, source="customer", expected_version=version
    )
    assert new_version == version + 1
    (change,) = app.changes(customer_id, version, new_version)
    assert (change.field, change.old, change.new) == ("phone", "13812345678", "13900001111")
    assert (change.actor_id, change.role, change.source) == (
        "rm-007",
        "relationship_manager",
        "customer",
    )


def test_an_unchanged_value_records_nothing(app: LedgerApplication) -> None:
    customer_id = individual(app)
    before = recorded(app)
    app.change_profile(customer_id, "phone", "13812345678", RM)
    assert recorded(app) == before


def test_a_stale_version_is_a_conflict_and_records_nothing(app: LedgerApplication) -> None:
    customer_id = individual(app)
    version = app.get_customer(customer_id).version
    app.change_profile(customer_id, "email", "new@example.cn", RM, expected_version=version)
    before = recorded(app)
    with pytest.raises(VersionConflict):
        app.change_profile(customer_id, "email", "other@example.cn", RM, expected_version=version)
    assert recorded(app) == before


def test_reverification_runs_current_due_soon_overdue_in_review_current(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    due = app.assign_risk_rating(customer_id, "high", COMPLIANCE, factors=["pep_relative"])
    assert due == date(2026, 9, 2)  # high risk: every 6 months
    assert app.check_reverification(customer_id, SYSTEM) == "current"
    clock.set(clock.now.replace(year=2026, month=8, day=3))  # 30 days before
    assert app.check_reverification(customer_id, SYSTEM) == "due_soon"
    clock.set(clock.now.replace(month=9, day=3))
    assert app.check_reverification(customer_id, SYSTEM) == "overdue"
    app.start_reverification(customer_id, COMPLIANCE)
    assert app.get_kyc(customer_id).review_state == "in_review"
    next_due = app.complete_reverification(customer_id, COMPLIANCE, risk_level="medium")
    kyc = app.get_kyc(customer_id)
    assert (kyc.review_state, kyc.risk_level, next_due) == ("current", "medium", date(2027, 9, 3))


def test_a_trigger_forces_a_review_at_once(app: LedgerApplication) -> None:
    customer_id = individual(app)
    app.assign_risk_rating(customer_id, "low", COMPLIANCE)
    app.start_reverification(customer_id, COMPLIANCE, trigger="screening_hit")
    kyc = app.get_kyc(customer_id)
    assert (kyc.review_state, kyc.review_trigger) == ("in_review", "screening_hit")


def test_an_expired_id_suspends_business_until_a_valid_one_restores_it(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    app.assign_risk_rating(customer_id, "medium", COMPLIANCE)
    assert (
        app.record_identity_document(
            customer_id, "resident_id", "110101198506151234", date(2026, 5, 31), FRONT
        )
        == "expiring"
    )  # within 90 days
    clock.set(clock.now.replace(month=6, day=1))
    assert app.check_identity_document(customer_id, SYSTEM) == "expired"
    kyc = app.get_kyc(customer_id)
    assert kyc.business_suspended
    assert (kyc.review_state, kyc.review_trigger) == ("in_review", "id_expiry")
    # Trades dated before the suspension may still arrive; later ones are refused.
    quarter_of_trades(app, customer_id, date(2026, 3, 3), 3, "500", "q2")
    before = recorded(app)
    with pytest.raises(BusinessSuspended):
        trade_on(app, customer_id, date(2026, 6, 1), "june-1")
    assert recorded(app) == before
    app.record_identity_document(
        customer_id, "resident_id", "110101198506151234", date(2046, 5, 31), FRONT
    )
    assert not app.get_kyc(customer_id).business_suspended
    trade_on(app, customer_id, date(2026, 6, 1), "june-1")


def test_activity_figures_come_from_the_core_systems_transactions(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    clock.set(clock.now.replace(month=7, day=1))
    quarter_of_trades(app, customer_id, date(2026, 3, 1), 12, "30000.00", "batch-q1")
    quarter_of_trades(app, customer_id, date(2026, 3, 31), 8, "12000.50", "batch-q2")
    with pytest.raises(IllegalTransition):
        quarter_of_trades(app, customer_id, date(2026, 3, 31), 8, "12000.50", "batch-q2")
    activity = app.get_activity(customer_id)
    assert (activity.periods, activity.transaction_count) == (2, 20)
    assert str(activity.amount) == "42000.50"
    assert activity.products_held == ("deposit", "fund")


def test_an_inactive_customer_goes_dormant_and_comes_back_with_activity(
    app: LedgerApplication, clock: Clock
) -> None:
    customer_id = individual(app)
    clock.advance(days=179)
    assert app.review_lifecycle(customer_id, SYSTEM) == "active"
    clock.advance(days=1)
    assert app.review_lifecycle(customer_id, SYSTEM) == "dormant"
    quarter_of_trades(app, customer_id, date(2026, 5, 1), 1, "100", "late")
    assert app.get_customer(customer_id).status == "active"


def test_classification_of_an_individual_by_age_income_and_risk(app: LedgerApplication) -> None:
    customer_id = individual(app)
    segment = app.classify_customer(customer_id, RM)
    assert segment == "individual/30_44/high/balanced"
    assert app.get_customer(customer_id).segment_dimensions["age_band"] == "30_44"


def test_registration_with_an_identity_document_is_one_atomic_write(
    app: LedgerApplication,
) -> None:
    from domain.errors import ValidationFailed
    from domain.kyc import IdentityDocument
    from tests.domain.factories import FRONT, recorded

    profile = {"name": "陈静", "phone": "13900001111", "branch": "SH-02"}
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.register_customer(
            "individual",
            profile,
            FRONT,
            id_document=IdentityDocument("hk_macau_permit", "H12345678", date(2020, 1, 1)),
        )
    assert "id_document.expires_on" in refused.value.errors
    assert recorded(app) == before  # nothing of the customer was recorded
    customer_id = app.register_customer(
        "individual",
        profile,
        FRONT,
        id_document=IdentityDocument("taiwan_permit", "T1234567890", date(2031, 5, 1)),
    )
    kyc = app.get_kyc(customer_id)
    assert (kyc.doc_type, kyc.doc_number) == ("taiwan_permit", "T1234567890")


def test_several_profile_fields_change_in_one_write_or_not_at_all(
    app: LedgerApplication,
) -> None:
    from domain.errors import ValidationFailed
    from tests.domain.factories import RM, individual, recorded

    customer_id = individual(app)
    version = app.get_customer(customer_id).version
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.change_profile_fields(
            customer_id, {"phone": "13700002222", "email": "not-an-email"}, RM
        )
    assert set(refused.value.errors) == {"email"}
    assert recorded(app) == before
    new_version = app.change_profile_fields(
        customer_id,
        {"phone": "13700002222", "email": "chen@example.cn"},
        RM,
        expected_version=version,
    )
    assert new_version == version + 2
    view = app.get_customer(customer_id)
    assert (view.phone, view.email) == ("13700002222", "chen@example.cn")
