"""The `crises` view: the crisis register (policy 7.3) and each affected customer's contact.

One row per crisis: severity, state, when it opened and closed, the first-contact
deadline, how many customers are affected and how many were contacted (in time), the
first contact, statements and remedies. One row per affected customer (by id only, as
the crisis stream names them): their first contact's time and channel, whether it was
in time, how many contacts followed, and the evidence: the contact in the customer's
own interaction log (`interaction_id`) and the crisis event that recorded it
(`<crisis id>@v<version>` and its log position). Titles are public texts; nothing
personal is kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain import crisis as k
from domain import customer as c
from projections.base import EventContext, Handler, Tx, ViewProjection, when
from projections.schema import CRISIS, CRISIS_CONTACT, CRISIS_CONTACT_TABLE, CRISIS_TABLE


class CrisesProjection(ViewProjection):
    """The crisis register (see the module docstring)."""

    name = "crises"
    tables = (CRISIS_TABLE, CRISIS_CONTACT_TABLE)

    def handlers(self) -> Mapping[type, Handler]:
        """Opening lists the affected; contacts, updates and closing move the counts."""
        return {
            k.CrisisOpened: self.opened,
            k.CrisisUpdated: self.updated,
            k.CrisisCustomerContacted: self.contacted,
            k.CrisisClosed: self.closed,
            c.CustomerErased: lambda tx, e, x: self.purge_customer(tx, str(e.originator_id)),
        }

    def opened(self, tx: Tx, event: k.CrisisOpened, ctx: EventContext) -> None:
        """A register row, and a contact row (not yet contacted) per affected customer."""
        crisis_id = str(event.originator_id)
        tx.upsert(
            CRISIS,
            ("crisis_id",),
            {
                "crisis_id": crisis_id,
                "title": event.title,
                "severity": event.severity,
                "state": "open",
                "opened_at": when(event.occurred_at),
                "contact_due_at": when(event.contact_due_at),
                "affected": len(event.affected_customer_ids),
                "updated_at": when(event.occurred_at),
                "position": ctx.position,
            },
        )
        for customer_id in event.affected_customer_ids:
            tx.insert_ignore(
                CRISIS_CONTACT,
                {"crisis_id": crisis_id, "customer_id": customer_id, "position": ctx.position},
            )

    def updated(self, tx: Tx, event: k.CrisisUpdated, ctx: EventContext) -> None:
        """Statements and remedies are counted."""
        tx.execute(
            "UPDATE {pv_crisis} SET statements=statements+?, remedies=remedies+?, "
            "updated_at=?, position=? WHERE crisis_id=?",
            [
                int(event.update_kind == "statement"),
                int(event.update_kind == "remedy"),
                when(event.occurred_at),
                ctx.position,
                str(event.originator_id),
            ],
        )

    def contacted(self, tx: Tx, event: k.CrisisCustomerContacted, ctx: EventContext) -> None:
        """A first contact sets the customer's row and the crisis's counts; later ones
        are counted."""
        crisis_id, at = str(event.originator_id), when(event.occurred_at)
        key = {"crisis_id": crisis_id, "customer_id": event.contacted_customer_id}
        if not event.first_contact:
            tx.execute(
                "UPDATE {pv_crisis_contact} SET contacts=contacts+1, position=? "
                "WHERE crisis_id=? AND customer_id=?",
                [ctx.position, crisis_id, event.contacted_customer_id],
            )
            return
        tx.update(
            CRISIS_CONTACT,
            key,
            {
                "first_contact_at": at,
                "contact_channel": event.contact_channel,
                "in_time": None if event.in_time is None else int(event.in_time),
                "contacts": 1,
                "interaction_id": str(event.interaction_id),
                "evidence_ref": ctx.evidence_ref,
                "evidence_position": ctx.position,
                "position": ctx.position,
            },
        )
        tx.execute(
            "UPDATE {pv_crisis} SET contacted=contacted+1, "
            "contacted_in_time=contacted_in_time+?, "
            "first_contact_at=COALESCE(first_contact_at, ?), updated_at=?, position=? "
            "WHERE crisis_id=?",
            [int(bool(event.in_time)), at, at, ctx.position, crisis_id],
        )

    def closed(self, tx: Tx, event: k.CrisisClosed, ctx: EventContext) -> None:
        """The crisis is closed."""
        at = when(event.occurred_at)
        tx.update(
            CRISIS,
            {"crisis_id": str(event.originator_id)},
            {"state": "closed", "closed_at": at, "updated_at": at, "position": ctx.position},
        )
