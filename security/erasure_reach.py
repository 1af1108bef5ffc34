"""Erasure reaches everything the server keeps beside the log (issue 13).

Crypto-shredding makes the subject's events and encrypted view fields unreadable at
once; the views also delete the subject's rows on `CustomerErased`. What remains are
the server's side stores, which hold copies made *before* the erasure:

- export bundles (`<data dir>/exports/<job>.tar.gz`, rows of `web_exports`): a bundle
  that disclosed the subject holds its decrypted events and per-event keys. Which
  bundles did is known from the access log (the exporter records one
  `audit_export:<id>` entry per disclosed customer) and the `AuditTrailExported`
  event (the bundle digest). Each such bundle file is deleted (a download is then a
  410), its job row's `error` says why, and the deletion is recorded in the access log
  (`export_bundle_deleted:<job id>`, purpose `data_subject_request`);
- idempotency records (`web_idempotency`): stored first answers that name the subject
  are deleted (a replay then runs the request again and meets the erased subject).

`ErasureReach` is registered with the key store's `on_shred` by the composition root,
so it runs in whichever process erases (web or scheduler), right after the shred.
Bundles written by `ledger export --out` to a path of the operator's choosing are not
the server's to delete: the access log names each, for the operator to act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.audit_export import AuditExport
from security.dialect import Dialect

if TYPE_CHECKING:
    from security.bootstrap import Ledger

EXPORTS_TABLE = "web_exports"  # web.api.exports keeps its export jobs here
EXPORTS_FOLDER = "exports"  # under the data dir: <job id>.tar.gz
IDEMPOTENCY_TABLE = "web_idempotency"  # web.idempotency
DISCLOSED = "audit_export:"
BUNDLE_DELETED = "bundle deleted: a customer it disclosed was erased"
ERASURE_ACTOR = "ledger"
PAGE = 1000

log = logging.getLogger(__name__)


@dataclass
class ReachReport:
    """What one erasure removed beside the log."""

    subject: str
    bundles_deleted: list[str] = field(default_factory=list)
    idempotency_records_deleted: int = 0


def _table_exists(datastore: Any, dialect: Dialect, name: str) -> bool:
    with datastore.transaction(commit=False) as cursor:
        if dialect.name == "sqlite":
            dialect.execute(
                cursor, "SELECT name FROM sqlite_master WHERE type='table' AND name=?", (name,)
            )
            return cursor.fetchone() is not None
        dialect.execute(cursor, "SELECT to_regclass(?) AS found", (dialect.table(name),))
        row = cursor.fetchone()
        return row is not None and row["found"] is not None


class ErasureReach:
    """Deletes what the side stores keep of a subject once its keys are shredded."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.dialect: Dialect = ledger.keystore.dialect

    def __call__(self, subject: str) -> None:
        """The `on_shred` listener."""
        self.reach(subject)

    def reach(self, subject: str) -> ReachReport:
        """Delete the subject's export bundles and idempotency records (idempotent)."""
        report = ReachReport(subject)
        report.bundles_deleted = self.delete_bundles(subject)
        report.idempotency_records_deleted = self.delete_idempotency_records(subject)
        log.info(
            "erasure of %s reached %d export bundle(s) and %d idempotency record(s)",
            subject,
            len(report.bundles_deleted),
            report.idempotency_records_deleted,
        )
        return report

    # --- export bundles ----------------------------------------------------------------

    def disclosing_digests(self, subject: str) -> set[str]:
        """The manifest digests of every audit export that disclosed the subject."""
        digests: set[str] = set()
        offset = 0
        while True:
            entries = self.ledger.access_log.entries(subject_id=subject, limit=PAGE, offset=offset)
            for entry in entries:
                if entry.what.startswith(DISCLOSED):
                    export = self.ledger.app.repository.get(UUID(entry.what[len(DISCLOSED) :]))
                    if isinstance(export, AuditExport):
                        digests.add(export.bundle_digest)
            if len(entries) < PAGE:
                return digests
            offset += PAGE

    def delete_bundles(self, subject: str) -> list[str]:
        """Delete the server-side bundles that disclosed the subject; returns their job
        ids. Each deletion is recorded in the access log."""
        datastore = self.ledger.datastore
        if not _table_exists(datastore, self.dialect, EXPORTS_TABLE):
            return []
        digests = sorted(self.disclosing_digests(subject))
        if not digests:
            return []
        table = self.dialect.table(EXPORTS_TABLE)
        marks = ",".join("?" * len(digests))
        with datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT id FROM {table} WHERE status='done' AND error IS NULL "
                f"AND bundle_digest IN ({marks})",
                tuple(digests),
            )
            jobs = [str(row["id"]) for row in cursor.fetchall()]
        folder = Path(self.ledger.config.data_dir) / EXPORTS_FOLDER
        for job_id in jobs:
            (folder / f"{job_id}.tar.gz").unlink(missing_ok=True)
            with datastore.transaction(commit=True) as cursor:
                self.dialect.execute(
                    cursor,
                    f"UPDATE {table} SET error=? WHERE id=?",
                    (BUNDLE_DELETED, job_id),
                )
            self.ledger.access_log.record(
                actor_id=ERASURE_ACTOR,
                role="system",
                purpose="data_subject_request",
                subject_id=subject,
                what=f"export_bundle_deleted:{job_id}",
            )
        return jobs

    # --- idempotency records -----------------------------------------------------------

    def delete_idempotency_records(self, subject: str) -> int:
        """Delete stored first answers that name the subject; returns how many."""
        datastore = self.ledger.datastore
        if not _table_exists(datastore, self.dialect, IDEMPOTENCY_TABLE):
            return 0
        pattern = f"%{subject}%"
        with datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"DELETE FROM {self.dialect.table(IDEMPOTENCY_TABLE)} "
                "WHERE body LIKE ? OR headers LIKE ?",
                (pattern, pattern),
            )
            return self.dialect.rowcount(cursor)
