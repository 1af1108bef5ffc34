"""Bulk demo data for the scale benchmark: many customers, quickly, still genuine.

`generate_demo` (demo.year) runs every command of a year one at a time, through the
application's checks, one transaction each: about 1,000 events/s. To grow a store
to millions of events, `bulk_customers` builds the same domain aggregates directly
(a `Customer` registered with a demo profile, then an `InteractionLog` of contacts)
and saves whole batches of them with `Application.save`: every event still goes
through the ledger's mapper (per-customer data key, AES-256-GCM, the stored-event
table and its notification ids), only many aggregates share one transaction.
The bulk customers are individuals without a credit code or an identity document,
so they have no identity number to claim (one record per person: nothing to check).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.application import Application

from demo.people import individual_profile, uuid_from
from demo.schedule import TZ
from domain.actor import Actor
from domain.customer import Customer
from domain.events import LedgerAggregate
from domain.ids import interaction_log_id
from domain.interaction import CHANNELS, InteractionLog
from domain.personal_data import PROFILE_FIELDS

START = datetime(2016, 1, 1, 9, 0, tzinfo=TZ)
TOPICS = ("account review", "card limit", "fund switch", "address check", "rate query")
FRONT = Actor("fo-bulk-1", "front_office", "branch")


@dataclass(frozen=True)
class BulkBatch:
    """One batch of saved aggregates: the customers written and how many events."""

    customer_ids: list[UUID]
    events: int


def customer_aggregates(
    rng: random.Random, index: int, contacts: int, at: datetime
) -> tuple[Customer, InteractionLog]:
    """A registered customer and its interaction log with `contacts` contacts, the
    events spaced a few hours apart from `at`; nothing saved."""
    customer_id = uuid_from(rng)
    customer = Customer.blank(customer_id, at)
    given = individual_profile(rng, at.date(), index)
    profile = {name: given.get(name) for name in PROFILE_FIELDS}
    customer.register(
        FRONT,
        at,
        kind="individual",
        status="active",
        registered_on=at.date(),
        source="migration",
        **profile,
    )
    log = InteractionLog.blank(interaction_log_id(customer_id), at)
    moment = at
    for n in range(contacts):
        moment += timedelta(hours=rng.randint(1, 72))
        log.log(
            customer_id=customer_id,
            interaction_id=uuid_from(rng),
            contact_channel=rng.choice(CHANNELS),
            direction=rng.choice(("inbound", "outbound")),
            purpose="service",
            topic=rng.choice(TOPICS),
            content=f"Contact {n}: {rng.choice(TOPICS)} discussed, follow-up noted",
            consent_record_id=None,
            actor=FRONT,
            at=moment,
        )
    return customer, log


def bulk_customers(
    app: Application[UUID],
    customers: int,
    *,
    events_each: int = 10,
    batch_events: int = 2000,
    seed: int = 7,
    first_index: int = 0,
    before_save: Callable[[Sequence[UUID]], None] | None = None,
) -> Iterator[BulkBatch]:
    """Save `customers` customers of `events_each` events each (1 registration, the
    rest contacts) in saves of about `batch_events` events; yields each saved batch.
    The same seed and first index give the same customers. `before_save` is called
    with each batch's new customer ids before it is saved (the scale benchmark makes
    their data keys there, in one step, instead of one key-store query each)."""
    rng = random.Random(seed * 1_000_003 + first_index)
    contacts = max(0, events_each - 1)
    per_batch = max(1, batch_events // max(1, events_each))
    index = first_index
    end = first_index + customers
    while index < end:
        aggregates: list[LedgerAggregate] = []
        ids = []
        for i in range(index, min(index + per_batch, end)):
            at = START + timedelta(minutes=(i * 7) % (3650 * 24 * 60))
            customer, log = customer_aggregates(rng, i, contacts, at)
            aggregates.append(customer)
            if contacts:
                aggregates.append(log)
            ids.append(customer.id)
        if before_save is not None:
            before_save(ids)
        app.save(*aggregates)
        yield BulkBatch(ids, sum(1 + contacts for _ in ids))
        index += len(ids)


def long_history(app: Application[UUID], events: int, *, seed: int = 9) -> tuple[UUID, datetime]:
    """A customer whose `Customer` stream holds `events` events (registration, then
    profile changes a day apart, saved in batches); returns its id and a moment in the
    middle of that history."""
    rng = random.Random(seed)
    at = START
    customer = Customer.blank(uuid_from(rng), at)
    given = individual_profile(rng, at.date(), 0)
    customer.register(
        FRONT,
        at,
        kind="individual",
        status="active",
        registered_on=date(2016, 1, 1),
        source="migration",
        **{name: given.get(name) for name in PROFILE_FIELDS},
    )
    middle = at
    for n in range(1, events):
        at += timedelta(days=1)
        customer.change_profile(
            "address", f"Flat {n}, 1 Harbour Road, Hong Kong", "customer", FRONT, at
        )
        if n == events // 2:
            middle = at
        if len(customer.pending_events) >= 500:
            app.save(customer)
    app.save(customer)
    return customer.id, middle
