"""Keys in a hardware security module over PKCS#11 (tested against SoftHSM2).

With `LEDGER_PKCS11_MODULE` (the module's path), `LEDGER_PKCS11_TOKEN` (the token's
label) and `LEDGER_PKCS11_PIN_FILE` (a file, readable by its owner only, holding the
user PIN) set, the keyring is an `HsmKeyring`:

- each KEK is an AES-256 secret key object in the token, `CKA_SENSITIVE` and not
  `CKA_EXTRACTABLE`, labelled `crm-ledger/kek/<kek id>`. Data keys are wrapped and
  unwrapped by the token (`C_Encrypt`/`C_Decrypt`), never by this process;
- the mechanism is recorded per KEK in the keyring file, and so per wrapped data key
  (each `ledger_keys` row names its KEK): `aes-gcm` (CKM_AES_GCM, 96-bit nonce chosen
  here, 128-bit tag, the row's associated data; the stored bytes are nonce ‖ ciphertext
  ‖ tag, the file keyring's layout) or `aes-kwp` (CKM_AES_KEY_WRAP_PAD, RFC 5649, for
  tokens without GCM: the token wraps DEK ‖ SHA-256(associated data) as a session key
  object, so the binding to the row holds there too). `ledger keys rotate` creates the
  new KEK with the best mechanism the token offers and re-wraps every data key, so a
  rotation can move between mechanisms;
- the log signing key (both logs, as with the file keyring) is an Ed25519 key pair
  (CKK_EC_EDWARDS, CKM_EDDSA), the private half sensitive and not extractable. Ed25519
  is deterministic: the token's signatures are the very bytes a software key would
  make, so checkpoints stay C2SP signed notes that openssl and Go's sumdb verify;
- the blind-index key (HMAC of exact-match search, and the default token secret) is a
  generic secret object readable only after login with the PIN: indexes are computed
  per field on every write and search, so it lives in process memory like a DEK.

The keyring file (`LEDGER_KEYRING_FILE` or `<data dir>/keyring.json`) then holds no
secret: its format is `crm-ledger-keyring/pkcs11-1` and it lists the KEK ids, their
creation times and mechanisms, and which one is active.

The token unreachable or refusing (no session, logged out, device removed) raises
`KeyServiceUnavailable`, a StoreFault: the web layer answers 503 with Retry-After and
nothing is written (the wrap happens before the event's transaction). Data keys
already cached (security.keys.data_keys.CACHE_SECONDS) keep serving reads.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from security.errors import KeyringError
from security.keys.keyring import NONCE_SIZE, KekFile, LocalKeyring, new_kek_id
from security.settings import refuse_shared_secret_file
from security.store_faults import StoreUnavailable

HSM_FORMAT = "crm-ledger-keyring/pkcs11-1"
PKCS11_VARIABLES = ("LEDGER_PKCS11_MODULE", "LEDGER_PKCS11_TOKEN", "LEDGER_PKCS11_PIN_FILE")
KEK_LABEL = "crm-ledger/kek/"
SIGNING_LABEL = "crm-ledger/log-signing"
INDEX_LABEL = "crm-ledger/index"
ED25519_OID = "1.3.101.112"
GCM = "aes-gcm"
KWP = "aes-kwp"
MECHANISMS = (GCM, KWP)  # preferred first
KWP_CHECK = 32  # bytes of SHA-256(associated data) wrapped beside the DEK

T = TypeVar("T")


_MODULE_LOCKS: dict[str, threading.RLock] = {}
_MODULE_LOCKS_GUARD = threading.Lock()


class KeyServiceUnavailable(StoreUnavailable):
    """The HSM cannot be reached or refuses to work: nothing was recorded."""

    code = "key_service_unavailable"


UNAVAILABLE = "the key service (HSM) is unavailable; nothing was recorded, retry later"


@dataclass(frozen=True)
class HsmKek:
    """A KEK held by the token: its id, creation time and wrapping mechanism."""

    kek_id: str
    created_at: datetime
    mechanism: str


@dataclass(frozen=True)
class TokenConfig:
    """Where the token is: the PKCS#11 module, the token label and the PIN."""

    module: str
    token: str
    pin: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TokenConfig | None:
        """The token of LEDGER_PKCS11_*; None when none is configured; KeyringError when
        only some are set or the PIN file cannot be used."""
        values = {name: (env.get(name) or "").strip() for name in PKCS11_VARIABLES}
        if not any(values.values()):
            return None
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise KeyringError(f"keyring: set {', '.join(missing)} too (an HSM needs all three)")
        pin_path = Path(values["LEDGER_PKCS11_PIN_FILE"])
        try:
            refuse_shared_secret_file(pin_path, "LEDGER_PKCS11_PIN_FILE")
            pin = pin_path.read_text(encoding="utf-8").strip()
        except Exception as exc:
            raise KeyringError(f"keyring: {exc}") from None
        if not pin:
            raise KeyringError(f"keyring: LEDGER_PKCS11_PIN_FILE {str(pin_path)!r} is empty")
        return cls(values["LEDGER_PKCS11_MODULE"], values["LEDGER_PKCS11_TOKEN"], pin)


