"""Offline verification of an audit-trail bundle (docs/export-format.md).

Needs no database, no private key and none of the ledger's storage code: only
`cryptography` and the pure modules `security.merkle`, `security.checkpoints` and
`security.tlog_proof`, so a regulator can run it standalone
(`python -m security.bundle_verify BUNDLE`). `verify_bundle` checks:

1. `manifest.json`: lists every other file with its SHA-256, each matches, no file
   is missing or unlisted (the bundle digest is the SHA-256 of manifest.json);
2. `log.pub` and `log.vkey` are the same Ed25519 key (and the trusted one, if
   given); `checkpoint` is a C2SP note signed by it with the right key id;
3. every line of `leaves.jsonl` is canonical and is included in the checkpoint's
   tree by its `proofs/<seq>.tlog-proof` (RFC 9162);
4. each key of `keys.jsonl` decrypts its leaf's ciphertext (AES-256-GCM, the
   stated associated data), and every leaf without a key is marked erased;
5. `events.jsonl` and `events.csv` are exactly what the decrypted state renders to.

The rendering of an event (`event_record`, `csv_cells`) lives here and the
exporter imports it, so what is written is by construction what is checked.
Failure messages name the file and seq, never a decrypted value.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import json
import os
import re
import stat
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from security.checkpoints import Checkpoint, CheckpointError, parse_checkpoint, parse_verifier_key
from security.checkpoints import verify_checkpoint as verify_note_checkpoint
from security.merkle import ProofError, leaf_hash, verify_inclusion
from security.tlog_proof import HEADER as TLOG_HEADER
from security.tlog_proof import TlogProofError, parse_tlog_proof

FORMAT: Final = "crm-ledger-bundle/v1"
TOP_FILES: Final = (
    "README.txt",
    "checkpoint",
    "events.csv",
    "events.jsonl",
    "keys.jsonl",
    "leaves.jsonl",
    "log.pub",
    "log.vkey",
)
LEAF_FIELDS: Final = frozenset(
    {
        "ciphertext",
        "compression",
        "key_ref",
        "nonce",
        "notification_id",
        "originator_id",
        "originator_version",
        "seq",
        "topic",
    }
)
CSV_HEADER: Final = (
    "seq",
    "time",
    "customer",
    "event_type",
    "actor",
    "role",
    "channel",
    "reason",
    "erased",
    "fields",
    "originator_id",
    "originator_version",
    "topic",
)
# state keys shown in their own columns (or library bookkeeping), not under "fields"
_COLUMNS: Final = {"actor_id": "actor", "actor_role": "role", "channel": "channel"}
_NOT_FIELDS: Final = frozenset(
    {"actor_id", "actor_role", "channel", "reason", "occurred_at", "timestamp", "originator_topic"}
)
_PROOF_NAME: Final = re.compile(r"proofs/(0|[1-9][0-9]*)\.tlog-proof")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")


# --------------------------------------------------------------------------- rendering


def proof_path(seq: int) -> str:
    """The bundle-relative path of the inclusion proof of leaf `seq`."""
    return f"proofs/{seq}.tlog-proof"


def humanise(value: Any) -> Any:
    """The transcoder's JSON made readable: `{"_type_", "_data_"}` pairs become their
    data (a `uuid_hex` becomes the canonical dashed UUID), recursively."""
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            data = value["_data_"]
            if value["_type_"] == "uuid_hex" and isinstance(data, str):
                try:
                    return str(UUID(hex=data))
                except ValueError:
                    return data
            return humanise(data)
        return {key: humanise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [humanise(item) for item in value]
    return value


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def event_record(
    leaf: Mapping[str, Any], customer: str | None, state: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The events.jsonl object of one event: `state` is the decrypted transcoder JSON
    (parsed), None when the subject was erased. Deterministic in its arguments."""
    topic = str(leaf["topic"])
    record: dict[str, Any] = {
        "seq": leaf["seq"],
        "time": "",
        "customer": customer,
        "event_type": topic.rpartition(":")[2],
        "actor": "",
        "role": "",
        "channel": "",
        "reason": "",
        "erased": state is None,
        "fields": {},
        "originator_id": leaf["originator_id"],
        "originator_version": leaf["originator_version"],
        "topic": topic,
    }
    if state is not None:
        readable = humanise(state)
        record["time"] = _text(readable.get("occurred_at", readable.get("timestamp")))
        for key, column in _COLUMNS.items():
            record[column] = _text(readable.get(key))
        record["reason"] = _text(readable.get("reason"))
        record["fields"] = {k: v for k, v in readable.items() if k not in _NOT_FIELDS}
    return record


