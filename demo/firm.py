"""The firm's own calendar in the demo year: standards, campaigns, a crisis with its
customer contacts, festival greetings, advice, grading, value assessment, KPI
evaluations with their job runs, and the complaint SLA check.

Batch commands pick their customers when they run (from `Facts`), so a customer who
churned or asked for erasure earlier that year is left out, as a real job would.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING
from uuid import UUID

from demo.people import CITIES, uuid_from
from demo.schedule import COMPLIANCE, SYSTEM, TZ, Facts, Schedule, day_at
from domain.actor import Actor
from domain.errors import ConsentRequired, NotFound
from domain.evaluation import KpiInputs
from domain.rules.care import GREETING_FESTIVALS_VERSION
from domain.rules.satisfaction import survey_due
from domain.rules.targets import kpis_against_targets
from domain.services.grading import CreditAssessment

if TYPE_CHECKING:
    from domain.application import LedgerApplication

BRANCHES = sorted({branch for _, _, branch in CITIES} | {"HK-01"})
# code, name, measure, target, unit, service step, responsible duty
STANDARDS = (
    (
        "ack-24h",
        "Acknowledge complaints within 24 hours",
        "ack_delay",
        Decimal(24),
        "hours",
        "complaint_handling",
        "complaint_handler",
    ),
    (
        "queue-15m",
        "Counter queue under 15 minutes",
        "queue_wait",
        Decimal(15),
        "minutes",
        "counter",
        "teller",
    ),
    (
        "call-20s",
        "Answer calls within 20 seconds",
        "answer_delay",
        Decimal("0.33"),
        "minutes",
        "phone",
        "call_centre_agent",
    ),
)
TRAINING_COURSE = ("Service standards refresher", "service quality", Decimal("3.5"), "internal")


def active_customers(facts: Facts, before: datetime | None = None) -> list[UUID]:
    """Customers registered (before `before`), not prospects, not ended, not restricted."""
    return [
        cid
        for cid, (registered_at, _) in facts.registered.items()
        if cid not in facts.prospects
        and cid not in facts.ended
        and cid not in facts.restricted
        and (before is None or registered_at < before)
    ]


def plan_firm(
    app: LedgerApplication,
    rng: random.Random,
    schedule: Schedule,
    facts: Facts,
    start: date,
    end: date,
) -> None:
    """Schedule the firm-wide commands of the year from `start` to `end`."""
    horizon = (end - start).days
    _quality(app, rng, schedule, start, horizon)
    for day in (70, 160, 250):
        _campaign(app, rng, schedule, facts, start, day)
    _crisis(app, rng, schedule, facts, start)
    _festival_greetings(app, schedule, facts)
    schedule.at(day_at(start, 150, 15), partial(_advice, app, facts))
    schedule.at(day_at(start, 151, 15), partial(_preferences, app, facts))
    for quarter_end, period, share in (
        (date(2025, 12, 31), "2025Q4", 0.3),
        (date(2026, 3, 31), "2026Q1", 1.0),
    ):
        if start < quarter_end < end:
            _grading(app, rng, schedule, facts, quarter_end, period, share)
    schedule.at(
        day_at(start, horizon - 25, 3),
        lambda: app.assess_values(active_customers(facts, day_at(start, horizon - 30)), SYSTEM),
    )
    month = date(start.year, start.month, 1)
    first_quarter: tuple[str, date, list[str]] | None = None
    while month <= end:
        following = (month + timedelta(days=32)).replace(day=1)
        if following - timedelta(days=1) <= end:
            _evaluation(app, schedule, facts, month, following, f"{month:%Y-%m}", ["overall"])
        if month.month in (1, 4, 7, 10) and following + timedelta(days=61) <= end + timedelta(1):
            quarter_end = (month + timedelta(days=95)).replace(day=1)
            label = f"{month.year}Q{(month.month - 1) // 3 + 1}"
            scopes = [f"branch:{b}" for b in BRANCHES]
            _evaluation(app, schedule, facts, month, quarter_end, label, scopes)
            first_quarter = first_quarter or (label, quarter_end, scopes)
        month = following
    if first_quarter is not None:  # one improvement plan carried out, with its evidence
        label, quarter_end, scopes = first_quarter
        closing = datetime.combine(quarter_end + timedelta(days=46), time(10), TZ)
        schedule.at(closing, partial(_close_a_plan, app, label, scopes))

    for quarter_start in (date(2026, 1, 2), date(2026, 4, 2), date(2026, 7, 2)):
        if start < quarter_start <= end:
            schedule.at(day_at(start, (quarter_start - start).days, 9), partial(
                _survey_round, app, facts, f"{quarter_start.year}Q{quarter_start.month // 3 + 1}"
            ))  # fmt: skip

    def sla_check() -> None:
        for case_id, state in facts.case_states.items():
            if state in ("received", "acknowledged", "investigating", "reopened"):
                app.check_case_escalation(case_id, SYSTEM)

    schedule.at(day_at(start, horizon, 23, 45), sla_check)


def _quality(
    app: LedgerApplication, rng: random.Random, schedule: Schedule, start: date, horizon: int
) -> None:
    targets = {standard[0]: standard[3] for standard in STANDARDS}
    for code, name, measure, target, unit, step, duty in STANDARDS:
        define = partial(app.define_service_standard, code, name, measure, target, unit)
        schedule.at(day_at(start, 0, 8), partial(define, COMPLIANCE, step=step, duty=duty))
    for day in range(7, horizon, 15):
        code, branch, score = rng.choice(STANDARDS)[0], rng.choice(BRANCHES), rng.randint(55, 98)
        staff = f"fo-{branch.lower()}-{rng.randint(1, 4)}"
        findings = "Visit scored against checklist"
        schedule.at(
            day_at(start, day, 15),
            partial(app.record_mystery_shop, code, branch, score, findings, SYSTEM, staff_id=staff),
        )
        # the visit's timing: on target at a score of 65, past it (a breach) below
        measured = (targets[code] * (165 - score) / 100).quantize(Decimal("0.01"))
        measure_it = partial(app.record_measurement, code, branch, measured, COMPLIANCE)
        schedule.at(day_at(start, day + 1, 10), partial(measure_it, staff_id=staff))
        if score < 65 and day + 20 < horizon:
            course, topic, hours, provider = TRAINING_COURSE
            train = partial(app.record_training, staff, course, topic)
            on = start + timedelta(days=day + 20)
            schedule.at(
                day_at(start, day + 20, 17),
                partial(train, on, hours, provider, COMPLIANCE, standard_code=code),
            )
            improve = partial(app.record_improvement_action, code, "Coaching and checklist refresh")
            schedule.at(
                day_at(start, day + 1, 11),
                partial(
                    improve,
                    f"lead-{branch.lower()}",
                    COMPLIANCE,
                    branch=branch,
                    due_on=start + timedelta(days=day + 60),
                ),
            )
    for day in (85, 175, 265, 355):
        for branch in rng.sample(BRANCHES, 2):
            audit = partial(app.complete_quality_audit, "ack-24h", branch, rng.randint(70, 99))
            schedule.at(day_at(start, day, 16), partial(audit, "20 case files sampled", COMPLIANCE))


def _campaign(
    app: LedgerApplication,
    rng: random.Random,
    schedule: Schedule,
    facts: Facts,
    start: date,
    day: int,
) -> None:
    campaign_id = uuid_from(rng)
    kind = rng.choice(("lecture", "competition", "appreciation", "seminar"))
    title = {
        "lecture": "Retirement planning lecture",
        "competition": "Photo competition",
        "appreciation": "Customer appreciation evening",
        "seminar": "Cross-border wealth seminar",
    }[kind]
    on = start + timedelta(days=day)
    branch = rng.choice(BRANCHES)
    rm = Actor(f"rm-{branch.lower()}-1", "relationship_manager", "phone")
    schedule.at(
        day_at(start, day - 30, 9),
        lambda: app.plan_campaign(kind, title, on, on, rm, branch=branch, campaign_id=campaign_id),
    )
    invited: list[UUID] = []

    def invite() -> None:
        cutoff = app.now()
        pool = [c for c in active_customers(facts) if facts.marketing.get(c, cutoff) < cutoff]
        for customer_id in rng.sample(pool, k=len(pool) // 12):
            app.invite_to_campaign(campaign_id, customer_id, rm)
            invited.append(customer_id)

    def attendance() -> None:
        for customer_id in invited:
            if rng.random() < 0.6:
                app.record_attendance(campaign_id, customer_id, rng.random() < 0.55, rm)

    schedule.at(day_at(start, day - 14, 10), invite)
    schedule.at(day_at(start, day, 21), attendance)


def _crisis(
    app: LedgerApplication, rng: random.Random, schedule: Schedule, facts: Facts, start: date
) -> None:
    crisis_id = uuid_from(rng)

    affected: list[UUID] = []

    def open_crisis() -> None:
        pool = active_customers(facts)
        affected.extend(rng.sample(pool, k=min(len(pool), 25)))
        app.open_crisis(
            "Card payments outage",
            "Debit cards, South China region",
            "high",
            COMPLIANCE,
            affected_customer_ids=affected,
            crisis_id=crisis_id,
        )

    schedule.at(day_at(start, 200, 7), open_crisis)
    for day, kind, text, contacted in (
        (200, "contact", "SMS sent to affected customers", 25),
        (200, "statement", "We apologise for the interruption to card payments this morning.", 0),
        (203, "remedy", "Failed-payment fees refunded automatically", 0),
    ):
        update = partial(app.update_crisis, crisis_id, kind, text, COMPLIANCE)
        schedule.at(
            day_at(start, day, 12 + len(kind) % 5), partial(update, customers_contacted=contacted)
        )
    schedule.at(
        day_at(start, 205, 17),
        lambda: app.close_crisis(crisis_id, "Root cause fixed; fees refunded", COMPLIANCE),
    )

    def contact(late: bool) -> None:
        # the first contacts are made the same day; the last three a day late (overdue)
        for customer_id in affected[-3:] if late else affected[:-3]:
            if customer_id not in facts.restricted:
                app.record_crisis_contact(
                    crisis_id, customer_id, "phone", "Explained the outage and the refund", SYSTEM
                )

    schedule.at(day_at(start, 200, 10), partial(contact, False))
    schedule.at(day_at(start, 201, 12), partial(contact, True))


def _festival_greetings(app: LedgerApplication, schedule: Schedule, facts: Facts) -> None:
    """On each festival of the window, what the `holiday_greetings` job does: every
    customer with a greetings consent, in their language, with the rule's version."""
    for festival, day in facts.festivals:

        def greet(festival: str = festival) -> None:
            for customer_id in sorted(facts.greetings):
                if customer_id in facts.restricted or customer_id in facts.ended:
                    continue
                try:
                    app.send_greeting(
                        customer_id,
                        festival,
                        None,
                        SYSTEM,
                        rule_version=GREETING_FESTIVALS_VERSION,
                    )
                except ConsentRequired:  # the greetings consent ran out: none is sent
                    continue

        schedule.at(datetime.combine(day, time(8, 30), TZ), greet)


