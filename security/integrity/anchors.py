"""The anchor file: every signed checkpoint, appended to a file outside the database.

Whoever can write the database but has no signing key can still roll the log back
(restore an older copy, delete the newest checkpoint with its leaves and events, empty
the Merkle tables): the store then holds an older log that verifies on its own. The
anchor file, kept off the database host and its backups, remembers how far the log
reached, so `ledger verify` and every seal can tell.

Format (docs/ledger-format.md §6): UTF-8, a sequence of entries, each a C2SP signed
checkpoint note (body lines, a blank line, signature lines, the last ending in a
newline) followed by one blank line. A checkpoint body holds no blank line, so the
first blank line of an entry ends its body and the next one ends the entry. The event
log's and the access log's checkpoints share one file; their origins differ.

Writing: an appender takes an exclusive `flock` on the file (so two processes that seal
never see each other's entry half-written), and appends the entry with O_APPEND in one
write, then fsyncs. A process killed in the middle of that write leaves a *torn tail*:
a strict prefix of an entry at the end of the file. Readers leave a torn tail out of
the anchors; the next appender truncates it (ftruncate, fsync, a warning logged)
before appending. Anything else that is not a well-formed entry -- a torn entry with
entries after it included -- is a hard error naming its position.

Checking: once a log's key is known (`trust`, done by each SealedLog), every anchor of
that origin must verify with it, and the anchors of one origin must not decrease in
size nor disagree on the root at one size; the first one that fails is named by its
entry number and line.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.errors import DomainError
from ledger_verify.checkpoints import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    verify_checkpoint,
)

__all__ = ["AnchorError", "AnchorFile", "parse_anchors"]

log = logging.getLogger("security.anchors")

ENTRY_END = "\n\n"
_SIG_PREFIX = "\u2014 "
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class AnchorError(DomainError):
    """The anchor file cannot be read or is not a sequence of well-formed checkpoints."""

    code = "anchor_file_invalid"


@dataclass(frozen=True)
class _Entry:
    number: int  # 1-based position of the entry in the file
    line: int  # 1-based line of its first line
    checkpoint: Checkpoint


@dataclass
class _Parsed:
    entries: list[_Entry] = field(default_factory=list)
    consumed: int = 0  # bytes of the complete entries
    lines: int = 0  # newlines in them
    torn: int = 0  # bytes of a torn last entry after them (0: none)


def _decode(data: bytes, where: str) -> tuple[str, int]:
    """The text of `data` and how many bytes at its end are a cut-off UTF-8 sequence."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError as exc:
        cut = exc.end == len(data) and exc.reason == "unexpected end of data"
        if cut:
            try:
                return data[: exc.start].decode("utf-8"), len(data) - exc.start
            except UnicodeDecodeError:
                pass
    raise AnchorError(f"anchor file {where} is not UTF-8 text")


def _is_root(text: str) -> bool:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return False
    return len(raw) == 32


def _is_torn(tail: str, origins: frozenset[str] = frozenset()) -> bool:
    """Whether `tail` (text after the last complete entry, with no entry end in it)
    is what a write cut short leaves: a strict prefix of a well-formed entry. Where the
    file's origins are known, its first line must be (a prefix of) one of them."""
    body, blank, signatures = tail.partition(ENTRY_END)
    lines = body.split("\n")
    complete = lines if blank else lines[:-1]  # the last body line may be cut
    if origins and not (
        lines[0] in origins if complete else any(o.startswith(lines[0]) for o in origins)
    ):
        return False
    checks: tuple[Callable[[str], object], ...] = (bool, _DECIMAL.fullmatch, _is_root)
    if any(not check(text) for check, text in zip(checks, complete, strict=False)):
        return False
    if not blank:
        return True
    if len(complete) < 3 or any(not line for line in complete):
        return False
    *whole, partial = signatures.split("\n")
    return all(line.startswith(_SIG_PREFIX) and " " in line[2:] for line in whole) and (
        partial.startswith(_SIG_PREFIX) or _SIG_PREFIX.startswith(partial)
    )


