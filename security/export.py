"""Audit-trail export: write a bundle a regulator verifies offline (docs/export-format.md).

`export_bundle` seals the log, then streams the disclosed events of the scope into
the bundle layout of ARCHITECTURE §5, one line or one small file at a time; memory
holds the Merkle tree of the log (about 64 bytes per leaf), one byte per leaf for a
time window's selection, and a bounded cache of data keys, never the bundle.

Scope:
- customers: every event encrypted under one of the customers' data keys (the key
  reference joined to `ledger_keys.subject_id`), whatever aggregate it belongs to;
  this still works after shredding, which keeps the key rows;
- a window `[since, until)`: every readable event whose `occurred_at` (else the
  library's `timestamp`) lies in it. An erased event's time cannot be read, so it is
  placed between the record times (`timestamp`) of its nearest readable neighbours
  in the log and included when that interval meets the window: the bundle may hold
  an erased event just outside the window, never leave out one that may be inside;
- both: the customers' events in the window; `everything`: the whole log.

The bundle is built in a temporary directory beside the target, the export is
recorded in the ledger (`AuditTrailExported`, with the SHA-256 of manifest.json)
and in the access log (one `regulatory_request` entry per customer whose decrypted
data it discloses), and only then is the bundle moved into place. Safe to call from
a background thread: it reads through short transactions and saves one aggregate.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import json
import os
import queue
import shutil
import tarfile
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.audit_export import AuditExport
from domain.errors import DomainError
from security.bootstrap import Ledger
from security.bundle_verify import (
    CSV_HEADER,
    FORMAT,
    TOP_FILES,
    csv_cells,
    event_record,
    humanise,
    proof_path,
    record_line,
)
from security.canonical import canonical_json
from security.checkpoints import public_key_pem, verifier_key
from security.envelope import Envelope, decrypt_with_event_key, event_key, leaf_fields
from security.errors import EventAuthenticationFailed, KeyringError
from security.keystore import SYSTEM_SUBJECT, KeyStore, wrap_aad
from security.merkle import MerkleTree, leaf_hash
from security.tlog_proof import HEADER, format_tlog_proof

BATCH = 1000
Progress = Callable[[int, int], None]


class ExportScopeError(DomainError):
    """The requested scope or target is not acceptable (nothing was written)."""

    code = "invalid_export"
    status = 422


class ExportError(DomainError):
    """The export could not be completed (nothing was published or recorded)."""

    code = "export_failed"
    status = 500


def _aware(moment: datetime | None) -> datetime | None:
    # a time without zone is taken as UTC, the ledger's own zone
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ExportScope:
    """What a bundle discloses. Guarantees on construction: exactly one of
    `everything` or (customers and/or a window); customers are canonical UUID
    strings; times are timezone-aware and `since < until`."""

    customers: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    everything: bool = False

    def __post_init__(self) -> None:
        if self.everything and (self.customers or self.since or self.until):
            raise ExportScopeError("--all cannot be combined with --customer, --since or --until")
        if not (self.everything or self.customers or self.since or self.until):
            raise ExportScopeError("choose a scope: --customer ID, --since/--until, or --all")
        try:
            customers = tuple(dict.fromkeys(str(UUID(str(c))) for c in self.customers))
        except ValueError as exc:
            raise ExportScopeError("a customer id is not a UUID") from exc
        object.__setattr__(self, "customers", customers)
        object.__setattr__(self, "since", _aware(self.since))
        object.__setattr__(self, "until", _aware(self.until))
        if self.since and self.until and self.since >= self.until:
            raise ExportScopeError("--since must be earlier than --until")

    @property
    def windowed(self) -> bool:
        return self.since is not None or self.until is not None

    def contains(self, moment: datetime) -> bool:
        """True if `moment` lies in `[since, until)`."""
        moment = _aware(moment) or moment
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )

    def meets(self, low: datetime | None, high: datetime | None) -> bool:
        """True if the interval `[low, high]` (None: unbounded) meets the window."""
        if low is not None and high is not None and low > high:
            low, high = high, low
        return (high is None or self.since is None or high >= self.since) and (
            low is None or self.until is None or low < self.until
        )

    def as_dict(self) -> dict[str, Any]:
        """The scope as recorded in manifest.json and in the AuditTrailExported event."""
        return {
            "all": self.everything,
            "customers": list(self.customers),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


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


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class _Key:
    subject: str
    dek: bytes | None  # None: shredded


class _KeyDirectory:
    """Data keys by reference, fetched in batches and cached in a bounded LRU: the
    key store's own cache keeps every key it ever saw, which would grow with a
    million-subject export."""

    def __init__(self, keystore: KeyStore, capacity: int = 8192) -> None:
        self.keystore = keystore
        self.capacity = capacity
        self.cache: OrderedDict[str, _Key] = OrderedDict()

    def _select(self, column: str, values: Sequence[str]) -> list[Any]:
        rows: list[Any] = []
        store = self.keystore
        for i in range(0, len(values), 500):
            chunk = values[i : i + 500]
            statement = (
                f"SELECT dek_id, subject_id, kek_id, wrapped, shredded_at FROM {store.table} "
                f"WHERE {column} IN ({','.join('?' * len(chunk))})"
            )
            with store.datastore.transaction(commit=False) as cursor:
                store.dialect.execute(cursor, statement, tuple(chunk))
                rows.extend(cursor.fetchall())
        return rows

    def refs_of(self, subjects: Sequence[str]) -> dict[str, set[str]]:
        """The key references of each subject (shredded ones included)."""
        found: dict[str, set[str]] = {subject: set() for subject in subjects}
        for row in self._select("subject_id", list(subjects)):
            found[row["subject_id"]].add(row["dek_id"])
        return found

    def prefetch(self, refs: Iterable[str]) -> None:
        """Load every reference not cached, in one query per 500."""
        missing = sorted({ref for ref in refs if ref not in self.cache})
        for row in self._select("dek_id", missing) if missing else []:
            dek: bytes | None = None
            if row["shredded_at"] is None and row["wrapped"] is not None:
                aad = wrap_aad(row["dek_id"], row["subject_id"])
                wrapped = self.keystore.dialect.to_bytes(row["wrapped"])
                try:
                    dek = self.keystore.keyring.unwrap(row["kek_id"], wrapped, aad)
                except KeyringError as exc:
                    raise ExportError(
                        f"data key {row['dek_id']} cannot be unwrapped: is its KEK in the keyring?"
                    ) from exc
            self.cache[row["dek_id"]] = _Key(row["subject_id"], dek)
            self.cache.move_to_end(row["dek_id"])
        while len(self.cache) > self.capacity:
            self.cache.popitem(last=False)

    def get(self, ref: str, seq: int) -> _Key:
        key = self.cache.get(ref)
        if key is None:
            self.prefetch([ref])
            key = self.cache.get(ref)
        if key is None:
            raise ExportError(f"seq {seq} names a data key that is not stored; run `ledger verify`")
        return key


def _decrypt(note: Notification, key: _Key, seq: int) -> tuple[dict[str, Any], bytes] | None:
    """(decrypted transcoder JSON, per-event key) of an event; None if it was erased."""
    if key.dek is None:
        return None
    envelope = Envelope.unpack(note.state)
    ek = event_key(key.dek, note.originator_id, note.originator_version)
    try:
        plaintext = decrypt_with_event_key(
            ek, envelope, note.originator_id, note.originator_version, note.topic
        )
    except EventAuthenticationFailed as exc:
        raise ExportError(
            f"the event at seq {seq} fails authentication; run `ledger verify`"
        ) from exc
    state: dict[str, Any] = json.loads(plaintext)
    return state, ek


def _state(note: Notification, key: _Key, seq: int) -> dict[str, Any] | None:
    """The decrypted transcoder JSON of an event, None if its subject was erased."""
    opened = _decrypt(note, key, seq)
    return None if opened is None else opened[0]


def _times(state: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """(event time: occurred_at else timestamp, record time: timestamp else occurred_at)."""

    def parse(name: str) -> datetime | None:
        value = humanise(state.get(name))
        try:
            return _aware(datetime.fromisoformat(value)) if isinstance(value, str) else None
        except ValueError:
            return None

    occurred, recorded = parse("occurred_at"), parse("timestamp")
    return occurred or recorded, recorded or occurred


# --------------------------------------------------------------------------- reading


def _batches(ledger: Ledger, last_nid: int) -> Iterator[Sequence[Notification]]:
    """The sealed events in notification order, BATCH at a time."""
    start: int | None = None
    while start is None or start < last_nid:
        batch = ledger.app.recorder.select_notifications(
            start=start, limit=BATCH, stop=last_nid, inclusive_of_start=start is None
        )
        if not batch:
            return
        yield batch
        start = batch[-1].id


def _refs(batch: Sequence[Notification]) -> list[str]:
    return [Envelope.unpack(note.state).key_ref for note in batch]


def _select_window(
    ledger: Ledger,
    scope: ExportScope,
    keys: _KeyDirectory,
    wanted: set[str] | None,
    size: int,
    last_nid: int,
    progress: Progress | None,
) -> bytearray:
    """One byte per leaf, 1 where the leaf is in the window (see the module docstring)."""
    selected = bytearray(size)
    run_start: int | None = None  # first erased candidate still waiting for its next neighbour
    low: datetime | None = None  # record time of the readable event before that run
    previous: tuple[Notification, _Key, int] | None = None  # decrypted only if a run needs it
    seq = 0

    def record_time(note: Notification, key: _Key, at: int) -> datetime | None:
        state = _state(note, key, at)
        return _times(state)[1] if state is not None else None

    for batch in _batches(ledger, last_nid):
        refs = _refs(batch)
        keys.prefetch(refs)
        for note, ref in zip(batch, refs, strict=True):
            key = keys.get(ref, seq)
            candidate = wanted is None or ref in wanted
            if key.dek is None:
                if candidate:
                    if run_start is None:
                        run_start = seq
                        low = record_time(*previous) if previous is not None else None
                    selected[seq] = 2
            else:
                if candidate:
                    state = _state(note, key, seq)
                    moment = _times(state)[0] if state is not None else None
                    selected[seq] = 1 if moment is not None and scope.contains(moment) else 0
                if run_start is not None:
                    verdict = 1 if scope.meets(low, record_time(note, key, seq)) else 0
                    selected[run_start:seq] = selected[run_start:seq].replace(
                        b"\x02", bytes([verdict])
                    )
                    run_start = None
                previous = (note, key, seq)
            seq += 1
        if progress is not None:
            progress(seq, 2 * size)
    if run_start is not None:
        verdict = 1 if scope.meets(low, None) else 0
        selected[run_start:seq] = selected[run_start:seq].replace(b"\x02", bytes([verdict]))
    return selected


# --------------------------------------------------------------------------- writing


class _HashingFile:
    """A buffered output file that keeps the SHA-256 of what was written."""

    def __init__(self, path: Path) -> None:
        self.fh = path.open("wb", buffering=1 << 20)
        self.sha = hashlib.sha256()

    def write(self, text: str) -> int:
        self.write_bytes(text.encode("utf-8"))
        return len(text)

    def write_bytes(self, data: bytes) -> None:
        self.sha.update(data)
        self.fh.write(data)

    def close(self) -> str:
        self.fh.close()
        return self.sha.hexdigest()


class _ProofFiles:
    """Creates proof files on a background thread. Creating a million small files is
    the slowest part of an export and mostly waits on the file system (the GIL is
    released), so it overlaps with decrypting and proving the next events. The
    queue is bounded, so memory stays bounded too."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=4096)
        self.error: OSError | None = None
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="export-proofs", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue  # keep draining so the producer never blocks
            name, data = item
            try:
                fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    if os.write(fd, data) != len(data):
                        raise OSError(f"short write to {name}")
                finally:
                    os.close(fd)
            except OSError as exc:
                self.error = exc

    def put(self, name: str, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((name, data))

    def close(self) -> None:
        """Wait for every file; raises the first write error."""
        if not self.closed:
            self.closed = True
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error


class _BundleWriter:
    """Writes leaves, keys, events, CSV and proofs of each disclosed event as it comes."""

    def __init__(self, bundle: Path, digests: Path, tree: MerkleTree, note: str) -> None:
        self.bundle, self.tree, self.note = bundle, tree, note
        sample = f"{HEADER}\nindex 0\n\n{note}"
        if sample != format_tlog_proof(0, [], note):  # also checks the note parses
            raise ExportError("the tlog-proof layout differs from security/tlog_proof.py")
        (bundle / "proofs").mkdir(parents=True)
        self.files = {
            name: _HashingFile(bundle / name)
            for name in ("leaves.jsonl", "keys.jsonl", "events.jsonl", "events.csv")
        }
        # RFC 4180 rows (CRLF) for spreadsheets; the JSON files use "\n"
        self.csv = csv.writer(self.files["events.csv"])
        self.csv.writerow(CSV_HEADER)
        self.digests = digests.open("w", encoding="ascii", buffering=1 << 20)
        self.proofs = _ProofFiles(bundle)
        self.events = self.decrypted = self.erased = 0
        self.subjects: set[str] = set()  # customers whose data is disclosed (access log)

    def add(self, seq: int, note: Notification, key: _Key) -> None:
        leaf = leaf_fields(
            seq, note.id, note.originator_id, note.originator_version, note.topic, note.state
        )
        raw = canonical_json(leaf)
        if leaf_hash(raw) != self.tree.leaf_hash_at(seq):
            raise ExportError(f"the stored event at seq {seq} differs from the sealed log")
        opened = _decrypt(note, key, seq)
        state: dict[str, Any] | None = None
        if opened is None:
            self.erased += 1
        else:
            self.decrypted += 1
            state, ek = opened
            line = {"seq": seq, "key": base64.b64encode(ek).decode("ascii")}
            self.files["keys.jsonl"].write(json.dumps(line, separators=(",", ":")) + "\n")
        customer = None if key.subject == SYSTEM_SUBJECT else key.subject
        if customer is not None and state is not None:
            self.subjects.add(customer)
        record = event_record(leaf, customer, state)
        self.files["leaves.jsonl"].write_bytes(raw + b"\n")
        self.files["events.jsonl"].write(record_line(record))
        self.csv.writerow(csv_cells(record))
        hashes = "".join(
            base64.b64encode(h).decode("ascii") + "\n" for h in self.tree.inclusion_proof(seq)
        )
        # tlog-proof@v1 as format_tlog_proof writes it (checked once in __init__),
        # without re-parsing the checkpoint for each of a million proofs
        proof = f"{HEADER}\nindex {seq}\n{hashes}\n{self.note}".encode()
        self.proofs.put(proof_path(seq), proof)
        self.digests.write(f"{seq} {hashlib.sha256(proof).hexdigest()}\n")
        self.events += 1

    def close(self) -> dict[str, str]:
        """Finish every file (also on failure paths); the SHA-256 of each JSONL/CSV file."""
        self.proofs.close()
        self.digests.close()
        return {name: file.close() for name, file in self.files.items()}


def _write_manifest(path: Path, header: dict[str, Any], top: dict[str, str], digests: Path) -> str:
    """Write manifest.json one entry per line (it lists every proof) and return its
    SHA-256, the bundle digest."""
    sha = hashlib.sha256()
    with path.open("wb") as fh, digests.open(encoding="ascii") as proofs:

        def put(text: str) -> None:
            data = text.encode("utf-8")
            sha.update(data)
            fh.write(data)

        put("{\n")
        for name, value in header.items():
            put(f"  {json.dumps(name)}: {json.dumps(value, ensure_ascii=False, sort_keys=True)},\n")
        put('  "files": {\n')
        entries = [f'    "{name}": "{digest}"' for name, digest in sorted(top.items())]
        put(",\n".join(entries))
        for line in proofs:
            seq, digest = line.split()
            put(f',\n    "{proof_path(int(seq))}": "{digest}"')
        put("\n  }\n}\n")
    return sha.hexdigest()


def _readme(values: dict[str, str]) -> str:
    text = resources.files("security").joinpath("export_readme.txt").read_text("utf-8")
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text


def _pack(bundle: Path, name: str, digests: Path, dest: Path) -> None:
    """Write the bundle as a .tar.gz: proofs in seq order, no owner names or ids."""

    def anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(dest, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=name, recursive=False, filter=anonymous)
        for top in ("manifest.json", *TOP_FILES):
            tar.add(bundle / top, arcname=f"{name}/{top}", filter=anonymous)
        tar.add(bundle / "proofs", arcname=f"{name}/proofs", recursive=False, filter=anonymous)
        with digests.open(encoding="ascii") as proofs:
            for line in proofs:
                path = proof_path(int(line.split()[0]))
                tar.add(bundle / path, arcname=f"{name}/{path}", filter=anonymous)


# --------------------------------------------------------------------------- the export


def _write_events(
    ledger: Ledger,
    writer: _BundleWriter,
    keys: _KeyDirectory,
    selected: bytearray | None,
    wanted: set[str] | None,
    size: int,
    last_nid: int,
    progress: Progress | None,
) -> int:
    """Stream the sealed events, handing the ones in scope to `writer`; returns how
    many events were read (the checkpoint size, if the store matches its log)."""
    seq, done = 0, size if selected is not None else 0
    for batch in _batches(ledger, last_nid):
        refs = _refs(batch)
        if selected is not None:
            take = [selected[seq + i] == 1 for i in range(len(batch))]
        else:
            take = [wanted is None or ref in wanted for ref in refs]
        keys.prefetch(ref for ref, chosen in zip(refs, take, strict=True) if chosen)
        for i, note in enumerate(batch):
            if take[i]:
                writer.add(seq + i, note, keys.get(refs[i], seq + i))
        seq += len(batch)
        if progress is not None:
            progress(done + seq, done + size)
    return seq


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

    Guarantees: the bundle verifies with `security.bundle_verify.verify_bundle`
    against the checkpoint it carries, which covers every disclosed event; keys are
    disclosed for exactly the disclosed, non-erased events; `out` appears only
    after the export is recorded, and nothing appears if anything fails. Raises
    ExportScopeError for a bad scope or target, ExportError if the store does not
    match its sealed log. `progress(done, total)` is called after each batch.
    """
    started = time.perf_counter()
    now = (clock or (lambda: datetime.now(UTC)))()
    target = _target(Path(out), tar)
    name = target.name.removesuffix(".tar.gz")
    keys = _KeyDirectory(ledger.keystore)
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
    size = checkpoint.size
    tree = ledger.sealed_log.tree(size)
    if tree.size != size or tree.root() != checkpoint.root:
        raise ExportError(
            "the sealed leaves do not match the latest checkpoint; run `ledger verify`"
        )
    last_nid = next(ledger.sealed_log.leaf_rows(size - 1, size)).notification_id
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        bundle, digests = work / name, work / "proof-digests"
        selected = None
        if scope.windowed:
            selected = _select_window(ledger, scope, keys, wanted, size, last_nid, progress)
        writer = _BundleWriter(bundle, digests, tree, checkpoint.note)
        try:
            seq = _write_events(ledger, writer, keys, selected, wanted, size, last_nid, progress)
        except BaseException:
            with contextlib.suppress(OSError):
                writer.close()  # stop the proof thread and close the files
            raise
        top = writer.close()
        if seq != size:
            raise ExportError(f"{seq} events found for a checkpoint of {size}; run `ledger verify`")
        origin = ledger.sealed_log.origin
        public_key = ledger.sealed_log.public_key
        vkey = verifier_key(origin, public_key)
        root_b64 = base64.b64encode(checkpoint.root).decode("ascii")
        counts = {"events": writer.events, "decrypted": writer.decrypted, "erased": writer.erased}
        statics = {
            "checkpoint": checkpoint.note.encode("utf-8"),
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
        digest = _write_manifest(bundle / "manifest.json", header, top, digests)
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
            _pack(bundle, name, digests, work / "bundle.tar.gz")
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
