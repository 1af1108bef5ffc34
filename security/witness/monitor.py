"""The ledger checking itself against its witnesses (issue 11).

`witnessed_checkpoints` fetches each configured witness's latest cosigned checkpoint
of a log (`GET <url>/<sha256 hex of origin>/checkpoint`, short timeout) for
`Ledger.verify_all`: one with a valid cosignature of the witness's key becomes a
trusted checkpoint (the log's signature and consistency are then checked by
`verify_log`, so a store rolled back or forked below what a witness cosigned fails,
naming the witness); one whose cosignature does not verify is a problem; a witness
that is unreachable, or has cosigned nothing of that log yet, is only a note.

`missing_cosignatures` names the witnesses whose cosignature of a log's newest
checkpoint is not in `ledger_cosignatures` once that checkpoint is older than a grace
period: shown by `/readyz`, `ledger verify` and the `witness_cosignature_missing`
alert of the security checks, never blocking writes.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger_verify.checkpoints import CheckpointError
from ledger_verify.cosignature import verify_cosignatures
from security.integrity.verification import TrustedCheckpoint
from security.witness.client import CosignatureStore, WitnessEndpoint

FETCH_TIMEOUT_SECONDS = 3.0
GRACE_SECONDS = 10.0
MAX_CHECKPOINT_BYTES = 64 * 1024


@dataclass
class WitnessedCheckpoints:
    """What the witnesses said about one log: trusted checkpoints, problems, notes."""

    trusted: list[TrustedCheckpoint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def checkpoint_url(witness: WitnessEndpoint, origin: str) -> str:
    digest = hashlib.sha256(origin.encode("utf-8")).hexdigest()
    return f"{witness.url.rstrip('/')}/{digest}/checkpoint"


def fetch_latest(witness: WitnessEndpoint, origin: str, timeout: float) -> str | None:
    """The witness's latest cosigned checkpoint of `origin`, or None if it has none
    (404); OSError (URLError, timeouts) when it cannot be reached or answers an error."""
    # the URL is from LEDGER_WITNESSES, checked to be http(s) by parse_witnesses
    request = urllib.request.Request(checkpoint_url(witness, origin))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return str(response.read(MAX_CHECKPOINT_BYTES).decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise OSError(f"HTTP {exc.code}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def witnessed_checkpoints(
    witnesses: Sequence[WitnessEndpoint],
    origin: str,
    timeout: float = FETCH_TIMEOUT_SECONDS,
) -> WitnessedCheckpoints:
    """Each witness's latest cosigned checkpoint of `origin` (see the module docstring)."""
    found = WitnessedCheckpoints()
    for witness in witnesses:
        name = str(witness.cosigner)
        try:
            note = fetch_latest(witness, origin, timeout)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            found.notes.append(f"witness {name} unreachable: {_reason(exc)}")
            continue
        if note is None:
            found.notes.append(f"witness {name} has cosigned no checkpoint of {origin} yet")
            continue
        try:
            valid = verify_cosignatures(note, [witness.cosigner])
        except CheckpointError as exc:
            found.problems.append(
                f"witness {name} serves a checkpoint of {origin} whose cosignature does "
                f"not verify: {exc}"
            )
            continue
        if not valid:
            found.problems.append(
                f"witness {name} serves a checkpoint of {origin} without a cosignature of its key"
            )
            continue
        found.trusted.append(TrustedCheckpoint(f"witness {name}", note))
    return found


def _age_seconds(created_at: str, now: datetime) -> float:
    try:
        created = datetime.fromisoformat(created_at)
    except ValueError:
        return float("inf")
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return (now - created).total_seconds()


def missing_cosignatures(
    sealed_logs: Sequence[tuple[str, Any]],
    witnesses: Sequence[WitnessEndpoint],
    store: CosignatureStore | None,
    *,
    grace_seconds: float | None = None,
    now: datetime | None = None,
) -> list[str]:
    """One message per log (`(label, SealedLog)`) whose newest checkpoint, older than
    `grace_seconds` (default GRACE_SECONDS), lacks the cosignature of a configured
    witness, naming them."""
    if not witnesses or store is None:
        return []
    now = now or datetime.now(UTC)
    grace = GRACE_SECONDS if grace_seconds is None else grace_seconds
    messages = []
    for label, sealed in sealed_logs:
        latest = sealed.latest_checkpoint()
        if latest is None or _age_seconds(latest.created_at, now) < grace:
            continue
        have = store.witnesses(sealed.origin, latest.size)
        missing = [str(w.cosigner) for w in witnesses if str(w.cosigner) not in have]
        if missing:
            messages.append(
                f"the {label}'s checkpoint at size {latest.size} lacks the cosignature of "
                f"{len(missing)} of {len(witnesses)} witness(es): {', '.join(missing)}"
            )
    return messages
