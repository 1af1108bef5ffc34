"""Writing a bundle's files as events come: leaves, keys, events (JSONL and CSV)
and one inclusion proof per event, then manifest.json listing them all.

Memory stays bounded: each event is written when it is read, proof files are
created on a background thread through a bounded queue, and the proofs' digests go
to a side file that `write_manifest` streams back.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import queue
import threading
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification

from ledger_verify.bundle.events import CSV_HEADER, csv_cells, event_record, record_line
from ledger_verify.bundle.layout import proof_path
from ledger_verify.canonical import canonical_json
from ledger_verify.merkle import ProofError, leaf_hash, verify_inclusion
from ledger_verify.tlog_proof import HEADER, format_tlog_proof
from security.export.disclosed_keys import DataKey, decrypt_event
from security.export.errors import ExportError
from security.integrity.sealed_log import SealedLogInconsistent
from security.integrity.tree_nodes import NodeProofs
from security.keys.data_keys import SYSTEM_SUBJECT
from security.keys.envelope import leaf_fields

# a bundle's folders and files are its owner's only (umask can only narrow these)
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def owner_only(bundle: Path) -> None:
    """Make the bundle folder and its top-level files and folders owner-only (the proofs
    are created so); for the files written by other code (manifest, signature)."""
    bundle.chmod(FOLDER_MODE)
    for entry in bundle.iterdir():
        entry.chmod(FOLDER_MODE if entry.is_dir() else FILE_MODE)


class _HashingFile:
    """A buffered output file that keeps the SHA-256 of what was written."""

    def __init__(self, path: Path) -> None:
        # owner-only from the start: a bundle holds decrypted personal data and keys
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        self.fh = os.fdopen(fd, "wb", buffering=1 << 20)
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
                fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
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


class BundleWriter:
    """Writes leaves, keys, events, CSV and proofs of each disclosed event as it comes.

    Proofs come from the sealed log's stored tree nodes (`prepare` reads a batch's in a
    few queries) and each is verified against the checkpoint's root before it is
    written, so a stored node or leaf hash that differs from the signed tree stops
    the export instead of producing a bundle that fails verification."""

    def __init__(
        self, bundle: Path, digests: Path, proofs: NodeProofs, size: int, root: bytes, note: str
    ) -> None:
        self.bundle, self.note = bundle, note
        self.nodes, self.size, self.root = proofs, size, root
        self._leaves: dict[int, bytes] = {}
        self._paths: dict[int, list[bytes]] = {}
        sample = f"{HEADER}\nindex 0\n\n{note}"
        if sample != format_tlog_proof(0, [], note):  # also checks the note parses
            raise ExportError(
                "the tlog-proof layout differs from verifier/ledger_verify/tlog_proof.py"
            )
        bundle.mkdir(mode=FOLDER_MODE)
        (bundle / "proofs").mkdir(mode=FOLDER_MODE)
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

    def prepare(self, seqs: list[int]) -> None:
        """Read the leaf hashes and inclusion proofs of the next events to `add`."""
        try:
            self._leaves = self.nodes.leaf_hashes(seqs)
            self._paths = self.nodes.inclusion_proofs(seqs, self.size) if seqs else {}
        except SealedLogInconsistent as exc:
            raise ExportError(str(exc)) from exc

    def add(self, seq: int, note: Notification, key: DataKey) -> None:
        """Write the event at `seq` (prepared) to every file; ExportError if it is
        not the sealed log's leaf at `seq` under the checkpoint's root."""
        leaf = leaf_fields(
            seq, note.id, note.originator_id, note.originator_version, note.topic, note.state
        )
        raw = canonical_json(leaf)
        digest = leaf_hash(raw)
        if seq not in self._paths:
            self.prepare([seq])
        if digest != self._leaves.get(seq):
            raise ExportError(f"the stored event at seq {seq} differs from the sealed log")
        path = self._paths[seq]
        try:
            verify_inclusion(digest, seq, self.size, path, self.root)
        except ProofError as exc:
            raise ExportError(
                f"the stored tree does not prove seq {seq} under the checkpoint; "
                "run `ledger verify --full`"
            ) from exc
        opened = decrypt_event(note, key, seq)
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
        hashes = "".join(base64.b64encode(h).decode("ascii") + "\n" for h in path)
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


def write_manifest(path: Path, header: dict[str, Any], top: dict[str, str], digests: Path) -> str:
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
