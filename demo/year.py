"""Deterministic demo data: synthetic customers and a year of the firm's life.

`generate_demo(app, customers, seed)` plans every customer's year and the firm's own
calendar (service standards, campaigns, a crisis, quarterly grading, value
assessment, monthly KPI evaluations with their job runs, the complaint SLA check),
then runs all of it through the application's commands in time order, with the
application's clock set to each command's time and ids drawn from the seeded random.
The same seed and end date give the same events, byte for byte.
"""

from __future__ import annotations

import random
import time as timer
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from demo.customers import CustomerStory
from demo.firm import plan_firm
from demo.people import uuid_from
from demo.schedule import Facts, Schedule, day_at
from domain.rules.care import festivals_on
from domain.settings import RuleSettings

if TYPE_CHECKING:
    from domain.application import LedgerApplication

DEMO_END = date(2026, 6, 30)


@dataclass(frozen=True)
class DemoSummary:
    """What the demo wrote."""

    seed: int
    customers: int
    individuals: int
    corporates: int
    events: int
    cases_by_state: dict[str, int]
    surveys: int
    dissatisfied: int
    churn_cases: int
    churned: int
    erasure_requests: int
    legal_holds: int
    suspended: int
    start: date
    end: date
    seconds: float = field(default=0.0, compare=False)

    def __str__(self) -> str:
        states = ", ".join(f"{n} {s}" for s, n in sorted(self.cases_by_state.items()))
        return (
            f"{self.customers} customers ({self.individuals} individual, {self.corporates} "
            f"corporate), {self.events} events from {self.start} to {self.end} in "
            f"{self.seconds:.1f} s; cases: {states}; {self.surveys} surveys "
            f"({self.dissatisfied} dissatisfied); {self.churn_cases} churn warnings "
            f"({self.churned} churned); {self.erasure_requests} erasure requests, "
            f"{self.legal_holds} legal holds, {self.suspended} suspensions"
        )


def generate_demo(
    app: LedgerApplication,
    customers: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    *,
    end: date = DEMO_END,
    festival_days: Callable[[int], Mapping[str, date]] | None = None,
) -> DemoSummary:
    """Write `customers` synthetic customers and the year up to `end` into `app`.

    Guarantees: deterministic for (`customers`, `seed`, `end`): the same ids, times
    and events in the same order; `progress` receives a growing count up to
    `customers`; the application's clock and id source are restored afterwards.
    Any refused command raises (a demo that silently skips is a broken demo).
    `festival_days` (a year -> each festival's day, e.g. `security.festivals.
    festival_dates`) adds the festival greetings of the window; without it none.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    started = timer.perf_counter()
    rng = random.Random(seed)
    start = end - timedelta(days=364)
    schedule, facts = Schedule(), Facts()
    if festival_days is not None:
        facts.festivals = festivals_between(start, end, festival_days, app.settings)
    for index in range(customers):
        CustomerStory(app, rng, schedule, facts, index, start, end).plan()
    plan_firm(app, rng, schedule, facts, start, end)
    schedule.items.sort(key=lambda item: (item[0], item[1]))
    before = app.recorder.max_notification_id() or 0
    saved_clock, saved_new_id = app.clock, app.new_id
    moment = [day_at(start, 0)]
    app.clock = lambda: moment[0]
    app.new_id = lambda: uuid_from(rng)
    try:
        total, step = len(schedule.items), max(1, len(schedule.items) // 200)
        for done, (when, _, command) in enumerate(schedule.items, start=1):
            moment[0] = when
            command()
            if progress is not None and (done % step == 0 or done == total):
                progress(customers * done // total)
    finally:
        app.clock, app.new_id = saved_clock, saved_new_id
    states: dict[str, int] = {}
    for state in facts.case_states.values():
        states[state] = states.get(state, 0) + 1
    counts = facts.counts
    return DemoSummary(
        seed=seed,
        customers=customers,
        individuals=counts.get("individual", 0),
        corporates=counts.get("corporate", 0),
        events=(app.recorder.max_notification_id() or 0) - before,
        cases_by_state=states,
        surveys=counts.get("surveys", 0),
        dissatisfied=counts.get("dissatisfied", 0),
        churn_cases=counts.get("churn_cases", 0),
        churned=counts.get("churned", 0),
        erasure_requests=counts.get("erasure_requests", 0),
        legal_holds=counts.get("legal_holds", 0),
        suspended=counts.get("suspended", 0),
        start=start,
        end=end,
        seconds=timer.perf_counter() - started,
    )


__all__ = ["DEMO_END", "DemoSummary", "generate_demo"]


def festivals_between(
    start: date,
    end: date,
    festival_days: Callable[[int], Mapping[str, date]],
    settings: RuleSettings,
) -> list[tuple[str, date]]:
    """Every configured festival (`festivals_on`) from `start` to `end`, in date order."""
    found: list[tuple[str, date]] = []
    for year in range(start.year, end.year + 1):
        days = festival_days(year)
        for day in sorted(set(days.values())):
            if start <= day <= end:
                found.extend((name, day) for name in festivals_on(day, days, settings))
    return found