class Token:
    """One logged-in session with the token, used under a lock, reopened after a fault.

    Every call goes through `run`: a PKCS#11 error that is about the device, the session
    or the login (not about the data) becomes KeyServiceUnavailable, and the session is
    dropped so that the next call opens a fresh one.
    """

    def __init__(self, config: TokenConfig) -> None:
        try:
            import pkcs11  # optional dependency: `pip install crm-ledger[hsm]`
        except ImportError:
            raise KeyringError(
                "keyring: LEDGER_PKCS11_* is set but python-pkcs11 is not installed "
                "(pip install 'crm-ledger[hsm]')"
            ) from None

        self.config = config
        self._pkcs11 = pkcs11
        # python-pkcs11 initialises the module with no locking arguments, which tells
        # it that no two threads call it at once: every token of this process on the
        # same module shares one lock
        with _MODULE_LOCKS_GUARD:
            self._lock = _MODULE_LOCKS.setdefault(config.module, threading.RLock())
        self._session: Any = None
        # object handles of this session, by (label, class); dropped with the session
        self._handles: dict[tuple[str, Any], Any] = {}
        try:
            self._lib = pkcs11.lib(config.module)
        except Exception as exc:
            raise KeyringError(
                f"keyring: the PKCS#11 module {config.module!r} cannot be loaded ({exc})"
            ) from None

    def _open(self) -> Any:
        if self._session is None:
            token = self._lib.get_token(token_label=self.config.token)
            try:
                self._session = token.open(rw=True, user_pin=self.config.pin)
            except self._pkcs11.exceptions.UserAlreadyLoggedIn:
                # the login is the process's: another keyring's session holds it
                self._session = token.open(rw=True)
        return self._session

    def run(self, operation: Callable[[Any], T]) -> T:
        """`operation(session)` under the lock; KeyServiceUnavailable when the token
        is away or refuses the session (KeyringError, e.g. a bad tag, passes through)."""
        pkcs11 = self._pkcs11
        with self._lock:
            try:
                return operation(self._open())
            except KeyringError:
                raise
            except (pkcs11.exceptions.NoSuchToken, pkcs11.exceptions.PinIncorrect) as exc:
                self._drop()
                raise KeyServiceUnavailable(UNAVAILABLE) from exc
            except pkcs11.exceptions.PKCS11Error as exc:
                self._drop()
                raise KeyServiceUnavailable(UNAVAILABLE) from exc

    def held(self) -> threading.RLock:
        """The token's lock, for a handle found and used in one hold: no other thread
        can drop the session (after a fault) between the two."""
        return self._lock

    def probe(self) -> None:
        """Raise KeyServiceUnavailable unless the token answers a trivial request."""
        self.run(lambda session: session.generate_random(64))

    def _drop(self) -> None:
        self._handles.clear()
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception:  # the session is gone already: nothing to close
                self._session = None

    def mechanisms(self) -> list[str]:
        """The wrapping mechanisms (of MECHANISMS) the token offers, preferred first."""
        mech = self._pkcs11.Mechanism
        offered = self.run(lambda session: set(session.token.slot.get_mechanisms()))
        wanted = {GCM: mech.AES_GCM, KWP: mech.AES_KEY_WRAP_PAD}
        return [name for name in MECHANISMS if wanted[name] in offered]

    def find(self, label: str, object_class: Any) -> Any:
        """The one object with this label and class; KeyringError when there is none."""

        def lookup(session: Any) -> Any:
            cached = self._handles.get((label, object_class))
            if cached is not None:
                return cached
            template = {self._attr.LABEL: label, self._attr.CLASS: object_class}
            found = list(session.get_objects(template))
            if not found:
                raise KeyringError(f"keyring: the token holds no {label}")
            self._handles[(label, object_class)] = found[0]
            return found[0]

        return self.run(lookup)

    def forget(self, label: str) -> None:
        """Drop the cached handles of objects with this label (destroyed)."""
        with self._lock:
            for key in [key for key in self._handles if key[0] == label]:
                del self._handles[key]

    @property
    def _attr(self) -> Any:
        return self._pkcs11.Attribute

    def close(self) -> None:
        with self._lock:
            self._drop()


