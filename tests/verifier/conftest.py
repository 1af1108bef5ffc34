"""A real bundle for the verifier's tests: the demo's year for a few customers (real
topics, Chinese names and addresses, dates, decimals and UUIDs nested in lists and
dicts), one customer crypto-shredded, and an aggregate of awkward values (a null
and an absent `occurred_at`, spreadsheet formulas, tabs, CRs, quotes, non-BMP
text, typed values nested at any depth), exported by the real exporter."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, event

from demo.year import generate_demo
from security.bootstrap import Settings, build_ledger
from security.export.disclosed_keys import KeyDirectory
from security.export.exporter import ExportActor, ExportScope, export_bundle
from security.keys.data_keys import SYSTEM_SUBJECT

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

    class Tagged(Event):
        """Cells that begin with a tab and a CR (CSV injection), and a NEL."""

        actor_id: str
        channel: str
        occurred_at: datetime
        tag: str

    @event(Noted)
    def note(self, text: str) -> None:
        self.text = text

    @event(Tagged)
    def tag(self, actor_id: str, channel: str, occurred_at: datetime, tag: str) -> None:
        self.last_tag = tag


@dataclass(frozen=True)
class ExportedBundle:
    """A bundle and what went into it."""

    path: Path
    vkey: Path
    erased_customer: str
    # the firm's key store, as a regulator does not have it: the customer of each
    # key reference (None for the system key) and each data key (None if shredded)
    customer_of_key: dict[str, str | None]
    data_keys: dict[str, bytes | None]


@pytest.fixture(scope="session")
def exported_bundle(tmp_path_factory: pytest.TempPathFactory) -> ExportedBundle:
    """A whole-log bundle written by the exporter (see the module docstring)."""
    base = tmp_path_factory.mktemp("verifier-bundle")
    ledger = build_ledger(Settings(data_dir=base / "store"))
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
                # any two-member {_type_, _data_} object renders as its data
                "looks_typed": {"_type_": "not_a_type", "_data_": "kept"},
                "empty": {},
                "none": None,
                "flag": True,
                "count": -7,
            },
        )
        odd.note("=1+1")
        odd.tag("\t=tab-led", "\r=CR-led", when, "next\x85line")
        ledger.app.save(odd)
        erased = str(customers[1])
        ledger.keystore.shred(erased)
        out = base / "bundle"
        export_bundle(ledger, out, ExportScope(everything=True), ExportActor("officer-1"))
        vkey = base / "log.vkey"
        vkey.write_bytes((out / "log.vkey").read_bytes())
        refs = {json.loads(line)["key_ref"] for line in (out / "leaves.jsonl").open("rb")}
        directory = KeyDirectory(ledger.keystore)
        directory.prefetch(refs)
        keys = {ref: directory.get(ref, -1) for ref in refs}
    finally:
        ledger.close()
    return ExportedBundle(
        out,
        vkey,
        erased,
        {ref: None if key.subject == SYSTEM_SUBJECT else key.subject for ref, key in keys.items()},
        {ref: key.dek for ref, key in keys.items()},
    )
