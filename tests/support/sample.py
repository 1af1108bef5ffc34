"""A tiny application used to test the ledger core independently of the real domain."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Person(Aggregate):
    """An aggregate whose events are about a subject (the person)."""

    class Event(Aggregate.Event):
        @property
        def subject_id(self) -> UUID:
            return self.originator_id

    @event("Registered")
    def __init__(self, name: str, phone: str, id_number: str) -> None:
        self.name = name
        self.phone = phone
        self.id_number = id_number

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


class Note(Aggregate):
    """An aggregate about no subject (system key)."""

    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


class SampleApp(Application[UUID]):
    name = "Ledger"

    def __init__(self, env: Any = None, **_: Any) -> None:
        super().__init__(env)
        self.subject_keys: Any = None

    def register(self, name: str, phone: str = "13800000000", id_number: str = "X") -> UUID:
        person = Person(name, phone, id_number)
        self.save(person)
        return person.id

    def rename(self, person_id: UUID, name: str) -> None:
        person: Person = self.repository.get(person_id)
        person.rename(name)
        self.save(person)

    def note(self, text: str) -> UUID:
        n = Note(text)
        self.save(n)
        return n.id


def sample_ledger_on_postgres(tmp_path: Any, schema: str) -> Any:
    """A SampleApp ledger on PostgreSQL in `schema`, closed afterwards (for a fixture:
    `yield from sample_ledger_on_postgres(tmp_path, pg_schema)`)."""
    from security.bootstrap import build_ledger
    from tests.conftest import make_config

    built = build_ledger(make_config("postgres", tmp_path, schema), app_class=SampleApp)
    try:
        yield built
    finally:
        built.close()
