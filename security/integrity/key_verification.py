"""`ledger verify`, the key store part: every data-key row is either live and intact,
or destroyed by a recorded, sealed erasure.

For every row of `ledger_keys`:
- a live wrapped key must unwrap under its KEK with its associated data
  (`wrap_aad(dek_id, subject)`), so a key altered by one byte, or swapped or moved
  between rows or subjects, fails, naming the key and its subject;
- a destroyed key (`wrapped` NULL, or `shredded_at` set, or a tombstone) is lawful
  only where the event log holds an erasure event of that subject (`CustomerErased`,
  whose originator is the customer) covered by the latest checkpoint; otherwise it is
  a failure naming the subject (a key set to NULL must not read as a lawful erasure);
- a subject whose erasure is recorded must have no live key left;
- every key an event names must have a row: a subject with events but no key row
  at all fails, naming the event.
A malformed row never stops the check: it is named and the next row is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.utils import get_topic

from domain.customer import CustomerErased
from security.errors import EventAuthenticationFailed, KeyringError
from security.integrity.event_rows import event_row, one_line
from security.integrity.sealed_log import BATCH, SealedLog, SourceRow
from security.integrity.verification import ProblemReport
from security.keys.data_keys import KeyStore, wrap_aad
from security.keys.envelope import Envelope

ERASURE_TOPICS = frozenset({get_topic(CustomerErased)})
DEK_SIZE = 32


@dataclass
class KeyReport(ProblemReport):
    """The outcome of the key-store check, shaped like `VerifyReport` for printing."""

    keys: int = 0
    live: int = 0
    erased_subjects: int = 0


@dataclass(frozen=True)
class _KeyUse:
    """The first event that names a data key."""

    notification_id: int
    originator_id: str
    originator_version: int


@dataclass
class _EventFacts:
    """What the key check needs from the event log, read without any key."""

    uses: dict[str, _KeyUse] = field(default_factory=dict)
    erasures: dict[str, list[int]] = field(default_factory=dict)  # subject -> notification ids


def _rows(sealed: SealedLog) -> Iterator[SourceRow]:
    last: int | None = None
    while True:
        batch = sealed.source.rows_after(last, BATCH)
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def _event_facts(sealed: SealedLog, erasure_topics: frozenset[str]) -> _EventFacts:
    facts = _EventFacts()
    for row in _rows(sealed):
        event = event_row(row)
        if event is None:
            continue  # malformed: the event-log part names it
        if event.topic in erasure_topics:
            facts.erasures.setdefault(str(event.originator_id), []).append(event.id)
        try:
            key_ref = Envelope.unpack(event.state).key_ref
        except (EventAuthenticationFailed, ValueError, TypeError):
            continue  # not an envelope: the event-log part names it
        if key_ref not in facts.uses:
            facts.uses[key_ref] = _KeyUse(
                event.id, str(event.originator_id), event.originator_version
            )
    return facts


def _key_rows(keystore: KeyStore) -> list[Any]:
    with keystore.datastore.transaction(commit=False) as cursor:
        keystore.dialect.execute(cursor, f"SELECT * FROM {keystore.table}", ())
        return list(cursor.fetchall())


def _name(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value


def verify_keys(
    keystore: KeyStore,
    sealed: SealedLog,
    erasure_topics: frozenset[str] = ERASURE_TOPICS,
    max_problems: int = 100,
) -> KeyReport:
    """Check every row of the key store against the keyring and the event log."""
    report = KeyReport()
    facts = _event_facts(sealed, erasure_topics)
    latest = sealed.latest_checkpoint()
    signed = latest.size if latest is not None else 0

    def sealed_erasure(subject: str) -> int | None:
        """The seq of a sealed erasure event of the subject, if there is one."""
        for nid in facts.erasures.get(subject, []):
            seq = sealed.seq_of_notification(nid)
            if seq is not None and seq < signed:
                return seq
        return None

    dek_ids: set[str] = set()
    destroyed: dict[str, str] = {}  # subject -> one destroyed key's id
    live: dict[str, str] = {}  # subject -> one live key's id
    for row in _key_rows(keystore):
        report.keys += 1
        try:
            dek_id, subject = row["dek_id"], row["subject_id"]
            if not isinstance(dek_id, str) or not isinstance(subject, str):
                raise ValueError("its dek_id or subject_id is not text")
            dek_ids.add(dek_id)
            if row["wrapped"] is None or row["shredded_at"] is not None:
                destroyed.setdefault(subject, dek_id)
                continue
            kek_id = row["kek_id"]
            wrapped = row["wrapped"]
            if not isinstance(kek_id, str) or not isinstance(wrapped, bytes | memoryview):
                raise ValueError("its kek_id or wrapped key has the wrong type")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            report.add(None, f"key row {_name(row_id(row))} is malformed: {one_line(exc)}")
            continue
        try:
            dek = keystore.keyring.unwrap(kek_id, bytes(wrapped), wrap_aad(dek_id, subject))
            if len(dek) != DEK_SIZE:
                raise ValueError(f"it unwraps to {len(dek)} bytes, not {DEK_SIZE}")
        except (KeyringError, ValueError, TypeError) as exc:
            report.add(
                None,
                f"subject {subject}: data key {dek_id} does not unwrap under KEK {kek_id} with "
                f"its associated data (altered, or moved between rows or subjects): "
                f"{one_line(exc)}",
            )
            continue
        report.live += 1
        live.setdefault(subject, dek_id)

    for subject, dek_id in sorted(destroyed.items()):
        seq = sealed_erasure(subject)
        if seq is not None:
            report.erased_subjects += 1
            continue
        if facts.erasures.get(subject):
            why = "its erasure event is not sealed yet (run `ledger checkpoint`)"
        else:
            why = "no erasure event of this subject is in the event log"
        report.add(None, f"subject {subject}: data key {dek_id} was destroyed but {why}")

    for subject, dek_id in sorted(live.items()):
        if subject in facts.erasures:
            report.add(
                None,
                f"subject {subject}: its erasure is recorded (notification "
                f"{facts.erasures[subject][0]}) but data key {dek_id} is still live",
            )

    for key_ref, use in facts.uses.items():
        if key_ref in dek_ids:
            continue
        seq = sealed.seq_of_notification(use.notification_id)
        where = f"seq {seq}" if seq is not None else f"notification {use.notification_id}"
        report.add(
            seq,
            f"{where}: event {use.originator_id} v{use.originator_version} is encrypted under "
            f"data key {key_ref}, which has no row in the key store (its subject's key row "
            "was removed)",
        )
    for subject in sorted(set(facts.erasures) - set(destroyed) - set(live)):
        report.add(None, f"subject {subject}: has events but no row in the key store")
    del report.problems[max_problems:]
    return report


def row_id(row: Any) -> Any:
    """A row's dek_id, or a placeholder when even that cannot be read."""
    try:
        return row["dek_id"]
    except (KeyError, IndexError, TypeError):
        return "<unreadable>"