def _parse(
    text: str,
    where: str,
    *,
    first_number: int = 1,
    first_line: int = 1,
    origins: frozenset[str] = frozenset(),
) -> _Parsed:
    """The complete entries of `text`; a torn last entry is left out and measured."""
    parsed = _Parsed()
    position, line = 0, first_line
    while position < len(text):
        body_end = text.find(ENTRY_END, position)
        entry_end = -1 if body_end < 0 else text.find(ENTRY_END, body_end + 2)
        if entry_end < 0:
            tail = text[position:]
            if _is_torn(tail, origins):
                parsed.torn = len(tail.encode("utf-8"))
                break
            raise AnchorError(
                f"anchor file {where}: the entry at line {line} is incomplete (an entry is "
                "a signed note followed by a blank line)"
            )
        number = first_number + len(parsed.entries)
        try:
            checkpoint = parse_checkpoint(text[position : entry_end + 1])
        except CheckpointError as exc:
            raise AnchorError(
                f"anchor file {where}: the entry at line {line} (entry {number}): {exc}"
            ) from None
        parsed.entries.append(_Entry(number, line, checkpoint))
        chunk = text[position : entry_end + 2]
        line += chunk.count("\n")
        parsed.consumed += len(chunk.encode("utf-8"))
        position = entry_end + 2
    parsed.lines = line - first_line
    return parsed


def parse_anchors(text: str, where: str) -> list[Checkpoint]:
    """The checkpoints of an anchor file's text, in file order (not verified); AnchorError
    naming `where` and the entry's first line otherwise (a torn last entry included)."""
    parsed = _parse(text, where)
    if parsed.torn:
        line = 1 + parsed.lines
        raise AnchorError(
            f"anchor file {where}: the entry at line {line} is incomplete (an entry is "
            "a signed note followed by a blank line)"
        )
    return [entry.checkpoint for entry in parsed.entries]


@dataclass
class _Scan:
    """What has been read of the file so far: the bytes of complete entries, their
    count, lines and SHA-256, and the newest checkpoint per origin."""

    offset: int = 0
    entries: int = 0
    lines: int = 0
    torn: int = 0
    newest: dict[str, Checkpoint] | None = None
    digest: Any = None  # hashlib SHA-256 state over the first `offset` bytes