def _advice(app: LedgerApplication, facts: Facts) -> None:
    """Tailored advice given to a few active customers (policy 7.1)."""
    for customer_id in sorted(active_customers(facts))[:8]:
        branch = facts.registered[customer_id][1].lower()
        rm = Actor(f"rm-{branch}-1", "relationship_manager", "branch")
        app.record_advice(
            customer_id,
            "fraud_prevention",
            "Phone scams",
            "Never share verification codes; call the branch to check any request.",
            rm,
            contact_channel="branch",
        )


# Needs and interests told to the relationship manager (7.1), by turn.
_PREFERENCES: tuple[tuple[list[str], list[str], str], ...] = (
    (["retirement", "capital_preservation"], ["calligraphy", "tea"], "Plans to retire early"),
    (["education_funding"], ["travel"], "Child starts university abroad"),
    (["wealth_growth", "cross_border"], ["golf"], ""),
    (["home_purchase", "liquidity"], [], "Saving for a flat"),
)


def _preferences(app: LedgerApplication, facts: Facts) -> None:
    """Needs and interests recorded as preferences for a few active customers (7.1)."""
    for turn, customer_id in enumerate(sorted(active_customers(facts))[8:13]):
        branch = facts.registered[customer_id][1].lower()
        rm = Actor(f"rm-{branch}-1", "relationship_manager", "branch")
        needs, interests, notes = _PREFERENCES[turn % len(_PREFERENCES)]
        app.record_preferences(customer_id, needs, interests, rm, notes=notes)


