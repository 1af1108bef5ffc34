"""Envelope encryption on both stores: plaintext never stored, shredding, rotation."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from domain.errors import KeyUnavailable, SubjectErased
from security.bootstrap import Ledger, Settings, build_ledger
from tests.conftest import PG_DSN
from tests.support.sample import SampleApp

pytestmark = pytest.mark.integration

NAME = "Qiuyue Zhangsworth"
PHONE = "13987654321"
ID_NUMBER = "110101198807071234"


@pytest.fixture
def ledger(keyed_config: Settings) -> Iterator[Ledger]:
    """Over the file keyring and an HSM (SoftHSM2), on each store."""
    built = build_ledger(keyed_config, app_class=SampleApp)
    yield built
    built.close()


def forms(secret: str) -> list[bytes]:
    """The byte forms in which a leaked value could appear."""
    raw = secret.encode("utf-8")
    return [
        raw,
        raw.hex().encode(),
        base64.b64encode(raw),
        base64.b64encode(raw)[:-4],  # b64 of a value inside a longer string differs at the end
        secret.encode("utf-16-le"),
    ]


def stored_bytes(ledger: Ledger) -> bytes:
    config = ledger.config
    if config.store_kind == "sqlite":
        blob = b""
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(config.sqlite_path) + suffix)
            if path.exists():
                blob += path.read_bytes()
        return blob
    schema = ledger.datastore.schema
    blob = b""
    with psycopg.connect(PG_DSN) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=%s", (schema,)
        ).fetchall()
        for (table,) in tables:
            for (text,) in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t'):
                blob += text.encode("utf-8")
    return blob


def test_plaintext_personal_data_never_reaches_storage(ledger: Ledger) -> None:
    person = ledger.app.register(NAME, PHONE, ID_NUMBER)
    ledger.app.rename(person, NAME + " Jr")
    ledger.seal()
    assert ledger.app.repository.get(person).phone == PHONE  # it round-trips...
    blob = stored_bytes(ledger)
    assert len(blob) > 1000
    for secret in (NAME, PHONE, ID_NUMBER, "Zhangsworth"):
        for form in forms(secret):
            assert form not in blob, f"{secret!r} found in storage as {form[:12]!r}"


def test_shredding_one_subject_leaves_others_readable_and_log_verifiable(ledger: Ledger) -> None:
    gone = ledger.app.register("Erased Person", "13700000001", "A1")
    kept = ledger.app.register("Kept Person", "13700000002", "A2")
    ledger.app.rename(gone, "Erased Again")
    ledger.app.note("system note")
    ledger.seal()

    ledger.keystore.shred(gone)

    with pytest.raises(SubjectErased):
        ledger.app.repository.get(gone)
    assert ledger.app.repository.get(kept).name == "Kept Person"
    assert ledger.keystore.is_shredded(gone)
    assert not ledger.keystore.is_shredded(kept)
    assert ledger.verify().ok
    # a fresh process (no caches) sees the same
    again = build_ledger(ledger.config, app_class=SampleApp)
    try:
        with pytest.raises(SubjectErased):
            again.app.repository.get(gone)
        with pytest.raises(SubjectErased):
            again.keystore.dek_for_subject(gone)  # no new key for an erased subject
        assert again.app.repository.get(kept).name == "Kept Person"
    finally:
        again.close()


def key_rows(ledger: Ledger) -> int:
    with ledger.datastore.transaction(commit=False) as cursor:
        ledger.keystore.dialect.execute(
            cursor, f"SELECT COUNT(*) AS n FROM {ledger.keystore.table}"
        )
        return int(cursor.fetchone()["n"])


def test_reads_never_create_keys(ledger: Ledger) -> None:
    person = ledger.app.register("Someone", "13700000003", "A3")
    before = key_rows(ledger)
    fresh = build_ledger(ledger.config, app_class=SampleApp)
    try:
        fresh.app.repository.get(person)
        with pytest.raises(KeyUnavailable):
            fresh.keystore.dek_by_ref("dek-" + "0" * 32)
        assert fresh.keystore.pending() == []
    finally:
        fresh.close()
    assert key_rows(ledger) == before


def test_rotation_rewraps_every_key_and_old_kek_can_be_retired(ledger: Ledger) -> None:
    people = [ledger.app.register(f"P{i}", f"1370000{i:04d}", f"B{i}") for i in range(5)]
    ledger.app.note("system")
    old = ledger.keyring.active_kek_id()
    assert ledger.keystore.count_by_kek() == {old: 6}

    new = ledger.keyring.add_kek()
    ledger.keyring.save()
    assert ledger.keystore.rewrap_all() == 6
    assert ledger.keystore.count_by_kek() == {new.kek_id: 6}
    ledger.keyring.remove_kek(old)
    ledger.keyring.save()

    fresh = build_ledger(ledger.config, app_class=SampleApp)
    try:
        assert old not in fresh.keyring.kek_ids()
        for i, person in enumerate(people):
            assert fresh.app.repository.get(person).name == f"P{i}"
    finally:
        fresh.close()
    assert ledger.verify().ok


def test_a_process_started_before_rotation_reads_keys_wrapped_after_it(
    ledger: Ledger,
) -> None:
    person = ledger.app.register("Before Rotation", "13700000009", "C1")
    other = build_ledger(ledger.config, app_class=SampleApp)  # loaded the old keyring
    try:
        ledger.keyring.add_kek()
        ledger.keyring.save()
        ledger.keystore.rewrap_all()
        assert other.app.repository.get(person).name == "Before Rotation"
    finally:
        other.close()


def test_a_key_made_before_another_process_shredded_the_subject_is_never_stored(
    ledger: Ledger,
) -> None:
    from tests.support.sample import Person

    person = Person("Late Writer", "13700000077", "Z9")
    ledger.keystore.dek_for_subject(person.id)  # this process made a key, not yet stored
    other = build_ledger(ledger.config, app_class=SampleApp)
    try:
        other.keystore.shred(person.id)
    finally:
        other.close()
    before = ledger.app.recorder.max_notification_id()
    with pytest.raises(SubjectErased):
        ledger.app.save(person)
    assert ledger.app.recorder.max_notification_id() == before
    assert not any(k.subject == str(person.id) for k in ledger.keystore.pending())
