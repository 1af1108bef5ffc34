"""The keyring: key-encryption keys (KEKs), the log signing key and the blind-index key.

Data keys (DEKs) are never stored in clear: they are wrapped by a KEK from this
keyring (AES-256-GCM, associated data naming the DEK and its subject). The keyring
comes from, in order of precedence:

1. `LEDGER_KEYRING`: the keyring JSON itself (for containers and secret managers);
2. `LEDGER_KEYRING_FILE`: a path to the keyring JSON;
3. `<LEDGER_DATA_DIR>/keyring.json`: a development keyring, generated on first run
   with a warning. Never use it in production.

With `LEDGER_PKCS11_*` set the keyring is an HSM's instead (`HsmKeyring`,
security/keys/pkcs11.py): the KEKs and the signing key stay in the token and the
keyring file holds no secret. Any other object implementing `KeyWrapper` and the
rest of `HsmKeyring`'s surface (e.g. a HashiCorp Vault transit adapter) could take
its place: see docs/operations.md.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from security.errors import KeyringError

if TYPE_CHECKING:
    from security.keys.pkcs11 import HsmKeyring

log = logging.getLogger(__name__)

KEYRING_FORMAT = "crm-ledger-keyring/1"
NONCE_SIZE = 12


class KeyWrapper(Protocol):
    """What the key store needs from a KEK holder (local keyring or a KMS)."""

    def active_kek_id(self) -> str:
        """The id of the KEK that wraps new data keys."""

    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        """Wrap a data key under the active KEK; returns (kek id, wrapped bytes)."""

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        """Unwrap a data key wrapped by `kek_id`; raises KeyringError if impossible."""


@dataclass(frozen=True)
class Kek:
    """One key-encryption key with its creation time (for rotation checks)."""

    kek_id: str
    key: bytes
    created_at: datetime


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise KeyringError(f"keyring: {what} is not valid base64") from exc


def new_kek_id(now: datetime | None = None) -> str:
    """A fresh KEK id: creation date plus a random suffix, e.g. kek-20261129-3f9a1c."""
    moment = now or datetime.now(UTC)
    return f"kek-{moment:%Y%m%d}-{secrets.token_hex(3)}"


class KekRecord(Protocol):
    """What every keyring knows of a KEK: its id and creation time."""

    @property
    def kek_id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


K = TypeVar("K", bound=KekRecord)


def write_private_file(target: Path, text: str) -> None:
    """Write `text` to `target` atomically (temp file + rename), mode 0600."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".keyring-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class KekFile(ABC, Generic[K]):
    """What the keyrings kept in a file share: their KEKs by id, the active one, and
    re-reading the file when another process rotated it (so rotation needs no
    restart). Subclasses parse their file in `_read_keks`."""

    _keks: dict[str, K]
    _active: str
    source: Path | None

    def _init_keks(self, keks: Mapping[str, K], active: str, source: Path | None) -> None:
        if active not in keks:
            raise KeyringError("keyring: the active KEK is not among its keys")
        self._keks = dict(keks)
        self._active = active
        self.source = source
        self._lock = threading.Lock()
        self._seen_mtime = self._mtime()

    @abstractmethod
    def _read_keks(self, text: str) -> tuple[dict[str, K], str]:
        """The KEKs and the active id of a keyring file's text."""

    @abstractmethod
    def to_json(self) -> str:
        """The keyring file's text."""

    def save(self, path: Path | None = None) -> None:
        """Write the keyring atomically (temp file + rename), readable by the owner only."""
        target = path or self.source
        if target is None:
            raise KeyringError("keyring: no file to save to (it came from an env var)")
        write_private_file(target, self.to_json())
        if target == self.source:
            self._seen_mtime = self._mtime()

    def active_kek_id(self) -> str:
        """The id of the KEK that wraps new data keys, as the keyring file says now.

        Another process may have rotated the file: a changed file is re-read, so no
        process keeps wrapping new data keys under a KEK that was retired.
        """
        if self.source is not None and self._mtime() != self._seen_mtime:
            self._reload()
        with self._lock:
            return self._active

    def kek_ids(self) -> list[str]:
        """Ids of every KEK held, oldest first."""
        with self._lock:
            return [k.kek_id for k in sorted(self._keks.values(), key=lambda k: k.created_at)]

    def kek(self, kek_id: str) -> K:
        """The KEK with this id; re-reads the keyring file once if it is unknown."""
        with self._lock:
            found = self._keks.get(kek_id)
        if found is None:
            self._reload()
            with self._lock:
                found = self._keks.get(kek_id)
        if found is None:
            raise KeyringError(f"keyring: KEK {kek_id} is not in the keyring")
        return found

    def _hold(self, kek: K, activate: bool) -> K:
        """Keep a new KEK, and make it the active one if `activate`."""
        with self._lock:
            self._keks[kek.kek_id] = kek
            if activate:
                self._active = kek.kek_id
        return kek

    def _refuse_removal(self, kek_id: str) -> None:
        """KeyringError unless `kek_id` is held and not active (lock held)."""
        if kek_id == self._active:
            raise KeyringError(f"keyring: {kek_id} is the active KEK and cannot be retired")
        if kek_id not in self._keks:
            raise KeyringError(f"keyring: KEK {kek_id} is not in the keyring")

    def _mtime(self) -> int | None:
        try:
            return None if self.source is None else self.source.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _reload(self) -> None:
        if self.source is None or not self.source.exists():
            return
        mtime = self._mtime()
        keks, active = self._read_keks(self.source.read_text(encoding="utf-8"))
        with self._lock:
            self._keks.update(keks)
            self._active = active
            self._seen_mtime = mtime


