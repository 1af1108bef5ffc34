"""Performance evaluation (monthly and quarterly): every KPI per branch, staff, overall.

A run as of a month's (quarter's) first day evaluates the month (quarter) just ended.
For every scope — "overall", "branch:<branch>", "staff:<relationship manager or case
owner>" — it counts, from the customers' own events, feedback cases and surveys:

- customers at the start and end, new and lost (see `scheduler.kpi_facts`), and loyal
  customers (`domain.rules.kpis.is_loyal`: joined 24 months or more before the end and
  two or more products held by it) -> churn rate, retention, loyalty;
- value at start and end (profit contribution over the RFM window ending the day
  before each boundary) of customers present at both -> value uplift;
- CSAT and NPS answers given in the period -> CSAT, NPS;
- cases resolved in the period (and those of them resolved at first contact), and
  complaints resolved in the period (and in time) -> first-contact resolution, SLA %.

Customers count under their branch and manager at the period's end (or when they
left); cases under the branch that took them and the staff member who investigated
them (else the customer's branch and manager at the period's end). The `kpis` view
(projections.kpi_queries) counts with the same definitions and both compute the
figures with `domain.evaluation.evaluate_kpis`. `evaluate_performance` records PerformanceEvaluated
with the formula version and inputs, one stream per period and scope.

Idempotent: an evaluation identical to the recorded one records nothing, so a re-run
after a failure midway records only the scopes that were missing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from domain.errors import NotFound, SubjectErased
from domain.evaluation import KpiInputs
from domain.records import CaseRecord
from domain.rules.kpis import is_loyal
from scheduler.context import JobContext
from scheduler.kpi_facts import Membership, counted_at, day_start, load_membership
from scheduler.population import cases, surveys


@dataclass
class Tally:
    """The counts of one scope, turned into KpiInputs."""

    at_start: int = 0
    at_end: int = 0
    new: int = 0
    lost: int = 0
    loyal: int = 0
    values_start: dict[str, Decimal] = field(default_factory=dict)
    values_end: dict[str, Decimal] = field(default_factory=dict)
    csat: list[int] = field(default_factory=list)
    nps: list[int] = field(default_factory=list)
    cases: int = 0
    first_contact: int = 0
    resolved: int = 0
    in_time: int = 0

    def inputs(self) -> KpiInputs:
        """The scope's KpiInputs; value uplift is left out when its base is negative."""
        values_start, values_end = self.values_start, self.values_end
        if sum(values_start.values(), Decimal(0)) < 0:
            values_start, values_end = {}, {}
        return KpiInputs(
            customers_at_start=self.at_start,
            customers_at_end=self.at_end,
            new_customers=self.new,
            lost_customers=self.lost,
            loyal_customers=self.loyal,
            values_start=values_start,
            values_end=values_end,
            csat_scores=tuple(self.csat),
            nps_scores=tuple(self.nps),
            cases=self.cases,
            resolved=self.resolved,
            resolved_in_time=self.in_time,
            resolved_first_contact=self.first_contact,
        )


def scopes(branch: str | None, staff: str | None) -> list[str]:
    """The scopes a fact counts in: overall, its branch and its staff member."""
    found = ["overall"]
    if branch:
        found.append(f"branch:{branch}"[:100])
    if staff:
        found.append(f"staff:{staff}"[:100])
    return found


def _memberships(ctx: JobContext) -> dict[UUID, Membership]:
    members: dict[UUID, Membership] = {}
    for customer_id in ctx.app.customer_ids():
        ctx.check_stop()
        try:
            members[customer_id] = load_membership(ctx.app, customer_id)
        except SubjectErased:
            ctx.count("customers_erased")
        except Exception as exc:  # an unreadable customer fails the run, after the rest
            ctx.fail_item(customer_id, exc)
    return members


def _count_customers(
    tallies: dict[str, Tally],
    members: dict[UUID, Membership],
    start: date,
    end: date,
    window: int,
    loyalty: tuple[int, int],
) -> None:
    tenure_months, min_products = loyalty
    for member in members.values():
        at_start, at_end = member.present_at(start), member.present_at(end)
        if not (at_start or at_end):
            continue
        branch, manager = member.assignment_at(counted_at(member, end))
        for scope in scopes(branch, manager):
            tally = tallies[scope]
            tally.at_start += at_start
            tally.at_end += at_end
            tally.new += at_end and not at_start
            tally.lost += at_start and not at_end
            if at_end and is_loyal(
                member.joined_on,
                len(member.products_by(end - timedelta(days=1))),
                end,
                tenure_months,
                min_products,
            ):
                tally.loyal += 1
            if at_start and at_end:
                key = str(member.customer_id)
                tally.values_start[key] = member.value_at(start - timedelta(days=1), window)
                tally.values_end[key] = member.value_at(end - timedelta(days=1), window)


def _count_feedback(
    ctx: JobContext,
    tallies: dict[str, Tally],
    members: dict[UUID, Membership],
    start: date,
    end: date,
) -> None:
    since, until = day_start(start), day_start(end)

    def assignment_of(customer_id: UUID) -> tuple[str | None, str | None]:
        member = members.get(customer_id)
        return member.assignment_at(until) if member else (None, None)

    for survey in surveys(ctx):
        answered = survey.answered_at
        if survey.score is None or answered is None or not since <= answered < until:
            continue
        member = members.get(survey.customer_id)
        branch, manager = member.assignment_at(answered) if member else (None, None)
        for scope in scopes(branch, manager):
            (tallies[scope].nps if survey.instrument == "NPS" else tallies[scope].csat).append(
                survey.score
            )
    for case in cases(ctx):
        _count_case(tallies, case, assignment_of(case.customer_id), since, until)


def _count_case(
    tallies: dict[str, Tally],
    case: CaseRecord,
    customers: tuple[str | None, str | None],
    since: datetime,
    until: datetime,
) -> None:
    """A case resolved in the period counts for first-contact resolution (of the cases
    resolved in the period, those resolved at first contact) and, when it had a
    deadline, for the complaint SLA."""
    resolved_at = case.resolved_at
    if resolved_at is None or not since <= resolved_at < until:
        return
    branch, manager = customers
    for scope in scopes(case.branch or branch, case.owner or manager):
        tally = tallies[scope]
        tally.cases += 1
        tally.first_contact += bool(case.first_contact)
        if case.resolved_in_time is not None:
            tally.resolved += 1
            tally.in_time += bool(case.resolved_in_time)


def evaluate(ctx: JobContext) -> None:
    """Evaluate every scope for the run's period (the month or quarter before the day)."""
    start, end = ctx.bounds
    window = int(ctx.app.settings.rfm_window_months)
    members = _memberships(ctx)
    tallies: dict[str, Tally] = defaultdict(Tally)
    tallies["overall"] = Tally()
    settings = ctx.app.settings
    loyalty = (int(settings.loyalty_tenure_months), int(settings.loyalty_min_products))
    _count_customers(tallies, members, start, end, window, loyalty)
    _count_feedback(ctx, tallies, members, start, end)
    ctx.note("covers", f"{start.isoformat()}..{(end - timedelta(days=1)).isoformat()}")

    def record(scope: str) -> str:
        try:
            before = int(ctx.app.get_evaluation(ctx.period, scope).version)
        except NotFound:
            before = 0
        view = ctx.app.evaluate_performance(ctx.period, scope, tallies[scope].inputs(), ctx.actor)
        return "recorded" if view.version > before else "unchanged"

    ctx.each(sorted(tallies), record, "scopes")
