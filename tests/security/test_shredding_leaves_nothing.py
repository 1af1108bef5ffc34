"""Crypto-shredding leaves no copy of the destroyed data key where the store can reach it.

SQLite: after `KeyStore.shred` and `Ledger.close`, no file of the data directory (the
database, its -wal and -shm, anything else) holds the wrapped DEK or the DEK, raw, hex or
base64 - including while another connection held a read transaction during the shred,
once that reader ends and the next checkpoint runs.

PostgreSQL: the current row holds no key material; after `VACUUM` of the keys table, run
once no session of the database holds a snapshot older than the shred (one that does
keeps the old row version: PostgreSQL's rule, shown below), no tuple version (read with
pageinspect) and no byte of the table's pages holds it.
"""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from domain.errors import SubjectErased
from projections.field_encryption import FieldCipher
from projections.field_encryption import _view_keys as view_keys
from security.bootstrap import Ledger, build_ledger
from security.keys.data_keys import subject_of
from tests.conftest import PG_DSN, make_config
from tests.support.sample import SampleApp

pytestmark = pytest.mark.integration

NAME = "Wenjing Erasedottir"
PHONE = "13911112222"


HORIZON_WAIT = 120.0  # seconds another session may keep a snapshot older than the shred
FRAGMENT = 16  # bytes: a 128-bit piece of a key is as good as a leak, and never a false hit


def forms(secret: bytes) -> list[bytes]:
    """What to look for: every 16-byte piece of the key (a partly overwritten cell leaves
    pieces), raw and hex, and the whole key in base64."""
    pieces = [secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)]
    return [
        *pieces,
        *(piece.hex().encode() for piece in pieces),
        *(piece.hex().upper().encode() for piece in pieces),
        base64.b64encode(secret),
    ]


def key_material(ledger: Ledger, subject: str) -> list[tuple[str, bytes, bytes]]:
    """(dek_id, wrapped DEK as stored, DEK) of every live key of the subject."""
    store = ledger.keystore
    with ledger.datastore.transaction(commit=False) as cursor:
        store.dialect.execute(
            cursor,
            f"SELECT dek_id, wrapped FROM {store.table} WHERE subject_id=? AND wrapped IS NOT NULL",
            (subject,),
        )
        rows = [
            (row["dek_id"], store.dialect.to_bytes(row["wrapped"])) for row in cursor.fetchall()
        ]
    return [(dek_id, wrapped, store.dek_by_ref(dek_id)) for dek_id, wrapped in rows]


def found_in(blob: bytes, material: list[tuple[str, bytes, bytes]]) -> list[str]:
    """Which of the material's secrets (and encodings) occur in `blob`."""
    hits = []
    for dek_id, wrapped, dek in material:
        for label, secret in (("wrapped", wrapped), ("dek", dek)):
            if any(form in blob for form in forms(secret)):
                hits.append(f"{dek_id}:{label}")
    return hits


