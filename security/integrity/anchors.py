"""The anchor file: every signed checkpoint, appended to a file outside the database.

Whoever can write the database but has no signing key can still roll the log back
(restore an older copy, delete the newest checkpoint with its leaves and events, empty
the Merkle tables): the store then holds an older log that verifies on its own. The
anchor file, kept off the database host and its backups, remembers how far the log
reached, so `ledger verify` and every seal can tell.

Format (docs/ledger-format.md §6): UTF-8, a sequence of entries, each a C2SP signed
checkpoint note (body lines, a blank line, signature lines, the last ending in a
newline) followed by one blank line. A checkpoint body holds no blank line, so the
first blank line of an entry ends its body and the next one ends the entry. The file
is opened with O_APPEND for each entry, written in one call and fsync'ed. The event
log's and the access log's checkpoints share one file; their origins differ.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from domain.errors import DomainError
from ledger_verify.checkpoints import Checkpoint, CheckpointError, parse_checkpoint

__all__ = ["AnchorError", "AnchorFile", "parse_anchors"]

ENTRY_END = "\n\n"


class AnchorError(DomainError):
    """The anchor file cannot be read or is not a sequence of well-formed checkpoints."""

    code = "anchor_file_invalid"


def parse_anchors(text: str, where: str) -> list[Checkpoint]:
    """The checkpoints of an anchor file's text, in file order (not verified); AnchorError
    naming `where` and the entry's first line otherwise."""
    found: list[Checkpoint] = []
    position = 0
    while position < len(text):
        line = text.count("\n", 0, position) + 1
        body_end = text.find(ENTRY_END, position)
        entry_end = -1 if body_end < 0 else text.find(ENTRY_END, body_end + 2)
        if entry_end < 0:
            raise AnchorError(
                f"anchor file {where}: the entry at line {line} is incomplete (an entry is "
                "a signed note followed by a blank line)"
            )
        try:
            found.append(parse_checkpoint(text[position : entry_end + 1]))
        except CheckpointError as exc:
            raise AnchorError(f"anchor file {where}: the entry at line {line}: {exc}") from None
        position = entry_end + 2
    return found


@dataclass
class _Scan:
    """What has been read of the file so far: its length and the newest per origin."""

    offset: int = 0
    newest: dict[str, Checkpoint] | None = None


class AnchorFile:
    """Appends checkpoints to the anchor file and reads the newest one of each origin."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._scan = _Scan()

    def append(self, note: str) -> None:
        """Append one signed checkpoint (O_APPEND, one write, fsync)."""
        parse_checkpoint(note)
        data = (note + "\n").encode("utf-8")
        with self._lock:
            created = not self.path.exists()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._write(data, created)
            except OSError as exc:
                raise AnchorError(
                    f"anchor file {self.path} cannot be appended to: {exc.strerror}"
                ) from None

    def _write(self, data: bytes, created: bool) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
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

    def _read(self, start: int) -> tuple[str, int]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                if size < start:
                    raise AnchorError(
                        f"anchor file {self.path} shrank from {start} to {size} bytes: it was "
                        "truncated or replaced"
                    )
                handle.seek(start)
                data = handle.read(size - start)
        except FileNotFoundError:
            if start:
                raise AnchorError(f"anchor file {self.path} has disappeared") from None
            return "", 0
        except OSError as exc:
            raise AnchorError(f"anchor file {self.path} cannot be read: {exc.strerror}") from None
        try:
            return data.decode("utf-8"), start + len(data)
        except UnicodeDecodeError:
            raise AnchorError(f"anchor file {self.path} is not UTF-8 text") from None

    def checkpoints(self) -> list[Checkpoint]:
        """Every anchored checkpoint, in file order (read afresh; not verified)."""
        text, _ = self._read(0)
        return parse_anchors(text, str(self.path))

    def newest(self, origin: str, *, fresh: bool = False) -> Checkpoint | None:
        """The anchored checkpoint of `origin` with the largest size (not verified), or
        None. Reads only what was appended since the last call unless `fresh`. Two
        entries of one origin and size with different roots are an AnchorError."""
        with self._lock:
            scan = _Scan() if fresh or self._scan.newest is None else self._scan
            newest = dict(scan.newest or {})
            text, end = self._read(scan.offset)
            for checkpoint in parse_anchors(text, str(self.path)):
                known = newest.get(checkpoint.origin)
                if (
                    known is not None
                    and known.size == checkpoint.size
                    and known.root != checkpoint.root
                ):
                    raise AnchorError(
                        f"anchor file {self.path}: two checkpoints of {checkpoint.origin} "
                        f"at size {checkpoint.size} have different roots (a fork)"
                    )
                if known is None or checkpoint.size > known.size:
                    newest[checkpoint.origin] = checkpoint
            self._scan = _Scan(end, newest)
            return newest.get(origin)