def _credit_due(app: LedgerApplication, customer_id: UUID, on: date) -> bool:
    try:
        last = app.get_grading(customer_id).credit_assessed_on
    except NotFound:
        return True
    return last is None or last <= on - timedelta(days=365)


def _grading(
    app: LedgerApplication,
    rng: random.Random,
    schedule: Schedule,
    facts: Facts,
    quarter_end: date,
    period: str,
    share: float,
) -> None:
    cutoff = datetime.combine(quarter_end, time(23, 59), TZ)

    def grade() -> None:
        for customer_id in active_customers(facts, cutoff):
            if share >= 1 or rng.random() < share:
                # Most customers have a yearly credit reference report; about one in
                # seven never has one and is graded with credit "unknown".
                if customer_id.int % 7 and _credit_due(app, customer_id, quarter_end):
                    app.record_credit_assessment(
                        CreditAssessment(
                            customer_id, "pboc_credit_reference", rng.randint(40, 95), quarter_end
                        ),
                        SYSTEM,
                    )
                app.grade_customer(customer_id, period, SYSTEM)

    schedule.at(datetime.combine(quarter_end + timedelta(days=3), time(2), TZ), grade)


def _evaluation(
    app: LedgerApplication,
    schedule: Schedule,
    facts: Facts,
    first: date,
    following: date,
    period: str,
    scopes: list[str],
) -> None:
    begin = datetime.combine(first, time(0), TZ)
    stop = datetime.combine(following, time(0), TZ)

    def evaluate() -> None:
        if not app.start_job_run("performance", f"{period}:{scopes[0].split(':')[0]}", SYSTEM):
            return
        for scope in scopes:
            branch = scope.split(":", 1)[1] if ":" in scope else None
            app.evaluate_performance(period, scope, _kpi_inputs(facts, begin, stop, branch), SYSTEM)
        app.complete_job_run(
            "performance",
            f"{period}:{scopes[0].split(':')[0]}",
            SYSTEM,
            summary={"scopes": len(scopes)},
        )

    schedule.at(stop + timedelta(hours=2), evaluate)
    if len(scopes) > 1:  # the quarterly branch evaluations are put to use (policy 8.3)
        schedule.at(stop + timedelta(days=1, hours=10), partial(_use, app, period, scopes))


