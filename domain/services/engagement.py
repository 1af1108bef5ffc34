"""Chapter 2: consents, interactions on every channel, campaigns and invitations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from domain import campaign as campaign_model
from domain import consent as consent_model
from domain import interaction as interaction_model
from domain.actor import Actor
from domain.campaign import Campaign, CampaignInvitation
from domain.consent import Consent
from domain.errors import ConsentRequired, IllegalTransition
from domain.ids import consent_id, interaction_log_id, invitation_id
from domain.interaction import InteractionLog
from domain.records import (
    CampaignRecord,
    ConsentRecord,
    InteractionSummary,
    InvitationRecord,
    record_of,
)
from domain.rules.consent import consent_has_expired
from domain.services.base import LedgerServices
from domain.validation import check, one_of_error, text_error

# Which interaction purposes a customer under processing restriction still accepts.
_PURPOSE_UNDER_LAW = {"complaint": "complaint", "kyc": "kyc"}


def _category_errors(categories: Sequence[str], sensitive: bool) -> str | None:
    known = consent_model.SENSITIVE_CATEGORIES | consent_model.ORDINARY_CATEGORIES
    if not categories:
        return "at least one data category"
    if any(c not in known for c in categories):
        return "unknown data category"
    sensitive_given = {c for c in categories if c in consent_model.SENSITIVE_CATEGORIES}
    if sensitive_given and len(sensitive_given) != len(set(categories)):
        return "sensitive data needs its own, separate consent"
    if bool(sensitive_given) != sensitive:
        return "the sensitive flag must match the categories"
    return None


class EngagementCommands(LedgerServices):
    """Consent, contact and campaigns."""

    # --- consent -------------------------------------------------------------------

    def grant_consent(
        self,
        customer_id: UUID,
        purpose: str,
        actor: Actor,
        *,
        data_categories: Sequence[str],
        notice_version: str,
        method: str,
        evidence: str,
        sensitive: bool = False,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        record_id: UUID | None = None,
    ) -> UUID:
        """Record who consented to what, when, under which notice and how; returns the
        new record's id. Sensitive categories need a separate consent of their own."""
        at = self.now()
        start = valid_from or at
        check(
            purpose=one_of_error(purpose, consent_model.PURPOSES),
            method=one_of_error(method, consent_model.METHODS),
            notice_version=text_error(notice_version, max_length=50),
            evidence=text_error(evidence, max_length=500),
            data_categories=_category_errors(list(data_categories), sensitive),
            valid_to=None if valid_to is None or valid_to > start else "must be after valid_from",
        )
        self._customer(customer_id, "consent")
        consent = self._load_or_blank(Consent, consent_id(customer_id, purpose), at)
        new_record = self._id(record_id)
        consent.grant(
            customer_id=customer_id,
            purpose=purpose,
            record_id=new_record,
            data_categories=list(data_categories),
            sensitive=sensitive,
            notice_version=notice_version,
            method=method,
            evidence=evidence,
            valid_from=start,
            valid_to=valid_to,
            actor=actor,
            at=at,
        )
        self._save(consent)
        return new_record

    def withdraw_consent(
        self,
        customer_id: UUID,
        purpose: str,
        actor: Actor,
        *,
        method: str = "electronic",
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Withdraw the live consent for `purpose` (as easy as granting: any channel)."""
        check(method=one_of_error(method, consent_model.METHODS))
        self._customer(customer_id, "consent_withdrawal")
        consent = self._load(Consent, consent_id(customer_id, purpose))
        self._expect(consent, expected_version)
        consent.withdraw(method, evidence, actor, self.now())
        self._save(consent)

    def expire_consent(self, customer_id: UUID, purpose: str, actor: Actor) -> bool:
        """Record the expiry of a consent whose validity ended; False when not due."""
        consent = self._find(Consent, consent_id(customer_id, purpose))
        at = self.now()
        if consent is None or consent.state != "granted":
            return False
        if not consent_has_expired(consent.valid_to, at):
            return False
        consent.expire(actor, at)
        self._save(consent)
        return True

    def get_consent(self, customer_id: UUID, purpose: str) -> ConsentRecord:
        """The customer's consent for `purpose` (current record and previous ids)."""
        consent = self._load(Consent, consent_id(customer_id, purpose))
        return record_of(ConsentRecord, consent, live=consent.is_live(self.now()))

    def live_consent(self, customer_id: UUID, purpose: str) -> UUID | None:
        """The record id of the live consent for `purpose` now, or None."""
        consent = self._find(Consent, consent_id(customer_id, purpose))
        if consent is None or not consent.is_live(self.now()):
            return None
        return consent.record_id

    def _require_consent(self, customer_id: UUID, purpose: str) -> UUID:
        record = self.live_consent(customer_id, purpose)
        if record is None:
            raise ConsentRequired(f"no live {purpose} consent for this customer")
        return record

    # --- interactions --------------------------------------------------------------

    def log_interaction(
        self,
        customer_id: UUID,
        contact_channel: str,
        direction: str,
        purpose: str,
        topic: str,
        content: str,
        actor: Actor,
        *,
        interaction_id: UUID | None = None,
    ) -> UUID:
        """Log a contact on any channel; a marketing or sales contact needs a live
        marketing consent (ConsentRequired otherwise). Returns the interaction id."""
        check(
            contact_channel=one_of_error(contact_channel, interaction_model.CHANNELS),
            direction=one_of_error(direction, interaction_model.DIRECTIONS),
            purpose=one_of_error(purpose, interaction_model.PURPOSES),
            topic=text_error(topic, max_length=200),
            content=text_error(content, max_length=4000, required=False),
        )
        self._customer(customer_id, _PURPOSE_UNDER_LAW.get(purpose, "contact"))
        record = None
        if purpose in interaction_model.MARKETING_PURPOSES:
            record = self._require_consent(customer_id, "marketing")
        at = self.now()
        log = self._load_or_blank(InteractionLog, interaction_log_id(customer_id), at)
        new_id = self._id(interaction_id)
        log.log(
            customer_id=customer_id,
            interaction_id=new_id,
            contact_channel=contact_channel,
            direction=direction,
            purpose=purpose,
            topic=topic,
            content=content,
            consent_record_id=record,
            actor=actor,
            at=at,
        )
        self._save(log)
        return new_id

    def get_interactions(self, customer_id: UUID) -> InteractionSummary:
        """Counts and dates of the customer's contacts, greetings and care visits."""
        return record_of(
            InteractionSummary, self._load(InteractionLog, interaction_log_id(customer_id))
        )

    # --- campaigns -----------------------------------------------------------------

    def plan_campaign(
        self,
        kind: str,
        title: str,
        starts_on: date,
        ends_on: date,
        actor: Actor,
        *,
        target_segment: str | None = None,
        branch: str | None = None,
        campaign_id: UUID | None = None,
    ) -> UUID:
        """Plan a campaign or customer event; returns its id."""
        check(
            kind=one_of_error(kind, campaign_model.KINDS),
            title=text_error(title, max_length=200),
            ends_on=None if starts_on <= ends_on else "must not be before starts_on",
        )
        at = self.now()
        new_id = self._id(campaign_id)
        campaign = Campaign.blank(new_id, at)
        campaign.plan(
            kind=kind,
            title=title,
            starts_on=starts_on,
            ends_on=ends_on,
            target_segment=target_segment,
            branch=branch,
            actor=actor,
            at=at,
        )
        self._save(campaign)
        return new_id

    def invite_to_campaign(
        self, campaign_id: UUID, customer_id: UUID, actor: Actor, *, contact_channel: str = "sms"
    ) -> UUID:
        """Invite a customer (a marketing contact: needs a live marketing consent);
        returns the invitation id."""
        check(contact_channel=one_of_error(contact_channel, interaction_model.CHANNELS))
        campaign = self._load(Campaign, campaign_id)
        if campaign.ends_on is not None and self.today() > campaign.ends_on:
            raise IllegalTransition("the campaign is over")
        self._customer(customer_id, "marketing")
        record = self._require_consent(customer_id, "marketing")
        at = self.now()
        invitation = self._load_or_blank(
            CampaignInvitation, invitation_id(campaign_id, customer_id), at
        )
        invitation.invite(
            customer_id=customer_id,
            campaign_id=campaign_id,
            contact_channel=contact_channel,
            consent_record_id=record,
            actor=actor,
            at=at,
        )
        self._save(invitation)
        return invitation.id

    def record_attendance(
        self,
        campaign_id: UUID,
        customer_id: UUID,
        attended: bool,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Record whether an invited customer attended."""
        invitation = self._load(CampaignInvitation, invitation_id(campaign_id, customer_id))
        self._expect(invitation, expected_version)
        invitation.record_attendance(attended, actor, self.now())
        self._save(invitation)

    def get_campaign(self, campaign_id: UUID) -> CampaignRecord:
        """The campaign as planned."""
        return record_of(CampaignRecord, self._load(Campaign, campaign_id))

    def get_invitation(self, campaign_id: UUID, customer_id: UUID) -> InvitationRecord:
        """One customer's invitation to one campaign."""
        return record_of(
            InvitationRecord,
            self._load(CampaignInvitation, invitation_id(campaign_id, customer_id)),
        )