def data_dir_bytes(directory: Path) -> dict[str, bytes]:
    """Every file under the data directory, by relative name."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def scan(directory: Path, material: list[tuple[str, bytes, bytes]]) -> dict[str, list[str]]:
    """The files of `directory` holding any of the material, and what they hold."""
    found = {}
    for name, blob in data_dir_bytes(directory).items():
        hits = found_in(blob, material)
        if hits:
            found[name] = hits
    return found


def register(ledger: Ledger) -> tuple[UUID, list[tuple[str, bytes, bytes]]]:
    person = ledger.app.register(NAME, PHONE, "ID-1")
    ledger.app.rename(person, NAME + " II")
    ledger.app.register("Kept Customer", "13900000000", "ID-2")
    ledger.seal()
    material = key_material(ledger, subject_of(person))
    assert material, "the customer has a data key"
    return person, material


# --- SQLite -------------------------------------------------------------------------


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    built = build_ledger(make_config("sqlite", tmp_path / "data"), app_class=SampleApp)
    try:
        yield built
    finally:
        built.close()


def test_sqlite_key_bytes_are_in_the_files_before_shredding(sqlite_ledger: Ledger) -> None:
    """The scan can see the key: the wrapped DEK is stored, so the later absence means
    something."""
    _, material = register(sqlite_ledger)
    directory = sqlite_ledger.config.data_dir
    sqlite_ledger.close()
    found = scan(directory, material)
    assert any(hit.endswith(":wrapped") for hits in found.values() for hit in hits), found


def test_sqlite_after_shred_no_file_holds_the_key(sqlite_ledger: Ledger) -> None:
    person, material = register(sqlite_ledger)
    # rotate the KEK first: the re-wrap overwrites the row, and the old wrapping must not
    # survive either (secure_delete zeroes the replaced cell)
    before_rotation = list(material)
    sqlite_ledger.keyring.add_kek()
    assert sqlite_ledger.keystore.rewrap_all() == 2  # both customers
    material = before_rotation + key_material(sqlite_ledger, subject_of(person))
    assert material[0][1] != material[1][1], "re-wrapped under the new KEK"

    report = sqlite_ledger.keystore.shred(person)

    assert report.purged, report
    assert not sqlite_ledger.keystore.cached_refs(subject_of(person))
    with pytest.raises(SubjectErased):
        sqlite_ledger.app.repository.get(person)
    directory = sqlite_ledger.config.data_dir
    # before close as well: the checkpoint ran, the WAL is empty
    assert scan(directory, material) == {}
    sqlite_ledger.close()
    assert scan(directory, material) == {}


def test_sqlite_a_reader_during_the_shred_delays_but_does_not_keep_the_key(
    sqlite_ledger: Ledger,
) -> None:
    """A read transaction open across the shred pins the WAL: the truncating checkpoint
    reports busy (the shred itself succeeds). Once the reader ends, the next checkpoint
    (the next shred, `KeyStore.purge`, or closing the last connection) removes the key."""
    person, material = register(sqlite_ledger)
    path = sqlite_ledger.config.sqlite_path
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM ledger_keys").fetchone()  # snapshot taken

        report = sqlite_ledger.keystore.shred(person)

        assert not report.purged and "busy" in report.detail
        assert sqlite_ledger.keystore.is_shredded(person)
        # the limit: while the reader lives, the WAL frames from before the shred remain
        assert "ledger.sqlite3-wal" in scan(sqlite_ledger.config.data_dir, material)
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    assert sqlite_ledger.keystore.purge().purged
    directory = sqlite_ledger.config.data_dir
    assert scan(directory, material) == {}
    sqlite_ledger.close()
    assert scan(directory, material) == {}


def test_sqlite_connections_delete_securely(sqlite_ledger: Ledger) -> None:
    """The ledger's connections zero deleted content (secure_delete), whatever the SQLite
    build's default: a deleted row leaves no byte in the files after the checkpoint."""
    secret = bytes(range(200, 248))
    with sqlite_ledger.datastore.transaction(commit=True) as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
        cursor.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY, data BLOB)")
        for i in range(20):
            cursor.execute(
                "INSERT INTO scratch (data) VALUES (?)", (secret if i == 7 else b"-" * 48,)
            )
    with sqlite_ledger.datastore.transaction(commit=True) as cursor:
        cursor.execute("DELETE FROM scratch WHERE data=?", (secret,))
    assert sqlite_ledger.keystore.purge().purged
    directory = sqlite_ledger.config.data_dir
    sqlite_ledger.close()
    assert scan(directory, [("scratch", secret, secret)]) == {}


