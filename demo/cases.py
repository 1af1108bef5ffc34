"""A demo customer's contacts, surveys and feedback cases, planned as timed commands.

Cases walk the FeedbackCase state machine to a target state; the first cases of the
demo cover every state, so the demo always shows complaints in each of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from demo.people import uuid_from, weighted
from demo.schedule import SYSTEM, StoryBase, day_at
from domain.actor import Actor
from domain.feedback import CATEGORIES

# The product a case of each category is about (the others name none).
PRODUCTS = {
    "product": "wealth_management",
    "fees": "debit_card",
    "digital_channel": "mobile_banking",
    "marketing": "credit_card",
}
ACK_PROGRESS = "Received and logged; a case handler will contact you before the due date."
CASE_TARGETS = {
    "received": 1,
    "acknowledged": 1,
    "investigating": 2,
    "resolved": 1,
    "followed_up": 1,
    "closed": 6,
    "reopened": 0.5,
    "withdrawn": 0.7,
}


def dimensions_for(instrument: str, score: int) -> dict[str, int]:
    """The four dimensions of an answer, following its score (price a notch lower,
    products a notch higher): the demo draws nothing more for them."""
    level = score if instrument == "CSAT" else max(1, min(5, (score + 1) // 2))
    return {
        "service_quality": level,
        "product_quality": min(5, level + 1),
        "price_reasonableness": max(1, level - 1),
        "communication": level,
    }


class CaseStory(StoryBase):
    """Contacts on every channel, surveys with service recovery, feedback cases."""

    def _contact(self, day: int, front: Actor, marketing_day: int | bool | None) -> None:
        rng, app, cid = self.rng, self.app, self.id
        channel = weighted(
            rng,
            {
                "phone": 4,
                "branch": 3,
                "online_chat": 2,
                "email": 2,
                "sms": 1,
                "social_media": 1,
                "letter": 0.3,
            },
        )
        sells = isinstance(marketing_day, int) and marketing_day < day and rng.random() < 0.3
        purpose = "marketing" if sells else rng.choice(("service", "service", "sales_free"))
        purpose = "service" if purpose == "sales_free" else purpose
        topic = rng.choice(
            (
                "balance enquiry",
                "card replacement",
                "fund performance",
                "address update",
                "wealth review",
                "mobile banking",
            )
        )
        direction = "outbound" if purpose == "marketing" else rng.choice(("inbound", "outbound"))
        content = f"{topic}: handled by {front.actor_id}"
        interaction = uuid_from(rng)
        self.schedule.at(
            day_at(self.start, day, rng.randint(9, 17), rng.randint(0, 59)),
            lambda: app.log_interaction(
                cid, channel, direction, purpose, topic, content, front, interaction_id=interaction
            ),
        )

    def _survey(self, day: int, rm: Actor) -> None:
        rng, app, cid = self.rng, self.app, self.id
        instrument = rng.choice(("CSAT", "NPS"))
        score = (
            weighted(rng, {"5": 5, "4": 4, "3": 1.5, "2": 0.8, "1": 0.4})
            if instrument == "CSAT"
            else weighted(rng, {"10": 3, "9": 3, "8": 2, "7": 1.5, "6": 0.7, "4": 0.4, "2": 0.3})
        )
        survey_id, case_id = uuid_from(rng), uuid_from(rng)
        self.schedule.at(
            day_at(self.start, day, 18),
            lambda: app.send_survey(cid, instrument, SYSTEM, survey_id=survey_id),
        )
        verbatim = rng.choice((None, "Quick and friendly", "Waited too long", "App keeps crashing"))

        def answer() -> None:
            opened = app.answer_survey(
                survey_id,
                int(score),
                SYSTEM,
                verbatim=verbatim,
                dimensions=dimensions_for(instrument, int(score)),
                recovery_case_id=case_id,
            )
            branch = self.facts.registered[cid][1]
            self.facts.answers.append((app.now(), branch, instrument, int(score)))
            self.facts.count("surveys")
            if opened is not None:
                self.facts.count("dissatisfied")
                self.facts.received.append((app.now(), branch))
                self.facts.case_states[case_id] = "received"
                self.facts.cases.append(case_id)

        self.schedule.at(day_at(self.start, day + 1, 20), answer)
        if int(score) <= (2 if instrument == "CSAT" else 6):
            self.schedule.at(
                day_at(self.start, day + 2, 10),
                lambda: app.record_service_recovery(survey_id, "apology", "Apologised", rm),
            )
            target = "closed" if rng.random() < 0.8 else "resolved"
            self._walk_case(
                case_id, day_at(self.start, day + 2, 10, 30), target, rm, rm, visit=True
            )

    def _complaint(self, day: int, front: Actor, rm: Actor) -> None:
        rng, app, cid = self.rng, self.app, self.id
        kind = weighted(rng, {"complaint": 7, "enquiry": 1.5, "suggestion": 1, "praise": 0.5})
        category = rng.choice(CATEGORIES)
        rule_set = weighted(rng, {"CN": 8, "UK": 1, "US": 1})
        narrative = rng.choice(
            (
                "Fee charged twice on my account",
                "Transfer delayed three days",
                "Staff were rude at the counter",
                "Could not log in to the app",
                "Statement shows a wrong balance",
            )
        )
        case_id = uuid_from(rng)
        # Too recent a case cannot have been closed already; the first cases cover every state.
        late = ("followed_up", "closed", "reopened")
        reachable = {
            s: w for s, w in CASE_TARGETS.items() if day < self.horizon - 40 or s not in late
        }
        missing = [state for state in reachable if state not in self.facts.targets]
        target = missing[0] if missing else weighted(rng, reachable)
        self.facts.targets.add(target)

        def receive() -> None:
            app.receive_feedback(
                cid,
                kind,
                category,
                narrative,
                front,
                rule_set=rule_set,
                source=front.channel,
                product=PRODUCTS.get(category),
                case_id=case_id,
            )
            self.facts.received.append((app.now(), self.facts.registered[cid][1]))
            self.facts.case_states[case_id] = "received"
            self.facts.cases.append(case_id)

        received_at = day_at(self.start, day, rng.randint(9, 16), rng.randint(0, 59))
        self.schedule.at(received_at, receive)
        self._walk_case(case_id, received_at, target, front, rm, visit=False)

    def _walk_case(
        self,
        case_id: UUID,
        opened: datetime,
        target: str,
        front: Actor,
        rm: Actor,
        *,
        visit: bool,
    ) -> None:
        rng, app = self.rng, self.app
        first_contact = rng.random() < 0.3
        path: list[tuple[str, int, Callable[[], object]]] = [
            (
                "acknowledged",
                0,
                lambda: app.acknowledge_case(case_id, front, progress=ACK_PROGRESS),
            ),
            ("investigating", 1, lambda: app.start_investigation(case_id, rm)),
            ("resolved", rng.randint(1, 18), lambda: self._resolve(case_id, rm, first_contact)),
            (
                "followed_up",
                rng.randint(1, 5),
                lambda: app.complete_follow_up(
                    case_id, rm, method="visit" if visit else "phone", notes="Customer content"
                ),
            ),
            ("closed", 1, lambda: app.close_case(case_id, rm)),
            ("reopened", rng.randint(2, 6), lambda: app.reopen_case(case_id, front)),
        ]
        if target == "withdrawn":
            path = [path[0], ("withdrawn", 2, lambda: app.withdraw_case(case_id, front))]
        elif target == "received":
            path = []
        at = opened
        last = day_at(self.start, self.horizon, 18)
        for state, delay, command in path:
            at += timedelta(days=delay, hours=rng.randint(1, 3), minutes=rng.randint(0, 59))
            if at >= last:
                break
            self.schedule.at(at, self._step(case_id, state, command))
            if state == target:
                break

    def _step(
        self, case_id: UUID, state: str, command: Callable[[], object]
    ) -> Callable[[], object]:
        def step() -> None:
            command()
            self.facts.case_states[case_id] = state

        return step

    def _resolve(self, case_id: UUID, rm: Actor, first_contact: bool) -> None:
        in_time = self.app.resolve_case(
            case_id,
            "Explained and corrected",
            self.rng.choice(("process", "staff", "system")),
            rm,
            first_contact=first_contact,
        )
        branch = self.facts.registered[self.id][1]
        self.facts.resolved.append((self.app.now(), branch, in_time, first_contact))
