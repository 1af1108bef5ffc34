"""Read results of the application: plain, frozen dataclasses, one per aggregate.

They carry personal data unmasked; the caller masks (domain.masking) what the reader
may not see. Every record has the aggregate's id and version (the ETag of the API) and
when it was created and last changed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from domain.events import LedgerAggregate

V = TypeVar("V")


def record_of(record_class: type[V], aggregate: LedgerAggregate, **extra: Any) -> V:
    """Build `record_class` from the aggregate's attributes of the same names."""
    values: dict[str, Any] = {
        "id": aggregate.id,
        "version": aggregate.version,
        "created_at": aggregate.created_on,
        "modified_at": aggregate.modified_on,
    }
    state = vars(aggregate)
    for f in fields(record_class):  # type: ignore[arg-type]
        if f.name in extra:
            values[f.name] = extra[f.name]
        elif f.name in state:
            value = state[f.name]
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return record_class(**values)


@dataclass(frozen=True)
class CustomerRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    kind: str
    status: str
    registered_on: date | None
    name: str | None
    date_of_birth: date | None
    gender: str | None
    phone: str | None
    email: str | None
    address: str | None
    occupation: str | None
    income_band: str | None
    account_number: str | None
    risk_preference: str | None
    credit_code: str | None
    legal_representative: str | None
    company_size: str | None
    industry: str | None
    stage: str | None
    branch: str | None
    relationship_manager: str | None
    jurisdiction: str | None
    language: str | None
    segment: str | None
    segment_dimensions: dict[str, str]
    special_care: tuple[str, ...]
    needs: tuple[str, ...]
    interests: tuple[str, ...]
    preference_notes: str | None
    care_measures: tuple[str, ...]
    care_follow_up_days: int | None
    relationship_ended_on: date | None
    retention_ends_on: date | None
    erasure_requested_on: date | None
    processing_restricted: bool
    legal_holds: tuple[str, ...]

    @property
    def erased(self) -> bool:
        """True once the customer was erased (its personal fields are gone)."""
        return self.status == "erased"


@dataclass(frozen=True)
class KycRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    registered_on: date | None
    rating_due_on: date | None
    rating_calendar: str | None
    risk_level: str | None
    risk_factors: tuple[str, ...]
    last_verified_on: date | None
    next_review_due: date | None
    review_state: str
    review_trigger: str | None
    doc_type: str | None
    doc_number: str | None
    doc_expires_on: date | None
    doc_status: str | None
    business_suspended: bool


@dataclass(frozen=True)
class ConsentRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    purpose: str
    record_id: UUID | None
    state: str
    live: bool
    data_categories: tuple[str, ...]
    sensitive: bool
    notice_version: str | None
    method: str | None
    evidence: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    withdrawn_at: datetime | None
    previous_records: tuple[str, ...]


@dataclass(frozen=True)
class InteractionSummary:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    interactions: int
    marketing_contacts: int
    care_visits: int
    advice_given: int
    last_advice_at: datetime | None
    last_contact_at: datetime | None
    last_channel: str | None
    greetings_sent: tuple[str, ...]
    last_care_visit_on: date | None
    next_care_due_on: date | None


@dataclass(frozen=True)
class CampaignRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    kind: str
    title: str
    starts_on: date
    ends_on: date
    target_segment: str | None
    branch: str | None


@dataclass(frozen=True)
class InvitationRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    campaign_id: UUID
    attendance: str


@dataclass(frozen=True)
class CaseRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    kind: str
    category: str
    narrative: str | None
    source: str
    branch: str | None
    product: str | None
    survey_id: UUID | None
    rule_set: str
    complexity: str
    received_at: datetime
    due_at: datetime | None
    final_due_at: datetime | None
    summary_resolution_by: datetime | None
    rule_version: str | None
    state: str
    owner: str | None
    approver: str | None
    escalation_level: int
    final_escalation_level: int
    acknowledged_due_at: datetime | None
    outcome: str | None
    root_cause: str | None
    first_contact: bool | None
    resolved_in_time: bool | None
    summary_resolution: bool
    resolved_at: datetime | None
    redress_amount: Decimal | None
    closed_at: datetime | None
    reopened_count: int

    @property
    def is_open(self) -> bool:
        """True until the case is closed or withdrawn."""
        return self.state not in ("closed", "withdrawn")


@dataclass(frozen=True)
class SurveyRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    instrument: str
    context: str
    related_case_id: UUID | None
    state: str
    sent_at: datetime | None
    answered_at: datetime | None
    score: int | None
    verbatim: str | None
    dimensions: dict[str, int]
    dissatisfied: bool
    recovery_case_id: UUID | None
    recovery_actions: tuple[str, ...]


@dataclass(frozen=True)
class QualityRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    code: str
    name: str
    measure: str
    target: Decimal
    unit: str
    step: str
    duty: str | None
    measurements: int
    mystery_shops: int
    audits: int
    breaches: int
    improvement_actions: int
    last_score: int | None
    reviewed_on: date | None
    review_overdue_for: date | None


@dataclass(frozen=True)
class TrainingRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    staff_id: str
    courses: tuple[str, ...]
    hours: Decimal
    last_completed_on: date | None


@dataclass(frozen=True)
class ActivityRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    periods: int
    transaction_count: int
    amount: Decimal
    profit_contribution: Decimal
    products_held: tuple[str, ...]
    first_on: date | None
    last_on: date | None


@dataclass(frozen=True)
class GradingRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    tier: str | None
    computed_tier: str | None
    score: Decimal | None
    quarters_below: int
    periods: tuple[str, ...]
    entitlements: tuple[str, ...]
    credit_score: int | None
    credit_source: str | None
    credit_assessed_on: date | None
    risk_measures: tuple[str, ...]
    risk_measures_rule_version: str | None

    @property
    def credit_status(self) -> str:
        """ "assessed" once a credit assessment is recorded, else "unknown"."""
        return "unknown" if self.credit_assessed_on is None else "assessed"


@dataclass(frozen=True)
class ValueRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    customer_id: UUID
    assessed_on: date | None
    rfm: dict[str, int]
    current_value: Decimal | None
    potential_value: Decimal | None
    uplift: Decimal | None
    churn_state: str
    signals: tuple[str, ...]
    retention_actions: tuple[str, ...]
    strategy: str | None
    planned_actions: tuple[str, ...]


@dataclass(frozen=True)
class CrisisRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    title: str
    scope: str
    severity: str
    affected_customer_ids: tuple[str, ...]
    state: str
    updates: tuple[str, ...]
    customers_contacted: int
    statements: int
    opened_at: datetime | None
    closed_at: datetime | None
    contact_due_at: datetime | None
    contacted_customer_ids: tuple[str, ...]
    first_contact_at: datetime | None


@dataclass(frozen=True)
class EvaluationRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    period: str
    scope: str
    metrics: dict[str, Decimal | None]
    inputs: dict[str, object]
    formula_version: str
    evaluations: int
    evaluated_version: int
    improvement_plans: int
    open_plans: dict[int, date]
    closed_plans: int
    overdue_plans: tuple[int, ...]
    recognitions: int


@dataclass(frozen=True)
class JobRunRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    job: str
    period: str
    attempt: int
    state: str
    lease_until: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, int | str]
    error: str | None


@dataclass(frozen=True)
class AlertRecord:
    id: UUID
    version: int
    created_at: datetime
    modified_at: datetime
    kind: str
    severity: str
    detail: str
    job_run_id: UUID | None
    raised_at: datetime | None
