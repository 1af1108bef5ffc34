"""The access log: every read of personal data, as a second, separately sealed log.

An entry records who (actor id, role), why (purpose, from a fixed vocabulary),
about whom (the subject's pseudonymous id) and what was disclosed (a field-set
name, never a value). Entries are append-only in `ledger_access_log` and sealed
into their own Merkle log (`access_leaves`, `access_checkpoints`) with origin
`<LEDGER_LOG_ORIGIN>/access`, so they can be verified apart from the events.

Leaf bytes = RFC 8785 JSON of {"seq", "id", "recorded_at", "actor_id", "role",
"purpose", "subject_id", "what"}.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.pq import TransactionStatus

from domain.errors import DomainError
from ledger_verify.canonical import canonical_json
from security.dialect import Dialect
from security.store_faults import retry_busy

PURPOSES = (
    "customer_service",
    "kyc_review",
    "complaint_handling",
    "relationship_care",
    "compliance_audit",
    "regulatory_request",
    "security_investigation",
    "data_subject_request",
    "emergency_access",
)
# recorded for an access refused (outside the caller's book) when no purpose was stated
NO_PURPOSE = "none"
# break glass: a read or change outside the caller's book of business (web/api/_book.py);
# every entry with it is raised as an alert by the security checks
EMERGENCY_PURPOSE = "emergency_access"


# The subject of an identifier search's entry: the search itself, not a customer.
SEARCH_SUBJECT = "search"
IDLE = TransactionStatus.IDLE


class UnknownPurpose(DomainError):
    code = "unknown_purpose"


@dataclass(frozen=True)
class AccessEntry:
    """One recorded read of personal data."""

    id: int
    recorded_at: str
    actor_id: str
    role: str
    purpose: str
    subject_id: str
    what: str

    def leaf(self, seq: int) -> bytes:
        """The entry's Merkle leaf bytes."""
        return canonical_json({"seq": seq, **asdict(self)})