def _survey_round(app: LedgerApplication, facts: Facts, period: str) -> None:
    """What the `surveys` job does each quarter: the drawn customers with a research
    consent get the period's survey."""
    if not app.start_job_run("surveys", period, SYSTEM):
        return
    sent = 0
    for customer_id in active_customers(facts, app.now()):
        if survey_due(customer_id, period, None, app.today(), app.settings):
            try:
                sent += app.send_periodic_survey(customer_id, period, SYSTEM)
            except ConsentRequired:
                continue
    app.complete_job_run("surveys", period, SYSTEM, summary={"customers_surveyed": sent})


def _use(app: LedgerApplication, period: str, scopes: list[str]) -> None:
    for scope in scopes:
        verdicts = kpis_against_targets(app.get_evaluation(period, scope).metrics, app.settings)
        owner = f"mgr-{scope.split(':', 1)[1].lower()}"
        if "below" in verdicts.values():
            actions = ["Review the KPIs below target with the branch team", "Weekly follow-up"]
            due = app.now().date() + timedelta(days=60)
            app.open_improvement_plan(period, scope, owner, actions, due, COMPLIANCE)
        elif "met" in verdicts.values():  # every KPI with a basis on target
            app.recognise_performance(period, scope, scope, "KPIs on target", COMPLIANCE)


def _close_a_plan(app: LedgerApplication, period: str, scopes: list[str]) -> None:
    """The first branch's improvement plan of `period`, if it has one, is carried out."""
    for scope in scopes:
        if app.get_evaluation(period, scope).open_plans:
            evidence = "Weekly KPI follow-ups held; call-backs within a day since October"
            app.close_improvement_plan(period, scope, 1, evidence, COMPLIANCE)
            return


def _kpi_inputs(facts: Facts, begin: datetime, stop: datetime, branch: str | None) -> KpiInputs:
    def here(b: str) -> bool:
        return branch is None or b == branch

    people = {c: (at, b) for c, (at, b) in facts.registered.items() if here(b)}
    at_start = {
        c for c, (at, _) in people.items() if at < begin and facts.ended.get(c, stop) >= begin
    }
    at_end = {c for c, (at, _) in people.items() if at < stop and facts.ended.get(c, stop) >= stop}
    new = {c for c, (at, _) in people.items() if begin <= at < stop} & at_end
    lost = {c for c in at_start if begin <= facts.ended.get(c, stop) < stop}
    answers = [(i, s) for at, b, i, s in facts.answers if begin <= at < stop and here(b)]
    resolved = [(t, f) for at, b, t, f in facts.resolved if begin <= at < stop and here(b)]
    complaints = [t for t, _ in resolved if t is not None]
    return KpiInputs(
        customers_at_start=len(at_start),
        customers_at_end=len(at_end),
        new_customers=len(new),
        lost_customers=len(lost),
        loyal_customers=sum(1 for c in at_end if facts.products.get(c, 0) >= 2),
        csat_scores=[s for i, s in answers if i == "CSAT"],
        nps_scores=[s for i, s in answers if i == "NPS"],
        cases=len(resolved),
        resolved=len(complaints),
        resolved_in_time=sum(1 for t in complaints if t),
        resolved_first_contact=sum(1 for _, f in resolved if f),
    )