class HsmSigner(Ed25519PrivateKey):
    """The log's Ed25519 signing key, in the token: `sign` is done by it; the private
    bytes cannot be had (KeyringError), as the token refuses to give them."""

    def __init__(self, token: Token, public: Ed25519PublicKey) -> None:
        self._token = token
        self._public = public

    def public_key(self) -> Ed25519PublicKey:
        return self._public

    def sign(self, data: bytes | bytearray | memoryview) -> bytes:
        message = bytes(data)
        token = self._token
        ocls = token._pkcs11.ObjectClass
        mech = token._pkcs11.Mechanism
        with token.held():
            key = token.find(SIGNING_LABEL, ocls.PRIVATE_KEY)
            return bytes(token.run(lambda _: key.sign(message, mechanism=mech.EDDSA)))

    def private_bytes(self, *args: Any, **kwargs: Any) -> bytes:
        raise KeyringError("keyring: the signing key is in the HSM and never leaves it")

    def private_bytes_raw(self) -> bytes:
        raise KeyringError("keyring: the signing key is in the HSM and never leaves it")

    def __copy__(self) -> HsmSigner:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> HsmSigner:
        return self


class HsmKeyring(KekFile[HsmKek]):
    """The keyring of a token (see the module docstring); thread-safe. Like
    LocalKeyring it re-reads its file when another process rotated it."""

    def __init__(
        self,
        token: Token,
        keks: Mapping[str, HsmKek],
        active: str,
        source: Path | None = None,
    ) -> None:
        self.token = token
        self._init_keks(keks, active, source)
        self._signer: HsmSigner | None = None
        self._index_key: bytes | None = None

    # --- construction -----------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str, token: Token, source: Path | None = None) -> HsmKeyring:
        try:
            data = json.loads(text)
            if data.get("format") != HSM_FORMAT:
                raise KeyringError(f"keyring: format must be {HSM_FORMAT!r}")
            keks = {
                kek_id: HsmKek(
                    kek_id, datetime.fromisoformat(entry["created_at"]), entry["mechanism"]
                )
                for kek_id, entry in data["keks"].items()
            }
            return cls(token, keks, data["active_kek"], source)
        except KeyringError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyringError(f"keyring: missing or malformed field ({exc})") from None

    def to_json(self) -> str:
        """The keyring file: ids, times, mechanisms; no secret."""
        with self._lock:
            data = {
                "format": HSM_FORMAT,
                "token": self.token.config.token,
                "active_kek": self._active,
                "keks": {
                    k.kek_id: {"created_at": k.created_at.isoformat(), "mechanism": k.mechanism}
                    for k in self._keks.values()
                },
            }
        return json.dumps(data, indent=2, sort_keys=True)

    # --- KEKs ------------------------------------------------------------------------

    def _read_keks(self, text: str) -> tuple[dict[str, HsmKek], str]:
        fresh = HsmKeyring.from_json(text, self.token)
        return fresh._keks, fresh._active

    def add_kek(self, *, activate: bool = True, mechanism: str | None = None) -> HsmKek:
        """Generate a new KEK in the token, with `mechanism` or the best one offered."""
        offered = self.token.mechanisms()
        chosen = mechanism or (offered[0] if offered else "")
        if chosen not in offered:
            raise KeyringError(f"keyring: the token does not offer {chosen or 'AES-GCM or KWP'}")
        kek = HsmKek(new_kek_id(), datetime.now(UTC), chosen)
        generate_kek(self.token, kek.kek_id)
        return self._hold(kek, activate)

    def remove_kek(self, kek_id: str) -> None:
        """Retire a KEK: it is destroyed in the token."""
        with self._lock:
            self._refuse_removal(kek_id)
        with self.token.held():
            key = self._kek_object(kek_id)
            self.token.run(lambda _: key.destroy())
        self.token.forget(KEK_LABEL + kek_id)
        with self._lock:
            del self._keks[kek_id]

    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        """Wrap `dek` under the active KEK, in the token."""
        kek = self.kek(self.active_kek_id())
        with self.token.held():
            key = self._kek_object(kek.kek_id)
            p11 = self.token._pkcs11
            if kek.mechanism == GCM:
                nonce = secrets.token_bytes(NONCE_SIZE)
                params = p11.GCMParams(nonce, aad, 128)
                sealed = self.token.run(
                    lambda _: key.encrypt(
                        dek, mechanism=p11.Mechanism.AES_GCM, mechanism_param=params
                    )
                )
                return kek.kek_id, nonce + bytes(sealed)
            return kek.kek_id, self._kwp_wrap(key, dek + hashlib.sha256(aad).digest())

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        """Unwrap a data key in the token; KeyringError when the bytes are wrong,
        KeyServiceUnavailable when the token is."""
        kek = self.kek(kek_id)
        with self.token.held():
            key = self._kek_object(kek_id)
            p11 = self.token._pkcs11
            try:
                if kek.mechanism == GCM:
                    params = p11.GCMParams(wrapped[:NONCE_SIZE], aad, 128)
                    return bytes(
                        self.token.run(
                            lambda _: key.decrypt(
                                wrapped[NONCE_SIZE:],
                                mechanism=p11.Mechanism.AES_GCM,
                                mechanism_param=params,
                            )
                        )
                    )
                value = self._kwp_unwrap(key, wrapped)
            except KeyServiceUnavailable:
                # a bad tag is CKR_GENERAL_ERROR on some tokens: if the token still answers,
                # it was the bytes, not the token
                self.token.probe()
                raise KeyringError(f"keyring: a data key failed to unwrap under {kek_id}") from None
        if len(value) <= KWP_CHECK or value[-KWP_CHECK:] != hashlib.sha256(aad).digest():
            raise KeyringError(f"keyring: a data key failed to unwrap under {kek_id}")
        return value[:-KWP_CHECK]

    def _kwp_wrap(self, key: Any, value: bytes) -> bytes:
        p11 = self.token._pkcs11
        a = p11.Attribute

        def wrap(session: Any) -> bytes:
            secret = session.create_object(
                {
                    a.CLASS: p11.ObjectClass.SECRET_KEY,
                    a.KEY_TYPE: p11.KeyType.GENERIC_SECRET,
                    a.VALUE: value,
                    a.TOKEN: False,
                    a.EXTRACTABLE: True,
                    a.SENSITIVE: False,
                }
            )
            try:
                return bytes(key.wrap_key(secret, mechanism=p11.Mechanism.AES_KEY_WRAP_PAD))
            finally:
                secret.destroy()

        return self.token.run(wrap)

    def _kwp_unwrap(self, key: Any, wrapped: bytes) -> bytes:
        p11 = self.token._pkcs11
        a = p11.Attribute

        def unwrap(session: Any) -> bytes:
            secret = key.unwrap_key(
                p11.ObjectClass.SECRET_KEY,
                p11.KeyType.GENERIC_SECRET,
                wrapped,
                mechanism=p11.Mechanism.AES_KEY_WRAP_PAD,
                store=False,
                template={a.SENSITIVE: False, a.EXTRACTABLE: True},
            )
            try:
                return bytes(secret[a.VALUE])
            finally:
                secret.destroy()

        return self.token.run(unwrap)

    def _kek_object(self, kek_id: str) -> Any:
        return self.token.find(KEK_LABEL + kek_id, self.token._pkcs11.ObjectClass.SECRET_KEY)

    # --- other keys ------------------------------------------------------------------

    def signing_key(self) -> Ed25519PrivateKey:
        """The token's log signing key (sign only; its private bytes never leave)."""
        if self._signer is None:
            with self.token.held():
                public = self.token.find(SIGNING_LABEL, self.token._pkcs11.ObjectClass.PUBLIC_KEY)
                point = self.token.run(lambda _: bytes(public[self.token._attr.EC_POINT]))
            self._signer = HsmSigner(
                self.token, Ed25519PublicKey.from_public_bytes(_raw_point(point))
            )
        return self._signer

    def index_key(self) -> bytes:
        """The blind-index key, read from the token after login."""
        if self._index_key is None:
            with self.token.held():
                obj = self.token.find(INDEX_LABEL, self.token._pkcs11.ObjectClass.SECRET_KEY)
                self._index_key = self.token.run(lambda _: bytes(obj[self.token._attr.VALUE]))
        return self._index_key

    def readiness(self) -> str:
        """ "ok", or why the token cannot serve (for /readyz)."""
        try:
            active = self.active_kek_id()
            with self.token.held():
                key = self._kek_object(active)
                self.token.run(lambda _: key[self.token._attr.LABEL])  # the token answers
        except KeyServiceUnavailable as exc:
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "unknown"
            return f"unavailable: {exc.code} ({cause})"
        except KeyringError:
            return "unavailable: the active KEK is missing from the token"
        return "ok"

    def close(self) -> None:
        self.token.close()


