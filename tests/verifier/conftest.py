"""A real bundle for the verifier's tests: the demo's year for a few customers (real
topics, Chinese names and addresses, dates, decimals and UUIDs nested in lists and
dicts), one customer crypto-shredded, and an aggregate of awkward values (a null
and an absent `occurred_at`, spreadsheet formulas, tabs, CRs, quotes, non-BMP
text, typed values nested at any depth), exported by the real exporter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, event

from demo.year import generate_demo
from security.bootstrap import LedgerConfig, build_ledger
from security.export.exporter import ExportActor, ExportScope, export_bundle

CUSTOMERS = 6


class Oddity(Aggregate):
    """Values a renderer written from the docs alone must get right."""

    class Event(Aggregate.Event):
        @property
        def subject_id(self) -> UUID | None:
            """About no customer (system key), unless the event says whom."""
            return None

    class Recorded(Event, Aggregate.Created):
        """About a customer (under the customer's key), with a null occurred_at."""

        about: UUID
        actor_id: str
        actor_role: str
        channel: str
        reason: str | None
        occurred_at: datetime | None
        payload: dict[str, Any]

        @property
        def subject_id(self) -> UUID | None:
            return self.about

    class Noted(Event):
        """No actor, channel, reason or occurred_at at all: time is the timestamp."""

        text: str

    @event(Recorded)
    def __init__(
        self,
        about: UUID,
        actor_id: str,
        actor_role: str,
        channel: str,
        reason: str | None,
        occurred_at: datetime | None,
        payload: dict[str, Any],
    ) -> None:
        self.about = about
        self.payload = payload

    @event(Noted)
    def note(self, text: str) -> None:
        self.text = text


@dataclass(frozen=True)
class ExportedBundle:
    """A bundle and what went into it."""

    path: Path
    vkey: Path
    erased_customer: str


@pytest.fixture(scope="session")
def exported_bundle(tmp_path_factory: pytest.TempPathFactory) -> ExportedBundle:
    """A whole-log bundle written by the exporter (see the module docstring)."""
    base = tmp_path_factory.mktemp("verifier-bundle")
    ledger = build_ledger(LedgerConfig(data_dir=base / "store"))
    try:
        generate_demo(ledger.app, customers=CUSTOMERS, seed=7)
        customers = list(ledger.app.customer_ids())
        assert len(customers) == CUSTOMERS
        when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
        odd = Oddity(
            customers[0],
            '=HYPERLINK("http://x")',
            "+role",
            "-channel",
            "@reason",
            None,
            {
                "tab": "\tstarts with a tab",
                "cr": "\rstarts with a CR",
                "lines": 'a "quoted", comma\r\nand a new line\n',
                "names": ["史秀勇", "Zoë", "𝄞 non-BMP", "\x01control\x7f", "sep\u2028arator"],
                "nested": [
                    {"id": UUID("0b1e6f4a-2c3d-4e5f-8a9b-0c1d2e3f4a5b"), "on": date(2026, 2, 28)},
                    [Decimal("0.10"), Decimal("-3"), when],
                    {"deeper": {"ids": [UUID(int=1)], "amount": Decimal("1E+3")}},
                ],
                "looks_typed": {"_type_": "not_a_type", "_data_": "kept"},
                "empty": {},
                "none": None,
                "flag": True,
                "count": -7,
            },
        )
        odd.note("=1+1")
        ledger.app.save(odd)
        erased = str(customers[1])
        ledger.keystore.shred(erased)
        out = base / "bundle"
        export_bundle(ledger, out, ExportScope(everything=True), ExportActor("officer-1"))
        vkey = base / "log.vkey"
        vkey.write_bytes((out / "log.vkey").read_bytes())
    finally:
        ledger.close()
    return ExportedBundle(out, vkey, erased)