class AnchorFile:
    """Appends checkpoints to the anchor file and reads the newest one of each origin."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._scan = _Scan()
        self._keys: dict[str, Ed25519PublicKey] = {}

    def trust(self, origin: str, public_key: Ed25519PublicKey) -> None:
        """From now on, every anchor of `origin` must verify with `public_key` (the key
        name being the origin, as the ledger signs)."""
        with self._lock:
            self._keys[origin] = public_key
            self._scan = _Scan()

    # --- appending -------------------------------------------------------------------

    def append(self, note: str) -> None:
        """Append one signed checkpoint (exclusive flock, torn tail repaired, O_APPEND,
        one write, fsync); nothing if the file already anchors its origin at this size
        or a larger one, so the entries of one origin are in size order."""
        checkpoint = parse_checkpoint(note)
        with self._lock:
            created = not self.path.exists()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._write(checkpoint, created)
            except OSError as exc:
                raise AnchorError(
                    f"anchor file {self.path} cannot be appended to: {exc.strerror}"
                ) from None

    def _write(self, checkpoint: Checkpoint, created: bool) -> None:
        data = (checkpoint.note + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
            self._advance(fd)
            if self._scan.torn:
                self._repair(fd)
            known = (self._scan.newest or {}).get(checkpoint.origin)
            if known is not None and known.size >= checkpoint.size:
                # another process anchored this size or a larger one first (two seals
                # racing): the file stays in size order, the larger anchor covers this one
                if known.size == checkpoint.size and known.root != checkpoint.root:
                    raise AnchorError(
                        f"anchor file {self.path}: a checkpoint of {checkpoint.origin} at "
                        f"size {checkpoint.size} with another root is anchored (a fork)"
                    )
                return
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(0, f"only {written} of {len(data)} bytes were written")
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def _repair(self, fd: int) -> None:
        """Cut the torn tail off (under the appenders' flock), durably."""
        torn, keep = self._scan.torn, self._scan.offset
        os.ftruncate(fd, keep)
        os.fsync(fd)
        log.warning(
            "anchor file %s ended in a torn entry (%d bytes after byte %d, a write cut "
            "short): truncated it before appending",
            self.path,
            torn,
            keep,
        )
        self._scan.torn = 0

    # --- reading ---------------------------------------------------------------------

    def _read_from(self, fd: int, start: int, end: int | None = None) -> bytes:
        info = os.fstat(fd)
        if info.st_size < start:
            raise AnchorError(
                f"anchor file {self.path} shrank from {start} to {info.st_size} bytes: it "
                "was truncated or replaced"
            )
        return b"".join(self._chunks(fd, start, info.st_size if end is None else end))

    @staticmethod
    def _chunks(fd: int, start: int, end: int) -> Iterator[bytes]:
        position = start
        while position < end:
            chunk = os.pread(fd, min(1 << 20, end - position), position)
            if not chunk:
                return
            yield chunk
            position += len(chunk)

    def _unchanged(self, fd: int) -> bool:
        """Whether the file still begins with the bytes already scanned (self._lock held)."""
        scan = self._scan
        if scan.newest is None or scan.digest is None or os.fstat(fd).st_size < scan.offset:
            return False
        digest = hashlib.sha256()
        for chunk in self._chunks(fd, 0, scan.offset):
            digest.update(chunk)
        return bool(digest.digest() == scan.digest.digest())

    def _advance(self, fd: int) -> None:
        """Read what was appended since the last scan and check it (self._lock held)."""
        scan = self._scan if self._scan.newest is not None else _Scan(newest={})
        data = self._read_from(fd, scan.offset)
        text, _cut = _decode(data, str(self.path))
        parsed = _parse(
            text,
            str(self.path),
            first_number=scan.entries + 1,
            first_line=scan.lines + 1,
            origins=frozenset(self._keys),
        )
        newest = dict(scan.newest or {})
        for entry in parsed.entries:
            self._check(entry, newest)
            newest[entry.checkpoint.origin] = entry.checkpoint
        digest = hashlib.sha256() if scan.digest is None else scan.digest.copy()
        digest.update(data[: parsed.consumed])
        self._scan = _Scan(
            offset=scan.offset + parsed.consumed,
            entries=scan.entries + len(parsed.entries),
            lines=scan.lines + parsed.lines,
            torn=len(data) - parsed.consumed,  # the cut-off bytes of a torn entry included
            newest=newest,
            digest=digest,
        )

    def _check(self, entry: _Entry, newest: dict[str, Checkpoint]) -> None:
        """The entry's signature (when its origin's key is known) and its order."""
        checkpoint = entry.checkpoint
        origin, size = checkpoint.origin, checkpoint.size
        where = (
            f"anchor file {self.path}: entry {entry.number} (line {entry.line}), the "
            f"checkpoint of {origin} at size {size}"
        )
        key = self._keys.get(origin)
        if key is not None:
            try:
                verify_checkpoint(checkpoint.note, key, origin, origin=origin)
            except CheckpointError as exc:
                raise AnchorError(f"{where}, does not verify with the log key: {exc}") from None
        known = newest.get(origin)
        if known is None:
            return
        if size < known.size:
            raise AnchorError(
                f"{where}, follows one at size {known.size}: anchors of a log never go backwards"
            )
        if size == known.size and checkpoint.root != known.root:
            raise AnchorError(
                f"anchor file {self.path}: two checkpoints of {origin} at size {size} have "
                f"different roots (a fork; the second is entry {entry.number}, line "
                f"{entry.line})"
            )

    def _open_for_reading(self) -> int | None:
        try:
            return os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AnchorError(f"anchor file {self.path} cannot be read: {exc.strerror}") from None

    def _refresh(self, fresh: bool) -> None:
        """Bring the scan up to date (self._lock held). `fresh`: re-read from the start
        unless the file still begins with exactly the bytes already scanned (their
        SHA-256 is kept), so each entry's signature is checked once per process."""
        fd = self._open_for_reading()
        if fd is None:
            if not fresh and (self._scan.offset or self._scan.torn):
                raise AnchorError(f"anchor file {self.path} has disappeared")
            self._scan = _Scan(newest={})
            return
        try:
            try:
                if fresh and not self._unchanged(fd):
                    self._scan = _Scan()
                self._advance(fd)
            except OSError as exc:
                raise AnchorError(
                    f"anchor file {self.path} cannot be read: {exc.strerror}"
                ) from None
        finally:
            os.close(fd)
        if self._scan.torn:
            log.warning(
                "anchor file %s ends in a torn entry (%d bytes, a write cut short): left "
                "out; the next append truncates it",
                self.path,
                self._scan.torn,
            )

    def checkpoints(self) -> list[Checkpoint]:
        """Every anchored checkpoint, in file order (read afresh; not verified); a torn
        last entry is left out."""
        return [entry.checkpoint for entry in self._entries()]

    def _entries(self) -> Iterator[_Entry]:
        fd = self._open_for_reading()
        if fd is None:
            return iter(())
        try:
            data = self._read_from(fd, 0)
        finally:
            os.close(fd)
        text, _cut = _decode(data, str(self.path))
        return iter(_parse(text, str(self.path), origins=frozenset(self._keys)).entries)

    def newest(self, origin: str, *, fresh: bool = False) -> Checkpoint | None:
        """The anchored checkpoint of `origin` with the largest size, or None. Reads only
        what was appended since the last call unless `fresh`. Every anchor read is
        checked (see the module docstring); AnchorError names the first that fails."""
        with self._lock:
            self._refresh(fresh)
            return (self._scan.newest or {}).get(origin)
