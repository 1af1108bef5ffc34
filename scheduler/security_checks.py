"""Hourly security checks: everything recorded verified, then signed; keys, unusual reads.

1. Integrity: `Ledger.verify_all()` verifies everything recorded, incrementally: the
   event log and the separately sealed access log from the state the last ok
   verification kept outside the database (the entries added since recomputed, every
   checkpoint since checked, the store still holding the verified log, and each log
   extending the newest checkpoint of the anchor file; security.integrity.incremental),
   and the key store in full (every live key unwraps; every destroyed key has a sealed
   erasure event). Without a usable verified state the logs are verified in full. Only
   if all of it passes is a new checkpoint signed over each log's events recorded since
   its last one; the new checkpoint's signature and its consistency with the previous
   one (the stored frontier at the previous size continued with the new leaf hashes)
   are then checked. If any part fails, one `integrity_failure` alert names the failed
   parts and NO checkpoint is signed, so a changed event is never covered by a
   signature. A log that is not a consistent extension of the anchor file (rolled back,
   truncated, wiped) fails verification, and the seal itself refuses it too
   (NotAnAnchoredExtension). The daily `integrity_full` job (`run_full`) does the same
   with a full verification, which also catches a change below the verified size.
2. KEK age: the active key-encryption key older than the rotation period (90 days by
   default, `LEDGER_RULE_KEK_ROTATION_DAYS`), or an old KEK still wrapping data keys
   after a rotation, is a `kek_rotation_due` alert (once a day per KEK).
3. Data keys that fail to unwrap are a `dek_unwrap_failure` alert.
4. An actor who read more distinct customers in the last hour than the threshold
   (`unusual_reads_per_hour`, 200 by default) is an `unusual_reads` alert.
5. A log's newest checkpoint that still lacks the cosignature of a witness of
   `LEDGER_WITNESSES` after the grace period (security.witness.monitor) is a
   `witness_cosignature_missing` warning naming the witnesses (once per period and
   log). Integrity (1) also checks each log against every witness's latest cosigned
   checkpoint: one the store no longer reaches is an `integrity_failure`.
6. Every break-glass access (an access-log entry with the purpose `emergency_access`:
   a relationship manager or the front office outside its book, web/api/_book.py) in
   the hour before the run is an `emergency_access` warning naming the staff id, the
   customer id, the endpoint and the reference given (once per entry).

Every alert is a SecurityAlertRaised event (no personal data: counts, sequence numbers,
key and staff ids) and an error-level log line. A check that raises does not stop the
others; it is an alert too, and the run fails so the period can be run again. Alerts
are raised once per period and kind, so a re-run adds none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from ledger_verify.checkpoints import CheckpointError, verify_checkpoint
from ledger_verify.merkle import CompactRange, ProofError
from scheduler.context import JobContext
from security.integrity.access_log import EMERGENCY_PURPOSE
from security.integrity.ledger_verification import LedgerReport
from security.integrity.sealed_log import SealedLog, SealedLogInconsistent
from security.integrity.verification import VerifyReport

UNWRAP_IDS_SHOWN = 10


def _integrity_detail(report: LedgerReport) -> str:
    """Which parts failed (each log with its first bad seq), how often, the first problem."""
    named = []
    for name, part in report.parts():
        if part.ok:
            continue
        first = part.first_bad_seq if isinstance(part, VerifyReport) else None
        named.append(f"{name} (first bad seq {first})" if first is not None else name)
    problems = report.problems
    return (
        f"verification failed: {', '.join(named)}; {len(problems)} problem(s); first: "
        f"{problems[0].message if problems else ''}; no checkpoint was signed"
    )[:2000]


def _check_extension(sealed: SealedLog, size1: int, root1: bytes, size2: int, root2: bytes) -> None:
    """ProofError unless the stored frontier at `size1` folds to `root1` and, continued
    with the stored leaf hashes up to `size2`, to `root2`: the tree of `size2` is then a
    consistent extension of the one of `size1`, at a cost of the leaves added."""
    blob = sealed.frontier(size1) or b""
    try:
        frontier = CompactRange.from_hashes(
            size1, [blob[i : i + 32] for i in range(0, len(blob), 32)]
        )
    except ValueError as exc:
        raise ProofError(f"the stored frontier at size {size1} is malformed: {exc}") from None
    if frontier.root() != root1:
        raise ProofError(f"the stored frontier at size {size1} does not fold to its root")
    frontier.extend(row.leaf_hash for row in sealed.leaf_rows(size1, size2))
    if frontier.size != size2 or frontier.root() != root2:
        raise ProofError(f"the stored leaves from size {size1} do not reach the root at {size2}")


def _seal(ctx: JobContext, what: str, sealed: SealedLog) -> None:
    """Sign a checkpoint over `sealed` and check it against the one before."""
    previous = sealed.latest_checkpoint()
    try:
        latest = sealed.seal()
    except SealedLogInconsistent as exc:
        ctx.alert(
            "integrity_failure",
            "critical",
            f"{what} was not sealed: {exc}",
            key=f"{ctx.period}:integrity_failure:{what}",
        )
        ctx.note(f"{what}_checkpoint", "not signed: the stored log does not extend the anchor")
        return
    if latest is None:
        ctx.note(f"{what}_checkpoint", "log empty")
        return
    try:
        verify_checkpoint(latest.note, sealed.public_key, sealed.origin)
        if previous is not None and latest.size > previous.size:
            _check_extension(sealed, previous.size, previous.root, latest.size, latest.root)
    except (CheckpointError, ProofError) as exc:
        ctx.alert(
            "checkpoint_inconsistent",
            "critical",
            f"{what} checkpoint at size {latest.size} does not check against the one at "
            f"size {previous.size if previous else 0}: {exc}",
            key=f"{ctx.period}:checkpoint_inconsistent:{what}",
        )
        return
    ctx.note(f"{what}_checkpoint", str(latest.size))
    if previous is None or latest.size > previous.size:
        ctx.count(f"{what}_checkpoints_signed")


def check_integrity(ctx: JobContext, *, full: bool = False) -> None:
    """Verify everything recorded (`Ledger.verify_all`: event log, access log, key
    store, against the anchor file), incrementally unless `full`; only if all of it
    passes, sign both logs."""
    ledger = ctx.ledger
    logs = (("ledger", ledger.sealed_log), ("access_log", ledger.access_sealed))
    report = ledger.verify_all(full=full)
    ctx.note("ledger_verification", report.event_log.describe())
    ctx.note("access_log_verification", report.access_log.describe())
    ctx.count("ledger_events_verified", report.event_log.sealed)
    ctx.count("access_log_events_verified", report.access_log.sealed)
    ctx.count("data_keys_verified", report.key_store.keys)
    if not report.ok:
        ctx.alert(
            "integrity_failure",
            "critical",
            _integrity_detail(report),
            key=f"{ctx.period}:integrity_failure",
        )
        for what, _ in logs:
            ctx.note(f"{what}_checkpoint", "not signed: verification failed")
        return
    for what, sealed in logs:
        _seal(ctx, what, sealed)


def check_keks(ctx: JobContext) -> None:
    """Alert when the active KEK outlived the rotation period or a rotation is unfinished."""
    keyring, keystore = ctx.ledger.keyring, ctx.ledger.keystore
    period = timedelta(days=ctx.app.settings.kek_rotation_days)
    active = keyring.active_kek_id()
    age = ctx.moment - keyring.kek(active).created_at
    day = ctx.moment.date().isoformat()
    if age > period:
        ctx.alert(
            "kek_rotation_due",
            "warning",
            f"the active KEK {active} is {age.days} days old; rotation period "
            f"{period.days} days: run `ledger keys rotate`",
            key=f"kek_rotation_due:{active}:{day}",
        )
    stale = {k: n for k, n in keystore.count_by_kek().items() if k != active and n}
    for kek_id, count in sorted(stale.items()):
        ctx.alert(
            "kek_rotation_due",
            "warning",
            f"KEK {kek_id} is no longer active but still wraps {count} data keys: "
            "finish the rotation (`ledger keys rotate`)",
            key=f"kek_rotation_due:{kek_id}:{day}",
        )
    ctx.note("active_kek_age_days", str(age.days))


def check_deks(ctx: JobContext) -> None:
    """Alert when any live data key fails to unwrap under its KEK."""
    failures = list(ctx.ledger.keystore.unwrap_failures())
    ctx.count("dek_unwrap_failures", len(failures))
    if failures:
        shown = ", ".join(failures[:UNWRAP_IDS_SHOWN])
        hidden = len(failures) - UNWRAP_IDS_SHOWN
        more = f" and {hidden} more" if hidden > 0 else ""
        ctx.alert(
            "dek_unwrap_failure",
            "critical",
            f"{len(failures)} data key(s) fail to unwrap: {shown}{more}",
        )


def check_reads(ctx: JobContext) -> None:
    """Alert on every actor who read more distinct subjects in the last hour than allowed."""
    threshold = ctx.options.unusual_reads_per_hour
    since = (ctx.moment - timedelta(hours=1)).isoformat()
    counts = ctx.ledger.access_log.distinct_subjects_by_actor(since, ctx.moment.isoformat())
    for actor_id, subjects in sorted(counts.items()):
        if subjects > threshold:
            ctx.alert(
                "unusual_reads",
                "warning",
                f"actor {actor_id} read {subjects} distinct subjects in the hour before "
                f"{ctx.moment:%Y-%m-%dT%H:%MZ} (threshold {threshold})",
                key=f"{ctx.period}:unusual_reads:{actor_id}",
            )
    ctx.count("actors_reading", len(counts))


def check_witnesses(ctx: JobContext) -> None:
    """Alert on each log whose newest checkpoint lacks a configured witness's cosignature."""
    missing = ctx.ledger.missing_cosignatures()
    ctx.count("logs_missing_cosignatures", len(missing))
    for message in missing:
        which = "access_log" if message.startswith("the access log") else "ledger"
        ctx.alert(
            "witness_cosignature_missing",
            "warning",
            message[:2000],
            key=f"{ctx.period}:witness_cosignature_missing:{which}",
        )


