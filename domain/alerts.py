"""Alerts raised by the scheduled jobs: security checks (integrity, keys, unusual
reads), job failures, and the compliance warnings of a run (ID documents entering
their expiry window, risk ratings overdue, care follow-ups overdue, consents expired).

An alert names no customer (its subject is None): details carry counts and staff ids,
never personal data; the customers are on the watch-lists and in the warning events.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import LedgerAggregate, OpeningEvent

KINDS = (
    "integrity_failure",
    "checkpoint_inconsistent",
    "kek_rotation_due",
    "dek_unwrap_failure",
    "unusual_reads",
    "witness_cosignature_missing",
    "job_failure",
    "emergency_access",
    "id_document_expiring",
    "risk_rating_overdue",
    "care_follow_up_overdue",
    "consent_expired",
    "standard_review_overdue",
    "improvement_plan_overdue",
)
SEVERITIES = ("info", "warning", "critical")


class SecurityAlertRaised(OpeningEvent):
    kind: str
    severity: str
    detail: str
    job_run_id: UUID | None

    def apply(self, aggregate: SecurityAlert) -> None:
        aggregate.kind = self.kind
        aggregate.severity = self.severity
        aggregate.detail = self.detail
        aggregate.job_run_id = self.job_run_id
        aggregate.raised_at = self.occurred_at


class SecurityAlert(LedgerAggregate):
    """One security alert."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.severity: str | None = None
        self.detail: str | None = None
        self.job_run_id: UUID | None = None
        self.raised_at: datetime | None = None

    def raise_alert(
        self,
        *,
        kind: str,
        severity: str,
        detail: str,
        job_run_id: UUID | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Raise the alert (once per id)."""
        if self.exists:
            raise IllegalTransition("the alert was already raised")
        self._record(
            SecurityAlertRaised,
            actor,
            at,
            kind=kind,
            severity=severity,
            detail=detail[:2000],
            job_run_id=job_run_id,
        )
