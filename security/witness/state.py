"""A witness's key and state, kept in its own folder (never the ledger's database).

Files of DIR:
- `witness.key`: JSON `{"name", "seed"}` (base64 Ed25519 seed), mode 0600;
- `logs.json`: the accepted logs, `{origin: {"vkey": <log vkey>, "size", "root",
  "note"}}`: their verifier key and the latest checkpoint cosigned for them.

Every change is written to a temporary file, fsynced and renamed over the old one
(and the folder fsynced), under a lock (a thread lock and an fcntl lock on DIR/lock),
so the check of the old size and the update are one atomic step, as tlog-witness asks.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.checkpoints import parse_verifier_key
from ledger_verify.cosignature import cosigner_vkey

KEY_FILE = "witness.key"
LOGS_FILE = "logs.json"
DEFAULT_NAME = "crm-ledger.local/witness"


class WitnessStateError(Exception):
    """The witness folder is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class LogState:
    """What the witness knows of one log: its key and latest cosigned checkpoint."""

    origin: str
    vkey: str
    size: int = 0
    root: bytes = b""
    note: str = ""


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` via a temporary file, fsync and rename, then fsync the folder."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def create_key(directory: Path, name: str = DEFAULT_NAME) -> str:
    """Create DIR/witness.key (refusing to overwrite one) and return the witness vkey."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KEY_FILE
    if path.exists():
        raise WitnessStateError(f"{path} exists; a witness keeps its key")
    key = Ed25519PrivateKey.generate()
    vkey = cosigner_vkey(name, key.public_key())  # validates the name
    seed = base64.b64encode(key.private_bytes_raw()).decode("ascii")
    write_atomically(path, json.dumps({"name": name, "seed": seed}).encode(), 0o600)
    return vkey


class WitnessState:
    """The witness folder: its key and the state of each accepted log."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        try:
            raw = json.loads((directory / KEY_FILE).read_text("utf-8"))
            self.name: str = raw["name"]
            self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw["seed"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WitnessStateError(
                f"no usable witness key in {directory / KEY_FILE} (run `ledger witness key`): {exc}"
            ) from None

    @property
    def vkey(self) -> str:
        return cosigner_vkey(self.name, self.key.public_key())

    def _read(self) -> dict[str, Any]:
        path = self.directory / LOGS_FILE
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise WitnessStateError(f"{path} cannot be read: {exc}") from None
        if not isinstance(data, dict):
            raise WitnessStateError(f"{path} must hold a JSON object")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        write_atomically(
            self.directory / LOGS_FILE, json.dumps(data, indent=1, sort_keys=True).encode()
        )

    @contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """The logs' state, locked against other threads and processes until the block
        ends; the block saves changes with `save`."""
        with self._lock, open(self.directory / "lock", "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield self._read()
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def save(self, data: dict[str, Any]) -> None:
        """Persist `data` (call inside `locked`)."""
        self._write(data)

    def add_log(self, vkey: str, origin: str | None = None) -> str:
        """Accept the log whose checkpoints `vkey` signs (origin: the key name unless
        given); returns the origin. Keeps the state of a log already known."""
        name, _kid, _pub = parse_verifier_key(vkey)
        origin = origin or name
        with self.locked() as data:
            entry = data.get(origin) or {"size": 0, "root": "", "note": ""}
            entry["vkey"] = vkey.strip()
            data[origin] = entry
            self.save(data)
        return origin

    @staticmethod
    def log(data: dict[str, Any], origin: str) -> LogState | None:
        entry = data.get(origin)
        if not isinstance(entry, dict):
            return None
        return LogState(
            origin,
            str(entry["vkey"]),
            int(entry.get("size", 0)),
            base64.b64decode(entry.get("root") or ""),
            str(entry.get("note", "")),
        )

    def logs(self) -> list[LogState]:
        with self.locked() as data:
            return [s for origin in sorted(data) if (s := self.log(data, origin)) is not None]