def _raw_point(point: bytes) -> bytes:
    """The 32 raw bytes of an Ed25519 CKA_EC_POINT (a DER OCTET STRING, or raw)."""
    if len(point) == 34 and point[:2] == b"\x04\x20":
        return point[2:]
    if len(point) == 32:
        return point
    raise KeyringError("keyring: the token's signing public key is not an Ed25519 point")


def _secret_template(p11: Any, label: str) -> dict[Any, Any]:
    a = p11.Attribute
    return {
        a.LABEL: label,
        a.TOKEN: True,
        a.PRIVATE: True,
        a.SENSITIVE: True,
        a.EXTRACTABLE: False,
        a.ENCRYPT: True,
        a.DECRYPT: True,
        a.WRAP: True,
        a.UNWRAP: True,
    }


def generate_kek(token: Token, kek_id: str) -> None:
    """A new non-extractable, sensitive AES-256 KEK generated by the token."""
    p11 = token._pkcs11
    template = _secret_template(p11, KEK_LABEL + kek_id)
    token.run(
        lambda session: session.generate_key(
            p11.KeyType.AES, 256, label=KEK_LABEL + kek_id, store=True, template=template
        )
    )


def _import_kek(token: Token, kek_id: str, key: bytes) -> None:
    p11 = token._pkcs11
    a = p11.Attribute
    template = {
        a.CLASS: p11.ObjectClass.SECRET_KEY,
        a.KEY_TYPE: p11.KeyType.AES,
        a.VALUE: key,
        **_secret_template(p11, KEK_LABEL + kek_id),
    }
    token.run(lambda session: session.create_object(template))


