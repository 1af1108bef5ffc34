"""Chapter 6: customer value (RFM, CLV), churn early warning and retention actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from domain import value as value_model
from domain.activity import Activity
from domain.actor import Actor
from domain.grading import Grading, require_entitlement
from domain.ids import activity_id, grading_id, value_id
from domain.records import ValueRecord, record_of
from domain.rules.months import add_months
from domain.rules.retention import RETENTION_VERSION, retention_ends
from domain.rules.value import (
    CHURN_SIGNALS_VERSION,
    CLV_VERSION,
    RFM_SCORES_VERSION,
    ChurnInputs,
    RfmInput,
    churn_signals,
    clv,
    rfm_scores,
    value_strategy,
)
from domain.services.base import LedgerServices
from domain.validation import check, one_of_error, text_error
from domain.value import Value

_VALUE_VERSION = f"{RFM_SCORES_VERSION}+{CLV_VERSION}"


class ValueCommands(LedgerServices):
    """Value assessment, churn warning and what is done about it."""

    def assess_values(
        self,
        customer_ids: Sequence[UUID],
        actor: Actor,
        *,
        retention: Decimal | None = None,
        discount: Decimal | None = None,
        acquisition_cost: Decimal | None = None,
        population: Sequence[UUID] | None = None,
    ) -> dict[UUID, ValueRecord]:
        """Assess the value of `customer_ids`: RFM quintiles ranked within `population`
        (default: `customer_ids` themselves), current value = profit contribution over
        the RFM window, potential value = CLV with that margin; the CLV parameters
        default to the settings (`clv_retention`, `clv_discount`, `clv_acquisition_cost`).
        Each customer then gets the value strategy of policy 6.2 (high value, high
        potential, standard), recorded with its planned actions when it changes. Each
        customer's assessment is its own write; the rest of the population is read, not
        assessed, so a re-run after a partial failure ranks the remainder among everyone."""
        retention = self.settings.clv_retention if retention is None else retention
        discount = self.settings.clv_discount if discount is None else discount
        if acquisition_cost is None:
            acquisition_cost = self.settings.clv_acquisition_cost
        today = self.today()
        window_start = add_months(today, -self.settings.rfm_window_months)
        ranked = list(dict.fromkeys([*(population or ()), *customer_ids]))
        activities: dict[UUID, Activity | None] = {}
        for customer_id in customer_ids:
            self._customer(customer_id, "valuation")
        for customer_id in ranked:
            activities[customer_id] = self._find(Activity, activity_id(customer_id))
        scores = rfm_scores(
            {
                str(cid): RfmInput(activity.transactions() if activity else ())
                for cid, activity in activities.items()
            },
            today,
            self.settings,
        )
        views: dict[UUID, ValueRecord] = {}
        for customer_id in customer_ids:
            activity = activities[customer_id]
            score = scores[str(customer_id)]
            margin = activity.totals(window_start, today)[2] if activity else Decimal(0)
            potential = clv(margin, retention, discount, acquisition_cost)
            at = self.now()
            value = self._load_or_blank(Value, value_id(customer_id), at)
            value.assess(
                customer_id=customer_id,
                as_of=today,
                rfm={"r": score.r, "f": score.f, "m": score.m},
                current_value=margin,
                potential_value=potential,
                inputs={
                    "window_start": score.window_start.isoformat(),
                    "frequency": str(score.frequency),
                    "monetary": str(score.monetary),
                    "population": str(len(ranked)),
                    "retention": str(retention),
                    "discount": str(discount),
                    "acquisition_cost": str(acquisition_cost),
                },
                rule_version=_VALUE_VERSION,
                actor=actor,
                at=at,
            )
            strategy = value_strategy(margin, potential, score.m, self.settings)
            value.assign_strategy(
                as_of=today,
                strategy=strategy.strategy,
                planned_actions=list(strategy.actions),
                inputs={
                    "current_value": str(margin),
                    "potential_value": str(potential),
                    "m": str(score.m),
                    "high_potential_ratio": str(self.settings.high_potential_ratio),
                },
                rule_version=strategy.rule_version,
                actor=actor,
                at=at,
            )
            self._save(value)
            views[customer_id] = record_of(ValueRecord, value)
        return views

    def scan_churn(
        self,
        customer_id: UUID,
        actor: Actor,
        *,
        complaints_received_on: Sequence[date] = (),
        open_complaint_due_at: Sequence[datetime] = (),
        latest_nps: int | None = None,
    ) -> list[str]:
        """Apply the churn early warning today; returns the signals that fired.

        Transactions come from the customer's activity; complaint and NPS facts are
        passed in (the projections hold them per customer). A warning marks the
        customer at risk; a scan with no signal clears an earlier warning.
        """
        customer = self._customer(customer_id, "churn")
        activity = self._find(Activity, activity_id(customer_id))
        today, at = self.today(), self.now()
        inputs = ChurnInputs(
            transactions=activity.transactions() if activity else (),
            complaints_received_on=tuple(complaints_received_on),
            open_complaint_due_at=tuple(open_complaint_due_at),
            latest_nps=latest_nps,
            customer_since=customer.registered_on,
        )
        signals = churn_signals(inputs, today, self.settings)
        value = self._load_or_blank(Value, value_id(customer_id), at)
        if signals:
            value.detect_churn_risk(
                customer_id=customer_id,
                as_of=today,
                signals=signals,
                inputs={
                    "transaction_periods": str(len(inputs.transactions)),
                    "complaints": str(len(inputs.complaints_received_on)),
                    "open_complaints": str(len(inputs.open_complaint_due_at)),
                    "latest_nps": str(latest_nps),
                },
                rule_version=CHURN_SIGNALS_VERSION,
                actor=actor,
                at=at,
            )
            if customer.status == "active":
                customer.change_status("at_risk", "churn_warning", actor, at)
        elif value.churn_state == "at_risk":
            value.clear_churn_risk(today, CHURN_SIGNALS_VERSION, actor, at)
            if customer.status == "at_risk":
                customer.change_status("active", "churn_cleared", actor, at)
        self._save(value, customer)
        return signals

    def take_retention_action(
        self,
        customer_id: UUID,
        action: str,
        description: str,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Record a retention action for a customer at risk. An action that spends a tier
        entitlement (a fee waiver: VIP) is refused with NotEntitled when the tier held
        does not give it."""
        check(
            action=one_of_error(action, value_model.RETENTION_ACTIONS),
            description=text_error(description, max_length=2000),
        )
        self._customer(customer_id, "churn")
        value = self._load(Value, value_id(customer_id))
        self._expect(value, expected_version)
        entitlement = value_model.ACTION_ENTITLEMENTS.get(action)
        if entitlement is not None:
            grading = self._find(Grading, grading_id(customer_id))
            tier = grading.tier if grading else None
            require_entitlement(tier, entitlement, f"a {action} retention action")
        value.take_retention_action(action, description, actor, self.now())
        self._save(value)

    def record_churn(
        self,
        customer_id: UUID,
        cause: str,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> date:
        """Record that the customer was lost; this ends the relationship (retention
        starts). Returns the day retention runs out."""
        check(cause=text_error(cause, max_length=100))
        customer = self._customer(customer_id, "relationship_end")
        self._expect(customer, expected_version)
        at, today = self.now(), self.today()
        value = self._load_or_blank(Value, value_id(customer_id), at)
        value.record_churn(
            customer_id=customer_id, churned_on=today, cause=cause, actor=actor, at=at
        )
        until = retention_ends(today, self.settings)
        customer.end_relationship(today, until, RETENTION_VERSION, actor, at)
        self._save(value, customer)
        return until

    def get_value(self, customer_id: UUID) -> ValueRecord:
        """The latest value assessment and churn state."""
        return record_of(ValueRecord, self._load(Value, value_id(customer_id)))
