"""The scale benchmark's logic (not its timings): the loader's keys, the plain log that
seals without a subject map, the alternating seal rounds, the kept verified state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from benchmarks.scale import (
    analyze,
    incremental_verify,
    mirror,
    new_subject_keys,
    plain_log,
    seal_round,
    verify_kept,
)
from demo.bulk import bulk_customers
from ledger_verify.smt import MAP_LINE
from security.bootstrap import Ledger, Settings, build_ledger
from security.integrity.sealed_log import SealedLog
from tests.conftest import make_config

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config)
    try:
        yield built
    finally:
        built.close()


def load(ledger: Ledger, customers: int, first_index: int) -> list[UUID]:
    ids: list[UUID] = []
    for batch in bulk_customers(
        ledger.app,
        customers,
        first_index=first_index,
        batch_events=100,
        before_save=new_subject_keys(ledger.keystore),
    ):
        ids.extend(batch.customer_ids)
    return ids


def test_keys_made_before_the_save_are_stored_with_the_events_and_decrypt_them(
    ledger: Ledger,
) -> None:
    ids = load(ledger, 12, 0)
    assert ledger.keystore.pending() == []  # every key made went in with its events
    ledger.keystore.drop_cache()  # read back as a new process would: from the store
    for customer_id in (ids[0], ids[-1]):
        assert ledger.app.repository.get(customer_id).id == customer_id
        refs = ledger.keystore.cached_refs(customer_id)
        assert len(refs) == 1 and refs[0].startswith("dek-")
    ledger.seal()
    assert ledger.verify().ok


def test_the_plain_log_seals_the_same_tree_as_the_ledger_without_a_map_line(
    ledger: Ledger,
) -> None:
    load(ledger, 7, 0)
    ledger.seal()
    plain = plain_log(ledger)
    mirror(ledger, plain)
    assert plain.sizes() == ledger.sealed_log.sizes()
    mirrored = plain.latest_checkpoint()
    assert mirrored is not None
    load(ledger, 5, 100)
    seal_round(ledger, plain, 0)
    load(ledger, 3, 200)
    seal_round(ledger, plain, 1)  # the other order
    ours, theirs = ledger.sealed_log.latest_checkpoint(), plain.latest_checkpoint()
    assert ours is not None and theirs is not None
    assert theirs.size == ours.size > mirrored.size
    assert theirs.root == ours.root  # same leaves, same tree
    assert theirs.note.split("\n", 1)[0] == ledger.sealed_log.origin + "/bench-plain"
    assert MAP_LINE + " " in ours.note
    assert MAP_LINE not in theirs.note
    # the plain log's own tree nodes serve proofs that verify against its root
    proof = plain.proofs().inclusion_proof(ours.size - 1, ours.size)
    assert proof == ledger.sealed_log.proofs().inclusion_proof(ours.size - 1, ours.size)


def test_mirroring_twice_adds_nothing_and_keeps_the_logs_equal(ledger: Ledger) -> None:
    load(ledger, 6, 0)
    ledger.seal()
    plain = plain_log(ledger)
    mirror(ledger, plain)
    mirror(ledger, plain)
    leaves = plain.leaf_count()
    assert leaves == ledger.sealed_log.leaf_count()
    assert plain.nodes_covered() == ledger.sealed_log.nodes_covered()


def test_seal_round_alternates_which_log_seals_first(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = plain_log(ledger)
    order: list[str] = []

    def recording(name: str, seal: Any) -> Any:
        def recorded() -> None:
            order.append(name)
            seal()

        return recorded

    monkeypatch.setattr(ledger, "seal", recording("with", ledger.seal))
    monkeypatch.setattr(plain, "seal", recording("without", plain.seal))
    seal_round(ledger, plain, 0)
    seal_round(ledger, plain, 1)
    assert order == ["with", "without", "without", "with"]


def test_the_incremental_verify_starts_from_the_state_the_full_verify_kept(
    ledger: Ledger,
) -> None:
    load(ledger, 4, 0)
    ledger.seal()
    _, kind = incremental_verify(ledger)
    assert kind.startswith("full pass")  # nothing kept yet: says so
    verify_kept(ledger)
    load(ledger, 3, 50)
    ledger.seal()
    _, kind = incremental_verify(ledger)
    assert kind == "incremental"


def test_a_plain_log_is_a_sealed_log_of_its_own_tables(ledger: Ledger) -> None:
    plain = plain_log(ledger)
    assert isinstance(plain, SealedLog)
    assert plain.subject_map is None and plain.anchors is None
    assert plain.leaves_table != ledger.sealed_log.leaves_table
    assert Path(ledger.config.anchor_file).name  # the ledger's anchors are untouched


@pytest.mark.postgres
def test_analyze_refreshes_the_statistics_of_every_table_of_the_store(
    pg_schema: str, tmp_path: Path
) -> None:
    built = build_ledger(make_config("postgres", tmp_path, pg_schema))
    try:
        load(built, 3, 0)
        built.seal()
        analyze(built)
        with built.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE schemaname = %s",
                (pg_schema,),
            )
            rows = cursor.fetchall()
    finally:
        built.close()
    assert len(rows) > 10
    assert [row["relname"] for row in rows if row["last_analyze"] is None] == []