def _signing_key(token: Token, seed: bytes | None) -> None:
    """Generate (or, migrating, import) the Ed25519 log signing key into the token."""
    from pkcs11.util.ec import encode_named_curve_parameters

    p11 = token._pkcs11
    a = p11.Attribute
    params = encode_named_curve_parameters(ED25519_OID)
    private_template = {a.SENSITIVE: True, a.EXTRACTABLE: False, a.PRIVATE: True, a.SIGN: True}
    if seed is None:
        token.run(
            lambda session: session.generate_keypair(
                p11.KeyType.EC_EDWARDS,
                store=True,
                label=SIGNING_LABEL,
                public_template={a.EC_PARAMS: params, a.VERIFY: True},
                private_template=private_template,
            )
        )
        return
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    base = {a.KEY_TYPE: p11.KeyType.EC_EDWARDS, a.EC_PARAMS: params, a.TOKEN: True}
    base[a.LABEL] = SIGNING_LABEL
    token.run(
        lambda session: session.create_object(
            {**base, a.CLASS: p11.ObjectClass.PRIVATE_KEY, a.VALUE: seed, **private_template}
        )
    )
    token.run(
        lambda session: session.create_object(
            {
                **base,
                a.CLASS: p11.ObjectClass.PUBLIC_KEY,
                a.EC_POINT: b"\x04\x20" + raw,
                a.VERIFY: True,
            }
        )
    )


