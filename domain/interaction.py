"""Chapters 2 and 7: a customer's interaction log: contacts, greetings, care visits.

One stream per customer. A marketing contact or a greeting is recorded only with the
live consent it relies on (its record id is kept in the event); a greeting for an
occasion is sent at most once a year.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import CustomerOpeningEvent, LedgerAggregate

CHANNELS = ("phone", "email", "sms", "social_media", "online_chat", "branch", "letter")
DIRECTIONS = ("inbound", "outbound")
PURPOSES = ("service", "sales", "marketing", "complaint", "care", "kyc", "collection")
MARKETING_PURPOSES = frozenset({"marketing", "sales"})
OCCASIONS = (
    "birthday",
    "new_year",
    "spring_festival",
    "mid_autumn",
    "national_day",
    "christmas",
    "anniversary",
)
VISIT_KINDS = ("home_visit", "phone_follow_up", "branch_visit", "video_call")
# What tailored advice (7.1) is about; the advice itself is free text.
ADVICE_AREAS = ("financial_planning", "product_use", "risk", "fraud_prevention", "other")


class InteractionLogged(CustomerOpeningEvent):
    interaction_id: UUID
    contact_channel: str
    direction: str
    purpose: str
    topic: str
    content: str
    consent_record_id: UUID | None

    def apply(self, aggregate: InteractionLog) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.interactions += 1
        aggregate.last_contact_at = self.occurred_at
        aggregate.last_channel = self.contact_channel
        if self.purpose in MARKETING_PURPOSES:
            aggregate.marketing_contacts += 1


class GreetingSent(CustomerOpeningEvent):
    # v2 adds `language`, the language the message is written in, and `rule_version`,
    # the rule that chose the day (a festival greeting; None for one sent by hand).
    class_version = 2

    occasion: str
    year: int
    contact_channel: str
    message: str
    language: str | None
    rule_version: str | None
    consent_record_id: UUID

    def apply(self, aggregate: InteractionLog) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.greetings_sent = sorted(
            {*aggregate.greetings_sent, f"{self.occasion}:{self.year}"}
        )
        aggregate.last_contact_at = self.occurred_at

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        """Greetings before v2 recorded no language and no rule."""
        state.update(language=None, rule_version=None)


class CareVisitRecorded(CustomerOpeningEvent):
    visit_kind: str
    visited_on: date
    notes: str
    next_due_on: date | None
    related_case_id: UUID | None
    rule_version: str

    def apply(self, aggregate: InteractionLog) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.care_visits += 1
        aggregate.last_care_visit_on = self.visited_on
        aggregate.next_care_due_on = self.next_due_on
        aggregate.last_contact_at = self.occurred_at


class CareFollowUpOverdue(CustomerOpeningEvent):
    """A special-care follow-up passed its due date with no visit: a warning, recorded
    once per due date by the relationship-care job."""

    due_on: date
    as_of: date
    rule_version: str

    def apply(self, aggregate: InteractionLog) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.care_overdue_noted_for = self.due_on


class AdviceGiven(CustomerOpeningEvent):
    """Advice tailored to the customer (7.1): its area, topic, channel and content."""

    advice_id: UUID
    area: str
    topic: str
    contact_channel: str
    advice: str

    def apply(self, aggregate: InteractionLog) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.advice_given += 1
        aggregate.last_advice_at = self.occurred_at
        aggregate.last_contact_at = self.occurred_at
        aggregate.last_channel = self.contact_channel


class InteractionLog(LedgerAggregate):
    """Counts and dates of one customer's contacts (the contents are in the events)."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.interactions = 0
        self.marketing_contacts = 0
        self.care_visits = 0
        self.advice_given = 0
        self.last_advice_at: datetime | None = None
        self.last_contact_at: datetime | None = None
        self.last_channel: str | None = None
        self.greetings_sent: list[str] = []
        self.last_care_visit_on: date | None = None
        self.next_care_due_on: date | None = None
        self.care_overdue_noted_for: date | None = None

    def log(
        self,
        *,
        customer_id: UUID,
        interaction_id: UUID,
        contact_channel: str,
        direction: str,
        purpose: str,
        topic: str,
        content: str,
        consent_record_id: UUID | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Log a contact; marketing needs the consent record it relies on."""
        if purpose in MARKETING_PURPOSES and consent_record_id is None:
            raise IllegalTransition("a marketing contact needs a live consent")
        self._record(
            InteractionLogged,
            actor,
            at,
            customer_id=customer_id,
            interaction_id=interaction_id,
            contact_channel=contact_channel,
            direction=direction,
            purpose=purpose,
            topic=topic,
            content=content,
            consent_record_id=consent_record_id,
        )

    def give_advice(
        self,
        *,
        customer_id: UUID,
        advice_id: UUID,
        area: str,
        topic: str,
        contact_channel: str,
        advice: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record advice given to the customer (validated by the caller)."""
        self._record(
            AdviceGiven,
            actor,
            at,
            customer_id=customer_id,
            advice_id=advice_id,
            area=area,
            topic=topic,
            contact_channel=contact_channel,
            advice=advice,
        )

    def has_greeted(self, occasion: str, year: int) -> bool:
        """True when the greeting for `occasion` in `year` was already sent."""
        return f"{occasion}:{year}" in self.greetings_sent

    def send_greeting(
        self,
        *,
        customer_id: UUID,
        occasion: str,
        year: int,
        contact_channel: str,
        message: str,
        language: str | None,
        rule_version: str | None,
        consent_record_id: UUID,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a greeting; the same occasion twice in one year is refused."""
        if self.has_greeted(occasion, year):
            raise IllegalTransition("this greeting was already sent this year")
        self._record(
            GreetingSent,
            actor,
            at,
            customer_id=customer_id,
            occasion=occasion,
            year=year,
            contact_channel=contact_channel,
            message=message,
            language=language,
            rule_version=rule_version,
            consent_record_id=consent_record_id,
        )

    def record_care_visit(
        self,
        *,
        customer_id: UUID,
        visit_kind: str,
        visited_on: date,
        notes: str,
        next_due_on: date | None,
        related_case_id: UUID | None,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a care visit or follow-up and when the next one is due."""
        if self.last_care_visit_on is not None and visited_on < self.last_care_visit_on:
            raise IllegalTransition("a care visit cannot predate the last one recorded")
        self._record(
            CareVisitRecorded,
            actor,
            at,
            customer_id=customer_id,
            visit_kind=visit_kind,
            visited_on=visited_on,
            notes=notes,
            next_due_on=next_due_on,
            related_case_id=related_case_id,
            rule_version=rule_version,
        )

    def note_care_overdue(
        self,
        *,
        customer_id: UUID,
        due_on: date,
        as_of: date,
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Record that the follow-up due on `due_on` is overdue as of `as_of`; False
        (nothing recorded) when not yet overdue or already recorded for that due date."""
        if as_of <= due_on or self.care_overdue_noted_for == due_on:
            return False
        self._record(
            CareFollowUpOverdue,
            actor,
            at,
            customer_id=customer_id,
            due_on=due_on,
            as_of=as_of,
            rule_version=rule_version,
        )
        return True
