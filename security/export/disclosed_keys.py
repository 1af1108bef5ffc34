"""The data keys an export needs, and the decryption of an event with them.

Keys are fetched in batches and cached in a bounded LRU: the key store's own cache
keeps every key it ever saw, which would grow with a million-subject export.

A shred in this process while an export runs (`KeyStore.on_shred`) drops the subject's
keys from the directory: its later events are exported as erased, never with a key
read before the shred. A shred in another process is seen only by keys fetched after
it commits (each batch reads the key table afresh, cached keys are not re-read).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from eventsourcing.persistence import Notification

from ledger_verify.leaf import event_key
from security.errors import EventAuthenticationFailed, KeyringError
from security.export.errors import ExportError
from security.keys.data_keys import KeyStore, wrap_aad
from security.keys.envelope import Envelope, decrypt_with_event_key


@dataclass(frozen=True)
class DataKey:
    """A data key by reference: whose it is, and the key (None: shredded)."""

    subject: str
    dek: bytes | None  # None: shredded


class KeyDirectory:
    """Data keys by reference, fetched in batches and cached in a bounded LRU: the
    key store's own cache keeps every key it ever saw, which would grow with a
    million-subject export.

    Listens to the key store's shreds from creation until `close()` (or the end of a
    `with` block): a shredded subject's keys read as shredded from then on."""

    def __init__(self, keystore: KeyStore, capacity: int = 8192) -> None:
        self.keystore = keystore
        self.capacity = capacity
        self.cache: OrderedDict[str, DataKey] = OrderedDict()
        self.shredded: set[str] = set()  # subjects shredded while this directory was open
        self._lock = threading.Lock()
        keystore.on_shred(self.forget)

    def forget(self, subject: str) -> None:
        """The subject was shredded: its keys, cached or fetched later, read as None."""
        with self._lock:
            self.shredded.add(subject)
            for ref, key in list(self.cache.items()):
                if key.subject == subject:
                    self.cache[ref] = DataKey(subject, None)

    def close(self) -> None:
        """Stop listening to shreds."""
        self.keystore.remove_shred_listener(self.forget)

    def __enter__(self) -> KeyDirectory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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
        fetched: list[tuple[str, DataKey]] = []
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
            fetched.append((row["dek_id"], DataKey(row["subject_id"], dek)))
        with self._lock:  # a shred that committed after the read above is seen here
            for ref, key in fetched:
                if key.subject in self.shredded:
                    key = DataKey(key.subject, None)
                self.cache[ref] = key
                self.cache.move_to_end(ref)
            while len(self.cache) > self.capacity:
                self.cache.popitem(last=False)

    def get(self, ref: str, seq: int) -> DataKey:
        """The key of reference `ref` (of the event at `seq`); ExportError if unknown."""
        key = self.cache.get(ref)
        if key is None:
            self.prefetch([ref])
            key = self.cache.get(ref)
        if key is None:
            raise ExportError(f"seq {seq} names a data key that is not stored; run `ledger verify`")
        return key


def decrypt_event(
    note: Notification, key: DataKey, seq: int
) -> tuple[dict[str, Any], bytes] | None:
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


def event_state(note: Notification, key: DataKey, seq: int) -> dict[str, Any] | None:
    """The decrypted transcoder JSON of an event, None if its subject was erased."""
    opened = decrypt_event(note, key, seq)
    return None if opened is None else opened[0]
