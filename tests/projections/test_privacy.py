"""No plaintext personal data in the views, and crypto-shredding reaches every view."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from domain.errors import SubjectErased
from projections.runtime import ReadModels, close_read_models, read_models
from security.bootstrap import Ledger, build_ledger
from tests.conftest import PG_DSN
from tests.domain.factories import COMPLIANCE, FRONT, RM, Clock
from tests.projections.world import EMAIL, ID_NUMBER, PHONE, SECRETS, dump, populate
from tests.security.test_encryption_at_rest import forms

pytestmark = pytest.mark.integration

SEGMENT = "60_plus/high/balanced"  # a segment is C2 too: only encrypted or digested
CARE_REASON = "disabled"  # health data: only encrypted in the views


def view_bytes(models: ReadModels) -> bytes:
    """Everything the view store holds: the SQLite file, WAL and shared memory, or the
    text of every view table on PostgreSQL."""
    config = models.ledger.config
    if config.store_kind == "sqlite":
        path = config.data_dir / "views.sqlite3"
        parts = [Path(str(path) + suffix) for suffix in ("", "-wal", "-shm")]
        return b"".join(p.read_bytes() for p in parts if p.exists())
    schema = models.store.dialect.schema
    blob = b""
    with psycopg.connect(PG_DSN) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema=%s AND table_name LIKE 'pv\\_%%'",
            (schema,),
        ).fetchall()
        assert len(tables) >= 9
        for (table,) in tables:
            for (text,) in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t'):
                blob += text.encode("utf-8")
    return blob


def assert_no_plaintext(models: ReadModels) -> None:
    blob = view_bytes(models)
    assert len(blob) > 2000
    for secret in (*SECRETS, SEGMENT):
        for form in forms(secret):
            assert form not in blob, f"{secret!r} found in the views as {form[:12]!r}"


def test_no_personal_value_reaches_the_view_tables(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    world = populate(ledger.app, clock)
    # special-care reasons are health data: never in clear in the views either
    ledger.app.flag_special_care(world.plain, ["disabled"], ["home_service"], RM)
    models.catch_up()
    assert_no_plaintext(models)
    for form in forms(CARE_REASON):
        assert form not in view_bytes(models), f"{CARE_REASON!r} found in the views"
    # the watch-list still filters by reason (decrypted after the SQL filter), and pages
    disabled = models.customers.special_care(reason=CARE_REASON)
    assert [c["customer_id"] for c in disabled.items] == [str(world.plain)]
    assert disabled.total == 1 and disabled.items[0]["reasons"] == [CARE_REASON]
    flagged = models.customers.special_care()
    assert {c["customer_id"] for c in flagged.items} == {str(world.elder), str(world.plain)}
    assert models.customers.special_care(reason=CARE_REASON, offset=1).items == []
    assert models.customers.customer_360(str(world.plain))["care"]["reasons"] == [CARE_REASON]
    # yet the views answer exact searches and show masked values
    found = models.customers.search(phone=PHONE).items
    assert [c["customer_id"] for c in found] == [str(world.elder)]
    assert models.customers.search(email=EMAIL.upper()).total == 1
    assert models.customers.search(id_number=ID_NUMBER.lower()).total == 1
    assert models.customers.search(segment="individual/" + SEGMENT).total == 1
    seen = models.customers.customer_360(str(world.elder))
    assert seen["name"] == "*** Quillborough"
    assert seen["profile"]["phone"] == "*******8765"
    assert seen["profile"]["doc_number"] == "1****************X"
    assert not any(secret in repr(seen) for secret in (PHONE, EMAIL, ID_NUMBER))
    models.rebuild()  # shadow tables and swaps leave nothing behind either
    assert_no_plaintext(models)


@pytest.mark.parametrize("projected_before", [True, False], ids=["live", "behind"])
def test_erasing_a_customer_erases_it_from_every_view(
    ledger: Ledger, clock: Clock, models: ReadModels, projected_before: bool
) -> None:
    world = populate(ledger.app, clock)
    app = ledger.app
    if projected_before:
        models.catch_up()
    app.request_erasure(world.elder, FRONT)
    app.end_relationship(world.elder, RM)
    clock.set(datetime(2036, 3, 3, 9, tzinfo=UTC))
    app.erase_customer(world.elder, COMPLIANCE)
    models.catch_up()

    head = app.recorder.max_notification_id()
    statuses = models.statuses()
    assert all(s.position == head for s in statuses), "a view stalled on erased events"
    if not projected_before:
        assert next(s for s in statuses if s.name == "customers").skipped > 5
    elder = str(world.elder)
    for table, rows in dump(models).items():
        mentioning = [r for r in rows if elder in repr(r)]
        if table == "pv_customer":
            (tombstone,) = mentioning
            assert tombstone["status"] == "erased"
            assert tombstone["encrypted"] is None and tombstone["phone_ix"] is None
            assert tombstone["branch"] is None and tombstone["tier"] is None
        else:
            assert mentioning == [], f"{table} still holds the erased customer"
    with pytest.raises(SubjectErased):
        models.customers.customer_360(elder)
    assert models.customers.search(phone=PHONE).total == 0
    assert models.customers.search(status="erased").items[0]["name"] is None
    assert models.cases.consent_register(customer_id=elder).total == 0
    assert models.cases.complaint_queue().total == 1  # the other customer's suggestion
    assert models.customers.customer_360(str(world.plain))["name"] == "*** Person"
    assert models.customers.special_care(reason="elderly").total == 0
    assert_no_plaintext(models)


def test_a_shredded_key_blanks_the_customer_in_every_view_at_once(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    world = populate(ledger.app, clock)
    models.catch_up()
    ledger.keystore.shred(world.elder)
    elder = str(world.elder)
    with pytest.raises(SubjectErased):
        models.customers.customer_360(elder)
    listed = {c["customer_id"]: c for c in models.customers.search(branch="BJ-01").items}
    assert listed[elder]["erased"] is True and listed[elder]["name"] is None
    care = models.customers.special_care().items
    assert [(c["customer_id"], c["name"]) for c in care] == [(elder, None)]
    assert care[0]["reasons"] == []  # the reasons went with the key
    assert models.customers.special_care(reason="elderly").total == 0

    fresh = build_ledger(ledger.config, clock=clock)  # another process: no cached keys
    try:
        with pytest.raises(SubjectErased):
            read_models(fresh).customers.customer_360(elder)
    finally:
        close_read_models(fresh)
        fresh.close()


def test_events_of_a_shredded_subject_are_skipped_with_a_marker_never_stalling(
    ledger: Ledger, clock: Clock, models: ReadModels
) -> None:
    world = populate(ledger.app, clock)
    ledger.keystore.shred(world.elder)  # before the views ever saw the customer
    ledger.app.log_interaction(world.plain, "sms", "outbound", "service", "hello", "hi", FRONT)
    models.catch_up()
    head = ledger.app.recorder.max_notification_id()
    found = models.tracking.positions()
    for view in ("customers", "cases", "consents", "kpis", "crises"):
        assert found[view].position == head
        assert found[view].skipped > 0
        assert found[view].last_skipped is not None
    assert models.customers.search().total == 2
    assert models.customers.customer_360(str(world.plain))["interactions"] == 1
