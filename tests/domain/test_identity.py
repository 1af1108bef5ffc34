"""One record per person: an identity number is held by one customer at a time."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from domain.application import LedgerApplication
from domain.errors import AlreadyExists
from domain.identity import AlreadyRegistered, IdentityClaim, claim_id, identity_text
from domain.kyc import IdentityDocument
from tests.domain.factories import FRONT, corporate, individual, recorded

pytestmark = pytest.mark.unit

PASSPORT = IdentityDocument("resident_id", "11010519491231002X", date(2036, 1, 1))


def _with_document(app: LedgerApplication, document: IdentityDocument, **profile: Any) -> Any:
    fields = {"name": "王芳", "branch": "BJ-01", **profile}
    return app.register_customer("individual", fields, FRONT, id_document=document)


def test_a_second_registration_of_the_same_id_number_is_refused_naming_the_first(
    app: LedgerApplication,
) -> None:
    first = _with_document(app, PASSPORT)
    before = recorded(app)
    with pytest.raises(AlreadyRegistered) as caught:
        _with_document(app, PASSPORT, name="Wang Fang")
    assert caught.value.customer_id == first
    assert caught.value.code == "already_registered"
    assert recorded(app) == before  # nothing of the second registration was saved


def test_the_same_number_typed_with_dashes_or_lower_case_is_the_same_number(
    app: LedgerApplication,
) -> None:
    _with_document(app, PASSPORT)
    typed = IdentityDocument("resident_id", "110105-19491231-002x", date(2036, 1, 1))
    with pytest.raises(AlreadyRegistered):
        _with_document(app, typed)


def test_another_document_type_with_the_same_digits_is_another_identity(
    app: LedgerApplication,
) -> None:
    _with_document(app, PASSPORT)
    other = IdentityDocument("passport", PASSPORT.number, date(2036, 1, 1))
    _with_document(app, other)


def test_a_corporate_credit_code_is_registered_once(app: LedgerApplication) -> None:
    first = corporate(app)
    with pytest.raises(AlreadyRegistered) as caught:
        corporate(app, name="Bright Logistics (copy)")
    assert caught.value.customer_id == first


def test_a_number_recorded_later_in_kyc_or_a_changed_credit_code_is_claimed_too(
    app: LedgerApplication,
) -> None:
    first = _with_document(app, PASSPORT)
    second = individual(app)
    with pytest.raises(AlreadyRegistered):
        app.record_identity_document(
            second, PASSPORT.doc_type, PASSPORT.number, PASSPORT.expires_on, FRONT
        )
    app.record_identity_document(first, PASSPORT.doc_type, PASSPORT.number, date(2040, 1, 1), FRONT)
    company = corporate(app)
    other = corporate(app, credit_code="91440300MA5DC1XH6P")
    with pytest.raises(AlreadyRegistered):
        app.change_profile(other, "credit_code", "91310000MA1FL3LQ2X", FRONT)
    assert app.get_customer(company).credit_code == "91310000MA1FL3LQ2X"


def test_the_claim_stores_no_number_only_its_holder(app: LedgerApplication) -> None:
    first = _with_document(app, PASSPORT)
    text = identity_text("resident_id", PASSPORT.number)
    assert text is not None
    claim = app.repository.get(claim_id(app.identity_index.digest(text)))
    assert isinstance(claim, IdentityClaim)
    assert claim.holder_id == first
    for event in app.events_of(claim.id):
        assert PASSPORT.number not in repr(event)


def test_an_idempotent_retry_of_the_same_registration_is_not_a_duplicate(
    app: LedgerApplication,
) -> None:
    wanted = uuid4()
    fields = {"name": "王芳", "branch": "BJ-01"}
    app.register_customer("individual", fields, FRONT, customer_id=wanted, id_document=PASSPORT)
    # the web layer retries with the same derived id: AlreadyExists, not AlreadyRegistered
    with pytest.raises(AlreadyExists) as caught:
        app.register_customer("individual", fields, FRONT, customer_id=wanted, id_document=PASSPORT)
    assert not isinstance(caught.value, AlreadyRegistered)


def test_a_blank_number_claims_nothing() -> None:
    assert identity_text("credit_code", " - ") is None
