"""The last verified state of a log, kept outside the database for `ledger verify`.

An incremental verification starts from it: the signed note of the newest checkpoint
a verification found ok, the compact Merkle frontier (right-edge subtree hashes) at
its size, and the source id of its last leaf. The file lives in the data directory
(`<data dir>/verify/<origin, %-quoted>.state`, JSON), not in the database, so an
insider with only database access cannot move it; it is written atomically (temporary
file, fsync, rename, fsync of the directory).

The note is signed by the log key, so a state whose note does not verify is a
failure, never trusted; the frontier is not signed, but it must fold to the note's
root, and one that does not is treated like an unreadable file: the verification
falls back to a full one. A removed file costs a full verification and weakens
nothing. Next to the event log's state, `<origin>.keys` keeps the key facts at its
size (security.integrity.key_verification), written first and named by their SHA-256
in the state, so facts that are missing or do not match make the key check read every
event.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_verify.checkpoints import Checkpoint, CheckpointError, verify_checkpoint
from ledger_verify.merkle import CompactRange

VERSION = 1


class StateUnusable(ValueError):
    """The state file cannot be read or is not a state: verify in full instead."""


class StateForged(ValueError):
    """The state's note does not verify with the log key: a failure, not a fallback."""


@dataclass(frozen=True)
class VerifiedState:
    """Where the last ok verification of one log ended."""

    origin: str
    note: str
    frontier: tuple[bytes, ...]
    last_id: int
    """The source id (notification id) of the leaf at `size - 1`."""
    size: int
    key_facts: str | None = None
    """The SHA-256 (hex) of the key facts file kept with the event log's state
    (security.integrity.key_verification.KeyFacts), None if there is none."""

    def compact_range(self) -> CompactRange:
        return CompactRange.from_hashes(self.size, list(self.frontier))

    def checkpoint(self, public_key: Ed25519PublicKey) -> Checkpoint:
        """The note, verified with `public_key`; StateForged if it does not verify,
        StateUnusable if the frontier does not fold to its root."""
        try:
            parsed = verify_checkpoint(self.note, public_key, self.origin, origin=self.origin)
        except CheckpointError as exc:
            raise StateForged(
                f"its checkpoint note does not verify with the log key: {exc}"
            ) from None
        if parsed.size != self.size:
            raise StateUnusable(f"its size {self.size} is not its note's size {parsed.size}")
        try:
            root = self.compact_range().root()
        except ValueError as exc:
            raise StateUnusable(f"its frontier is malformed: {exc}") from None
        if root != parsed.root:
            raise StateUnusable("its frontier does not fold to its note's root")
        return parsed

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "origin": self.origin,
                "size": self.size,
                "last_id": self.last_id,
                "note": self.note,
                "frontier": [h.hex() for h in self.frontier],
            }
            | ({} if self.key_facts is None else {"key_facts": self.key_facts}),
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> VerifiedState:
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError("not a version 1 state")
            origin, note = data["origin"], data["note"]
            size, last_id = data["size"], data["last_id"]
            if not isinstance(origin, str) or not isinstance(note, str):
                raise ValueError("origin and note must be text")
            if type(size) is not int or type(last_id) is not int or size < 1:
                raise ValueError("size and last_id must be integers, size at least 1")
            frontier = tuple(bytes.fromhex(h) for h in data["frontier"])
            key_facts = data.get("key_facts")
            if key_facts is not None and not isinstance(key_facts, str):
                raise ValueError("key_facts must be text")
        except (ValueError, KeyError, TypeError) as exc:
            raise StateUnusable(f"it is not a verified state: {exc}") from None
        return cls(origin, note, frontier, last_id, size, key_facts)


class StateFile:
    """The verified states of the logs of one ledger, one file per origin in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, origin: str) -> Path:
        return self.directory / f"{quote(origin, safe='')}.state"

    def load(self, origin: str) -> VerifiedState | None:
        """The state of `origin`, None if there is none yet; StateUnusable if the file
        cannot be read or parsed, or is another origin's."""
        path = self.path(origin)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StateUnusable(f"it cannot be read: {exc}") from None
        state = VerifiedState.from_json(text)
        if state.origin != origin:
            raise StateUnusable(f"it is the state of {state.origin!r}, not of {origin!r}")
        return state

    def facts_path(self, origin: str) -> Path:
        """Where the key facts kept with the state of `origin` live."""
        return self.directory / f"{quote(origin, safe='')}.keys"

    def load_facts(self, state: VerifiedState) -> str:
        """The key facts file kept with `state`; StateUnusable if the state names none,
        or the file is missing, unreadable or not the one the state names (its hash)."""
        if state.key_facts is None:
            raise StateUnusable("the verified state names no key facts")
        try:
            text = self.facts_path(state.origin).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StateUnusable(f"they cannot be read: {exc}") from None
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != state.key_facts:
            raise StateUnusable("they are not the ones the verified state names (hash)")
        return text

    def save(self, state: VerifiedState, key_facts: str | None = None) -> None:
        """Replace the state of `state.origin` atomically (temp file, fsync, rename);
        with `key_facts`, write them first, then the state naming their hash, so a
        crash in between leaves a state that does not name them."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if key_facts is not None:
            self._write(self.facts_path(state.origin), key_facts)
            digest = hashlib.sha256(key_facts.encode("utf-8")).hexdigest()
            state = replace(state, key_facts=digest)
        else:
            state = replace(state, key_facts=None)
        self._write(self.path(state.origin), state.to_json())

    def _write(self, path: Path, text: str) -> None:
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
