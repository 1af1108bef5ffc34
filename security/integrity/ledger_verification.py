"""`ledger verify` over everything the ledger records: the event log, the access log
and the key store, as one report with one outcome.

Each part keeps its own report; the combined report prefixes every problem with the
part it concerns ("event log: seq 3: ...", "access log: ...", "key store: ...") and
fails if any part fails. The event log's counters (`events`, `sealed`, ...) and
`first_bad_seq` pass through, so a caller written for `VerifyReport` keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from security.integrity.key_verification import KeyReport
from security.integrity.verification import Problem, VerifyReport


@dataclass
class LedgerReport:
    """The event log, access log and key store reports, verified together."""

    event_log: VerifyReport
    access_log: VerifyReport
    key_store: KeyReport
    notes: list[str] = field(default_factory=list)
    """What deserves attention but is no difference: an unreachable witness, a
    checkpoint a witness has not cosigned yet."""

    def parts(self) -> list[tuple[str, VerifyReport | KeyReport]]:
        return [
            ("event log", self.event_log),
            ("access log", self.access_log),
            ("key store", self.key_store),
        ]

    @property
    def ok(self) -> bool:
        return all(part.ok for _, part in self.parts())

    @property
    def problems(self) -> list[Problem]:
        """Every part's problems, each message prefixed with the part's name; a problem
        two parts share (the anchor file both logs are checked against) is said once."""
        said: set[str] = set()
        found = []
        for name, part in self.parts():
            for problem in part.problems:
                if problem.seq is None and problem.message in said:
                    continue
                said.add(problem.message)
                found.append(Problem(problem.seq, f"{name}: {problem.message}"))
        return found

    @property
    def failed_parts(self) -> list[str]:
        return [name for name, part in self.parts() if not part.ok]

    # the event log's figures, as `VerifyReport` has them
    @property
    def events(self) -> int:
        return self.event_log.events

    @property
    def sealed(self) -> int:
        return self.event_log.sealed

    @property
    def unsealed(self) -> int:
        return self.event_log.unsealed

    @property
    def checkpoints(self) -> int:
        return self.event_log.checkpoints

    @property
    def first_bad_seq(self) -> int | None:
        return self.event_log.first_bad_seq

    def failure(self) -> str:
        """One line: which parts failed (with each log's first bad seq) and how often."""
        named = []
        for name, part in self.parts():
            if part.ok:
                continue
            first = part.first_bad_seq if isinstance(part, VerifyReport) else None
            named.append(
                f"the {name} (first bad seq {first})" if first is not None else f"the {name}"
            )
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        parts = " and ".join(", ".join(named).rsplit(", ", 1))
        return f"{parts} did not verify: {count} {noun} above"

    def summary(self) -> str:
        """One line of what was verified, and how: each log "full" or "incremental from
        size N" (its counts are then those of the entries added since)."""
        events, access, keys = self.event_log, self.access_log, self.key_store
        return (
            f"ok: {events.events} events, {events.sealed} sealed, {events.unsealed} not yet "
            f"sealed, {events.checkpoints} checkpoints verified ({events.describe()}, log "
            f"at size {events.size}); access log: {access.events} entries, {access.sealed} "
            f"sealed, {access.checkpoints} checkpoints verified ({access.describe()}, log at "
            f"size {access.size}); key store: {keys.keys} rows, {keys.live} live keys, "
            f"{keys.erased_subjects} subjects lawfully erased (events {keys.describe()})"
        )
