"""What a catch-up batch sets up once instead of per event (issue 12, item 2), and
that doing so keeps every guarantee: a data key is looked up once per batch, a
subject's view-field cipher is set up once per batch, a shred in the middle of a batch
still leaves the shredded subject's later events undecrypted, and the cyclic garbage
collector paused during a batch is restored after it, also when the batch fails."""

from __future__ import annotations

import gc
from collections import Counter
from typing import Any

import pytest

from domain.errors import SubjectErased
from projections.field_encryption import FieldCipher
from projections.projector import Projector, gc_paused
from projections.runtime import VIEW_CLASSES, ReadModels
from security.bootstrap import Ledger
from security.keys.envelope import Envelope
from tests.domain.factories import Clock
from tests.projections.test_exactly_once import reference
from tests.projections.world import dump, populate


def projector(models: ReadModels, batch_size: int = 1000) -> Projector:
    return models.projector(batch_size=batch_size)


@pytest.mark.integration
def test_a_batch_looks_each_data_key_up_once_and_builds_the_same_views(
    ledger: Ledger, clock: Clock, models: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = populate(ledger.app, clock)
    keystore = ledger.keystore
    keystore.drop_cache()
    looked_up: Counter[str] = Counter()
    opened: Counter[tuple[str, str]] = Counter()
    prk_by_ref, dek_by_ref = keystore.prk_by_ref, keystore.dek_by_ref

    def counting_prk(ref: str) -> bytes:
        looked_up[ref] += 1
        return prk_by_ref(ref)

    def counting_dek(ref: str) -> bytes:
        opened[(ref, "dek")] += 1
        return dek_by_ref(ref)

    monkeypatch.setattr(keystore, "prk_by_ref", counting_prk)
    monkeypatch.setattr(keystore, "dek_by_ref", counting_dek)
    read = projector(models).catch_up()  # one batch: the whole (small) log
    assert read == ledger.app.recorder.max_notification_id()
    elder_refs = keystore.cached_refs(world.elder)
    assert elder_refs and all(looked_up[ref] == 1 for ref in elder_refs)
    assert max(looked_up.values()) == 1  # the elder alone has a dozen events
    # the views' field encryption: one key set-up per subject and batch, not per field
    assert max(opened.values()) == 1
    assert dump(models) == reference(models)


@pytest.mark.integration
def test_a_shred_in_the_middle_of_a_batch_leaves_the_subjects_later_events_unread(
    ledger: Ledger, clock: Clock, models: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = populate(ledger.app, clock)
    keystore = ledger.keystore
    elder_refs = set(keystore.cached_refs(world.elder))
    keystore.drop_cache()
    events = ledger.app.recorder.select_notifications(1, 10_000)
    # every event under the elder's key: its own, its KYC file's, consents', cases'...
    elder_events = [n.id for n in events if Envelope.unpack(n.state).key_ref in elder_refs]
    assert len(elder_events) > 10
    p = projector(models)
    mapper = p._mapper
    open_with_prk = mapper.open_with_prk

    def shred_after_the_elders_first_event(notification: Any, *args: Any) -> Any:
        event = open_with_prk(notification, *args)
        if notification.id == elder_events[0]:
            keystore.shred(world.elder)  # meanwhile, another request erases the elder
        return event

    monkeypatch.setattr(mapper, "open_with_prk", shred_after_the_elders_first_event)
    decoded = p._decode(events, p.positions())
    # the elder's key was looked up for the batch before the shred: the shred empties
    # what the batch remembered, so its events after it read as erased
    read = [number for number in elder_events if number in decoded]  # those a view follows
    assert read[0] == elder_events[0] and len(read) > 10
    assert decoded[read[0]].event is not None
    assert all(decoded[number].event is None for number in read[1:])
    others = [n.id for n in events if n.id in decoded and n.id not in elder_events]
    assert others and all(decoded[number].event is not None for number in others)


@pytest.mark.unit
def test_a_remembering_cipher_sets_a_subjects_key_up_once_until_it_forgets() -> None:
    class Keys:
        def __init__(self) -> None:
            self.deks = {"dek-a": bytes(range(32))}
            self.asked = 0
            self.listeners: list[Any] = []

        def dek_by_ref(self, ref: str) -> bytes:
            self.asked += 1
            if ref not in self.deks:
                raise SubjectErased("gone")
            return self.deks[ref]

        def on_shred(self, listener: Any) -> None:
            self.listeners.append(listener)

    keys = Keys()
    cipher = FieldCipher(keys, remember=True)  # type: ignore[arg-type]
    sealed = [cipher.encrypt("dek-a", "c-1", "pv_customer", {"n": n}) for n in range(5)]
    assert [cipher.decrypt("dek-a", "c-1", "pv_customer", s)["n"] for s in sealed] == list(range(5))
    assert keys.asked == 1
    assert sealed[0] == FieldCipher(keys).encrypt("dek-a", "c-1", "pv_customer", {"n": 0})  # type: ignore[arg-type]
    del keys.deks["dek-a"]
    for listener in keys.listeners:  # the shred, as the key store announces it
        listener("c-1")
    with pytest.raises(SubjectErased):
        cipher.decrypt("dek-a", "c-1", "pv_customer", sealed[0])


@pytest.mark.unit
def test_the_collector_is_paused_for_a_batch_and_restored_after_it() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested (or another thread's batch)
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()
    gc.disable()  # a process that runs without it keeps it off
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.unit
def test_no_two_views_share_a_table() -> None:
    # a batch runs every view's prefetch before any view's writes (one pipeline on
    # PostgreSQL): right only while a view reads and writes no other view's tables
    owner: dict[str, str] = {}
    for view in VIEW_CLASSES:
        for table in view.tables:
            assert table.name not in owner, f"{table.name}: {view.name} and {owner[table.name]}"
            owner[table.name] = view.name
    assert len({owner[name] for name in owner}) == len(VIEW_CLASSES)


@pytest.mark.integration
def test_projectors_made_per_request_add_no_shred_listener_each(
    ledger: Ledger, models: ReadModels
) -> None:
    # a read-your-writes wait without a follower makes a projector per request: each
    # must not leave a listener (and itself) with the key store for good
    keystore = ledger.keystore
    models.projector()
    before = len(keystore._shred_listeners) + len(keystore._local_listeners)
    for _ in range(5):
        models.projector(batch_size=200)
    assert len(keystore._shred_listeners) + len(keystore._local_listeners) == before
