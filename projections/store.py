"""Where the views live: the same store kind as the log, configured by the same env.

- SQLite: a second file beside the log, `<LEDGER_DATA_DIR>/views.sqlite3` (WAL mode, the
  library's own `SQLiteDatastore`), so the projector never holds the log's write lock.
- PostgreSQL: the ledger's own connection pool and schema (`LEDGER_DATABASE_URL`), or
  the schema named by its `views_schema` query parameter.

Every view table and the tracking table are in this one store, so a view change and
the position it reflects commit in one transaction. Table names are logical
(`pv_customer`); a rebuild writes the same tables under a shadow suffix and swaps them
in (projections.rebuild).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from eventsourcing.sqlite import SQLiteDatastore

from security.bootstrap import Ledger
from security.dialect import Dialect
from security.recorders import SecureDeleteConnectionPool, replace_pool, secure_delete_datastore

SHADOW_SUFFIX = "__next"
_DEFAULT = re.compile(r"\bDEFAULT\s+(?:'((?:[^']|'')*)'|(-?\d+))\s*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")


@dataclass(frozen=True)
class Table:
    """One view table: column definitions, primary key and secondary indexes.

    Column types are written `TEXT`, `INT` (64-bit integer) or `BLOB` and spelled for
    the dialect by `ddl`.
    """

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    def defaults(self) -> dict[str, Any]:
        """Each column's value in a row inserted without it: its `DEFAULT` literal (an
        integer or a quoted text), else NULL (None)."""
        found: dict[str, Any] = {}
        for column in self.columns:
            name, _, rest = column.partition(" ")
            literal = _DEFAULT.search(rest)
            if literal is None:
                found[name] = None
            elif literal.group(1) is not None:
                found[name] = literal.group(1).replace("''", "'")
            else:
                found[name] = int(literal.group(2))
        return found

    def physical(self, shadow: bool) -> str:
        """The unqualified table name: live, or the shadow a rebuild writes."""
        return self.name + (SHADOW_SUFFIX if shadow else "")

    def ddl(
        self, dialect: Dialect, *, shadow: bool, generation: int, indexes: bool = True
    ) -> list[str]:
        """CREATE statements; index names carry the generation so a swap never clashes.
        `indexes=False`: the table alone (`index_ddl` gives its secondary indexes)."""
        spelled = [
            column.replace(" INT", " " + dialect.bigint).replace(" BLOB", " " + dialect.blob)
            for column in self.columns
        ]
        table = dialect.table(self.physical(shadow))
        statements = [
            f"CREATE TABLE IF NOT EXISTS {table} "
            f"({', '.join(spelled)}, PRIMARY KEY ({', '.join(self.key)}))"
        ]
        if indexes:
            statements += self.index_ddl(dialect, shadow=shadow, generation=generation)
        return statements

    def index_ddl(self, dialect: Dialect, *, shadow: bool, generation: int) -> list[str]:
        """CREATE statements of the secondary indexes."""
        table = dialect.table(self.physical(shadow))
        statements = []
        for number, columns in enumerate(self.indexes):
            index = f"{self.name}_ix{number}_g{generation}"
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({', '.join(columns)})"
            )
        return statements


def views_schema(database_url: str | None) -> str:
    """The PostgreSQL schema of the views: `?views_schema=` or else the ledger's `?schema=`."""
    if not database_url:
        return ""
    query = parse_qs(urlparse(database_url).query)
    schema = (query.get("views_schema") or query.get("schema") or [""])[0]
    if schema and not _IDENTIFIER.match(schema):
        raise ValueError("views_schema must be a plain SQL identifier")
    return schema


class ViewsConnectionPool(SecureDeleteConnectionPool):
    """The views file's connections: secure_delete as the log's, and `PRAGMA
    synchronous=NORMAL`. In WAL mode that drops the fsync of each commit (the WAL is
    synced at checkpoints): a commit stays atomic and survives a crash of the process;
    an operating-system crash or power loss may undo the last commits, each whole, its
    tracked position with its rows, so the projector applies those batches again and
    exactly-once holds. The log itself keeps the library's setting."""

    def _create_connection(self) -> Any:
        made = super()._create_connection()
        cursor = made.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.fetchall()
        return made


def views_datastore(datastore: SQLiteDatastore) -> SQLiteDatastore:
    """`datastore` (still unused) with its pool replaced by a ViewsConnectionPool."""
    return replace_pool(datastore, ViewsConnectionPool)


class ViewStore:
    """The views' datastore and dialect, with small helpers for portable statements.

    Guarantees: `transaction(commit=True)` commits everything done on its cursor at
    once or nothing; reads through `rows`/`row` see only committed data.
    """

    def __init__(self, datastore: Any, dialect: Dialect, *, owns_datastore: bool) -> None:
        self.datastore = datastore
        self.dialect = dialect
        self.owns_datastore = owns_datastore

    @classmethod
    def for_ledger(cls, ledger: Ledger) -> ViewStore:
        """The view store of a built ledger, per its configuration."""
        config = ledger.config
        if config.store_kind == "sqlite":
            path = config.data_dir / "views.sqlite3"
            # secure_delete: an erased customer's deleted rows (blind indexes included)
            # are zeroed, not left in free pages (the projector truncates the WAL after)
            datastore = views_datastore(
                secure_delete_datastore(
                    SQLiteDatastore(str(path), lock_timeout=30, pool_size=5, max_overflow=10)
                )
            )
            return cls(datastore, Dialect("sqlite"), owns_datastore=True)
        schema = views_schema(config.database_url) or ledger.keystore.dialect.schema
        store = cls(ledger.datastore, Dialect("postgres", schema), owns_datastore=False)
        if schema and schema != ledger.keystore.dialect.schema:
            with store.transaction(commit=True) as cursor:
                store.dialect.execute(cursor, f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        return store

    @property
    def kind(self) -> str:
        """`sqlite` or `postgres`."""
        return self.dialect.name

    def table(self, name: str) -> str:
        """A physical table name, schema-qualified on PostgreSQL."""
        return self.dialect.table(name)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        """A cursor in one transaction (committed at the end when `commit`)."""
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of one read-only statement, as dicts."""
        with self.transaction(commit=False) as cursor:
            self.dialect.execute(cursor, statement, tuple(params))
            return [dict(row) for row in cursor.fetchall()]

    def row(self, statement: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row of one read-only statement, or None."""
        found = self.rows(statement, params)
        return found[0] if found else None

    def table_exists(self, cursor: Any, name: str) -> bool:
        """True when the unqualified table `name` exists in the views' schema."""
        if self.kind == "sqlite":
            statement = "SELECT 1 AS x FROM sqlite_master WHERE type='table' AND name=?"
            self.dialect.execute(cursor, statement, (name,))
        else:
            statement = (
                "SELECT 1 AS x FROM information_schema.tables "
                "WHERE table_schema = COALESCE(NULLIF(?, ''), current_schema()) "
                "AND table_name = ?"
            )
            self.dialect.execute(cursor, statement, (self.dialect.schema, name))
        return cursor.fetchone() is not None

    def dump(self, table: str, order_by: Sequence[str]) -> list[dict[str, Any]]:
        """Every row of a physical table in key order (for comparisons and tests)."""
        order = ", ".join(order_by)
        return self.rows(f"SELECT * FROM {self.table(table)} ORDER BY {order}")

    def close(self) -> None:
        """Close the datastore if this store opened it (the SQLite views file)."""
        if self.owns_datastore:
            self.datastore.close()
