"""The `consents` view: the consent register, one row per customer and purpose.

Each row is the current record of that purpose: its state, what it covers, how and
under which notice it was given, its validity, and a reference to the event that
holds the evidence (`<consent stream id>@v<version>` and its position in the log),
never the evidence itself. Whether a consent is live at a moment is decided at
query time from the stored validity (projections.case_queries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain import consent as k
from domain import customer as c
from projections.base import EventContext, Handler, Tx, ViewProjection, as_json, when
from projections.schema import CONSENT, CONSENT_TABLE


class ConsentsProjection(ViewProjection):
    """The consent register (see the module docstring)."""

    name = "consents"
    tables = (CONSENT_TABLE,)

    def handlers(self) -> Mapping[type, Handler]:
        """Grants open a record, withdrawals and expiries close it; erasure deletes."""
        return {
            k.ConsentGranted: self.granted,
            k.ConsentWithdrawn: self.withdrawn,
            k.ConsentExpired: self.expired,
            c.CustomerErased: lambda tx, e, x: self.purge_customer(tx, str(e.originator_id)),
        }

    def prefetch(self, tx: Tx, events: Sequence[Any]) -> None:
        """The register rows of every customer granted a consent in the batch."""
        granted = [e for e in events if isinstance(e, k.ConsentGranted)]
        tx.prefetch(CONSENT, "customer_id", {str(e.customer_id) for e in granted}, ("records",))

    def granted(self, tx: Tx, event: k.ConsentGranted, ctx: EventContext) -> None:
        """The purpose's current record becomes this grant (counting earlier records)."""
        key = {"customer_id": str(event.customer_id), "purpose": event.purpose}
        row = tx.row(CONSENT, key, ("records",))
        tx.upsert(
            CONSENT,
            tuple(key),
            {
                **key,
                "record_id": str(event.record_id),
                "state": "granted",
                "data_categories": as_json(sorted(event.data_categories)),
                "sensitive": int(event.sensitive),
                "notice_version": event.notice_version,
                "method": event.method,
                "valid_from": when(event.valid_from),
                "valid_to": when(event.valid_to),
                "granted_at": when(event.occurred_at),
                "withdrawn_at": None,
                "expired_at": None,
                "evidence_ref": ctx.evidence_ref,
                "evidence_position": ctx.position,
                "records": (int(row["records"]) if row else 0) + 1,
                "updated_at": when(event.occurred_at),
                "position": ctx.position,
            },
        )

    def withdrawn(self, tx: Tx, event: k.ConsentWithdrawn, ctx: EventContext) -> None:
        """The named record is withdrawn; evidence now points to the withdrawal."""
        tx.update(
            CONSENT,
            {"customer_id": str(event.customer_id), "record_id": str(event.record_id)},
            {
                "state": "withdrawn",
                "withdrawn_at": when(event.occurred_at),
                "evidence_ref": ctx.evidence_ref,
                "evidence_position": ctx.position,
                "updated_at": when(event.occurred_at),
                "position": ctx.position,
            },
        )

    def expired(self, tx: Tx, event: k.ConsentExpired, ctx: EventContext) -> None:
        """The named record has run out."""
        tx.update(
            CONSENT,
            {"customer_id": str(event.customer_id), "record_id": str(event.record_id)},
            {
                "state": "expired",
                "expired_at": when(event.expired_at),
                "updated_at": when(event.occurred_at),
                "position": ctx.position,
            },
        )
