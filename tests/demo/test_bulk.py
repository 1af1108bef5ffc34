"""Bulk demo data: genuine encrypted events through the ledger's own mapper, in batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from uuid import UUID

import pytest

from demo.bulk import bulk_customers, long_history
from security.bootstrap import Ledger, build_ledger
from tests.conftest import make_config

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    built = build_ledger(make_config("sqlite", tmp_path))
    yield built
    built.close()


def test_bulk_customers_are_saved_in_batches_and_read_back_through_the_application(
    ledger: Ledger,
) -> None:
    batches = list(bulk_customers(ledger.app, 25, events_each=10, batch_events=100))
    assert [len(b.customer_ids) for b in batches] == [10, 10, 5]
    assert sum(b.events for b in batches) == 250
    assert ledger.app.recorder.max_notification_id() == 250
    customer_id = batches[-1].customer_ids[-1]
    assert ledger.app.get_customer(customer_id).status == "active"
    assert ledger.app.get_interactions(customer_id).interactions == 9
    assert ledger.seal() is not None and ledger.verify().ok


def test_no_plaintext_of_a_bulk_customer_reaches_the_store(ledger: Ledger) -> None:
    batch = next(bulk_customers(ledger.app, 1, events_each=3))
    name = ledger.app.get_customer(batch.customer_ids[0]).name
    assert name
    path = ledger.config.sqlite_path
    raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    assert len(raw) > 10_000
    assert name.encode() not in raw and b"follow-up noted" not in raw


def test_the_same_seed_and_first_index_give_the_same_customers(
    ledger: Ledger, tmp_path: Path
) -> None:
    first = next(bulk_customers(ledger.app, 3, first_index=40)).customer_ids
    other = build_ledger(make_config("sqlite", tmp_path / "other"))
    try:
        assert next(bulk_customers(other.app, 3, first_index=40)).customer_ids == first
        assert next(bulk_customers(other.app, 3, first_index=43)).customer_ids != first
    finally:
        other.close()


def test_a_long_history_reads_as_of_its_middle(ledger: Ledger) -> None:
    customer_id, middle = long_history(ledger.app, 40)
    assert len(ledger.app.timeline(customer_id)) == 40
    record = ledger.app.customer_as_of(customer_id, middle)
    assert record.address == "Flat 20, 1 Harbour Road, Hong Kong"
    assert record.version == 21


def test_before_save_sees_each_batchs_customers_before_any_of_them_is_stored(
    ledger: Ledger,
) -> None:
    seen: list[tuple[list[str], int]] = []

    def before_save(customer_ids: Sequence[UUID]) -> None:
        stored = ledger.app.recorder.max_notification_id() or 0
        seen.append(([str(c) for c in customer_ids], stored))

    batches = list(bulk_customers(ledger.app, 5, batch_events=20, before_save=before_save))
    assert [ids for ids, _ in seen] == [[str(c) for c in b.customer_ids] for b in batches]
    assert [stored for _, stored in seen] == [0, 20, 40]
