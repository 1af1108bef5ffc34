"""The two SQL dialects the ledger's own tables are written for (SQLite and PostgreSQL).

The library's datastores hand out cursors; these helpers keep our few statements
portable: `?` placeholders are rewritten for psycopg, table names are schema-qualified.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from security.store_faults import retry_busy

CHECKPOINT_ATTEMPTS = 5
CHECKPOINT_BUSY_MS = 100  # per attempt: a shred waits at most about half a second


@dataclass(frozen=True)
class Dialect:
    """How to spell our statements for one database kind."""

    name: str  # "sqlite" or "postgres"
    schema: str = ""

    @property
    def blob(self) -> str:
        return "BLOB" if self.name == "sqlite" else "BYTEA"

    @property
    def bigint(self) -> str:
        return "INTEGER" if self.name == "sqlite" else "BIGINT"

    def table(self, name: str) -> str:
        """The table name, schema-qualified on PostgreSQL."""
        if self.name == "postgres" and self.schema:
            return f'"{self.schema}".{name}'
        return name

    def sql(self, statement: str) -> str:
        """Rewrite `?` placeholders for the driver."""
        return statement if self.name == "sqlite" else statement.replace("?", "%s")

    def execute(self, cursor: Any, statement: str, params: tuple[Any, ...] = ()) -> None:
        """Run one statement on a cursor of either driver."""
        if self.name == "sqlite":
            cursor.execute(statement, params)
        else:
            cursor.execute(self.sql(statement), params, prepare=False)

    def create_tables(self, datastore: Any, statements: list[str]) -> None:
        """Run DDL in one transaction, on PostgreSQL under the ledger's DDL lock
        (concurrent CREATE TABLE/TYPE collide in PostgreSQL's catalogue). A busy store (a
        deadlock with writers: `CREATE INDEX IF NOT EXISTS` locks its table even when the
        index exists) rolls it back and runs it again with backoff."""

        def apply() -> None:
            with datastore.transaction(commit=True) as cursor:
                if self.name == "postgres":
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('crm-ledger/ddl'))")
                for statement in statements:
                    self.execute(cursor, statement)

        retry_busy(apply, attempts=8, base_delay=0.1)

    def executemany(self, cursor: Any, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """Run one statement for many parameter rows."""
        if rows:
            cursor.executemany(self.sql(statement), rows)

    def rowcount(self, cursor: Any) -> int:
        """Rows affected by the last statement (the library wraps sqlite3's cursor)."""
        inner = getattr(cursor, "sqlite_cursor", cursor)
        return int(inner.rowcount)

    def to_bytes(self, value: Any) -> bytes:
        """Blob column value as bytes (psycopg gives memoryview, sqlite gives bytes)."""
        return bytes(value)

    def purge(self, datastore: Any) -> tuple[bool, str]:
        """Remove earlier page versions the store keeps after a shred: (done, what remains).

        SQLite: `PRAGMA wal_checkpoint(TRUNCATE)` copies the WAL into the database (whose
        replaced cells secure_delete zeroed) and empties it. A reader holding a snapshot
        older than the shred pins the WAL, so the checkpoint is retried briefly with a
        short busy timeout and otherwise reported, never raised. PostgreSQL: nothing
        can be done from a transaction; the old row version stays until VACUUM.
        """
        if self.name != "sqlite":
            return False, (
                "PostgreSQL keeps the old row version until VACUUM of ledger_keys, and "
                "WAL archives and backups keep it until they expire"
            )
        last = "not attempted"
        with datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout")
            previous = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
            try:
                for attempt in range(CHECKPOINT_ATTEMPTS):
                    if attempt:
                        time.sleep(CHECKPOINT_BUSY_MS / 1000)
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    busy, frames, copied = cursor.fetchone()
                    if not busy:
                        return True, "WAL checkpointed and truncated"
                    last = f"{copied} of {frames} WAL frames copied"
            finally:
                cursor.execute(f"PRAGMA busy_timeout={previous}")
        return False, (
            "the WAL checkpoint stayed busy (a reader holds an older snapshot; "
            f"{last}): the -wal file may still hold the destroyed key until the next "
            "checkpoint; run KeyStore.purge() again"
        )
