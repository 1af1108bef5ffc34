"""The store's index of a subject's streams: written with the events, read by one join."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actor import Actor
from domain.ids import consent_id, kyc_file_id
from security.bootstrap import Settings, build_ledger
from security.subject_streams import TABLE
from tests.domain.factories import Clock, grant_marketing
from tests.support.store import run_sql, select

pytestmark = pytest.mark.integration

FRONT = Actor("fo-001", "front_office", "branch")
PROFILE = {
    "name": "王芳",
    "date_of_birth": date(1985, 6, 15),
    "phone": "13812345678",
    "branch": "BJ-01",
    "relationship_manager": "rm-007",
}


def test_the_index_names_every_stream_of_the_subject_and_no_other(ledger_config: Settings) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        app = ledger.app
        mine = app.register_customer("individual", PROFILE, FRONT, status="prospect")
        theirs = app.register_customer(
            "individual", {**PROFILE, "phone": "13700001111"}, FRONT, status="prospect"
        )
        grant_marketing(app, mine)
        grant_marketing(app, theirs)
        case_id = app.receive_feedback(mine, "complaint", "fees", "Charged twice", FRONT)
        streams = set(app.subject_streams.streams_of(mine))
        assert streams == {mine, consent_id(mine, "marketing"), case_id}
        assert kyc_file_id(mine) not in streams  # a prospect has no KYC file
        positions = app.subject_streams.positions(sorted(streams))
        assert {stream for stream, _ in positions} == streams
        ids = [p.notification_id for p in positions.values()]
        assert len(set(ids)) == len(ids)
        assert all(p.seq is None for p in positions.values())
        ledger.seal()
        sealed = app.subject_streams.positions([case_id])
        assert [p.seq for p in sealed.values()] == [
            ledger.sealed_log.seq_of_notification(p.notification_id) for p in sealed.values()
        ]
    finally:
        ledger.close()


def test_a_store_written_before_the_index_is_indexed_once_on_start(
    ledger_config: Settings,
) -> None:
    clock = Clock()
    ledger = build_ledger(ledger_config, clock=clock)
    try:
        customer_id = ledger.app.register_customer("individual", PROFILE, FRONT, status="prospect")
        grant_marketing(ledger.app, customer_id)
        table = ledger.keystore.dialect.table(TABLE)
        run_sql(ledger, f"DELETE FROM {table}")
        assert ledger.app.subject_streams.streams_of(customer_id) == []
    finally:
        ledger.close()
    again = build_ledger(ledger_config, clock=clock)
    try:
        found = set(again.app.subject_streams.streams_of(customer_id))
        assert found == {customer_id, consent_id(customer_id, "marketing")}
        assert select(again, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] >= 2
    finally:
        again.close()
