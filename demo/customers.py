"""One demo customer's year, planned as timed commands on the ledger.

`CustomerStory.plan` decides everything up front from the seeded random (who the customer
is, what happens to them and when) and schedules closures over `LedgerApplication`
commands; `demo.year` runs every scheduled command in time order. The mix aims at
about 18 events a customer: registration, KYC, consents, quarterly transactions, a
contact or two, and for some a survey, a complaint, a greeting, care, churn, erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID, uuid5

from demo.cases import CaseStory
from demo.people import corporate_profile, individual_profile, uuid_from, weighted
from demo.schedule import COMPLIANCE, SYSTEM, TZ, day_at, quarter_ends
from domain.actor import Actor

if TYPE_CHECKING:
    pass


class CustomerStory(CaseStory):
    """Plans one customer's year into the schedule."""

    def plan(self) -> None:
        """Decide the customer's year and schedule it."""
        rng, app, cid = self.rng, self.app, self.id
        corporate = rng.random() < 0.2
        migrated = rng.random() < 0.6
        first_day = rng.randint(0, 20) if migrated else rng.randint(21, self.horizon - 40)
        today = self.start + timedelta(days=first_day)
        profile = (
            corporate_profile(rng, self.index)
            if corporate
            else individual_profile(rng, today, self.index)
        )
        branch = str(profile["branch"])
        front, rm = self.actor("front_office", branch), self.actor("relationship_manager", branch)
        profile["relationship_manager"] = rm.actor_id
        prospect = not corporate and rng.random() < 0.05
        registered_at = day_at(self.start, first_day, rng.randint(9, 16), rng.randint(0, 59))
        kind = "corporate" if corporate else "individual"

        def register() -> None:
            app.register_customer(
                kind,
                profile,
                front,
                status="prospect" if prospect else "active",
                source="migration" if migrated else "branch",
                customer_id=cid,
            )
            self.facts.registered[cid] = (app.now(), branch)
            self.facts.count(kind)
            if prospect:
                self.facts.prospects.add(cid)

        self.schedule.at(registered_at, register)
        day = first_day
        if prospect:
            self._contact(day + rng.randint(1, 20), front, None)
            if rng.random() < 0.4:
                self.schedule.at(day_at(self.start, day + 30), self._activate(rm))
                self._kyc(day + 30, front, corporate)
            return
        self._kyc(day, front, corporate)
        marketing_day = self._consents(day, front, corporate, profile)
        self._classify(day + 1, rm)
        churn = first_day < self.horizon - 200 and rng.random() < 0.1
        dormant = not churn and migrated and rng.random() < 0.04
        self._transactions(today, profile, corporate, churn=churn, dormant=dormant)
        for _ in range(rng.choice((1, 1, 2))):
            self._contact(rng.randint(day + 2, self.horizon - 30), front, marketing_day)
        if rng.random() < 0.35:
            self._survey(rng.randint(day + 5, self.horizon - 35), rm)
        if rng.random() < 0.13:
            self._complaint(rng.randint(day + 3, self.horizon - 2), front, rm)
        dob = profile.get("date_of_birth")
        if isinstance(dob, date):
            self._care(day, dob, rm)
        self._end_phase(churn, dormant, rm)

    # --- pieces of the story -------------------------------------------------------

    def _activate(self, rm: Actor) -> Callable[[], object]:
        def activate() -> None:
            self.app.activate_customer(self.id, rm)
            self.facts.prospects.discard(self.id)

        return activate

    def _kyc(self, day: int, front: Actor, corporate: bool) -> None:
        rng, app, cid = self.rng, self.app, self.id
        doc_type = "business_licence" if corporate else rng.choice(("resident_id", "passport"))
        number = f"{rng.randint(110000, 659999)}{rng.randint(10**11, 10**12 - 1)}"
        expires = self.start + timedelta(days=rng.randint(400, 5000))
        expiring = rng.random() < 0.03 and day < self.horizon - 150
        if expiring:  # expires inside the year: business is suspended, some renew
            expires = self.start + timedelta(days=rng.randint(day + 40, self.horizon - 100))
        self.schedule.at(
            day_at(self.start, day, 17, 10),
            lambda: app.record_identity_document(cid, doc_type, number, expires, front),
        )
        level = weighted(rng, {"low": 6, "medium": 3, "high": 1})
        late = rng.random() < 0.05
        rating_day = day + (rng.randint(15, 25) if late else rng.randint(1, 9))
        self.schedule.at(
            day_at(self.start, rating_day, 15),
            lambda: app.assign_risk_rating(cid, level, COMPLIANCE),
        )
        if late:  # the daily job's warning, before the rating finally comes
            self.schedule.at(
                day_at(self.start, rating_day, 1),
                lambda: app.note_risk_rating_overdue(cid, SYSTEM),
            )
        if expiring:
            lapse = (expires - self.start).days + 1
            warned = max(day + 1, lapse - 89)  # inside the 90-day window
            self.schedule.at(
                day_at(self.start, warned, 1),
                lambda: app.note_identity_document_expiring(cid, SYSTEM),
            )
            self.schedule.at(day_at(self.start, lapse, 3), self._lapse)
            restored = date.max
            if rng.random() < 0.5:
                renewal_day = lapse + rng.randint(2, 20)
                restored = self.start + timedelta(days=renewal_day)
                renewed = expires + timedelta(days=3650)
                self.schedule.at(
                    day_at(self.start, renewal_day, 11),
                    lambda: app.record_identity_document(cid, doc_type, number, renewed, front),
                )
            # No trades are recorded while business is suspended.
            self.suspended = (expires, restored)
        if level == "high" and day < self.horizon - 160:
            self.schedule.at(
                day_at(self.start, self.horizon - 6, 2),
                lambda: app.check_reverification(cid, SYSTEM),
            )

    def _lapse(self) -> None:
        self.app.check_identity_document(self.id, SYSTEM)
        self.facts.count("suspended")

    def _consents(
        self, day: int, front: Actor, corporate: bool, profile: dict[str, object]
    ) -> int | None:
        rng, app, cid = self.rng, self.app, self.id
        marketing = rng.random() < (0.4 if corporate else 0.65)
        greetings = not corporate and rng.random() < 0.45
        method = rng.choice(("electronic", "written", "in_branch"))
        for purpose, wanted in (("marketing", marketing), ("greetings", greetings)):
            if not wanted:
                continue
            record = uuid_from(rng)
            evidence = f"{method}-{record.hex[:10]}"
            # some greetings consents are given for four months only: the daily job
            # records their expiry, and no greeting is sent after it
            lapses = purpose == "greetings" and record.int % 6 == 0 and day + 150 < self.horizon
            valid_to = day_at(self.start, day + 120, 0) if lapses else None
            if lapses:
                self.greetings_until = day + 120
                self.schedule.at(
                    day_at(self.start, day + 121, 8),
                    lambda: app.expire_consent(cid, "greetings", SYSTEM),
                )

            def grant(
                purpose: str = purpose,
                record: UUID = record,
                evidence: str = evidence,
                valid_to: datetime | None = valid_to,
            ) -> None:
                app.grant_consent(
                    cid,
                    purpose,
                    front,
                    data_categories=["contact", "preferences"],
                    notice_version="2025.2",
                    method=method,
                    evidence=evidence,
                    record_id=record,
                    valid_to=valid_to,
                )
                if purpose == "marketing":
                    self.facts.marketing[cid] = app.now()
                else:
                    self.facts.greetings.add(cid)
                if purpose == "marketing" and record.int % 2 == 0:
                    # half of those who take offers take part in satisfaction research (5.1)
                    app.grant_consent(
                        cid,
                        "research",
                        front,
                        data_categories=["contact"],
                        notice_version="2025.2",
                        method=method,
                        evidence=evidence,
                        record_id=uuid5(record, "research"),
                    )

            self.schedule.at(day_at(self.start, day, 17, 20), grant)
        self.greetings = greetings
        return day if marketing else None

    def _classify(self, day: int, rm: Actor) -> None:
        self.schedule.at(
            day_at(self.start, day, 11), lambda: self.app.classify_customer(self.id, rm)
        )

    def _transactions(
        self,
        registered: date,
        profile: dict[str, object],
        corporate: bool,
        *,
        churn: bool,
        dormant: bool,
    ) -> None:
        rng = self.rng
        scale = {"low": 20_000, "middle": 60_000, "high": 200_000, "very_high": 800_000}
        size = {"micro": 300_000, "small": 1_000_000, "medium": 5_000_000, "large": 20_000_000}
        base = (
            size[str(profile["company_size"])] if corporate else scale[str(profile["income_band"])]
        )
        frequency = rng.randint(4, 40)
        quarters = quarter_ends(registered, self.end)
        suspended = self.suspended
        for n, quarter_end in enumerate(quarters):
            if dormant and n > 0:
                break
            if churn and n == len(quarters) - 1:
                break  # the churned customer's last quarter never comes
            factor = 0.25 if churn and n >= len(quarters) - 2 else rng.uniform(0.7, 1.3)
            if suspended is not None and suspended[0] <= quarter_end <= suspended[1]:
                continue
            count = max(1, int(frequency * factor))
            amount = Decimal(int(base / 4 * factor * rng.uniform(0.5, 1.5)))
            profit = (amount * Decimal("0.008")).quantize(Decimal("0.01"))
            period_start = max(registered, date(quarter_end.year, quarter_end.month - 2, 1))
            products = rng.sample(("deposit", "fund", "insurance", "loan", "card", "fx"), k=2)
            ref = f"core-{quarter_end.isoformat()}-{self.index}"
            self.schedule.at(
                datetime.combine(quarter_end, time(23, 30), TZ),
                self._trades(period_start, quarter_end, count, amount, profit, products, ref),
            )

    def _trades(
        self,
        start: date,
        end: date,
        count: int,
        amount: Decimal,
        profit: Decimal,
        products: list[str],
        ref: str,
    ) -> Callable[[], object]:
        def record() -> None:
            self.app.record_transactions(
                self.id,
                start,
                end,
                count,
                amount,
                SYSTEM,
                products=products,
                profit_contribution=profit,
                source_ref=ref,
            )
            self.facts.products[self.id] = len(products)

        return record

    def _care(self, day: int, dob: date, rm: Actor) -> None:
        rng, app, cid = self.rng, self.app, self.id
        if self.greetings:
            for year in (self.start.year, self.start.year + 1):
                try:
                    birthday = dob.replace(year=year)
                except ValueError:
                    birthday = date(year, 3, 1)
                offset = (birthday - self.start).days
                until = self.greetings_until
                if day + 1 < offset < self.horizon - 25 and (until is None or offset < until):
                    self.schedule.at(
                        day_at(self.start, offset, 8),
                        lambda: app.send_greeting(
                            cid, "birthday", "生日快乐! Happy birthday!", SYSTEM
                        ),
                    )
        age_at_end = (self.end - dob).days // 365
        if age_at_end >= 60 and day < self.horizon - 60:
            self._special_care(day, dob)
            visit_day = rng.randint(day + 20, self.horizon - 30)
            self.schedule.at(
                day_at(self.start, visit_day, 14),
                lambda: app.record_care_visit(
                    cid,
                    rng.choice(("home_visit", "phone_follow_up")),
                    "Reviewed needs; all well",
                    rm,
                ),
            )

    def _special_care(self, day: int, dob: date) -> None:
        """Flag special care from the day the customer is 60 (the daily job's review),
        and record the follow-up overdue when no visit came within 90 days."""
        app, cid = self.app, self.id
        try:
            sixtieth = dob.replace(year=dob.year + 60)
        except ValueError:  # born on 29 February
            sixtieth = date(dob.year + 60, 3, 1)
        flag_day = max(day + 1, (sixtieth - self.start).days)
        if flag_day >= self.horizon - 60:
            return
        self.schedule.at(
            day_at(self.start, flag_day, 7), lambda: app.review_special_care(cid, SYSTEM)
        )
        for check_day in sorted({flag_day + 91, self.horizon - 30}):
            if check_day <= self.horizon - 30:
                self.schedule.at(
                    day_at(self.start, check_day, 7),
                    lambda: app.note_care_follow_up_overdue(cid, SYSTEM),
                )

    def _end_phase(self, churn: bool, dormant: bool, rm: Actor) -> None:
        rng, app, cid = self.rng, self.app, self.id
        end = self.horizon
        if churn:
            warned: list[str] = []

            def scan() -> None:
                warned.extend(app.scan_churn(cid, SYSTEM))
                if warned:
                    self.facts.count("churn_cases")

            def retain() -> None:
                if warned:
                    app.take_retention_action(cid, "rm_visit", "Review of fees and products", rm)

            def churned() -> None:
                app.record_churn(cid, "moved_to_competitor", rm)
                self.facts.ended[cid] = app.now()
                self.facts.count("churned")

            self.schedule.at(day_at(self.start, end - 20, 4), scan)
            if rng.random() < 0.7:
                self.schedule.at(day_at(self.start, end - 19, 10), retain)
            if rng.random() < 0.3:
                self.schedule.at(day_at(self.start, end - 10, 16), churned)
        if dormant:
            self.schedule.at(
                day_at(self.start, end - 8, 4), lambda: app.review_lifecycle(cid, SYSTEM)
            )
        if rng.random() < 0.012:

            def erasure() -> None:
                if cid in self.facts.prospects:
                    return  # a bare prospect would be erased at once: the story is restriction
                app.request_erasure(cid, rm)
                self.facts.restricted.add(cid)
                self.facts.count("erasure_requests")

            self.schedule.at(day_at(self.start, end - 3, 15), erasure)
            if rng.random() < 0.3:

                def hold() -> None:
                    app.place_legal_hold(cid, f"hold-{self.index}", "Court order", COMPLIANCE)
                    self.facts.count("legal_holds")

                self.schedule.at(day_at(self.start, end - 2, 10), hold)
