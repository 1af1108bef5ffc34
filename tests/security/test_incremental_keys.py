"""`Ledger.verify_all()`: the key-store part incremental too. The event-derived key facts
(keys the events name, erasures) are kept with the event log's verified state and
extended with the events added since; every key row is still checked, so an insider's
change to any key after the verified state is caught; facts that are missing, corrupt
or not the state's make the key check read every event, and say so."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from security.bootstrap import Ledger, Settings, build_ledger
from tests.support.sample import SampleApp
from tests.support.store import run_sql, set_wrapped, wrapped_of

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def write(ledger: Ledger, people: int, start: int = 0) -> list[UUID]:
    """People registered (each with its own data key) and sealed."""
    ids = [
        ledger.app.register(f"Person {i}", f"1390000{i:04d}", f"ID{i}")
        for i in range(start, start + people)
    ]
    ledger.seal()
    ledger.access_sealed.seal()
    return ids


def verified(ledger: Ledger, people: int = 4) -> list[UUID]:
    """People written and verified (ok, state and key facts kept)."""
    ids = write(ledger, people)
    report = ledger.verify_all()
    assert report.ok, report.problems
    return ids


def facts_path(ledger: Ledger) -> Path:
    assert ledger.verified_states is not None
    return ledger.verified_states.facts_path(ledger.sealed_log.origin)


def state_path(ledger: Ledger) -> Path:
    assert ledger.verified_states is not None
    return ledger.verified_states.path(ledger.sealed_log.origin)


def key_failures(ledger: Ledger) -> list[str]:
    """The key store's problems of an incremental run that must fail in it alone."""
    report = ledger.verify_all()
    assert report.failed_parts == ["key store"], report.problems
    assert report.key_store.mode == "incremental"
    return [p.message for p in report.problems]


def test_the_key_check_is_incremental_after_new_registrations(ledger: Ledger) -> None:
    write(ledger, 3)
    first = ledger.verify_all()
    assert first.ok, first.problems
    assert first.key_store.describe() == "full: no verified state yet"
    assert not any("key store" in note for note in first.notes)
    size = first.event_log.size
    kept = json.loads(facts_path(ledger).read_text(encoding="utf-8"))
    assert (kept["size"], len(kept["uses"])) == (size, 3)
    assert json.loads(state_path(ledger).read_text(encoding="utf-8"))["key_facts"] == (
        hashlib.sha256(facts_path(ledger).read_bytes()).hexdigest()
    )

    write(ledger, 2, start=3)
    second = ledger.verify_all()
    assert second.ok, second.problems
    assert second.key_store.describe() == f"incremental from size {size}"
    assert (second.key_store.keys, second.key_store.live) == (5, 5)
    assert f"(events incremental from size {size})" in second.summary()
    assert len(json.loads(facts_path(ledger).read_text(encoding="utf-8"))["uses"]) == 5
    assert ledger.verify_all(full=True).key_store.describe() == "full"