def test_no_in_process_cache_keeps_a_shredded_dek(sqlite_ledger: Ledger) -> None:
    """The key store's caches and the view-key cache (HKDF of the DEK, memoised with the
    DEK as its argument) drop the subject at shred time; other subjects' stay."""
    person, material = register(sqlite_ledger)
    kept = sqlite_ledger.app.register("Other Customer", "13900000001", "ID-3")
    cipher = FieldCipher(sqlite_ledger.keystore)
    cipher.encrypt(material[0][0], str(person), "pv_customer", {"name": NAME})
    assert view_keys.cache_info().currsize > 0
    assert sqlite_ledger.keystore.cached_refs(person)

    sqlite_ledger.keystore.shred(person)

    assert sqlite_ledger.keystore.cached_refs(person) == []
    assert view_keys.cache_info().currsize == 0
    assert sqlite_ledger.app.repository.get(kept).name == "Other Customer"
    assert sqlite_ledger.keystore.cached_refs(kept)


# --- PostgreSQL ---------------------------------------------------------------------


@pytest.fixture
def pg_ledger(pg_schema: str, tmp_path: Path) -> Iterator[Ledger]:
    built = build_ledger(make_config("postgres", tmp_path, pg_schema), app_class=SampleApp)
    try:
        yield built
    finally:
        built.close()


def raw_pages(conn: psycopg.Connection[Any], table: str) -> tuple[bytes, list[bytes]]:
    """(every byte of the table's main fork, the data of every tuple version in it)."""
    pages = conn.execute(
        "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", (table,)
    ).fetchone()
    assert pages is not None
    blob = b""
    tuples: list[bytes] = []
    for page in range(int(pages[0])):
        raw = conn.execute("SELECT get_raw_page(%s, %s)", (table, page)).fetchone()
        assert raw is not None
        blob += bytes(raw[0])
        for (data,) in conn.execute(
            "SELECT t_data FROM heap_page_items(get_raw_page(%s, %s))", (table, page)
        ):
            if data is not None:
                tuples.append(bytes(data))
    return blob, tuples


def older_snapshots(conn: psycopg.Connection[Any], xid: int) -> list[tuple[Any, ...]]:
    """The other sessions of this database whose snapshot (backend_xmin) or transaction
    (backend_xid) is older than transaction `xid`: VACUUM must keep every row version
    they may still see, the shredded key's old one included."""
    return conn.execute(
        "SELECT pid, backend_xmin::text, backend_xid::text, state, left(query, 80) "
        "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND datname = current_database() "
        "AND (age(backend_xmin) > age(%s::xid) OR age(backend_xid) > age(%s::xid))",
        (str(xid % 2**32), str(xid % 2**32)),
    ).fetchall()


def vacuum_past_older_snapshots(conn: psycopg.Connection[Any], statement: str) -> None:
    """Run `statement` (a VACUUM) once no other session holds a snapshot taken before now.

    On a shared server (tests of other schemas running at the same time) a session with
    an older snapshot holds the xmin horizon back and VACUUM rightly keeps the dead
    version: that is PostgreSQL's rule, and an operator's long transaction delays the
    purge the same way (docs/operations.md). Waits at most HORIZON_WAIT, then fails
    naming the sessions, rather than asserting over a VACUUM that could not purge."""
    row = conn.execute("SELECT txid_current()").fetchone()
    assert row is not None
    xid = int(row[0])
    deadline = time.monotonic() + HORIZON_WAIT
    while older := older_snapshots(conn, xid):
        assert time.monotonic() < deadline, (
            f"after {HORIZON_WAIT:.0f} s, sessions still hold a snapshot older than the "
            f"shred, so VACUUM may not remove its row version: {older}"
        )
        time.sleep(0.2)
    conn.execute(statement)


