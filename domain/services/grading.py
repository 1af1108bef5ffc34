"""Chapter 3: credit assessments, quarterly grading, tiers, their entitlements and the
risk-control measures that go with them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from uuid import UUID

from domain.activity import Activity
from domain.actor import Actor
from domain.customer import Customer
from domain.errors import ValidationFailed
from domain.grading import Grading
from domain.ids import activity_id, grading_id, kyc_file_id
from domain.kyc import KycFile
from domain.records import GradingRecord, record_of
from domain.rules.grading import (
    CREDIT_UNKNOWN,
    GradeInputs,
    grade_score,
    next_tier,
    risk_measures,
)
from domain.rules.months import add_months
from domain.services.base import LedgerServices
from domain.settings import settings_fingerprint
from domain.validation import check, text_error

_QUARTER = re.compile(r"^\d{4}Q[1-4]$")
_SOURCE = re.compile(r"^[a-z][a-z0-9_\-]{0,59}$")
MAX_CREDIT_IMPORT = 1000


@dataclass(frozen=True)
class CreditAssessment:
    """One credit assessment to record: who assessed (a source code), the 0-100 score
    and the day it was assessed."""

    customer_id: UUID
    source: str
    score: int
    assessed_on: date


def _as_text(values: dict[str, object]) -> dict[str, str]:
    return {key: CREDIT_UNKNOWN if value is None else str(value) for key, value in values.items()}


# the earliest date an assessment may bear (dates are 1900-9000; a later one is refused
# as after today)
EARLIEST_ASSESSMENT = date(1900, 1, 1)


def _assessment_errors(assessment: CreditAssessment, today: date) -> dict[str, str]:
    # Messages never repeat the value: a credit score is personal financial data.
    errors: dict[str, str] = {}
    source_error = text_error(assessment.source, max_length=60)
    if source_error is None and not _SOURCE.match(assessment.source):
        source_error = "a source code: lower case letters, digits, _ or -"
    if source_error:
        errors["source"] = source_error
    score = assessment.score
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        errors["score"] = "an integer within 0..100"
    if not isinstance(assessment.assessed_on, date) or not (
        EARLIEST_ASSESSMENT <= assessment.assessed_on <= today
    ):
        errors["assessed_on"] = "a date from 1900-01-01 to today"
    return errors


def measures_after_rating(
    services: LedgerServices, customer_id: UUID, risk_level: str, actor: Actor
) -> Grading | None:
    """The customer's grading with the risk-control measures of a new KYC risk rating
    applied (pending, for the caller to save with the rating), or None when the
    customer is not graded yet (the first grading applies them)."""
    grading = services._find(Grading, grading_id(customer_id))
    if grading is None or grading.tier is None:
        return None
    measures = risk_measures(grading.tier, risk_level, services.settings)
    grading.apply_risk_measures(
        period=grading.periods[-1],
        risk_level=risk_level,
        measures=list(measures.measures),
        rule_version=measures.rule_version,
        actor=actor,
        at=services.now(),
    )
    return grading


class GradingCommands(LedgerServices):
    """Credit assessments, quarterly grading, tiers and their entitlements."""

    def record_credit_assessment(
        self,
        assessment: CreditAssessment,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> GradingRecord:
        """Record a credit assessment of the customer; the next grading uses the newest."""
        check(**_assessment_errors(assessment, self.today()))
        self._customer(assessment.customer_id, "grading")
        at = self.now()
        grading = self._load_or_blank(Grading, grading_id(assessment.customer_id), at)
        if grading.exists:
            self._expect(grading, expected_version)
        grading.record_credit_assessment(
            customer_id=assessment.customer_id,
            source=assessment.source,
            score=assessment.score,
            assessed_on=assessment.assessed_on,
            actor=actor,
            at=at,
        )
        self._save(grading)
        return record_of(GradingRecord, grading, entitlements=grading.entitlements)

    def import_credit_assessments(
        self, assessments: Sequence[CreditAssessment], actor: Actor
    ) -> tuple[int, int]:
        """Record a batch of credit assessments (a bureau's file): every row is checked
        before any is recorded, so a bad row records nothing. A row equal to the newest
        assessment already held (same source, score and day) is skipped, so importing the
        same file twice records it once. Returns (recorded, skipped)."""
        if not 1 <= len(assessments) <= MAX_CREDIT_IMPORT:
            raise ValidationFailed(
                {"assessments": f"between 1 and {MAX_CREDIT_IMPORT} rows"},
                f"an import holds between 1 and {MAX_CREDIT_IMPORT} rows",
            )
        today = self.today()
        errors: dict[str, str] = {}
        for row, assessment in enumerate(assessments, start=1):
            for field, message in _assessment_errors(assessment, today).items():
                errors[f"row {row}: {field}"] = message
        if errors:
            raise ValidationFailed(errors, "invalid rows: " + ", ".join(sorted(errors)))
        for assessment in assessments:
            self._customer(assessment.customer_id, "grading")
        recorded = skipped = 0
        for assessment in assessments:
            grading = self._find(Grading, grading_id(assessment.customer_id))
            held = grading and (
                grading.credit_source,
                grading.credit_score,
                grading.credit_assessed_on,
            )
            if held == (assessment.source, assessment.score, assessment.assessed_on):
                skipped += 1
                continue
            self.record_credit_assessment(assessment, actor)
            recorded += 1
        return recorded, skipped

    def grade_inputs(self, customer_id: UUID) -> GradeInputs:
        """The grading inputs from the customer's last 12 months of activity and tenure,
        and the newest recorded credit assessment (None: credit unknown)."""
        grading = self._find(Grading, grading_id(customer_id))
        credit = grading.credit_score if grading else None
        return self._grade_inputs(self._customer(customer_id, "grading"), credit)

    def _grade_inputs(self, customer: Customer, credit_score: int | None) -> GradeInputs:
        today = self.today()
        activity = self._find(Activity, activity_id(customer.id))
        count, amount, products = 0, Decimal(0), 0
        if activity is not None:
            count, amount, _ = activity.totals(add_months(today, -12), today)
            products = len(activity.products_held)
        since = customer.registered_on or today
        tenure = (Decimal((today - since).days) / Decimal("365.25")).quantize(
            Decimal("0.01"), ROUND_DOWN
        )
        return GradeInputs(amount, count, tenure, products, credit_score)

    def grade_customer(
        self,
        customer_id: UUID,
        period: str,
        actor: Actor,
        *,
        inputs: GradeInputs | None = None,
    ) -> GradingRecord:
        """Grade the customer for a quarter ("2026Q2") and decide the tier held: upgrades at
        once, downgrades after two consecutive quarters below. Inputs default to the
        customer's own activity and newest credit assessment; with none the inputs record
        credit "unknown" and the sub-score its configured treatment. The event records
        inputs and rule versions; the risk-control measures of the tier and KYC risk
        rating are recorded when the set in force changes."""
        check(period=None if _QUARTER.match(period) else "a quarter like 2026Q2")
        customer = self._customer(customer_id, "grading")
        at = self.now()
        grading = self._load_or_blank(Grading, grading_id(customer_id), at)
        grade_inputs = inputs or self._grade_inputs(customer, grading.credit_score)
        result = grade_score(grade_inputs, self.settings)
        recorded_inputs = _as_text(asdict(grade_inputs))
        if grade_inputs.credit_score is None:
            recorded_inputs["credit_treatment"] = (
                f"unknown_scored_{self.settings.grade_credit_unknown_score}"
            )
        elif inputs is None:
            recorded_inputs["credit_source"] = str(grading.credit_source)
            recorded_inputs["credit_assessed_on"] = str(grading.credit_assessed_on)
        decision = next_tier(grading.tier, result.tier, grading.quarters_below, self.settings)
        grading.assign(
            customer_id=customer_id,
            period=period,
            score=result.score,
            computed_tier=result.tier,
            tier=decision.tier,
            quarters_below=decision.quarters_below,
            inputs=recorded_inputs,
            sub_scores=_as_text(asdict(result.sub_scores)),
            rule_version=result.rule_version,
            tier_rule_version=decision.rule_version,
            settings_fingerprint=settings_fingerprint(self.settings),
            actor=actor,
            at=at,
        )
        kyc = self._find(KycFile, kyc_file_id(customer_id))
        measures = risk_measures(decision.tier, kyc.risk_level if kyc else None, self.settings)
        grading.apply_risk_measures(
            period=period,
            risk_level=measures.risk_level,
            measures=list(measures.measures),
            rule_version=measures.rule_version,
            actor=actor,
            at=at,
        )
        self._save(grading)
        return record_of(GradingRecord, grading, entitlements=grading.entitlements)

    def get_grading(self, customer_id: UUID) -> GradingRecord:
        """The customer's tier, latest score and entitlements."""
        grading = self._load(Grading, grading_id(customer_id))
        return record_of(GradingRecord, grading, entitlements=grading.entitlements)