def test_an_incremental_run_reads_no_event_from_the_start(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the events after the verified size are read (no read from the first event);
    `full` reads them all."""
    verified(ledger)
    write(ledger, 2, start=4)
    starts: list[Any] = []
    source = ledger.sealed_log.source
    original = source.rows_after

    def recorded(last_id: int | None, limit: int, stop: int | None = None) -> Any:
        starts.append(last_id)
        return original(last_id, limit, stop)

    monkeypatch.setattr(source, "rows_after", recorded)
    assert ledger.verify_all().ok
    assert starts and None not in starts
    starts.clear()
    assert ledger.verify_all(full=True).ok
    assert starts.count(None) == 3  # the event-log part, the key part, the subject map


def test_a_key_nulled_after_the_verified_state_is_caught_incrementally(ledger: Ledger) -> None:
    people = verified(ledger)
    write(ledger, 1, start=4)
    set_wrapped(ledger, people[1], None)
    messages = key_failures(ledger)
    assert len(messages) == 1
    assert messages[0].startswith(f"key store: subject {people[1]}: data key ")
    assert messages[0].endswith(
        "was destroyed but no erasure event of this subject is in the event log"
    )


def test_a_key_altered_after_the_verified_state_is_caught_incrementally(ledger: Ledger) -> None:
    people = verified(ledger)
    wrapped = bytearray(wrapped_of(ledger, people[2]))
    wrapped[20] ^= 0x01
    set_wrapped(ledger, people[2], bytes(wrapped))
    messages = key_failures(ledger)
    assert len(messages) == 1
    assert f"subject {people[2]}" in messages[0] and "does not unwrap" in messages[0]


def test_keys_swapped_after_the_verified_state_are_caught_for_both(ledger: Ledger) -> None:
    people = verified(ledger)
    first, last = wrapped_of(ledger, people[0]), wrapped_of(ledger, people[3])
    set_wrapped(ledger, people[0], last)
    set_wrapped(ledger, people[3], first)
    messages = key_failures(ledger)
    assert len(messages) == 2
    assert {str(people[0]), str(people[3])} == {m.split()[3].rstrip(":") for m in messages}


def test_a_key_row_removed_after_the_verified_state_names_its_event(ledger: Ledger) -> None:
    """The keys events below the verified size name come from the kept facts."""
    people = verified(ledger)
    run_sql(ledger, f"DELETE FROM {ledger.keystore.table} WHERE subject_id=?", (str(people[1]),))
    messages = key_failures(ledger)
    assert len(messages) == 1
    assert messages[0].startswith("key store: seq 1: event ")
    assert "which has no row in the key store" in messages[0]


def put_facts(ledger: Ledger, text: str, *, named: bool) -> None:
    """Replace the facts file; `named`: and its hash in the state, as the verify would."""
    facts_path(ledger).write_text(text, encoding="utf-8")
    if named:
        state = json.loads(state_path(ledger).read_text(encoding="utf-8"))
        state["key_facts"] = hashlib.sha256(text.encode()).hexdigest()
        state_path(ledger).write_text(json.dumps(state), encoding="utf-8")


def kept_facts(ledger: Ledger) -> Any:
    return json.loads(facts_path(ledger).read_text(encoding="utf-8"))


def garbled(ledger: Ledger) -> None:
    put_facts(ledger, "{not json", named=False)


def corrupt(ledger: Ledger) -> None:
    """Not facts at all, though the state names them."""
    put_facts(ledger, "{not json", named=True)


def missing(ledger: Ledger) -> None:
    facts_path(ledger).unlink()


def edited(ledger: Ledger) -> None:
    """One use removed: the hash the state names no longer matches."""
    data = kept_facts(ledger)
    data["uses"].popitem()
    put_facts(ledger, json.dumps(data), named=False)


def another_size(ledger: Ledger) -> None:
    """Facts of another size, their hash written into the state: still not the state's."""
    data = kept_facts(ledger)
    data["size"] -= 1
    put_facts(ledger, json.dumps(data), named=True)


def unsealed_erasure(ledger: Ledger) -> None:
    """An erasure in the facts without a seq below their size."""
    data = kept_facts(ledger)
    data["erasures"]["someone"] = [[1, data["size"]]]
    put_facts(ledger, json.dumps(data), named=True)


def unnamed(ledger: Ledger) -> None:
    """A state written before key facts were kept (it names none)."""
    state = json.loads(state_path(ledger).read_text(encoding="utf-8"))
    del state["key_facts"]
    state_path(ledger).write_text(json.dumps(state), encoding="utf-8")


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (garbled, "they are not the ones the verified state names (hash)"),
        (corrupt, "they are not key facts"),
        (missing, "they cannot be read"),
        (edited, "they are not the ones the verified state names (hash)"),
        (another_size, "not at the verified size"),
        (unsealed_erasure, "the erasure of subject someone is malformed"),
        (unnamed, "the verified state names no key facts"),
    ],
)
def test_unusable_key_facts_make_the_key_check_full_and_say_so(
    ledger: Ledger, spoil: Any, why: str
) -> None:
    people = verified(ledger)
    spoil(ledger)
    report = ledger.verify_all()
    assert report.ok, report.problems
    assert report.event_log.mode == "incremental"
    assert report.key_store.mode == "full"
    assert why in report.key_store.describe()
    assert any(n.startswith("key store: the key facts ") and why in n for n in report.notes)
    # the full key check kept good facts again: the next run is incremental
    assert ledger.verify_all().key_store.mode == "incremental"
    # and a full fallback still catches what an incremental run would
    spoil(ledger)
    set_wrapped(ledger, people[0], None)
    failed = ledger.verify_all()
    assert failed.failed_parts == ["key store"]
    assert failed.key_store.mode == "full"
    assert f"subject {people[0]}" in failed.problems[0].message


def test_a_failed_run_keeps_no_key_facts(ledger: Ledger) -> None:
    people = verified(ledger)
    before = facts_path(ledger).read_bytes()
    write(ledger, 2, start=4)
    set_wrapped(ledger, people[0], None)
    assert not ledger.verify_all().ok
    assert facts_path(ledger).read_bytes() == before