@pytest.mark.postgres
def test_postgres_an_older_snapshot_keeps_the_shredded_version_through_vacuum(
    pg_ledger: Ledger, pg_schema: str
) -> None:
    """Why the test below waits for older snapshots: while any session of the database
    holds a snapshot from before the shred, VACUUM keeps the old row version."""
    person, material = register(pg_ledger)
    table = f'"{pg_schema}".ledger_keys'
    with (
        psycopg.connect(PG_DSN, autocommit=True) as conn,
        psycopg.connect(PG_DSN) as reader,
    ):
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        reader.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        reader.execute(f"SELECT count(*) FROM {table}").fetchall()  # the snapshot is taken
        pg_ledger.keystore.shred(person)
        row = conn.execute("SELECT txid_current()").fetchone()
        assert row is not None
        assert [found[0] for found in older_snapshots(conn, int(row[0]))].count(
            reader.info.backend_pid
        ) == 1
        conn.execute(f"VACUUM {table}")
        _, tuples = raw_pages(conn, table)
        assert any(found_in(data, material) for data in tuples), "kept for the old snapshot"

        reader.rollback()
        vacuum_past_older_snapshots(conn, f"VACUUM {table}")
        _, tuples = raw_pages(conn, table)
        assert not any(found_in(data, material) for data in tuples), "a tuple version keeps it"


@pytest.mark.postgres
def test_postgres_after_shred_and_vacuum_no_version_holds_the_key(
    pg_ledger: Ledger, pg_schema: str
) -> None:
    """What PostgreSQL allows: the current row holds no key at once; the old row versions
    (the original and, after a KEK rotation, the re-wrapped one) hold it until VACUUM;
    after VACUUM (once no other session holds an older snapshot: tests of other schemas
    run meanwhile on a shared server) no tuple version holds it. Plain VACUUM may leave
    the bytes in a page's free space (measured: it does after a rotation); VACUUM FULL
    rewrites the table and leaves none. WAL, archives and backups are the operator's
    (docs/operations.md)."""
    for i in range(40):
        pg_ledger.app.register(f"Before {i}", f"1370000{i:04d}", f"B{i}")
    person, material = register(pg_ledger)
    for i in range(40):
        pg_ledger.app.register(f"After {i}", f"1370001{i:04d}", f"C{i}")
    pg_ledger.keyring.add_kek()
    pg_ledger.keystore.rewrap_all()
    subject = subject_of(person)
    material += key_material(pg_ledger, subject)
    table = f'"{pg_schema}".ledger_keys'
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        _, tuples = raw_pages(conn, table)
        assert sum(bool(found_in(data, material)) for data in tuples) == 2, "two versions"

        report = pg_ledger.keystore.shred(person)

        assert report.keys_destroyed == 1 and not report.purged and "VACUUM" in report.detail
        current = conn.execute(
            f"SELECT kek_id, wrapped FROM {table} WHERE subject_id=%s", (subject,)
        ).fetchall()
        assert len(current) == 2 and all(row == (None, None) for row in current)  # + tombstone
        _, tuples = raw_pages(conn, table)
        assert any(found_in(data, material) for data in tuples), "dead versions until VACUUM"

        vacuum_past_older_snapshots(conn, f"VACUUM {table}")
        _, tuples = raw_pages(conn, table)
        assert not any(found_in(data, material) for data in tuples), "a tuple version keeps it"

        vacuum_past_older_snapshots(conn, f"VACUUM FULL {table}")
        blob, tuples = raw_pages(conn, table)
        assert found_in(blob, material) == [], "the key bytes stay in the table's pages"
        assert len(tuples) >= 83  # every other key is still there
        assert pg_ledger.app.repository.get(pg_ledger.app.register("New", "1", "N")).name == "New"


@pytest.mark.postgres
def test_postgres_keys_table_is_autovacuumed_after_any_dead_row(pg_ledger: Ledger) -> None:
    """The keys table is small and rarely updated: with the default thresholds autovacuum
    would leave a shredded key's old row version for a long time."""
    store = pg_ledger.keystore
    with pg_ledger.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", (store.table,))
        options = set(cursor.fetchone()["reloptions"] or [])
    assert {"autovacuum_vacuum_threshold=0", "autovacuum_vacuum_scale_factor=0"} <= options
