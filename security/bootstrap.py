"""The composition root: builds the ledger from configuration.

Used alike by the web app, the scheduler process and the `ledger` CLI. Configuration
comes from env vars (see docs/operations.md):

- `LEDGER_DATA_DIR` (default `./var`): the SQLite file, the development keyring;
- `LEDGER_DATABASE_URL`: unset for SQLite; `postgresql://user[:password]@host:port/db`
  (optional `?schema=NAME`) for the library's PostgreSQL module;
- `LEDGER_LOG_ORIGIN` (default `crm-ledger.local/ledger`): checkpoint origin and key name;
- `LEDGER_ANCHOR_FILE` (default `<data dir>/anchors/checkpoints.log`): the anchor file;
  the verified states of `ledger verify` are kept in `<data dir>/verify/`;
- `LEDGER_WITNESSES`: witnesses each new checkpoint is submitted to (security.witness);
- `LEDGER_KEYRING` / `LEDGER_KEYRING_FILE`: the keyring (security/keys/keyring.py);
- `LEDGER_PKCS11_MODULE` / `_TOKEN` / `_PIN_FILE`: keys in an HSM (security/keys/pkcs11.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.application import Application

from security.erasure_reach import ErasureReach
from security.errors import ConfigurationError
from security.integrity.access_log import AccessLog
from security.integrity.anchors import AnchorFile
from security.integrity.event_rows import TolerantEventSource
from security.integrity.incremental import verify_log_incremental
from security.integrity.key_verification import (
    FactsUnusable,
    KeyFacts,
    KeyReport,
    verify_keys,
)
from security.integrity.ledger_verification import LedgerReport
from security.integrity.sealed_log import SealedLog, StoredCheckpoint
from security.integrity.subject_map import SubjectMap
from security.integrity.verification import TrustedCheckpoint, VerifyReport, verify_log
from security.integrity.verified_state import StateFile, StateForged, StateUnusable
from security.keys.data_keys import KeyStore
from security.keys.identity_index import KeyedIdentityIndex
from security.keys.keyring import Keyring
from security.recorders import LedgerPostgresFactory, LedgerSQLiteFactory
from security.settings import Settings
from security.subject_streams import SubjectStreams
from security.witness.client import CosignatureStore, WitnessSubmitter
from security.witness.monitor import missing_cosignatures, witnessed_checkpoints

__all__ = ["Ledger", "Settings", "build_ledger"]

NO_STATE = "no verified state yet"


@dataclass
class Ledger:
    """The built ledger: the application service and the security services around it."""

    config: Settings
    app: Any
    keyring: Keyring
    keystore: KeyStore
    sealed_log: SealedLog
    access_log: AccessLog
    access_sealed: SealedLog
    anchors: AnchorFile
    cosignatures: CosignatureStore | None = None
    witnesses: WitnessSubmitter | None = None
    access_witnesses: WitnessSubmitter | None = None
    verified_states: StateFile | None = None
    subject_streams: SubjectStreams | None = None

    def cosigned_note(self, checkpoint: StoredCheckpoint) -> str:
        """The checkpoint's note with the witnesses' cosignature lines appended."""
        if self.cosignatures is None:
            return checkpoint.note
        return self.cosignatures.cosigned(self.sealed_log.origin, checkpoint.size, checkpoint.note)

    @property
    def datastore(self) -> Any:
        return self.app.factory.datastore

    def seal(self) -> StoredCheckpoint | None:
        """Seal every unsealed event and sign a checkpoint."""
        return self.sealed_log.seal()

    def verify(
        self, trusted: Sequence[TrustedCheckpoint] = (), *, full: bool = True
    ) -> VerifyReport:
        """Verify the event log against the anchored checkpoint and each `trusted` one:
        in full (every leaf recomputed), or with `full=False` incrementally from the
        last verified state (security.integrity.incremental), in full if there is none
        or it is unusable (`report.fallback` says why)."""
        return self._verify_log(self.sealed_log, trusted, full)

    def verify_access_log(
        self, trusted: Sequence[TrustedCheckpoint] = (), *, full: bool = True
    ) -> VerifyReport:
        """The access log, as `verify` does the event log."""
        return self._verify_log(self.access_sealed, trusted, full)

    def _verify_log(
        self, sealed: SealedLog, trusted: Sequence[TrustedCheckpoint], full: bool
    ) -> VerifyReport:
        fallback = None
        if not full and self.verified_states is not None:
            path = self.verified_states.path(sealed.origin)
            try:
                state = self.verified_states.load(sealed.origin)
                if state is not None:
                    return verify_log_incremental(
                        sealed,
                        sealed.public_key,
                        sealed.origin,
                        state,
                        anchors=self.anchors,
                        trusted=trusted,
                    )
                fallback = NO_STATE
            except StateUnusable as exc:
                fallback = f"the verified state {path} is unusable ({exc})"
            except StateForged as exc:
                report = VerifyReport(mode="incremental")
                report.add(None, f"the verified state {path} is forged: {exc}")
                return report
        report = verify_log(
            sealed, sealed.public_key, sealed.origin, anchors=self.anchors, trusted=trusted
        )
        report.fallback = fallback
        return report

    def keep_verified(self, report: LedgerReport) -> None:
        """Keep where an ok verification ended, so the next incremental run starts there;
        a report that is not ok keeps nothing."""
        if not report.ok or self.verified_states is None:
            return
        kept = report.key_store.kept
        for part in (report.event_log, report.access_log):
            if part.state is not None:
                facts = None
                if part is report.event_log and kept is not None:
                    facts = kept.text if kept.size == part.state.size else None
                self.verified_states.save(part.state, facts)

    def verify_keys(self, events: VerifyReport | None = None, *, full: bool = True) -> KeyReport:
        """Every data key live and intact, or destroyed by a sealed erasure event. With
        `full=False` and the event log verified incrementally (`events`), the events
        up to its verified size are not read again: the key facts kept with its state
        are (in full if they are missing or unusable; `report.fallback` says why)."""
        keep_at = None
        if events is not None and events.state is not None:
            keep_at = (events.state.size, events.state.last_id)
        fallback = None
        if not full and self.verified_states is not None:
            if events is None or events.mode != "incremental":
                fallback = NO_STATE if events is None else events.fallback
            else:
                origin = self.sealed_log.origin
                try:
                    state = self.verified_states.load(origin)
                    if state is None or state.size != events.base:
                        raise StateUnusable("the verified state changed during this run")
                    text = self.verified_states.load_facts(state)
                    prior = KeyFacts(origin, state.size, state.last_id, text)
                    return verify_keys(self.keystore, self.sealed_log, prior=prior, keep_at=keep_at)
                except (StateUnusable, FactsUnusable) as exc:
                    path = self.verified_states.facts_path(origin)
                    fallback = f"the key facts {path} are unusable ({exc})"
        report = verify_keys(self.keystore, self.sealed_log, keep_at=keep_at)
        report.fallback = fallback
        return report

    def verify_all(
        self,
        trusted_events: Sequence[TrustedCheckpoint] = (),
        trusted_access: Sequence[TrustedCheckpoint] = (),
        *,
        consult_witnesses: bool = True,
        full: bool = False,
    ) -> LedgerReport:
        """The event log, the access log (each against the anchors, its `trusted`
        checkpoints and, unless `consult_witnesses` is False, each configured witness's
        latest cosigned checkpoint) and the key store. An unreachable witness and a
        checkpoint still lacking a witness's cosignature are notes, not problems.

        The logs are verified incrementally from their last verified states unless
        `full` (see `verify`); the key store reads only the events added since the event
        log's verified state (its key facts kept with it) and checks every key row.
        Only an ok report advances the verified states."""
        notes: list[str] = []
        logs = ((self.sealed_log, list(trusted_events)), (self.access_sealed, list(trusted_access)))
        witness_problems: list[list[str]] = [[], []]
        if consult_witnesses and self.config.witnesses:
            for (sealed, trusted), problems in zip(logs, witness_problems, strict=True):
                found = witnessed_checkpoints(self.config.witnesses, sealed.origin)
                trusted.extend(found.trusted)
                problems.extend(found.problems)
                notes.extend(found.notes)
        events = self.verify(logs[0][1], full=full)
        access = self.verify_access_log(logs[1][1], full=full)
        for report, problems in zip((events, access), witness_problems, strict=True):
            for message in problems:
                report.add(None, message)
        keys = self.verify_keys(events, full=full)
        for name, part in (("event log", events), ("access log", access), ("key store", keys)):
            if part.fallback is not None and part.fallback != NO_STATE:
                if part is keys and part.fallback == events.fallback:
                    continue  # said for the event log
                notes.append(f"{name}: {part.fallback}: verified in full")
        notes.extend(self.missing_cosignatures())
        combined = LedgerReport(events, access, keys, notes)
        self.keep_verified(combined)
        return combined

    def missing_cosignatures(self, grace_seconds: float | None = None) -> list[str]:
        """Per log, the configured witnesses whose cosignature of its newest checkpoint
        is still missing after the grace period (security.witness.monitor)."""
        logs = (("event log", self.sealed_log), ("access log", self.access_sealed))
        return missing_cosignatures(
            logs, self.config.witnesses, self.cosignatures, grace_seconds=grace_seconds
        )

    def close(self) -> None:
        for submitter in (self.witnesses, self.access_witnesses):
            if submitter is not None:
                submitter.drain()
        self.app.close()
        self.keyring.close()


def build_ledger(
    config: Settings | None = None,
    *,
    app_class: type[Application[Any]] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Ledger:
    """Build the ledger from `config` (default: `Settings.from_env()`)."""
    config = config or Settings.from_env()
    if app_class is None:
        from domain.application import LedgerApplication

        app_class = LedgerApplication
    from security.calendars import load_calendars, refuse_table_settings

    refuse_table_settings(config.rules)
    kwargs: dict[str, Any] = {"settings": config.rules}
    # a malformed override file stops the start here, with a one-line message
    calendars = load_calendars(config.calendar_overrides)
    if "calendars" in inspect.signature(app_class.__init__).parameters:
        kwargs["calendars"] = calendars
    if clock is not None:
        kwargs["clock"] = clock
    app = app_class(env=config.library_env(), **kwargs)
    factory = app.factory
    if not isinstance(factory, LedgerSQLiteFactory | LedgerPostgresFactory):
        raise ConfigurationError("the application was not built on a ledger persistence module")
    if hasattr(app, "subject_keys"):
        app.subject_keys = factory.keystore
    if hasattr(app, "identity_index"):
        app.identity_index = KeyedIdentityIndex(factory.keyring.index_key())
    anchors = AnchorFile(config.anchor_file)
    sealed = SealedLog(
        TolerantEventSource(app.recorder, factory.datastore, factory.dialect),
        factory.datastore,
        factory.dialect,
        factory.keyring.signing_key(),
        config.log_origin,
        anchors=anchors,
        subject_map=SubjectMap(factory.dialect, factory.keystore.table),
    )
    streams = SubjectStreams(
        factory.datastore,
        factory.dialect,
        app.recorder,
        keys_table=factory.keystore.table,
        leaves_table=sealed.leaves_table,
    )
    streams.backfill()  # a store written before the index: once, on first start
    if hasattr(app, "subject_streams"):
        app.subject_streams = streams
    access = AccessLog(factory.datastore, factory.dialect)
    access_sealed = SealedLog(
        access,
        factory.datastore,
        factory.dialect,
        factory.keyring.signing_key(),
        config.log_origin + "/access",
        prefix="access",
        anchors=anchors,
    )
    cosignatures = CosignatureStore(factory.datastore, factory.dialect)
    witnesses = WitnessSubmitter(sealed, config.witnesses, cosignatures)
    sealed.on_checkpoint(witnesses)
    # the access log is witnessed too: a witness accepts it once told its vkey (add-log)
    access_witnesses = WitnessSubmitter(access_sealed, config.witnesses, cosignatures)
    access_sealed.on_checkpoint(access_witnesses)
    ledger = Ledger(
        config,
        app,
        factory.keyring,
        factory.keystore,
        sealed,
        access,
        access_sealed,
        anchors,
        cosignatures,
        witnesses,
        access_witnesses,
        StateFile(config.verify_state_dir),
        streams,
    )
    # erasure reaches the side stores too (export bundles, idempotency records)
    factory.keystore.on_shred(ErasureReach(ledger), everywhere=False)
    return ledger
