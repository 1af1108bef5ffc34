"""Who and what the jobs work through: customers, feedback cases, surveys.

Ids are read from the log's clear-text columns (the topic of each stream's opening
event), as `LedgerApplication.customer_ids` does; only the aggregates a job actually
looks at are decrypted. This reads the application's own recorder because the
application service offers no listing of cases or surveys (see docs/scheduler.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.errors import SubjectErased
from domain.feedback import FeedbackReceived
from domain.records import CaseRecord, CustomerRecord, SurveyRecord
from domain.survey import SurveySent
from scheduler.context import JobContext

LIVE_STATUSES = ("active", "at_risk", "dormant")
_BATCH = 1000


def stream_ids(app: Any, opening_event: type) -> Iterator[UUID]:
    """Ids of every stream opened by `opening_event`, in the order they were opened."""
    topic = get_topic(opening_event)
    position: int | None = 1
    while True:
        batch = app.recorder.select_notifications(position, _BATCH, topics=[topic])
        for notification in batch:
            yield UUID(str(notification.originator_id))
        if len(batch) < _BATCH:
            return
        position = batch[-1].id + 1


def latest_topic(app: Any, aggregate_id: UUID) -> str | None:
    """The topic of the stream's latest event, read without decrypting anything."""
    events = app.recorder.select_events(aggregate_id, desc=True, limit=1)
    return str(events[0].topic) if events else None


def customers(
    ctx: JobContext,
    *,
    statuses: tuple[str, ...] = LIVE_STATUSES,
    include_restricted: bool = False,
) -> Iterator[CustomerRecord]:
    """Customers whose status is in `statuses` (default: active, at risk, dormant).

    Erased customers are counted as `customers_erased`; restricted ones (erasure
    requested) are left out and counted as `customers_restricted` unless included;
    a customer that cannot be read is a failed item of the run.
    """
    for customer_id in ctx.app.customer_ids():
        ctx.check_stop()
        try:
            view: CustomerRecord = ctx.app.get_customer(customer_id)
        except SubjectErased:
            ctx.count("customers_erased")
            continue
        except Exception as exc:  # one unreadable customer must not stop the run
            ctx.fail_item(customer_id, exc)
            continue
        if view.status not in statuses:
            continue
        if view.processing_restricted and not include_restricted:
            ctx.count("customers_restricted")
            continue
        yield view


def cases(ctx: JobContext) -> Iterator[CaseRecord]:
    """Every readable feedback case (cases of erased customers are skipped)."""
    for case_id in stream_ids(ctx.app, FeedbackReceived):
        ctx.check_stop()
        try:
            yield ctx.app.get_case(case_id)
        except SubjectErased:
            continue
        except Exception as exc:  # an unreadable case is a failed item, not a stop
            ctx.fail_item(case_id, exc)


def surveys(ctx: JobContext) -> Iterator[SurveyRecord]:
    """Every readable survey (surveys of erased customers are skipped)."""
    for survey_id in stream_ids(ctx.app, SurveySent):
        ctx.check_stop()
        try:
            yield ctx.app.get_survey(survey_id)
        except SubjectErased:
            continue
        except Exception as exc:  # an unreadable survey is a failed item, not a stop
            ctx.fail_item(survey_id, exc)


def by_customer(views: Iterator[CaseRecord] | Iterator[SurveyRecord]) -> dict[UUID, list[Any]]:
    """Group case or survey views by their customer."""
    grouped: dict[UUID, list[Any]] = defaultdict(list)
    for view in views:
        grouped[view.customer_id].append(view)
    return grouped
