"""Chapter 2: campaigns and events (lectures, competitions, appreciation events).

The campaign itself names no customer. Each invitation is its own small stream under
the invited customer's key, so erasing a customer never makes a campaign unreadable.
An invitation is a marketing contact: it needs a live marketing consent.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import CustomerEvent, CustomerOpeningEvent, LedgerAggregate, OpeningEvent

KINDS = ("lecture", "competition", "appreciation", "seminar", "product_launch")
ATTENDANCE = ("invited", "attended", "absent")


class CampaignPlanned(OpeningEvent):
    kind: str
    title: str
    starts_on: date
    ends_on: date
    target_segment: str | None
    branch: str | None

    def apply(self, aggregate: Campaign) -> None:
        aggregate.kind = self.kind
        aggregate.title = self.title
        aggregate.starts_on = self.starts_on
        aggregate.ends_on = self.ends_on
        aggregate.target_segment = self.target_segment
        aggregate.branch = self.branch


class Campaign(LedgerAggregate):
    """A marketing campaign or customer event."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.title: str | None = None
        self.starts_on: date | None = None
        self.ends_on: date | None = None
        self.target_segment: str | None = None
        self.branch: str | None = None

    def plan(
        self,
        *,
        kind: str,
        title: str,
        starts_on: date,
        ends_on: date,
        target_segment: str | None,
        branch: str | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Plan the campaign (only once)."""
        if self.exists:
            raise IllegalTransition("the campaign is already planned")
        self._record(
            CampaignPlanned,
            actor,
            at,
            kind=kind,
            title=title,
            starts_on=starts_on,
            ends_on=ends_on,
            target_segment=target_segment,
            branch=branch,
        )


class CustomerInvited(CustomerOpeningEvent):
    campaign_id: UUID
    contact_channel: str
    consent_record_id: UUID

    def apply(self, aggregate: CampaignInvitation) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.campaign_id = self.campaign_id
        aggregate.attendance = "invited"


class AttendanceRecorded(CustomerEvent):
    campaign_id: UUID
    attended: bool

    def apply(self, aggregate: CampaignInvitation) -> None:
        aggregate.attendance = "attended" if self.attended else "absent"


class CampaignInvitation(LedgerAggregate):
    """One customer's invitation to one campaign and whether they came."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.campaign_id: UUID | None = None
        self.attendance: str | None = None

    def invite(
        self,
        *,
        customer_id: UUID,
        campaign_id: UUID,
        contact_channel: str,
        consent_record_id: UUID,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record the invitation (once per customer and campaign)."""
        if self.exists:
            raise IllegalTransition("the customer is already invited")
        self._record(
            CustomerInvited,
            actor,
            at,
            customer_id=customer_id,
            campaign_id=campaign_id,
            contact_channel=contact_channel,
            consent_record_id=consent_record_id,
        )

    def record_attendance(self, attended: bool, actor: Actor, at: datetime) -> None:
        """Record whether the invited customer came (once)."""
        self.require_exists()
        if self.attendance != "invited":
            raise IllegalTransition("attendance is already recorded")
        self._record(
            AttendanceRecorded,
            actor,
            at,
            customer_id=self.customer_id,
            campaign_id=self.campaign_id,
            attended=attended,
        )
