"""`ledger identity backfill`: customers written before identity claims get theirs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner, Result

from domain.identity import AlreadyRegistered, IdentityClaim, claim_id, identity_text
from domain.kyc import IdentityDocument
from domain.services.identity import IdentityClaims
from security.bootstrap import Ledger, Settings, build_ledger
from tests.domain.factories import COMPLIANCE, FRONT, RM, Clock, corporate
from tests.support.environment import point_environment_at
from web.cli import main

pytestmark = pytest.mark.e2e

DOC = IdentityDocument("passport", "E12345678", date(2036, 1, 1))
OTHER = IdentityDocument("passport", "E87654321", date(2036, 1, 1))
CREDIT_CODE = "91310000MA1FL3LQ2X"


@pytest.fixture
def env(ledger_config: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    point_environment_at(ledger_config, monkeypatch)
    return ledger_config


@contextmanager
def opened(config: Settings, clock: Clock | None = None) -> Iterator[Ledger]:
    ledger = build_ledger(config, clock=clock) if clock else build_ledger(config)
    try:
        yield ledger
    finally:
        ledger.close()


@contextmanager
def without_claims(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Writes as the ledger did before identity claims existed."""
    with monkeypatch.context() as patched:
        patched.setattr(IdentityClaims, "_claims", lambda self, *args, **kwargs: [])
        yield


def person(ledger: Ledger, document: IdentityDocument, name: str = "王芳") -> UUID:
    fields: dict[str, Any] = {"name": name, "branch": "BJ-01"}
    customer_id: UUID = ledger.app.register_customer(
        "individual", fields, FRONT, id_document=document
    )
    return customer_id


def holder(ledger: Ledger, kind: str, number: str) -> UUID | None:
    text = identity_text(kind, number)
    assert text is not None
    claim = ledger.app._find(IdentityClaim, claim_id(ledger.app.identity_index.digest(text)))
    return None if claim is None else claim.holder_id


def backfill() -> Result:
    return CliRunner().invoke(main, ["identity", "backfill"])


def test_unclaimed_customers_are_claimed_then_a_duplicate_is_refused_and_a_rerun_is_a_no_op(
    env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with opened(env) as ledger, without_claims(monkeypatch):
        first = person(ledger, DOC)
        company = corporate(ledger.app)
        assert holder(ledger, DOC.doc_type, DOC.number) is None
    result = backfill()
    assert result.exit_code == 0, result.output
    assert "2 customers read, 2 numbers claimed" in result.output
    assert DOC.number not in result.output and CREDIT_CODE not in result.output
    with opened(env) as ledger:
        assert holder(ledger, DOC.doc_type, DOC.number) == first
        assert holder(ledger, "credit_code", CREDIT_CODE) == company
        with pytest.raises(AlreadyRegistered) as caught:
            person(ledger, DOC, "Wang Fang")
        assert caught.value.customer_id == first
        with pytest.raises(AlreadyRegistered):
            corporate(ledger.app, name="Bright copy")
    again = backfill()
    assert again.exit_code == 0, again.output
    assert "0 numbers claimed" in again.output


def test_two_live_holders_of_one_number_are_reported_by_id_and_exit_1(
    env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with opened(env) as ledger, without_claims(monkeypatch):
        first = person(ledger, DOC)
        second = person(ledger, DOC, "Wang Fang")
    result = backfill()
    assert result.exit_code == 1
    assert str(first) in result.output and str(second) in result.output
    assert "duplicates found: 1; resolve by merging or erasure" in result.output
    assert DOC.number not in result.output
    with opened(env) as ledger:
        assert holder(ledger, DOC.doc_type, DOC.number) == first  # the earlier keeps it
    assert backfill().exit_code == 1  # still reported until resolved, nothing more claimed


def test_an_erased_customer_is_skipped_and_its_number_stays_free(
    env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    with opened(env, clock) as ledger, without_claims(monkeypatch):
        gone = person(ledger, OTHER)
        kept = person(ledger, DOC)
        ledger.app.request_erasure(gone, FRONT)
        ledger.app.end_relationship(gone, RM)
        clock.now = datetime(2036, 3, 3, 9, tzinfo=UTC)
        ledger.app.erase_customer(gone, COMPLIANCE)
    result = backfill()
    assert result.exit_code == 0, result.output
    assert "1 customers read, 1 numbers claimed, 1 erased skipped" in result.output
    with opened(env) as ledger:
        assert holder(ledger, OTHER.doc_type, OTHER.number) is None
        assert holder(ledger, DOC.doc_type, DOC.number) == kept
        person(ledger, OTHER, "New Person")  # the erased customer's number is free


def test_the_demo_store_is_consistent_a_backfill_after_it_claims_nothing(env: Settings) -> None:
    seeded = CliRunner().invoke(main, ["demo", "--customers", "25", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    result = backfill()
    assert result.exit_code == 0, result.output
    assert "0 numbers claimed" in result.output and "0 duplicates" in result.output


def test_demo_on_an_older_store_claims_its_unclaimed_customers(
    env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with opened(env) as ledger, without_claims(monkeypatch):
        first = person(ledger, DOC)
    seeded = CliRunner().invoke(main, ["demo", "--customers", "5", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "1 numbers claimed, 0 erased skipped, 0 duplicates" in seeded.output
    with opened(env) as ledger:
        assert holder(ledger, DOC.doc_type, DOC.number) == first
