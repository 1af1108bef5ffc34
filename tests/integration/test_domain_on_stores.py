"""The real domain on the real stores, encrypted: plaintext never stored; erasure shreds."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from domain.errors import SubjectErased
from security.bootstrap import Ledger, Settings, build_ledger
from tests.domain.factories import COMPLIANCE, FRONT, RM, Clock
from tests.security.test_encryption_at_rest import stored_bytes

pytestmark = pytest.mark.integration

NAME = "Wenjing Quillborough"
PHONE = "13912398765"
EMAIL = "quillborough.w@example.cn"
ID_NUMBER = "11010519491231002X"
NARRATIVE = "Teller Ximenez overcharged my Zephyrine account"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(ledger_config: Settings, clock: Clock) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, clock=clock)
    yield built
    built.close()


def register(
    ledger: Ledger, name: str = NAME, phone: str = PHONE, id_number: str = ID_NUMBER
) -> object:
    app = ledger.app
    customer_id = app.register_customer(
        "individual",
        {
            "name": name,
            "date_of_birth": date(1980, 5, 17),
            "gender": "female",
            "phone": phone,
            "email": EMAIL,
            "branch": "BJ-001",
        },
        FRONT,
    )
    app.record_identity_document(customer_id, "resident_id", id_number, date(2035, 1, 1), FRONT)
    app.receive_feedback(customer_id, "complaint", "fees", NARRATIVE, FRONT)
    return customer_id


def test_no_personal_value_of_the_real_domain_reaches_storage(ledger: Ledger) -> None:
    customer_id = register(ledger)
    assert ledger.app.get_customer(customer_id).phone == PHONE
    ledger.seal()
    blob = stored_bytes(ledger)
    for secret in (NAME, "Quillborough", PHONE, EMAIL, ID_NUMBER, "Zephyrine", "Ximenez"):
        raw = secret.encode()
        for form in (raw, raw.hex().encode(), base64.b64encode(raw)[:-4]):
            assert form not in blob, f"{secret!r} reached storage"


def test_erasure_after_retention_shreds_every_aggregate_of_the_customer(
    ledger: Ledger, clock: Clock
) -> None:
    gone = register(ledger)
    kept = register(ledger, "Kept Customer", "13800001111", "110101198001011234")
    app = ledger.app
    app.request_erasure(gone, FRONT)
    app.end_relationship(gone, RM)
    clock.set(datetime(2036, 3, 3, 9, tzinfo=UTC))
    app.erase_customer(gone, COMPLIANCE)
    assert ledger.keystore.is_shredded(gone)
    for read in (app.get_customer, app.get_kyc):
        with pytest.raises(SubjectErased):
            read(gone)
    assert app.get_customer(kept).name == "Kept Customer"
    ledger.seal()
    report = ledger.verify()
    assert report.ok, report.problems
