"""Chapter 5: surveys, dissatisfaction and service recovery."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from uuid import UUID

from domain import interaction as interaction_model
from domain import survey as survey_model
from domain.actor import Actor
from domain.consent import Consent
from domain.customer import Customer
from domain.errors import ConsentRequired, ValidationFailed
from domain.feedback import FeedbackCase
from domain.ids import consent_id, periodic_survey_id
from domain.records import SurveyRecord, record_of
from domain.rules.complaints import complaint_deadline
from domain.rules.satisfaction import (
    CSAT_RANGE,
    DISSATISFACTION_VERSION,
    NPS_RANGE,
    is_dissatisfied,
)
from domain.services.base import LedgerServices
from domain.services.feedback import jurisdiction_of
from domain.survey import Survey
from domain.validation import amount_error, check, one_of_error, text_error

_RANGES = {"CSAT": CSAT_RANGE, "NPS": NPS_RANGE}


def _dimensions_error(dimensions: Mapping[str, int]) -> str | None:
    low, high = survey_model.DIMENSION_RANGE
    scores = dimensions.values()
    if set(dimensions) != set(survey_model.DIMENSIONS) or not all(
        type(score) is int and low <= score <= high for score in scores
    ):
        return f"each of {', '.join(survey_model.DIMENSIONS)} scored {low} to {high}"
    return None


class SatisfactionCommands(LedgerServices):
    """Surveys and what a dissatisfied answer sets in motion."""

    def send_survey(
        self,
        customer_id: UUID,
        instrument: str,
        actor: Actor,
        *,
        contact_channel: str = "sms",
        context: str = "periodic",
        related_case_id: UUID | None = None,
        survey_id: UUID | None = None,
    ) -> UUID:
        """Send a CSAT or NPS survey; returns its id."""
        check(
            instrument=one_of_error(instrument, survey_model.INSTRUMENTS),
            contact_channel=one_of_error(contact_channel, interaction_model.CHANNELS),
            context=text_error(context, max_length=100),
        )
        self._customer(customer_id, "survey")
        at = self.now()
        new_id = self._id(survey_id)
        survey = Survey.blank(new_id, at)
        survey.send(
            customer_id=customer_id,
            instrument=instrument,
            contact_channel=contact_channel,
            context=context,
            related_case_id=related_case_id,
            actor=actor,
            at=at,
        )
        self._save(survey)
        return new_id

    def answer_survey(
        self,
        survey_id: UUID,
        score: int,
        actor: Actor,
        *,
        verbatim: str | None = None,
        dimensions: Mapping[str, int] | None = None,
        recovery_case_id: UUID | None = None,
        expected_version: int | None = None,
    ) -> UUID | None:
        """Record the answer, with the four dimensions scored 1-5 when given (all four or
        none). A dissatisfied one (CSAT <= 2, NPS <= 6 by default) is flagged and opens a
        service-recovery complaint case in the same write; returns that case's id, or
        None."""
        check(
            verbatim=text_error(verbatim, max_length=4000, required=False),
            dimensions=None if dimensions is None else _dimensions_error(dimensions),
        )
        survey = self._load(Survey, survey_id)
        self._expect(survey, expected_version)
        instrument = survey.instrument or ""
        low, high = _RANGES[instrument]
        if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            raise ValidationFailed({"score": f"an integer from {low} to {high}"})
        at = self.now()
        survey.answer(score, verbatim, actor, at, dict(dimensions or {}))
        if not is_dissatisfied(instrument, score, self.settings):
            self._save(survey)
            return None
        assert survey.customer_id is not None
        customer = self._load(Customer, survey.customer_id)
        case_id = self._id(recovery_case_id)
        rule_set = jurisdiction_of(customer)
        deadline = complaint_deadline(
            at, rule_set, "standard", self.settings, self.calendars.of(rule_set)
        )
        case = FeedbackCase.blank(case_id, at)
        case.receive(
            actor,
            at,
            customer_id=survey.customer_id,
            kind="complaint",
            category="service",
            narrative=verbatim or f"{instrument} answer of {score}",
            source="survey",
            branch=customer.branch,
            product=None,
            survey_id=survey.id,
            rule_set=rule_set,
            complexity="standard",
            received_at=at,
            due_at=deadline.due_at,
            final_due_at=deadline.final_due_at,
            requires_approval=False,
            rule_version=deadline.rule_version,
            summary_resolution_by=deadline.summary_resolution_by,
        )
        survey.flag_dissatisfaction(case_id, DISSATISFACTION_VERSION, actor, at)
        self._save(survey, case)
        return case_id

    def record_service_recovery(
        self,
        survey_id: UUID,
        action: str,
        description: str,
        actor: Actor,
        *,
        amount: Decimal | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Record an apology, compensation (with its amount) or improvement."""
        check(
            action=one_of_error(action, survey_model.RECOVERY_ACTIONS),
            description=text_error(description, max_length=4000),
            amount=None if amount is None else amount_error(amount, allow_zero=False),
        )
        if action == "compensation" and amount is None:
            raise ValidationFailed({"amount": "required for compensation"})
        survey = self._load(Survey, survey_id)
        self._expect(survey, expected_version)
        survey.record_recovery(action, description, amount, actor, self.now())
        self._save(survey)

    def send_periodic_survey(
        self, customer_id: UUID, period: str, actor: Actor, *, contact_channel: str = "sms"
    ) -> bool:
        """Send the customer's regular survey for `period` (policy 5.1): a CSAT survey
        whose id derives from customer and period, so a customer gets at most one per
        period. Needs a live `research` consent (ConsentRequired). False when this
        period's survey was already sent."""
        check(period=text_error(period, max_length=20))
        survey_id = periodic_survey_id(customer_id, period)
        if self._find(Survey, survey_id) is not None:
            return False
        consent = self._find(Consent, consent_id(customer_id, "research"))
        if consent is None or not consent.is_live(self.now()):
            raise ConsentRequired("no live research consent for this customer")
        self.send_survey(
            customer_id,
            "CSAT",
            actor,
            contact_channel=contact_channel,
            context=f"periodic:{period}",
            survey_id=survey_id,
        )
        return True

    def get_survey(self, survey_id: UUID) -> SurveyRecord:
        """The survey, its answer and any recovery."""
        return record_of(SurveyRecord, self._load(Survey, survey_id))
