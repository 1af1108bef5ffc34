"""`ledger verify` (incremental) checks the subject map for the subjects of the events
sealed since the verified state: an altered map or chain row of such a subject is
caught without a full run; on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from domain.actor import Actor
from ledger_verify.smt import map_key
from security.bootstrap import Ledger, Settings, build_ledger
from tests.domain.factories import Clock, grant_marketing, individual
from tests.security.test_subject_map_sealing import signed_map
from tests.support.store import run_sql

pytestmark = pytest.mark.integration

FRONT = Actor("fo-001", "front_office", "branch")


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, clock=Clock())
    yield built
    built.close()


def verified_then_new_event(ledger: Ledger) -> tuple[UUID, int, int]:
    """A customer, verified (state kept); then one more event of theirs sealed.
    (customer, verified size, new checkpoint size)."""
    app = ledger.app
    customer = individual(app)
    grant_marketing(app, customer)
    assert ledger.seal() is not None
    report = ledger.verify_all()
    assert report.ok, report.problems
    base = report.event_log.size
    app.receive_feedback(customer, "complaint", "fees", "Charged twice", FRONT)
    latest = ledger.seal()
    assert latest is not None and latest.size > base
    return customer, base, latest.size


def messages(ledger: Ledger) -> list[str]:
    report = ledger.verify_all()
    assert report.event_log.mode == "incremental"
    return [p.message for p in report.event_log.problems]


def drop_chain_step(ledger: Ledger, customer: UUID, size: int, which: str) -> None:
    """Delete the customer's oldest ("MIN") or newest ("MAX") chain row."""
    key = map_key(signed_map(ledger, size)[0], str(customer))
    chain = ledger.keystore.dialect.table("ledger_map_chain")
    run_sql(
        ledger,
        f"DELETE FROM {chain} WHERE subject_key = ? AND seq = (SELECT {which}(seq) "
        f"FROM {chain} WHERE subject_key = ?)",
        (key, key),
    )


def test_new_events_of_a_subject_verify_incrementally(ledger: Ledger) -> None:
    verified_then_new_event(ledger)
    assert messages(ledger) == []


def test_an_altered_map_row_of_a_new_subject_is_caught_incrementally(ledger: Ledger) -> None:
    customer, _, size = verified_then_new_event(ledger)
    salt, _ = signed_map(ledger, size)
    nodes = ledger.keystore.dialect.table("ledger_map_nodes")
    # the customer's leaf in the map as of the new checkpoint now says one event fewer
    run_sql(
        ledger,
        f"UPDATE {nodes} SET leaf_value = (SELECT n.leaf_value FROM {nodes} n "
        "WHERE n.leaf_key = ? AND n.version < ? ORDER BY n.version DESC LIMIT 1) "
        "WHERE leaf_key = ? AND version = ?",
        (map_key(salt, str(customer)), size, map_key(salt, str(customer)), size),
    )
    found = messages(ledger)
    assert any(
        f"checkpoint at size {size}: the subject map entry of the subject of seq" in m
        and "is not proven by the stored map" in m
        for m in found
    ), found


def test_a_deleted_chain_row_of_a_new_subject_is_caught_incrementally(ledger: Ledger) -> None:
    customer, base, size = verified_then_new_event(ledger)
    drop_chain_step(ledger, customer, size, "MIN")  # an event below the verified size
    found = messages(ledger)
    assert any("does not match the subject's stored chain" in m for m in found), found
    assert base < size


def test_new_events_of_an_erased_subject_verify_incrementally(ledger: Ledger) -> None:
    customer, base, size = verified_then_new_event(ledger)
    ledger.keystore.shred(customer)  # leaves without keys are still steps of the chain
    report = ledger.verify_all()
    assert report.event_log.mode == "incremental" and report.event_log.base == base
    assert report.event_log.problems == []
    # (the key store part names the bare shred, so the verified state stays at `base`)
    drop_chain_step(ledger, customer, size, "MAX")  # the erased new event
    found = messages(ledger)
    assert any("does not match the subject's stored chain" in m for m in found), found


def test_a_map_built_without_a_new_event_is_caught_incrementally(ledger: Ledger) -> None:
    customer, _, size = verified_then_new_event(ledger)
    # a sealer that lost the chain row of the new event signs a map in which the
    # customer's next event follows the older head: chain and entry agree, the event
    # is in no chain
    chain = ledger.keystore.dialect.table("ledger_map_chain")
    run_sql(ledger, f"DELETE FROM {chain} WHERE seq = ?", (size - 1,))
    ledger.app.receive_feedback(customer, "complaint", "fees", "Charged again", FRONT)
    assert ledger.seal() is not None
    report = ledger.verify_all().event_log
    assert report.mode == "incremental"
    found = [(p.seq, p.message) for p in report.problems]
    assert any(seq == size - 1 and "is not the subject's new events" in m for seq, m in found), (
        found
    )
    assert not ledger.verify(full=True).ok