class LocalKeyring(KekFile[Kek]):
    """KEKs, signing key and index key held in memory, loaded from JSON.

    Thread-safe. When a DEK names a KEK this process has not seen (another process
    rotated the keyring file), the file is re-read once, so rotation needs no restart.
    """

    def __init__(
        self,
        keks: Mapping[str, Kek],
        active: str,
        signing_seed: bytes,
        index_key: bytes,
        source: Path | None = None,
    ) -> None:
        for kek in keks.values():
            if len(kek.key) != 32:
                raise KeyringError(f"keyring: KEK {kek.kek_id} is not 32 bytes")
        if len(signing_seed) != 32 or len(index_key) != 32:
            raise KeyringError("keyring: signing and index keys must be 32 bytes")
        self._init_keks(keks, active, source)
        self._signing_seed = signing_seed
        self._index_key = index_key

    # --- construction -----------------------------------------------------------------

    @classmethod
    def generate(cls, source: Path | None = None) -> LocalKeyring:
        """A new keyring with one KEK, a signing key and an index key."""
        kek = Kek(new_kek_id(), AESGCM.generate_key(256), datetime.now(UTC))
        return cls(
            {kek.kek_id: kek}, kek.kek_id, secrets.token_bytes(32), secrets.token_bytes(32), source
        )

    @classmethod
    def from_json(cls, text: str, source: Path | None = None) -> LocalKeyring:
        """Parse the keyring JSON; raises KeyringError naming what is wrong."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KeyringError("keyring: not valid JSON") from exc
        if not isinstance(data, dict) or data.get("format") != KEYRING_FORMAT:
            raise KeyringError(f"keyring: format must be {KEYRING_FORMAT!r}")
        try:
            keks = {
                kek_id: Kek(
                    kek_id,
                    _unb64(entry["key"], f"KEK {kek_id}"),
                    datetime.fromisoformat(entry["created_at"]),
                )
                for kek_id, entry in data["keks"].items()
            }
            return cls(
                keks,
                data["active_kek"],
                _unb64(data["signing_key"], "signing_key"),
                _unb64(data["index_key"], "index_key"),
                source,
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            if isinstance(exc, KeyringError):
                raise
            raise KeyringError(f"keyring: missing or malformed field ({exc})") from exc

    def to_json(self) -> str:
        """The keyring as JSON (contains secrets: write it only to protected places)."""
        with self._lock:
            data: dict[str, Any] = {
                "format": KEYRING_FORMAT,
                "active_kek": self._active,
                "keks": {
                    k.kek_id: {"key": _b64(k.key), "created_at": k.created_at.isoformat()}
                    for k in self._keks.values()
                },
                "signing_key": _b64(self._signing_seed),
                "index_key": _b64(self._index_key),
            }
        return json.dumps(data, indent=2, sort_keys=True)

    def save_new(self, path: Path) -> LocalKeyring:
        """Write the keyring to `path` only if no keyring is there yet; returns the
        keyring that is there afterwards (this one, or one another process wrote first)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keyring-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # atomic, and fails if another process got there first
            except FileExistsError:
                return LocalKeyring.from_json(path.read_text(encoding="utf-8"), path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        self.source = path
        self._seen_mtime = self._mtime()
        return self

    # --- KEKs ------------------------------------------------------------------------

    def _read_keks(self, text: str) -> tuple[dict[str, Kek], str]:
        fresh = LocalKeyring.from_json(text, self.source)
        return fresh._keks, fresh._active

    def add_kek(self, *, activate: bool = True) -> Kek:
        """Create a new KEK (and make it active unless told otherwise)."""
        kek = Kek(new_kek_id(), AESGCM.generate_key(256), datetime.now(UTC))
        while kek.kek_id in self.kek_ids():  # vanishingly rare id clash
            kek = Kek(new_kek_id(), kek.key, kek.created_at)
        return self._hold(kek, activate)

    def remove_kek(self, kek_id: str) -> None:
        """Forget a retired KEK; the active one cannot be removed."""
        with self._lock:
            self._refuse_removal(kek_id)
            del self._keks[kek_id]

    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        """Wrap `dek` under the active KEK: nonce ‖ AES-256-GCM(dek, aad)."""
        kek = self.kek(self.active_kek_id())
        nonce = secrets.token_bytes(NONCE_SIZE)
        return kek.kek_id, nonce + AESGCM(kek.key).encrypt(nonce, dek, aad)

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        """Unwrap a data key; KeyringError if the KEK is unknown or the bytes are wrong."""
        kek = self.kek(kek_id)
        try:
            return AESGCM(kek.key).decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], aad)
        except InvalidTag as exc:
            raise KeyringError(f"keyring: a data key failed to unwrap under {kek_id}") from exc

    # --- other keys ------------------------------------------------------------------

    def signing_key(self) -> Ed25519PrivateKey:
        """The Ed25519 key that signs Merkle log checkpoints."""
        return Ed25519PrivateKey.from_private_bytes(self._signing_seed)

    def signing_seed(self) -> bytes:
        """The signing key's 32-byte seed (only to import it into an HSM: keys init --hsm)."""
        return self._signing_seed

    def index_key(self) -> bytes:
        """The HMAC key of the blind indexes (exact-match search on personal fields)."""
        return self._index_key

    def readiness(self) -> str:
        """ "ok", or why the keyring cannot serve (for /readyz)."""
        try:
            self.kek(self.active_kek_id())
        except KeyringError:
            return "not loaded"
        return "ok"

    def close(self) -> None:
        """Nothing to release: the keys are in memory."""