def check_emergency_access(ctx: JobContext) -> None:
    """Alert on every break-glass access recorded in the hour before the run."""
    since = (ctx.moment - timedelta(hours=1)).isoformat()
    log, seen, offset = ctx.ledger.access_log, 0, 0
    while batch := log.entries(
        purpose=EMERGENCY_PURPOSE, since=since, until=ctx.moment.isoformat(), offset=offset
    ):
        for entry in batch:
            ctx.alert(
                "emergency_access",
                "warning",
                f"{entry.actor_id} ({entry.role}) used emergency access on customer "
                f"{entry.subject_id} at {entry.recorded_at} ({entry.what}): review it",
                key=f"emergency_access:{entry.id}",
            )
        seen += len(batch)
        offset += len(batch)
    ctx.count("emergency_accesses", seen)


CHECKS: tuple[Callable[[JobContext], None], ...] = (
    check_integrity,
    check_keks,
    check_deks,
    check_reads,
    check_witnesses,
    check_emergency_access,
)


def check_integrity_full(ctx: JobContext) -> None:
    """`check_integrity` with every leaf of both logs recomputed."""
    check_integrity(ctx, full=True)


def _run_checks(ctx: JobContext, checks: tuple[Callable[[JobContext], None], ...]) -> None:
    for check in checks:
        ctx.check_stop()
        try:
            check(ctx)
        except Exception as exc:  # a broken check is itself a security finding
            ctx.fail_item(check.__name__, exc)
            ctx.alert(
                "job_failure",
                "critical",
                f"security check {check.__name__} raised {type(exc).__name__}: {exc}"[:2000],
                key=f"{ctx.period}:job_failure:{check.__name__}",
            )


def run(ctx: JobContext) -> None:
    """Run every check; one that raises is alerted and does not stop the others."""
    _run_checks(ctx, CHECKS)


def run_full(ctx: JobContext) -> None:
    """The daily job: verify both logs in full (and the key store), then sign them."""
    _run_checks(ctx, (check_integrity_full,))