def _index_key(token: Token, value: bytes) -> None:
    p11 = token._pkcs11
    a = p11.Attribute
    template = {
        a.CLASS: p11.ObjectClass.SECRET_KEY,
        a.KEY_TYPE: p11.KeyType.GENERIC_SECRET,
        a.VALUE: value,
        a.LABEL: INDEX_LABEL,
        a.TOKEN: True,
        a.PRIVATE: True,  # readable only after login with the PIN
        a.SENSITIVE: False,
        a.EXTRACTABLE: True,
    }
    token.run(lambda session: session.create_object(template))


def init_token(
    config: TokenConfig, target: Path, existing: LocalKeyring | None = None
) -> tuple[HsmKeyring, int]:
    """Create the ledger's keys in the token and write the keyring file at `target`
    (no secret in it); returns the keyring and the number of KEKs imported.

    With `existing` (a file keyring, the migration): its KEKs, signing key and index
    key are imported into the token as non-extractable objects (the index key readable
    after login), so every data key, checkpoint and blind index stays valid; the next
    `ledger keys rotate` moves the data keys to a KEK generated by the token. Refuses
    a token that already holds ledger keys."""
    token = Token(config)
    p11 = token._pkcs11
    present = token.run(
        lambda session: [
            obj
            for obj in session.get_objects({p11.Attribute.CLASS: p11.ObjectClass.SECRET_KEY})
            if str(obj.label).startswith(("crm-ledger/",))
        ]
    )
    if present:
        raise KeyringError(
            f"keyring: the token {config.token!r} already holds ledger keys: "
            "use it with LEDGER_PKCS11_*, or initialise another token"
        )
    offered = token.mechanisms()
    if not offered:
        raise KeyringError("keyring: the token offers neither CKM_AES_GCM nor CKM_AES_KEY_WRAP_PAD")
    keks: dict[str, HsmKek] = {}
    imported = 0
    if existing is None:
        kek = HsmKek(new_kek_id(), datetime.now(UTC), offered[0])
        generate_kek(token, kek.kek_id)
        keks[kek.kek_id] = kek
        active = kek.kek_id
        _signing_key(token, None)
        _index_key(token, secrets.token_bytes(32))
    else:
        if GCM not in offered:
            raise KeyringError("keyring: importing a file keyring needs CKM_AES_GCM in the token")
        for kek_id in existing.kek_ids():
            local = existing.kek(kek_id)
            _import_kek(token, kek_id, local.key)
            keks[kek_id] = HsmKek(kek_id, local.created_at, GCM)
            imported += 1
        active = existing.active_kek_id()
        _signing_key(token, existing.signing_seed())
        _index_key(token, existing.index_key())
    keyring = HsmKeyring(token, keks, active, target)
    keyring.save()
    return keyring, imported


def is_hsm_keyring(text: str) -> bool:
    """True when the keyring JSON is an HSM keyring file."""
    try:
        return bool(json.loads(text).get("format") == HSM_FORMAT)
    except (ValueError, AttributeError):
        return False