def record_line(record: Mapping[str, Any]) -> str:
    """One events.jsonl line (UTF-8 JSON, no spaces, `\\n` end)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _cell(text: str) -> str:
    # a leading = + - @ makes spreadsheets evaluate the cell (CSV injection): quote it
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_cells(record: Mapping[str, Any]) -> list[str]:
    """The events.csv row of an events.jsonl record (columns as in CSV_HEADER)."""
    fields = json.dumps(record["fields"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    cells = [
        str(record["seq"]),
        record["time"],
        record["customer"] or "",
        record["event_type"],
        record["actor"],
        record["role"],
        record["channel"],
        record["reason"],
        "erased" if record["erased"] else "",
        fields,
        record["originator_id"],
        str(record["originator_version"]),
        record["topic"],
    ]
    return [_cell(str(cell)) for cell in cells]


def associated_data(leaf: Mapping[str, Any]) -> bytes:
    """GCM associated data: RFC 8785 JSON of originator_id, originator_version, topic."""
    subset = {k: leaf[k] for k in ("originator_id", "originator_version", "topic")}
    return json.dumps(subset, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def decrypt_leaf(leaf: Mapping[str, Any], key: bytes) -> bytes:
    """The plaintext (transcoder JSON) of a leaf under its per-event key.

    Raises `InvalidTag` if the key, nonce, ciphertext or associated data is wrong."""
    nonce = base64.b64decode(leaf["nonce"], validate=True)
    sealed = base64.b64decode(leaf["ciphertext"], validate=True)
    payload = AESGCM(key).decrypt(nonce, sealed, associated_data(leaf))
    return zlib.decompress(payload) if leaf["compression"] == "zlib" else payload


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Failure:
    """One check that did not hold: the file it concerns, the seq if any, what."""

    file: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.seq is None else f"{self.file} seq {self.seq}"
        return f"{where}: {self.message}"


@dataclass
class BundleReport:
    """The outcome of `verify_bundle`: `ok` only if no check failed."""

    events: int = 0
    decrypted: int = 0
    erased: int = 0
    origin: str = ""
    checkpoint_size: int = 0
    key: str = ""
    bundle_digest: str = ""
    failures: list[Failure] = field(default_factory=list)
    failure_count: int = 0
    max_failures: int = 200

    @property
    def ok(self) -> bool:
        return self.failure_count == 0

    def fail(self, file: str, seq: int | None, message: str) -> None:
        self.failure_count += 1
        if len(self.failures) < self.max_failures:
            self.failures.append(Failure(file, seq, message))


class _SeqSet:
    """A set of non-negative ints as a bitmap: one bit per possible seq."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, seq: int) -> bool:
        """Add `seq`; False if it was already there."""
        byte, bit = divmod(seq, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte + 1 - len(self.bits)))
        if self.bits[byte] >> bit & 1:
            return False
        self.bits[byte] |= 1 << bit
        return True

    def __contains__(self, seq: int) -> bool:
        byte, bit = divmod(seq, 8)
        return byte < len(self.bits) and bool(self.bits[byte] >> bit & 1)


# --------------------------------------------------------------------------- manifest


class ManifestError(ValueError):
    """manifest.json is not the JSON object the format describes."""


def _reject_constant(name: str) -> Any:
    raise ManifestError(f"{name} is not JSON")


