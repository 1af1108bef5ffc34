"""Audit-trail export: write a bundle a regulator verifies offline (docs/export-format.md).

`export_bundle` seals the log, then streams the disclosed events of the scope into
the bundle layout of ARCHITECTURE §5, one line or one small file at a time; memory
holds one byte per leaf for a time window's selection and a bounded cache of data
keys, never the bundle or the Merkle tree: each disclosed event's inclusion proof is
read from the sealed log's stored tree nodes (O(log n) rows) and verified against
the checkpoint before it is written.

Scope:
- customers: every event encrypted under one of the customers' data keys (the key
  reference joined to `ledger_keys.subject_id`), whatever aggregate it belongs to;
  this still works after shredding, which keeps the key rows;
- a window `[since, until)`: every event of the scope that entered the log between
  the checkpoints recorded around it (`security.export.window`: proven complete
  through window.json and, for customers, the subject map at both ends), and every
  readable event elsewhere whose `occurred_at` (else the library's `timestamp`) lies
  in it. An erased event's time cannot be read, so outside that log range it is
  placed between the record times (`timestamp`) of its nearest readable neighbours
  in the log and included when that interval meets the window;
- both: the customers' events in the window; `everything`: the whole log.

The bundle is built in a temporary directory beside the target, the export is
recorded in the ledger (`AuditTrailExported`, with the SHA-256 of manifest.json)
and in the access log (one `regulatory_request` entry per customer whose decrypted
data it discloses), and only then is the bundle moved into place. Safe to call from
a background thread: it reads through short transactions and saves one aggregate.

This module runs the export; its parts live beside it: `export_scope` (what is
disclosed), `export_selection` (which events, read in batches), `export_keys` (data
keys and decryption), `export_writer` (the bundle's files and manifest.json) and
`bundle_tar` (the .tar.gz), with the rendering shared with the verifier in
`bundle_events`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from uuid import UUID

from domain.audit_export import AuditExport
from ledger_verify.bundle.layout import FORMAT
from ledger_verify.bundle.signature import sign_manifest
from ledger_verify.bundle.tar import pack
from ledger_verify.bundle.window import WINDOW
from ledger_verify.checkpoints import public_key_pem, verifier_key
from security.bootstrap import Ledger
from security.export.completeness import COMPLETENESS, completeness_lines
from security.export.disclosed_keys import KeyDirectory
from security.export.errors import ExportError, ExportScopeError
from security.export.scope import ExportScope
from security.export.selection import (
    BATCH,
    Progress,
    SealedEventMissing,
    indexed_events,
    select_window,
    write_events,
    write_indexed,
)
from security.export.window import log_range, window_completeness, window_file
from security.export.writer import FILE_MODE, BundleWriter, owner_only, write_manifest
from security.integrity.sealed_log import SealedLogInconsistent

__all__ = [
    "BATCH",
    "ExportActor",
    "ExportError",
    "ExportResult",
    "ExportScope",
    "ExportScopeError",
    "Progress",
    "export_bundle",
]


@dataclass(frozen=True)
class ExportActor:
    """Who exports, through which channel and why (recorded with the export)."""

    actor_id: str
    actor_role: str = "compliance_officer"
    channel: str = "cli"
    reason: str | None = None


@dataclass(frozen=True)
class ExportResult:
    """A published and recorded bundle."""

    path: Path
    bundle_digest: str
    checkpoint_size: int
    events: int
    decrypted: int
    erased: int
    export_id: UUID
    seconds: float


def _readme(values: dict[str, str]) -> str:
    text = resources.files("security.export").joinpath("readme.txt").read_text("utf-8")
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text


def _log_access(ledger: Ledger, actor: ExportActor, subjects: set[str], what: str) -> None:
    """One access-log entry per customer whose decrypted data the bundle discloses."""
    for subject in sorted(subjects):
        ledger.access_log.record(
            actor_id=actor.actor_id,
            role=actor.actor_role,
            purpose="regulatory_request",
            subject_id=subject,
            what=what,
        )


def _target(out: Path, tar: bool) -> Path:
    if tar and not out.name.endswith(".tar.gz"):
        out = out.with_name(out.name + ".tar.gz")
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise ExportScopeError(f"{out} already exists: choose a new --out")
    return out


def export_bundle(
    ledger: Ledger,
    out: str | Path,
    scope: ExportScope,
    actor: ExportActor,
    *,
    tar: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], datetime] | None = None,
) -> ExportResult:
    """Seal the log and write the bundle of `scope` to `out` (a directory, or with
    `tar` a `.tar.gz`), then record `AuditTrailExported` in the ledger.

    Guarantees: the bundle verifies with `ledger_verify.bundle.verify.verify_bundle`
    against the checkpoint it carries, which covers every disclosed event; keys are
    disclosed for exactly the disclosed, non-erased events; `out` appears only
    after the export is recorded, and nothing appears if anything fails. Raises
    ExportScopeError for a bad scope or target, ExportError if the store does not
    match its sealed log. `progress(done, total)` is called after each batch.
    """
    started = time.perf_counter()
    target = _target(Path(out), tar)
    name = target.name.removesuffix(".tar.gz")
    with KeyDirectory(ledger.keystore) as keys:  # listens to shreds until the end
        wanted: set[str] | None = None
        if scope.customers:
            by_subject = keys.refs_of(scope.customers)
            unknown = [subject for subject, refs in by_subject.items() if not refs]
            if unknown:
                raise ExportScopeError(f"no events are recorded about customer {unknown[0]}")
            wanted = set().union(*by_subject.values())
        checkpoint = ledger.seal()
        if checkpoint is None:
            raise ExportScopeError("the log is empty: there is nothing to export")
        # dated once sealed: never before the checkpoint the bundle carries
        now = (clock or (lambda: datetime.now(UTC)))()
        size = checkpoint.size
        if ledger.witnesses is not None:
            ledger.witnesses.drain()  # the witnesses' answers on this checkpoint, if any
        note = ledger.cosigned_note(checkpoint)
        proofs = ledger.sealed_log.proofs()  # stored tree nodes: O(log n) rows a proof
        try:
            root = proofs.root(size)
        except SealedLogInconsistent:
            root = None
        if root != checkpoint.root:
            raise ExportError(
                "the sealed leaves do not match the latest checkpoint; run `ledger verify`"
            )
        last_nid = next(ledger.sealed_log.leaf_rows(size - 1, size)).notification_id
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
        try:
            bundle, digests = work / name, work / "proof-digests"
            selected = indexed = bounds = None
            if scope.windowed:
                bounds = log_range(ledger, scope, checkpoint, maps=bool(scope.customers))
                span = (bounds.start, bounds.end)
                selected = select_window(
                    ledger, scope, keys, wanted, size, last_nid, progress, span
                )
            elif wanted is not None:
                try:
                    indexed = indexed_events(ledger, scope.customers, wanted, size)
                except SealedEventMissing as exc:
                    raise ExportError(f"{exc}; run `ledger verify`") from exc
            writer = BundleWriter(bundle, digests, proofs, size, checkpoint.root, note)
            try:
                if indexed is None:
                    seq = write_events(
                        ledger, writer, keys, selected, wanted, size, last_nid, progress
                    )
                else:  # the customers' events only, found through the subject index
                    write_indexed(writer, keys, indexed, progress)
                    seq = size
            except BaseException:
                with contextlib.suppress(OSError):
                    writer.close()  # stop the proof thread and close the files
                raise
            top = writer.close()
            if seq != size:
                raise ExportError(
                    f"{seq} events found for a checkpoint of {size}; run `ledger verify`"
                )
            origin = ledger.sealed_log.origin
            public_key = ledger.sealed_log.public_key
            vkey = verifier_key(origin, public_key)
            root_b64 = base64.b64encode(checkpoint.root).decode("ascii")
            counts = {
                "events": writer.events,
                "decrypted": writer.decrypted,
                "erased": writer.erased,
            }
            statics = {
                "checkpoint": note.encode("utf-8"),
                "log.pub": public_key_pem(public_key),
                "log.vkey": (vkey + "\n").encode("ascii"),
                "README.txt": _readme(
                    {
                        "ORIGIN": origin,
                        "VKEY": vkey,
                        "KEY_ID": vkey.split("+")[1],
                        "SIZE": str(size),
                        "ROOT": root_b64,
                        "CREATED_AT": now.isoformat(),
                        "SCOPE": json.dumps(scope.as_dict(), sort_keys=True),
                        "EVENTS": str(writer.events),
                        "DECRYPTED": str(writer.decrypted),
                        "ERASED": str(writer.erased),
                    }
                ).encode("utf-8"),
            }
            if bounds is not None:
                statics[WINDOW] = window_file(ledger, bounds, checkpoint)
                if scope.customers:
                    statics[COMPLETENESS] = window_completeness(ledger, scope.customers, bounds)
            elif scope.customers:
                statics[COMPLETENESS] = completeness_lines(ledger, scope.customers, size, note)
            for file_name, data in statics.items():
                (bundle / file_name).write_bytes(data)
                top[file_name] = hashlib.sha256(data).hexdigest()
            header = {
                "format": FORMAT,
                "created_at": now.isoformat(),
                "created_by": {
                    "actor_id": actor.actor_id,
                    "actor_role": actor.actor_role,
                    "channel": actor.channel,
                    "reason": actor.reason,
                },
                "scope": scope.as_dict(),
                "log": {
                    "origin": origin,
                    "key_name": origin,
                    "key_id": vkey.split("+")[1],
                    "checkpoint_size": size,
                    "checkpoint_root": root_b64,
                },
                "counts": counts,
            }
            digest = write_manifest(bundle / "manifest.json", header, top, digests)
            sign_manifest(bundle, digest, ledger.keyring.signing_key(), origin)
            owner_only(bundle)
            record = AuditExport(
                actor.actor_id,
                actor.actor_role,
                actor.channel,
                actor.reason,
                now,
                scope.as_dict(),
                size,
                digest,
                writer.events,
            )
            if tar:
                pack(bundle, name, digests, work / "bundle.tar.gz")
                (work / "bundle.tar.gz").chmod(FILE_MODE)
            _log_access(ledger, actor, writer.subjects, f"audit_export:{record.id}")
            ledger.app.save(record)
            if tar:
                os.replace(work / "bundle.tar.gz", target)
            else:
                if target.exists():
                    target.rmdir()
                os.replace(bundle, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return ExportResult(
            target,
            digest,
            size,
            writer.events,
            writer.decrypted,
            writer.erased,
            record.id,
            time.perf_counter() - started,
        )