class AccessLog:
    """Append and query access entries; a `LeafSource` for its own sealed log."""

    def __init__(self, datastore: Any, dialect: Dialect) -> None:
        self.datastore = datastore
        self.dialect = dialect
        self.table = dialect.table("ledger_access_log")

    @staticmethod
    def create_table_statements(dialect: Dialect) -> list[str]:
        """DDL of the access-log table."""
        key = (
            "id INTEGER PRIMARY KEY AUTOINCREMENT"
            if dialect.name == "sqlite"
            else "id BIGSERIAL PRIMARY KEY"
        )
        table = dialect.table("ledger_access_log")
        return [
            f"CREATE TABLE IF NOT EXISTS {table} ({key}, recorded_at TEXT NOT NULL, "
            "actor_id TEXT NOT NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, "
            "subject_id TEXT NOT NULL, what TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS ledger_access_subject_idx ON {table} (subject_id)",
            f"CREATE INDEX IF NOT EXISTS ledger_access_actor_idx ON {table} "
            "(actor_id, recorded_at)",
        ]

    def record(
        self,
        *,
        actor_id: str,
        role: str,
        purpose: str,
        subject_id: str,
        what: str,
        at: datetime | None = None,
    ) -> None:
        """Append one entry; refuses a purpose outside the vocabulary (or NO_PURPOSE)."""
        if purpose not in PURPOSES and purpose != NO_PURPOSE:
            raise UnknownPurpose(f"unknown purpose; allowed: {', '.join(PURPOSES)}")
        moment = (at or datetime.now(UTC)).isoformat()
        row = (moment, actor_id, role, purpose, subject_id, what)
        retry_busy(lambda: self._insert(row))  # one transaction: safe to run again

    def _insert(self, row: tuple[str, ...]) -> None:
        insert = (
            f"INSERT INTO {self.table} (recorded_at, actor_id, role, purpose, subject_id, "
            "what) VALUES (?,?,?,?,?,?)"
        )
        if self.dialect.name == "postgres" and hasattr(self.datastore, "get_connection"):
            self._insert_pipelined(insert, row)
            return
        with self.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(cursor, insert, row)

    def _insert_pipelined(self, insert: str, row: tuple[str, ...]) -> None:
        """PostgreSQL: BEGIN, the table lock (ids must become visible in id order, or a
        seal could pass one by), the INSERT and COMMIT in one pipeline, so one round trip
        instead of four; it returns once the COMMIT succeeded, so the entry is durable
        before the read it records is answered. If any statement fails the rest are not
        run, the transaction is rolled back here, and the error is raised."""
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline(), conn.cursor() as cursor:
                    cursor.execute("BEGIN")
                    cursor.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
                    self.dialect.execute(cursor, insert, row)
                    cursor.execute("COMMIT")
            except BaseException:
                if not conn.closed and conn.info.transaction_status != IDLE:
                    conn.rollback()  # an aborted transaction is not left to the pool
                raise

    def record_search(
        self,
        *,
        actor_id: str,
        role: str,
        purpose: str,
        what: str,
        limit: int,
        window_seconds: float = 60.0,
        at: datetime | None = None,
    ) -> int | None:
        """Record one identifier search (subject `SEARCH_SUBJECT`; `what` names the fields
        searched and keyed digests of the values, never a value) unless `actor_id` made
        `limit` already in the last `window_seconds`.

        Returns None when recorded, else the whole seconds until the oldest search in
        the window leaves it (for Retry-After). Count and insert are one transaction
        holding the table's write lock, so the limit holds across every process sharing
        the store, gunicorn workers included.
        """
        if purpose not in PURPOSES:
            raise UnknownPurpose(f"unknown purpose; allowed: {', '.join(PURPOSES)}")
        # one transaction: run again with backoff when the store was busy
        return retry_busy(
            lambda: self._search(actor_id, role, purpose, what, limit, window_seconds, at)
        )

    def _search(
        self,
        actor_id: str,
        role: str,
        purpose: str,
        what: str,
        limit: int,
        window_seconds: float,
        at: datetime | None,
    ) -> int | None:
        with self.datastore.transaction(commit=True) as cursor:
            # SQLite: a writing transaction begins IMMEDIATE, holding the write lock
            # (security.recorders); PostgreSQL: the table lock every append takes
            if self.dialect.name == "postgres":
                cursor.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
            # the time once the lock is held: a search that waited for it is not
            # older than the ones recorded while it waited
            now = at or datetime.now(UTC)
            since = (now - timedelta(seconds=window_seconds)).isoformat()
            self.dialect.execute(
                cursor,
                f"SELECT COUNT(*) AS n, MIN(recorded_at) AS oldest FROM {self.table} "
                "WHERE actor_id=? AND subject_id=? AND recorded_at>=?",
                (actor_id, SEARCH_SUBJECT, since),
            )
            row = cursor.fetchone()
            if row is not None and int(row["n"]) >= limit:
                oldest = datetime.fromisoformat(row["oldest"])
                left = window_seconds - (now - oldest).total_seconds()
                return max(1, min(int(window_seconds), int(left) + 1))
            self.dialect.execute(
                cursor,
                f"INSERT INTO {self.table} (recorded_at, actor_id, role, purpose, subject_id, "
                "what) VALUES (?,?,?,?,?,?)",
                (now.isoformat(), actor_id, role, purpose, SEARCH_SUBJECT, what),
            )
        return None

    def entries(
        self,
        *,
        subject_id: str | None = None,
        actor_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        purpose: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AccessEntry]:
        """Entries, newest first, filtered by subject, actor, purpose and time [since, until)."""
        clauses, params = [], []
        for column, value, op in (
            ("subject_id", subject_id, "="),
            ("actor_id", actor_id, "="),
            ("purpose", purpose, "="),
            ("recorded_at", since, ">="),
            ("recorded_at", until, "<"),
        ):
            if value is not None:
                clauses.append(f"{column}{op}?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT * FROM {self.table} {where}ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
            return [self._entry(row) for row in cursor.fetchall()]

    def distinct_subjects_by_actor(self, since: str, until: str | None = None) -> dict[str, int]:
        """How many distinct subjects each actor read in [since, until) (anomaly checks)."""
        bound, params = ("AND recorded_at<? ", (since, until)) if until else ("", (since,))
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT actor_id, COUNT(DISTINCT subject_id) AS n FROM {self.table} "
                f"WHERE recorded_at>=? {bound}GROUP BY actor_id",
                params,
            )
            return {row["actor_id"]: int(row["n"]) for row in cursor.fetchall()}

    # --- LeafSource ------------------------------------------------------------------

    def max_id(self) -> int | None:
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(cursor, f"SELECT MAX(id) AS m FROM {self.table}", ())
            row = cursor.fetchone()
        return None if row is None or row["m"] is None else int(row["m"])

    def rows_after(
        self, last_id: int | None, limit: int, stop: int | None = None
    ) -> Sequence[AccessEntry]:
        params: list[Any] = [-1 if last_id is None else last_id]
        bound = ""
        if stop is not None:
            bound = "AND id<=? "
            params.append(stop)
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT * FROM {self.table} WHERE id>? {bound}ORDER BY id LIMIT ?",
                (*params, limit),
            )
            return [self._entry(row) for row in cursor.fetchall()]

    @staticmethod
    def _entry(row: Any) -> AccessEntry:
        return AccessEntry(
            int(row["id"]),
            row["recorded_at"],
            row["actor_id"],
            row["role"],
            row["purpose"],
            row["subject_id"],
            row["what"],
        )
