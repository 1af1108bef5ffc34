"""Policy 4.3 and 5.3: the training staff members completed.

One stream per staff member. Staff are not customers: a staff member is named only by
an employee id (`staff_id`, C1 internal), never by name, and no event here names a
customer, so the records stay under the system key and survive any erasure. A training
may answer a finding: the service standard (`standard_code`) it was found against.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from domain.actor import Actor
from domain.events import LedgerAggregate, OpeningEvent

PROVIDERS = ("internal", "external", "regulator", "industry_body")


class TrainingCompleted(OpeningEvent):
    """A staff member completed a course: topic, date, hours and who provided it."""

    staff_id: str
    course: str
    topic: str
    completed_on: date
    hours: Decimal
    provider: str
    standard_code: str | None

    def apply(self, aggregate: StaffTraining) -> None:
        aggregate.staff_id = self.staff_id
        aggregate.courses = (*aggregate.courses, self.course)
        aggregate.hours = aggregate.hours + self.hours
        aggregate.last_completed_on = max(
            d for d in (aggregate.last_completed_on, self.completed_on) if d is not None
        )


class StaffTraining(LedgerAggregate):
    """The training record of one staff member."""

    def __init__(self) -> None:
        self.staff_id: str | None = None
        self.courses: tuple[str, ...] = ()
        self.hours = Decimal(0)
        self.last_completed_on: date | None = None

    def complete(
        self,
        *,
        staff_id: str,
        course: str,
        topic: str,
        completed_on: date,
        hours: Decimal,
        provider: str,
        standard_code: str | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record one completed course."""
        self._record(
            TrainingCompleted,
            actor,
            at,
            staff_id=staff_id,
            course=course,
            topic=topic,
            completed_on=completed_on,
            hours=hours,
            provider=provider,
            standard_code=standard_code,
        )
