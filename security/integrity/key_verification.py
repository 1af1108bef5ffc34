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

Incremental (the default of `ledger verify`): what the check needs from the events
(the keys they name, the erasures) is kept at the event log's verified size, next to
its verified state (`KeyFacts`, bound to the state by its hash), and an incremental
run reads only the events added since; every key row is still checked, since a
database administrator can NULL, alter or swap any key at any time. Its cost is
proportional to the subjects plus the events added. Missing, unreadable or
mismatching facts make the run read every event (said in the report); `--full` and
the daily `integrity_full` job always do.
"""

from __future__ import annotations

import hashlib
import json
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
FACTS_VERSION = 1


@dataclass
class KeyReport(ProblemReport):
    """The outcome of the key-store check, shaped like `VerifyReport` for printing."""

    keys: int = 0
    live: int = 0
    erased_subjects: int = 0
    mode: str = "full"
    base: int = 0
    """Incremental: the verified size of the event log whose key facts were reused."""
    fallback: str | None = None
    """Why a run asked to be incremental read every event."""
    kept: KeyFacts | None = None
    """The key facts at the event log's new verified state, to keep if all is ok."""

    def describe(self) -> str:
        """`full`, `full: <why not incremental>` or `incremental from size N`."""
        if self.mode != "full":
            return f"incremental from size {self.base}"
        return "full" if self.fallback is None else f"full: {self.fallback}"


@dataclass(frozen=True)
class _KeyUse:
    """The first event that names a data key."""

    notification_id: int
    originator_id: str
    originator_version: int


@dataclass(frozen=True)
class _Erasure:
    """An erasure event of a subject; `seq` its leaf index once known sealed."""

    notification_id: int
    seq: int | None


@dataclass
class _EventFacts:
    """What the key check needs from the event log, read without any key."""

    uses: dict[str, _KeyUse] = field(default_factory=dict)
    erasures: dict[str, list[_Erasure]] = field(default_factory=dict)


class FactsUnusable(ValueError):
    """The kept key facts cannot be used: the key store is checked in full instead."""


@dataclass(frozen=True)
class KeyFacts:
    """The event-derived key facts at a verified size of the event log: every data key
    the events up to that size name (with its first use) and every erasure among them
    (with its seq). Kept next to the event log's verified state
    (`<data dir>/verify/<origin>.keys`), bound to it by its SHA-256 in the state file,
    so an incremental key check reads only the events added since."""

    origin: str
    size: int
    last_id: int
    text: str
    """The facts file's content, as written and hashed."""

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @classmethod
    def of(cls, origin: str, size: int, last_id: int, facts: _EventFacts) -> KeyFacts:
        text = json.dumps(
            {
                "version": FACTS_VERSION,
                "origin": origin,
                "size": size,
                "last_id": last_id,
                "uses": {
                    k: [u.notification_id, u.originator_id, u.originator_version]
                    for k, u in facts.uses.items()
                },
                "erasures": {
                    s: [[e.notification_id, e.seq] for e in found]
                    for s, found in facts.erasures.items()
                },
            },
            separators=(",", ":"),
        )
        return cls(origin, size, last_id, text)

    def facts(self) -> _EventFacts:
        """The facts, parsed; FactsUnusable if the text is not a facts file of this
        origin, size and last id, or an erasure in it has no seq below its size."""
        try:
            data = json.loads(self.text)
            if not isinstance(data, dict) or data.get("version") != FACTS_VERSION:
                raise ValueError(f"not a version {FACTS_VERSION} key facts file")
            if (data["origin"], data["size"], data["last_id"]) != (
                self.origin,
                self.size,
                self.last_id,
            ):
                raise ValueError(
                    f"it is at size {data['size']} (last id {data['last_id']}) of "
                    f"{data['origin']!r}, not at the verified size {self.size} (last id "
                    f"{self.last_id}) of {self.origin!r}"
                )
            facts = _EventFacts()
            for key_ref, (nid, originator, version) in data["uses"].items():
                if type(nid) is not int or not isinstance(originator, str):
                    raise ValueError(f"the use of key {key_ref} is malformed")
                if type(version) is not int:
                    raise ValueError(f"the use of key {key_ref} is malformed")
                facts.uses[str(key_ref)] = _KeyUse(nid, originator, version)
            for subject, found in data["erasures"].items():
                for nid, seq in found:
                    if type(nid) is not int or type(seq) is not int or not 0 <= seq < self.size:
                        raise ValueError(f"the erasure of subject {subject} is malformed")
                    facts.erasures.setdefault(str(subject), []).append(_Erasure(nid, seq))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise FactsUnusable(f"they are not key facts: {one_line(exc)}") from None
        return facts


def _rows(sealed: SealedLog, after: int | None) -> Iterator[SourceRow]:
    last = after
    while True:
        batch = sealed.source.rows_after(last, BATCH)
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def _event_facts(
    sealed: SealedLog,
    erasure_topics: frozenset[str],
    facts: _EventFacts,
    after: int | None,
    keep_at: tuple[int, int] | None,
) -> KeyFacts | None:
    """Extend `facts` with the events after notification id `after` (all with None).
    With `keep_at` = (size, last id) of the event log's new verified state, return the
    facts as they stand after the event `last id` (None if that is behind `after`)."""
    kept: KeyFacts | None = None

    def keep() -> KeyFacts | None:
        if keep_at is None or (after is not None and keep_at[1] < after):
            return None
        return KeyFacts.of(sealed.origin, keep_at[0], keep_at[1], facts)

    for row in _rows(sealed, after):
        if kept is None and keep_at is not None and row.id > keep_at[1]:
            kept = keep()
            keep_at = None
        event = event_row(row)
        if event is None:
            continue  # malformed: the event-log part names it
        if event.topic in erasure_topics:
            seq = sealed.seq_of_notification(event.id)
            facts.erasures.setdefault(str(event.originator_id), []).append(_Erasure(event.id, seq))
        try:
            key_ref = Envelope.unpack(event.state).key_ref
        except (EventAuthenticationFailed, ValueError, TypeError):
            continue  # not an envelope: the event-log part names it
        if key_ref not in facts.uses:
            facts.uses[key_ref] = _KeyUse(
                event.id, str(event.originator_id), event.originator_version
            )
    return kept if kept is not None else keep()


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
    *,
    prior: KeyFacts | None = None,
    keep_at: tuple[int, int] | None = None,
) -> KeyReport:
    """Check every row of the key store against the keyring and the event log.

    In full (`prior` None) every event is read; incrementally, the key facts kept at
    a verified size (`prior`, FactsUnusable if they do not parse) are extended with
    the events after it. Every key row is checked either way. With `keep_at` = (size,
    last notification id) of the event log's new verified state, `report.kept` holds
    the facts at that state."""
    if prior is None:
        report = KeyReport()
        facts, after = _EventFacts(), None
    else:
        report = KeyReport(mode="incremental", base=prior.size)
        facts, after = prior.facts(), prior.last_id
    latest = sealed.latest_checkpoint()
    signed = latest.size if latest is not None else 0
    report.kept = _event_facts(sealed, erasure_topics, facts, after, keep_at)

    def sealed_erasure(subject: str) -> int | None:
        """The seq of a sealed erasure event of the subject, if there is one."""
        for erasure in facts.erasures.get(subject, []):
            seq = erasure.seq
            if seq is None:
                seq = sealed.seq_of_notification(erasure.notification_id)
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
                f"{facts.erasures[subject][0].notification_id}) but data key {dek_id} is "
                "still live",
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
