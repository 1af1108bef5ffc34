"""Chapter 7: relationship maintenance: greetings, special care, crisis incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from domain import crisis as crisis_model
from domain import customer as customer_model
from domain import interaction as interaction_model
from domain.actor import Actor
from domain.consent import Consent
from domain.crisis import Crisis
from domain.customer import Customer
from domain.errors import ConsentRequired, ValidationFailed
from domain.ids import consent_id, interaction_log_id
from domain.interaction import InteractionLog
from domain.records import CrisisRecord, record_of
from domain.rules.care import (
    CARE_FOLLOW_UP_DUE_VERSION,
    CARE_FOLLOW_UP_VERSION,
    CARE_OVERDUE_VERSION,
    CRISIS_FIRST_CONTACT_VERSION,
    DEFAULT_LANGUAGE,
    IS_ELDERLY_VERSION,
    care_follow_up_due,
    care_follow_up_overdue,
    crisis_first_contact,
    greeting_text,
    is_elderly,
    next_care_follow_up,
)
from domain.services.base import LedgerServices
from domain.validation import check, codes_error, one_of_error, text_error


class CareCommands(LedgerServices):
    """Greetings within consent, special care and follow-ups, crisis handling."""

    def send_greeting(
        self,
        customer_id: UUID,
        occasion: str,
        message: str | None,
        actor: Actor,
        *,
        contact_channel: str = "sms",
        rule_version: str | None = None,
    ) -> bool:
        """Record a greeting; needs a live `greetings` consent (ConsentRequired). Returns
        False, recording nothing, when this occasion was already greeted this year.

        It is written in the customer's language (zh-CN when none is recorded), which the
        event records; without `message` the firm's text for the occasion in that
        language is sent (an occasion without one needs a message). `rule_version` names
        the rule that chose the day (the festival greetings job)."""
        check(
            occasion=one_of_error(occasion, interaction_model.OCCASIONS),
            message=None if message is None else text_error(message, max_length=1000),
            contact_channel=one_of_error(contact_channel, interaction_model.CHANNELS),
        )
        customer = self._customer(customer_id, "greeting")
        language = customer.language or DEFAULT_LANGUAGE
        text = message if message is not None else greeting_text(occasion, language)
        if text is None:
            raise ValidationFailed({"message": f"required: no standard text for {occasion}"})
        at = self.now()
        consent = self._find(Consent, consent_id(customer_id, "greetings"))
        if consent is None or not consent.is_live(at) or consent.record_id is None:
            raise ConsentRequired("no live greetings consent for this customer")
        log = self._load_or_blank(InteractionLog, interaction_log_id(customer_id), at)
        if log.has_greeted(occasion, at.year):
            return False
        log.send_greeting(
            customer_id=customer_id,
            occasion=occasion,
            year=at.year,
            contact_channel=contact_channel,
            message=text,
            language=language,
            rule_version=rule_version,
            consent_record_id=consent.record_id,
            actor=actor,
            at=at,
        )
        self._save(log)
        return True

    def record_advice(
        self,
        customer_id: UUID,
        area: str,
        topic: str,
        advice: str,
        actor: Actor,
        *,
        contact_channel: str = "branch",
        advice_id: UUID | None = None,
    ) -> UUID:
        """Record advice tailored to the customer (7.1): area, topic, channel and the
        advice itself (personal: encrypted, masked). Returns the advice id."""
        check(
            area=one_of_error(area, interaction_model.ADVICE_AREAS),
            topic=text_error(topic, max_length=200),
            advice=text_error(advice, max_length=4000),
            contact_channel=one_of_error(contact_channel, interaction_model.CHANNELS),
        )
        self._customer(customer_id, "care")
        at = self.now()
        log = self._load_or_blank(InteractionLog, interaction_log_id(customer_id), at)
        new_id = self._id(advice_id)
        log.give_advice(
            customer_id=customer_id,
            advice_id=new_id,
            area=area,
            topic=topic,
            contact_channel=contact_channel,
            advice=advice,
            actor=actor,
            at=at,
        )
        self._save(log)
        return new_id

    def record_preferences(
        self,
        customer_id: UUID,
        needs: Sequence[str],
        interests: Sequence[str],
        actor: Actor,
        *,
        notes: str = "",
        expected_version: int | None = None,
    ) -> bool:
        """Record the customer's needs (codes of `customer.NEEDS`) and interests (codes)
        as they stand now, with optional notes (personal: encrypted, masked) (7.1).
        Returns False when nothing changed (nothing recorded)."""
        needs, interests = list(needs), list(interests)
        check(
            needs=codes_error(needs, allowed=customer_model.NEEDS),
            interests=codes_error(interests),
            notes=text_error(notes, max_length=2000, required=False),
        )
        customer = self._customer(customer_id, "care")
        self._expect(customer, expected_version)
        changed = customer.record_preferences(needs, interests, notes, actor, self.now())
        if changed:
            self._save(customer)
        return changed

    def flag_special_care(
        self,
        customer_id: UUID,
        reasons: Sequence[str],
        measures: Sequence[str],
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> bool:
        """Flag special care (elderly, disabled) with its measures (priority channel,
        home service, periodic follow-up); False when already flagged so."""
        check(
            reasons=None
            if reasons and all(r in customer_model.CARE_REASONS for r in reasons)
            else "elderly and/or disabled",
            measures=None
            if all(m in customer_model.CARE_MEASURES for m in measures)
            else "unknown measure",
        )
        customer = self._customer(customer_id, "care")
        self._expect(customer, expected_version)
        follow_up = (
            self.settings.elderly_follow_up_days if "periodic_follow_up" in measures else None
        )
        changed = customer.flag_special_care(
            list(reasons), list(measures), follow_up, IS_ELDERLY_VERSION, actor, self.now()
        )
        self._save(customer)
        return changed

    def review_special_care(self, customer_id: UUID, actor: Actor) -> tuple[str, ...]:
        """Flag a customer who has turned 60 (by default) as elderly; returns the reasons."""
        customer = self._customer(customer_id, "care")
        dob = customer.date_of_birth
        if (
            dob is not None
            and "elderly" not in customer.special_care
            and is_elderly(dob, self.today(), self.settings)
        ):
            customer.flag_special_care(
                [*customer.special_care, "elderly"],
                sorted({*customer.care_measures, "priority_channel", "periodic_follow_up"}),
                self.settings.elderly_follow_up_days,
                IS_ELDERLY_VERSION,
                actor,
                self.now(),
            )
            self._save(customer)
        return tuple(customer.special_care)

    def record_care_visit(
        self,
        customer_id: UUID,
        visit_kind: str,
        notes: str,
        actor: Actor,
        *,
        related_case_id: UUID | None = None,
    ) -> date | None:
        """Record a care visit or follow-up; returns when the next one is due (every 90
        days by default for customers under special care, else None)."""
        check(
            visit_kind=one_of_error(visit_kind, interaction_model.VISIT_KINDS),
            notes=text_error(notes, max_length=4000, required=False),
        )
        customer = self._customer(customer_id, "care")
        at, today = self.now(), self.today()
        log = self._load_or_blank(InteractionLog, interaction_log_id(customer_id), at)
        next_due = next_care_follow_up(today, self.settings) if customer.special_care else None
        log.record_care_visit(
            customer_id=customer_id,
            visit_kind=visit_kind,
            visited_on=today,
            notes=notes,
            next_due_on=next_due,
            related_case_id=related_case_id,
            rule_version=CARE_FOLLOW_UP_VERSION,
            actor=actor,
            at=at,
        )
        self._save(log)
        return next_due

    def care_follow_up_due(self, customer_id: UUID) -> date | None:
        """When the customer's next care follow-up is due: 90 days (by default) after the
        last visit, or from the special-care flag if there was none; None without care."""
        customer = self._load(Customer, customer_id)
        if not customer.special_care:
            return None
        log = self._find(InteractionLog, interaction_log_id(customer_id))
        after_visit = log.next_care_due_on if log is not None else None
        return care_follow_up_due(after_visit, customer.care_flagged_on, self.settings)

    def note_care_follow_up_overdue(self, customer_id: UUID, actor: Actor) -> bool:
        """Record CareFollowUpOverdue when the follow-up is past its due date today;
        once per due date. Returns True when recorded now."""
        self._customer(customer_id, "care")
        due = self.care_follow_up_due(customer_id)
        today = self.today()
        if due is None or not care_follow_up_overdue(due, today):
            return False
        at = self.now()
        log = self._load_or_blank(InteractionLog, interaction_log_id(customer_id), at)
        noted = log.note_care_overdue(
            customer_id=customer_id,
            due_on=due,
            as_of=today,
            rule_version=f"{CARE_FOLLOW_UP_DUE_VERSION}+{CARE_OVERDUE_VERSION}",
            actor=actor,
            at=at,
        )
        self._save(log)
        return noted

    # --- crisis --------------------------------------------------------------------

    def open_crisis(
        self,
        title: str,
        scope: str,
        severity: str,
        actor: Actor,
        *,
        affected_customer_ids: Sequence[UUID] = (),
        crisis_id: UUID | None = None,
    ) -> UUID:
        """Open a crisis incident; affected customers are listed by id. Returns its id."""
        check(
            title=text_error(title, max_length=200),
            scope=text_error(scope, max_length=500),
            severity=one_of_error(severity, crisis_model.SEVERITIES),
        )
        at = self.now()
        new_id = self._id(crisis_id)
        crisis = Crisis.blank(new_id, at)
        crisis.open(
            title=title,
            scope=scope,
            severity=severity,
            affected_customer_ids=list(dict.fromkeys(str(c) for c in affected_customer_ids)),
            contact_due_at=crisis_first_contact(at, self.settings),
            rule_version=CRISIS_FIRST_CONTACT_VERSION,
            actor=actor,
            at=at,
        )
        self._save(crisis)
        return new_id

    def update_crisis(
        self,
        crisis_id: UUID,
        update_kind: str,
        text: str,
        actor: Actor,
        *,
        customers_contacted: int = 0,
        expected_version: int | None = None,
    ) -> None:
        """Record a contact round, a remedy, a public statement or a note."""
        check(
            update_kind=one_of_error(update_kind, crisis_model.UPDATE_KINDS),
            text=text_error(text, max_length=8000),
            customers_contacted=None if customers_contacted >= 0 else "must not be negative",
        )
        crisis = self._load(Crisis, crisis_id)
        self._expect(crisis, expected_version)
        crisis.update(update_kind, text, customers_contacted, actor, self.now())
        self._save(crisis)

    def record_crisis_contact(
        self,
        crisis_id: UUID,
        customer_id: UUID,
        contact_channel: str,
        notes: str,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> bool | None:
        """Record a contact with a customer affected by an open crisis: logged in the
        customer's interaction log (purpose care, what was said under their key) and,
        in the same write, on the crisis by id, channel and time with a reference to
        that entry. Returns whether the first contact was within the crisis's deadline
        (24 hours after opening by default; None when it has none)."""
        check(
            contact_channel=one_of_error(contact_channel, interaction_model.CHANNELS),
            notes=text_error(notes, max_length=4000, required=False),
        )
        crisis = self._load(Crisis, crisis_id)
        self._expect(crisis, expected_version)
        self._customer(customer_id, "care")
        at = self.now()
        log = self._load_or_blank(InteractionLog, interaction_log_id(customer_id), at)
        interaction_id = self.new_id()
        in_time = crisis.record_contact(customer_id, interaction_id, contact_channel, actor, at)
        log.log(
            customer_id=customer_id,
            interaction_id=interaction_id,
            contact_channel=contact_channel,
            direction="outbound",
            purpose="care",
            topic=f"crisis: {crisis.title}"[:200],
            content=notes,
            consent_record_id=None,
            actor=actor,
            at=at,
        )
        self._save(crisis, log)
        return in_time

    def close_crisis(
        self,
        crisis_id: UUID,
        summary: str,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Close the incident (after a remedy or public statement)."""
        check(summary=text_error(summary, max_length=4000))
        crisis = self._load(Crisis, crisis_id)
        self._expect(crisis, expected_version)
        crisis.close(summary, actor, self.now())
        self._save(crisis)

    def get_crisis(self, crisis_id: UUID) -> CrisisRecord:
        """The incident and its progress."""
        return record_of(CrisisRecord, self._load(Crisis, crisis_id))