# the keyring of a deployment: a file (or env var) keyring, or an HSM's
Keyring: TypeAlias = Union["LocalKeyring", "HsmKeyring"]


def refuse_shared_keyring(path: Path) -> None:
    """KeyringError when the keyring file may be read by its group or by others: it holds
    every key-encryption key and the log's signing key, so its owner alone may read it."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise KeyringError(
            f"keyring: {path} is readable by group or others (mode {mode & 0o777:03o}); "
            f"run: chmod 600 {path}"
        )


def _read_keyring_file(path: Path) -> LocalKeyring:
    refuse_shared_keyring(path)
    return LocalKeyring.from_json(path.read_text(encoding="utf-8"), path)


def keyring_path(env: Mapping[str, str], data_dir: Path) -> Path:
    """Where the keyring file is: LEDGER_KEYRING_FILE, else `<data dir>/keyring.json`."""
    configured = env.get("LEDGER_KEYRING_FILE", "").strip()
    return Path(configured) if configured else data_dir / "keyring.json"


def load_keyring(env: Mapping[str, str], data_dir: Path) -> Keyring:
    """Load the keyring from env or file, or generate the development keyring.

    Generation happens only for the default location in the data dir, and logs a
    warning: a keyring next to the data it protects is for development only. A keyring
    file readable by group or others is refused (KeyringError). With LEDGER_PKCS11_*
    set the keyring file must be an HSM keyring (security.keys.pkcs11), made by
    `ledger keys init --hsm`; nothing is generated.
    """
    from security.keys.pkcs11 import HsmKeyring, Token, TokenConfig, is_hsm_keyring

    token = TokenConfig.from_env(env)
    inline = env.get("LEDGER_KEYRING", "").strip()
    path = keyring_path(env, data_dir)
    if token is not None:
        if inline or not path.exists():
            raise KeyringError(
                "keyring: LEDGER_PKCS11_* is set but there is no HSM keyring file "
                f"at {path}: run `ledger keys init --hsm`"
            )
        refuse_shared_keyring(path)
        text = path.read_text(encoding="utf-8")
        if not is_hsm_keyring(text):
            raise KeyringError(
                f"keyring: {path} is a file keyring: run `ledger keys init --hsm` to move "
                "its keys into the HSM"
            )
        return HsmKeyring.from_json(text, Token(token), path)
    if inline:
        return LocalKeyring.from_json(inline)
    if env.get("LEDGER_KEYRING_FILE", "").strip() and not path.exists():
        raise KeyringError(f"keyring: LEDGER_KEYRING_FILE {path} does not exist")
    if path.exists():
        if is_hsm_keyring(path.read_text(encoding="utf-8")):
            raise KeyringError(f"keyring: {path} is an HSM keyring: set LEDGER_PKCS11_*")
        return _read_keyring_file(path)
    log.warning(
        "generating a DEVELOPMENT keyring at %s; production must set LEDGER_KEYRING_FILE "
        "or LEDGER_KEYRING",
        path,
    )
    return LocalKeyring.generate().save_new(path)