class _JsonStream:
    """A pull parser for one JSON object read in chunks, so that the `files` member
    (one entry per proof: millions in a large bundle) is never held in memory."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder(parse_constant=_reject_constant)

    def _fill(self) -> bool:
        chunk = self.fh.read(1 << 16)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character, not consumed ("" at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self._fill():
                return self.buf[self.pos : self.pos + 1]

    def take(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            raise ManifestError(f"expected one of {allowed!r}, found {char or 'the end'!r}")
        self.pos += 1
        return char

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                raise ManifestError(f"not valid JSON: {exc.msg}") from exc
            # a number or literal ending at the buffer's end may go on in the next chunk
            if end == len(self.buf) and not self.eof and self._fill():
                continue
            self.pos = end
            return obj

    def string(self) -> str:
        if self.peek() != '"':
            raise ManifestError("expected a JSON string")
        text = self.value()
        assert isinstance(text, str)
        return text


def parse_manifest(fh: IO[str], on_file: Callable[[str, str], None]) -> dict[str, Any]:
    """Parse manifest.json strictly, streaming: calls `on_file(path, sha256 hex)` for
    each `files` entry and returns every other member. Raises ManifestError."""
    stream = _JsonStream(fh)
    header: dict[str, Any] = {}
    seen_files = False
    stream.take("{")
    if stream.peek() == "}":
        stream.take("}")
    else:
        while True:
            key = stream.string()
            stream.take(":")
            if key in header or (key == "files" and seen_files):
                raise ManifestError(f"member {key!r} appears twice")
            if key == "files":
                seen_files = True
                stream.take("{")
                if stream.peek() == "}":
                    stream.take("}")
                else:
                    while True:
                        path = stream.string()
                        stream.take(":")
                        on_file(path, stream.string())
                        if stream.take(",}") == "}":
                            break
            else:
                header[key] = stream.value()
            if stream.take(",}") == "}":
                break
    if stream.peek():
        raise ManifestError("text follows the JSON object")
    if not seen_files:
        raise ManifestError("it has no 'files' member")
    return header


def _open_regular(path: Path) -> IO[bytes] | None:
    """The file opened for reading if it is a regular file and not a symbolic link
    (a link could point outside the bundle); None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def _sha256_file(path: Path) -> str | None:
    """SHA-256 hex of a regular file, None if it is missing or not a regular file."""
    fh = _open_regular(path)
    if fh is None:
        return None
    digest = hashlib.sha256()
    with fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _parse_proof_head(head: str) -> tuple[int, tuple[bytes, ...]]:
    """Index and hashes of a tlog-proof whose checkpoint part was already matched:
    the same strict rules as `parse_tlog_proof`, without re-parsing the note."""
    lines = head.split("\n")
    if lines[0] != TLOG_HEADER or len(lines) < 2:
        raise TlogProofError("malformed tlog-proof: bad header")
    if lines[1].startswith("extra "):
        base64.b64decode(lines.pop(1)[6:], validate=True)
    index_text = lines[1].removeprefix("index ")
    if index_text == lines[1] or not re.fullmatch(r"0|[1-9][0-9]{0,19}", index_text):
        raise TlogProofError("malformed tlog-proof: missing or bad 'index <n>' line")
    hashes = []
    for line in lines[2:]:
        raw = base64.b64decode(line, validate=True)
        if len(raw) != 32 or base64.b64encode(raw).decode("ascii") != line:
            raise TlogProofError("malformed tlog-proof: a proof hash is not canonical 32 bytes")
        hashes.append(raw)
    return int(index_text), tuple(hashes)


# --------------------------------------------------------------------------- line readers

_FILES: Final = {
    "leaves": "leaves.jsonl",
    "keys": "keys.jsonl",
    "events": "events.jsonl",
    "csv": "events.csv",
}
_MISSING: Final = object()


