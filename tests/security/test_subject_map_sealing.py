"""Sealing keeps the subject map: each checkpoint signs its root, which equals the map
recomputed from the log by the definition; proofs hold at every signed size; a store
sealed before the map is caught up on the next seal. Both stores."""

from __future__ import annotations

import base64

import pytest

from domain.actor import Actor
from ledger_verify.checkpoints import parse_checkpoint
from ledger_verify.smt import (
    MAP_LINE,
    Entry,
    MemoryStore,
    chain_head,
    encode_value,
    map_key,
    update,
    verify_proof,
)
from security.bootstrap import Ledger, Settings, build_ledger
from security.keys.envelope import Envelope
from tests.domain.factories import Clock, grant_marketing, individual
from tests.support.store import run_sql, select

pytestmark = pytest.mark.integration

FRONT = Actor("fo-001", "front_office", "branch")


def signed_map(ledger: Ledger, size: int) -> tuple[bytes, bytes]:
    """(salt, root) of the map line of the checkpoint at `size`."""
    stored = ledger.sealed_log.checkpoint(size)
    assert stored is not None
    lines = [line for line in parse_checkpoint(stored.note).extensions if line.startswith(MAP_LINE)]
    assert len(lines) == 1, stored.note
    _, salt, root = lines[0].split(" ")
    return base64.b64decode(salt), base64.b64decode(root)


def chains_by_definition(ledger: Ledger, size: int) -> dict[str, list[tuple[int, bytes]]]:
    """subject -> [(seq, leaf hash)] of every sealed event below `size`, from the events'
    key refs and the key store, independently of the map's tables."""
    subject_of_ref = {
        str(row["dek_id"]): str(row["subject_id"])
        for row in select(ledger, f"SELECT dek_id, subject_id FROM {ledger.keystore.table}")
    }
    chains: dict[str, list[tuple[int, bytes]]] = {}
    recorder = ledger.app.recorder
    for row in ledger.sealed_log.leaf_rows(0, size):
        nid = row.notification_id
        (note,) = recorder.select_notifications(
            start=nid, limit=1, stop=nid, inclusive_of_start=True
        )
        subject = subject_of_ref[Envelope.unpack(note.state).key_ref]
        chains.setdefault(subject, []).append((row.seq, row.leaf_hash))
    return chains


def root_by_definition(ledger: Ledger, size: int, salt: bytes) -> bytes:
    entries = {
        map_key(salt, subject): encode_value(Entry(*chain_head(chain)))
        for subject, chain in chains_by_definition(ledger, size).items()
    }
    return update(MemoryStore(), entries)


def check_every_subject(ledger: Ledger, size: int) -> int:
    salt, root = signed_map(ledger, size)
    assert root == root_by_definition(ledger, size, salt)
    chains = chains_by_definition(ledger, size)
    for subject, chain in chains.items():
        proven = ledger.sealed_log.subject_proof(subject, size)
        assert proven.root == root
        assert proven.chain == tuple(chain)
        assert verify_proof(root, map_key(salt, subject), proven.proof) == Entry(*chain_head(chain))
    return len(chains)


def test_each_checkpoint_signs_the_map_of_the_log(ledger_config: Settings) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        app = ledger.app
        first = individual(app)
        second = individual(app, phone="13700001111")
        grant_marketing(app, first)
        one = ledger.seal()
        assert one is not None
        assert check_every_subject(ledger, one.size) >= 2
        grant_marketing(app, second)
        app.receive_feedback(first, "complaint", "fees", "Charged twice", FRONT)
        two = ledger.seal()
        assert two is not None and two.size > one.size
        check_every_subject(ledger, two.size)
        # the older checkpoint's proofs still hold against its own root, not the new one
        old = ledger.sealed_log.subject_proof(str(first), one.size)
        new = ledger.sealed_log.subject_proof(str(first), two.size)
        assert old.root == signed_map(ledger, one.size)[1] != new.root
        assert len(new.chain) > len(old.chain)
        assert new.chain[: len(old.chain)] == old.chain
    finally:
        ledger.close()


def test_a_log_sealed_before_the_map_is_caught_up_on_the_next_seal(
    ledger_config: Settings,
) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        app = ledger.app
        customer = individual(app)
        grant_marketing(app, customer)
        assert ledger.seal() is not None
        dialect = ledger.keystore.dialect
        for table in ("ledger_map_state", "ledger_map_chain", "ledger_map_nodes"):
            run_sql(ledger, f"DELETE FROM {dialect.table(table)}")
        app.receive_feedback(customer, "complaint", "fees", "Charged twice", FRONT)
        latest = ledger.seal()
        assert latest is not None
        check_every_subject(ledger, latest.size)
    finally:
        ledger.close()


def test_full_verification_recomputes_the_signed_map(ledger_config: Settings) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        app = ledger.app
        customer = individual(app)
        grant_marketing(app, customer)
        assert ledger.seal() is not None
        report = ledger.verify(full=True)
        assert report.ok, report.problems
        # a sealer that lost a chain row signs a map in which the customer's next
        # event follows the wrong head: the signed map no longer matches the events
        chain = ledger.keystore.dialect.table("ledger_map_chain")
        run_sql(ledger, f"DELETE FROM {chain} WHERE seq = (SELECT MAX(seq) FROM {chain})")
        app.receive_feedback(customer, "complaint", "fees", "Charged twice", FRONT)
        latest = ledger.seal()
        assert latest is not None
        report = ledger.verify(full=True)
        assert not report.ok
        messages = [problem.message for problem in report.problems]
        assert any(
            m.startswith(f"checkpoint at size {latest.size}: its subject map root does not match")
            for m in messages
        ), messages
    finally:
        ledger.close()


def test_a_large_log_is_caught_up_a_chunk_a_seal(
    ledger_config: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = build_ledger(ledger_config, clock=Clock())
    try:
        app = ledger.app
        customers = [individual(app, phone=f"1370000{i:04d}") for i in range(3)]
        for customer in customers:
            grant_marketing(app, customer)
        first = ledger.seal()
        assert first is not None and first.size >= 6
        dialect = ledger.keystore.dialect
        for table in ("ledger_map_state", "ledger_map_chain", "ledger_map_nodes"):
            run_sql(ledger, f"DELETE FROM {dialect.table(table)}")
        monkeypatch.setattr("security.integrity.sealed_log.MAP_CHUNK", 2)
        signed = []
        for _ in range(first.size):  # each seal covers a new event and 2 old leaves
            app.receive_feedback(customers[0], "complaint", "fees", "Charged twice", FRONT)
            latest = ledger.seal()
            assert latest is not None
            note = parse_checkpoint(latest.note)
            signed.append(any(line.startswith(MAP_LINE) for line in note.extensions))
            if signed[-1]:
                break
        assert signed[0] is False and signed[-1] is True  # no map line until caught up
        check_every_subject(ledger, latest.size)
    finally:
        ledger.close()
