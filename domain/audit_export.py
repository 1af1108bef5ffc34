"""Every audit-trail export is itself a fact in the ledger.

`AuditExport` is a one-event aggregate: `AuditTrailExported` records who exported
(actor id and role, channel, reason), when, the scope, the size of the signed
checkpoint the bundle is verified against, the SHA-256 of the bundle's
`manifest.json` (the bundle digest a regulator can compare with) and the number of
disclosed events. The event is about no customer (`subject_id` is None), so it is
encrypted under the system key and survives the erasure of any exported customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class AuditExport(Aggregate):
    """One export of an audit-trail bundle (see security/export/exporter.py)."""

    class Event(Aggregate.Event):
        """An event of an export: about no customer."""

        @property
        def subject_id(self) -> UUID | None:
            """Exports are about no single customer: the system key encrypts them."""
            return None

    class AuditTrailExported(Event, Aggregate.Created):
        """An audit-trail bundle was written and handed out."""

        actor_id: str
        actor_role: str
        channel: str
        reason: str | None
        occurred_at: datetime
        scope: dict[str, Any]
        checkpoint_size: int
        bundle_digest: str
        event_count: int

    @event(AuditTrailExported)
    def __init__(
        self,
        actor_id: str,
        actor_role: str,
        channel: str,
        reason: str | None,
        occurred_at: datetime,
        scope: dict[str, Any],
        checkpoint_size: int,
        bundle_digest: str,
        event_count: int,
    ) -> None:
        self.actor_id = actor_id
        self.actor_role = actor_role
        self.channel = channel
        self.reason = reason
        self.occurred_at = occurred_at
        self.scope = scope
        self.checkpoint_size = checkpoint_size
        self.bundle_digest = bundle_digest
        self.event_count = event_count