def _seq(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("seq is not a non-negative integer")
    return value


def _jcs(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _parse_leaf(raw: bytes) -> tuple[int, Any]:
    obj = json.loads(raw)
    if not isinstance(obj, dict) or set(obj) != LEAF_FIELDS:
        raise ValueError("is not a leaf object with exactly the nine leaf fields")
    for name in ("notification_id", "originator_version"):
        _seq(obj[name])
    strings = ("ciphertext", "key_ref", "nonce", "originator_id", "topic")
    if not all(isinstance(obj[name], str) for name in strings):
        raise ValueError("a leaf field that must be a string is not")
    if obj["compression"] not in ("zlib", "none"):
        raise ValueError("compression is neither 'zlib' nor 'none'")
    if _jcs(obj) != raw:
        raise ValueError("is not RFC 8785 canonical JSON")
    return _seq(obj["seq"]), (raw, obj)


def _parse_key(raw: bytes) -> tuple[int, Any]:
    obj = json.loads(raw)
    if not isinstance(obj, dict) or set(obj) != {"seq", "key"} or not isinstance(obj["key"], str):
        raise ValueError('is not an object {"seq", "key"}')
    try:
        key = base64.b64decode(obj["key"], validate=True)
    except binascii.Error as exc:
        raise ValueError("key is not base64") from exc
    if len(key) != 32:
        raise ValueError("key is not 32 bytes (AES-256)")
    return _seq(obj["seq"]), key


def _parse_event(raw: bytes) -> tuple[int, Any]:
    obj = json.loads(raw)
    if not isinstance(obj, dict):
        raise ValueError("is not a JSON object")
    return _seq(obj.get("seq")), obj


def _same(a: Any, b: Any) -> bool:
    # compare as JSON text: Python's == would take true for 1 and 1.0 for 1
    return a is not _MISSING and b is not _MISSING and _jcs(a) == _jcs(b)


class _Verifier:
    def __init__(
        self,
        root: Path,
        report: BundleReport,
        trusted: tuple[str, bytes, Ed25519PublicKey] | None,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.root = root
        self.report = report
        self.trusted = trusted
        self.progress = progress
        self.header: dict[str, Any] = {}
        self.listed_top: set[str] = set()
        self.listed_proofs = _SeqSet()
        self.leaf_seqs = _SeqSet()
        self.checkpoint: Checkpoint | None = None
        self.note = ""
        self.note_bytes = b""

    def run(self) -> None:
        self.check_manifest()
        self.check_checkpoint()
        self.check_events()
        self.check_unlisted()
        self.check_counts()

    # -- 1. manifest

    def _on_file(self, path: str, digest: str) -> None:
        match = _PROOF_NAME.fullmatch(path)
        seq = int(match[1]) if match else None
        if path in TOP_FILES:
            if path in self.listed_top:
                self.report.fail("manifest.json", None, f"lists {path} twice")
            self.listed_top.add(path)
        elif seq is not None:
            if not self.listed_proofs.add(seq):
                self.report.fail("manifest.json", seq, f"lists {path} twice")
        else:
            self.report.fail("manifest.json", None, f"lists an unexpected file {path!r}")
            return
        actual = _sha256_file(self.root / path)
        if not _HEX64.fullmatch(digest):
            self.report.fail(path, seq, "manifest.json gives no lowercase SHA-256 hex for it")
        elif actual is None:
            self.report.fail(path, seq, "listed in manifest.json but missing")
        elif actual != digest:
            self.report.fail(path, seq, "its SHA-256 differs from manifest.json: it was changed")

    def check_manifest(self) -> None:
        path = self.root / "manifest.json"
        digest = _sha256_file(path)
        if digest is None:
            self.report.fail("manifest.json", None, "missing: this is not a bundle")
            return
        self.report.bundle_digest = digest
        try:
            with path.open(encoding="utf-8") as fh:
                self.header = parse_manifest(fh, self._on_file)
        except (ManifestError, UnicodeDecodeError) as exc:
            self.report.fail("manifest.json", None, f"malformed: {exc}")
        for name in TOP_FILES:
            if name not in self.listed_top:
                self.report.fail("manifest.json", None, f"does not list {name}")
        if self.header.get("format") != FORMAT:
            self.report.fail("manifest.json", None, f"format is not {FORMAT}")

    # -- 2. keys and checkpoint

    def _read(self, name: str) -> bytes | None:
        fh = _open_regular(self.root / name)
        if fh is None:
            self.report.fail(name, None, "cannot be read as a regular file")
            return None
        with fh:
            return fh.read()

    def check_checkpoint(self) -> None:
        report = self.report
        pub: Ed25519PublicKey | None = None
        pem = self._read("log.pub")
        if pem is not None:
            try:
                loaded = load_pem_public_key(pem)
            except (ValueError, TypeError) as exc:
                report.fail("log.pub", None, f"not a PEM public key: {exc}")
            else:
                if isinstance(loaded, Ed25519PublicKey):
                    pub = loaded
                else:
                    report.fail("log.pub", None, "not an Ed25519 public key")
        name, kid = "", b""
        vkey = self._read("log.vkey")
        if vkey is not None:
            try:
                name, kid, vpub = parse_verifier_key(vkey.decode("utf-8"))
            except (CheckpointError, UnicodeDecodeError) as exc:
                report.fail("log.vkey", None, str(exc))
            else:
                if pub is not None and pub.public_bytes_raw() != vpub.public_bytes_raw():
                    report.fail("log.vkey", None, "is not the same key as log.pub")
                pub = pub or vpub
        if self.trusted is not None:
            t_name, t_kid, t_pub = self.trusted
            if (name, kid) != (t_name, t_kid):
                report.fail("log.vkey", None, f"is not the trusted key {t_name}+{t_kid.hex()}")
            name, kid, pub = t_name, t_kid, t_pub
        report.key = f"{name}+{kid.hex()}" if name else ""
        raw = self._read("checkpoint")
        if raw is None:
            return
        self.note = raw.decode("utf-8", errors="replace")
        self.note_bytes = raw
        try:
            if pub is None or not name:
                raise CheckpointError("no usable public key in log.pub / log.vkey to check it")
            self.checkpoint = verify_note_checkpoint(raw, pub, name)
        except CheckpointError as exc:
            report.fail("checkpoint", None, str(exc))
            try:
                self.checkpoint = parse_checkpoint(raw)
            except CheckpointError:
                return
        cp = self.checkpoint
        report.origin, report.checkpoint_size = cp.origin, cp.size
        log = self.header.get("log")
        stated = {
            "origin": cp.origin,
            "checkpoint_size": cp.size,
            "checkpoint_root": base64.b64encode(cp.root).decode("ascii"),
            "key_name": name,
            "key_id": kid.hex(),
        }
        if not isinstance(log, dict) or any(log.get(k) != v for k, v in stated.items()):
            report.fail("manifest.json", None, "its 'log' member does not match the checkpoint")

    # -- 3-5. leaves, proofs, keys, decrypted events

    def _lines(
        self, kind: str, parse: Callable[[bytes], tuple[int, Any]]
    ) -> Iterator[tuple[int, Any]]:
        name = _FILES[kind]
        try:
            fh = (self.root / name).open("rb")
        except OSError:
            return  # the manifest check has named it
        last = -1
        with fh:
            for number, line in enumerate(fh, start=1):
                if line.endswith(b"\n"):
                    line = line[:-1]
                else:
                    self.report.fail(name, None, f"line {number} does not end in a newline")
                try:
                    seq, item = parse(line)
                except (ValueError, KeyError, TypeError) as exc:
                    self.report.fail(name, None, f"line {number}: {exc}")
                    continue
                if seq <= last:
                    self.report.fail(name, seq, f"line {number} is out of seq order")
                    continue
                last = seq
                yield seq, item

    def _csv_rows(self) -> Iterator[tuple[int, Any]]:
        try:
            fh = (self.root / "events.csv").open(encoding="utf-8", newline="")
        except OSError:
            return
        last = -1
        with fh:
            rows = csv.reader(fh)
            try:
                if next(rows, None) != list(CSV_HEADER):
                    self.report.fail("events.csv", None, "the header row is not the format's")
                for row in rows:
                    seq = int(row[0]) if row and re.fullmatch(r"0|[1-9][0-9]*", row[0]) else -1
                    if seq <= last:
                        self.report.fail("events.csv", None, f"row {rows.line_num}: bad seq")
                        continue
                    last = seq
                    yield seq, row
            except (csv.Error, UnicodeDecodeError) as exc:
                self.report.fail("events.csv", None, f"malformed CSV: {exc}")

    def check_events(self) -> None:
        streams = {
            "leaves": self._lines("leaves", _parse_leaf),
            "keys": self._lines("keys", _parse_key),
            "events": self._lines("events", _parse_event),
            "csv": self._csv_rows(),
        }
        heads = {kind: next(stream, None) for kind, stream in streams.items()}
        counts = self.header.get("counts")
        total = counts.get("events", 0) if isinstance(counts, dict) else 0
        while True:
            live = [head[0] for head in heads.values() if head is not None]
            if not live:
                return
            seq = min(live)
            items: dict[str, Any] = {}
            for kind, head in heads.items():
                if head is not None and head[0] == seq:
                    items[kind] = head[1]
                    heads[kind] = next(streams[kind], None)
            self.check_event(seq, items)
            if self.progress is not None and self.report.events % 1000 == 0:
                self.progress(self.report.events, total)

    def check_event(self, seq: int, items: dict[str, Any]) -> None:
        report = self.report
        if "leaves" not in items:
            others = ", ".join(_FILES[kind] for kind in items)
            report.fail("leaves.jsonl", seq, f"no line for this seq, although {others} hold one")
            return
        raw, leaf = items["leaves"]
        report.events += 1
        self.leaf_seqs.add(seq)
        self.check_proof(seq, raw)
        state: dict[str, Any] | None = None
        if "keys" in items:
            report.decrypted += 1  # counts events with a key line, decryptable or not
            try:
                state = json.loads(decrypt_leaf(leaf, items["keys"]))
            except InvalidTag:
                report.fail(
                    "keys.jsonl",
                    seq,
                    "the key does not decrypt the leaf's ciphertext under its associated "
                    "data: the key or the leaf was altered",
                )
                return
            except (ValueError, zlib.error):
                state = None
            if not isinstance(state, dict):
                report.fail("leaves.jsonl", seq, "the decrypted plaintext is not a JSON object")
                return
        event = items.get("events")
        if event is None:
            report.fail("events.jsonl", seq, "no line for this event")
        elif state is None and event.get("erased") is not True:
            report.fail("keys.jsonl", seq, "no key for an event events.jsonl does not mark erased")
            return
        customer = event.get("customer") if event is not None else None
        if event is None and items.get("csv"):
            customer = items["csv"][2] or None  # so that a lost line is named only once
        if customer is not None and not isinstance(customer, str):
            report.fail("events.jsonl", seq, "'customer' is not a string or null")
            customer = None
        expected = event_record(leaf, customer, state)
        if state is None:
            report.erased += 1
        else:
            owner = expected["fields"].get("customer_id")
            if isinstance(owner, str) and owner != customer:
                report.fail("events.jsonl", seq, "'customer' is not the decrypted customer_id")
        if event is not None and _jcs(expected) != _jcs(event):
            keys = sorted(set(expected) | set(event))
            diff = [k for k in keys if not _same(expected.get(k, _MISSING), event.get(k, _MISSING))]
            if diff:
                report.fail(
                    "events.jsonl", seq, f"does not match the decrypted event in {', '.join(diff)}"
                )
        row, cells = items.get("csv"), csv_cells(expected)
        if row is None:
            report.fail("events.csv", seq, "no row for this event")
        elif row != cells:
            bad = [n for i, n in enumerate(CSV_HEADER) if i >= len(row) or row[i] != cells[i]]
            columns = ", ".join(bad) or "its width"
            report.fail("events.csv", seq, f"does not match the decrypted event in {columns}")

    def check_proof(self, seq: int, raw: bytes) -> None:
        name = proof_path(seq)
        fh = _open_regular(self.root / name)
        if fh is None:
            self.report.fail(name, seq, "missing: no inclusion proof for this leaf")
            return
        with fh:
            data = fh.read()
        cp, tail = self.checkpoint, b"\n\n" + self.note_bytes
        try:
            if cp is not None and data.endswith(tail):
                # the usual case: the bundle's own checkpoint, parsed and checked once
                index, hashes = _parse_proof_head(data[: -len(tail)].decode("ascii"))
            else:
                proof = parse_tlog_proof(data)
                if cp is not None and proof.checkpoint.note != self.note:
                    self.report.fail(name, seq, "is against another checkpoint than the bundle's")
                    return
                index, hashes = proof.index, proof.hashes
        except (TlogProofError, ValueError) as exc:
            self.report.fail(name, seq, str(exc) or "malformed tlog-proof")
            return
        if index != seq:
            self.report.fail(name, seq, f"proves index {index}, not this leaf's seq")
        elif cp is None:
            return
        elif seq >= cp.size:
            self.report.fail("leaves.jsonl", seq, f"is beyond the checkpoint's size {cp.size}")
        else:
            try:
                verify_inclusion(leaf_hash(raw), seq, cp.size, hashes, cp.root)
            except ProofError:
                self.report.fail(
                    name,
                    seq,
                    "the inclusion proof does not reach the checkpoint root: this proof "
                    "or the leaf in leaves.jsonl was altered",
                )

    # -- completeness

    def check_unlisted(self) -> None:
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.name == "proofs" and entry.is_dir(follow_symlinks=False):
                    self._check_proof_dir(entry.path)
                elif entry.is_symlink() or not entry.is_file():
                    self.report.fail(entry.name, None, "is not a regular file or proofs/")
                elif entry.name != "manifest.json" and entry.name not in self.listed_top:
                    self.report.fail(entry.name, None, "is not listed in manifest.json")

    def _check_proof_dir(self, path: str) -> None:
        with os.scandir(path) as entries:
            for entry in entries:
                name = "proofs/" + entry.name
                match = _PROOF_NAME.fullmatch(name)
                seq = int(match[1]) if match else None
                if seq is None or entry.is_symlink() or not entry.is_file():
                    self.report.fail(name, None, "is not a proof file the format allows")
                elif seq not in self.listed_proofs:
                    self.report.fail(name, seq, "is not listed in manifest.json")
                elif seq not in self.leaf_seqs:
                    self.report.fail(name, seq, "proves a leaf that leaves.jsonl does not contain")

    def check_counts(self) -> None:
        scope, size = self.header.get("scope"), self.report.checkpoint_size
        if isinstance(scope, dict) and scope.get("all") is True and self.report.events != size:
            # a whole-log bundle must disclose every seq below the checkpoint size
            self.report.fail(
                "leaves.jsonl",
                None,
                f"the scope is the whole log, yet it holds "
                f"{self.report.events} of the checkpoint's {size} events",
            )
        counts = self.header.get("counts")
        found = {"events": self.report.events, "decrypted": self.report.decrypted}
        found["erased"] = self.report.erased
        if self.header and (not isinstance(counts, dict) or counts != found):
            self.report.fail("manifest.json", None, f"its counts differ from the bundle's {found}")


# --------------------------------------------------------------------------- entry points


def verify_bundle(
    path: str | Path,
    *,
    trusted_vkey: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_failures: int = 200,
) -> BundleReport:
    """Verify a bundle directory or a .tar.gz of one, offline; see the module docstring.

    The report is `ok` only if every check held; otherwise it lists each failure
    (up to `max_failures`, all counted) naming file and seq. Memory stays bounded by
    one bit per leaf index, whatever the bundle's size. Raises ValueError when
    `path` is not a directory or tar file, or `trusted_vkey` is not a verifier key.
    """
    trusted = None
    if trusted_vkey is not None:
        try:
            trusted = parse_verifier_key(trusted_vkey)
        except CheckpointError as exc:
            raise ValueError(f"the trusted verifier key is malformed: {exc}") from exc
    report = BundleReport(max_failures=max_failures)
    target = Path(path)
    if target.is_dir():
        _Verifier(target, report, trusted, progress).run()
        return report
    if not (target.is_file() and tarfile.is_tarfile(target)):
        raise ValueError(f"{target} is neither a bundle directory nor a .tar.gz of one")
    with tempfile.TemporaryDirectory(prefix="bundle-verify-") as tmp:
        try:
            with tarfile.open(target, "r:*") as tar:
                # the "data" filter refuses links, devices, absolute and ../ paths
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            report.fail(target.name, None, f"cannot be unpacked safely: {exc}")
            return report
        root = Path(tmp)
        inner = list(root.iterdir())
        if len(inner) == 1 and inner[0].is_dir() and not inner[0].is_symlink():
            root = inner[0]
        _Verifier(root, report, trusted, progress).run()
    return report


def summary(report: BundleReport) -> str:
    """The one-paragraph outcome printed by `ledger verify-bundle`."""
    if report.ok:
        return (
            f"ok: {report.events} events ({report.decrypted} decrypted, {report.erased} "
            f"erased) verified against checkpoint {report.origin} size "
            f"{report.checkpoint_size}, key {report.key}\n"
            f"bundle digest (SHA-256 of manifest.json): {report.bundle_digest}"
        )
    lines = [f"FAILED: {report.failure_count} check(s) did not hold"]
    lines += [f"  {failure}" for failure in report.failures]
    if report.failure_count > len(report.failures):
        lines.append(f"  ... and {report.failure_count - len(report.failures)} more")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """`python -m security.bundle_verify BUNDLE [--trusted-vkey FILE]`: 0 if it holds."""
    import argparse

    parser = argparse.ArgumentParser(description="Verify a crm-ledger audit bundle offline.")
    parser.add_argument("bundle", help="bundle directory or .tar.gz")
    parser.add_argument("--trusted-vkey", help="file with the log's verifier key")
    args = parser.parse_args(argv)
    try:
        vkey = Path(args.trusted_vkey).read_text("utf-8") if args.trusted_vkey else None
        report = verify_bundle(args.bundle, trusted_vkey=vkey)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(report), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
