"""Chapter 5: surveys, dissatisfaction and service recovery."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from domain import interaction as interaction_model
from domain import survey as survey_model
from domain.actor import Actor
from domain.customer import Customer
from domain.errors import ValidationFailed
from domain.feedback import FeedbackCase
from domain.records import SurveyRecord, record_of
from domain.rules.complaints import complaint_deadline
from domain.rules.satisfaction import (
    CSAT_RANGE,
    DISSATISFACTION_VERSION,
    NPS_RANGE,
    is_dissatisfied,
)
from domain.services.base import LedgerServices
from domain.survey import Survey
from domain.validation import amount_error, check, one_of_error, text_error

_RANGES = {"CSAT": CSAT_RANGE, "NPS": NPS_RANGE}


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
        recovery_case_id: UUID | None = None,
        expected_version: int | None = None,
    ) -> UUID | None:
        """Record the answer. A dissatisfied one (CSAT <= 2, NPS <= 6 by default) is
        flagged and opens a service-recovery complaint case in the same write; returns
        that case's id, or None."""
        check(verbatim=text_error(verbatim, max_length=4000, required=False))
        survey = self._load(Survey, survey_id)
        self._expect(survey, expected_version)
        instrument = survey.instrument or ""
        low, high = _RANGES[instrument]
        if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            raise ValidationFailed({"score": f"an integer from {low} to {high}"})
        at = self.now()
        survey.answer(score, verbatim, actor, at)
        if not is_dissatisfied(instrument, score, self.settings):
            self._save(survey)
            return None
        assert survey.customer_id is not None
        customer = self._load(Customer, survey.customer_id)
        case_id = self._id(recovery_case_id)
        deadline = complaint_deadline(at, "CN", "standard", self.settings, self.calendars.cn)
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
            survey_id=survey.id,
            rule_set="CN",
            complexity="standard",
            received_at=at,
            due_at=deadline.due_at,
            final_due_at=deadline.final_due_at,
            requires_approval=False,
            rule_version=deadline.rule_version,
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

    def get_survey(self, survey_id: UUID) -> SurveyRecord:
        """The survey, its answer and any recovery."""
        return record_of(SurveyRecord, self._load(Survey, survey_id))
