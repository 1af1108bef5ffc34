"""Chapter 6: customer value and churn: assessments, early warning, retention actions.

One stream per customer. Churn: none -> at_risk (signals detected) -> cleared or
churned; retention actions are taken only while at risk; a churned customer stays
churned. Every assessment and warning records the rule versions and inputs.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from domain.actor import Actor
from domain.errors import IllegalTransition
from domain.events import CustomerEvent, CustomerOpeningEvent, LedgerAggregate

RETENTION_ACTIONS = ("call", "offer", "fee_waiver", "rm_visit", "rate_upgrade", "service_fix")
CHURN_STATES = ("none", "at_risk", "cleared", "churned")
# Retention actions that spend a tier entitlement (domain.grading.TIER_ENTITLEMENTS).
ACTION_ENTITLEMENTS: dict[str, str] = {"fee_waiver": "fee_waivers"}


class ValueAssessed(CustomerOpeningEvent):
    as_of: date
    rfm: dict[str, int]
    current_value: Decimal
    potential_value: Decimal
    uplift: Decimal | None
    inputs: dict[str, str]
    rule_version: str

    def apply(self, aggregate: Value) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.assessed_on = self.as_of
        aggregate.rfm = dict(self.rfm)
        aggregate.current_value = self.current_value
        aggregate.potential_value = self.potential_value
        aggregate.uplift = self.uplift


class ValueStrategyAssigned(CustomerEvent):
    as_of: date
    strategy: str
    planned_actions: list[str]
    inputs: dict[str, str]
    rule_version: str

    def apply(self, aggregate: Value) -> None:
        aggregate.strategy = self.strategy
        aggregate.planned_actions = list(self.planned_actions)


class ChurnRiskDetected(CustomerOpeningEvent):
    as_of: date
    signals: list[str]
    inputs: dict[str, str]
    rule_version: str

    def apply(self, aggregate: Value) -> None:
        aggregate.customer_id = self.customer_id
        aggregate.churn_state = "at_risk"
        aggregate.signals = list(self.signals)


class RetentionActionTaken(CustomerEvent):
    action: str
    description: str

    def apply(self, aggregate: Value) -> None:
        aggregate.retention_actions = [*aggregate.retention_actions, self.action]


class ChurnRiskCleared(CustomerEvent):
    as_of: date
    rule_version: str

    def apply(self, aggregate: Value) -> None:
        aggregate.churn_state = "cleared"
        aggregate.signals = []


class CustomerChurned(CustomerOpeningEvent):
    churned_on: date
    cause: str

    def apply(self, aggregate: Value) -> None:
        aggregate.churn_state = "churned"


class Value(LedgerAggregate):
    """The customer's latest value assessment and churn state."""

    def __init__(self) -> None:
        self.customer_id: UUID | None = None
        self.assessed_on: date | None = None
        self.rfm: dict[str, int] = {}
        self.current_value: Decimal | None = None
        self.potential_value: Decimal | None = None
        self.uplift: Decimal | None = None
        self.churn_state = "none"
        self.signals: list[str] = []
        self.retention_actions: list[str] = []
        self.strategy: str | None = None
        self.planned_actions: list[str] = []

    def assess(
        self,
        *,
        customer_id: UUID,
        as_of: date,
        rfm: dict[str, int],
        current_value: Decimal,
        potential_value: Decimal,
        inputs: dict[str, str],
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a value assessment; the uplift is against the previous one."""
        if self.churn_state == "churned":
            raise IllegalTransition("a churned customer is not assessed")
        uplift = None if self.current_value is None else current_value - self.current_value
        self._record(
            ValueAssessed,
            actor,
            at,
            customer_id=customer_id,
            as_of=as_of,
            rfm=rfm,
            current_value=current_value,
            potential_value=potential_value,
            uplift=uplift,
            inputs=inputs,
            rule_version=rule_version,
        )

    def assign_strategy(
        self,
        *,
        as_of: date,
        strategy: str,
        planned_actions: list[str],
        inputs: dict[str, str],
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Record the value strategy (policy 6.2) and its planned actions; False, with
        nothing recorded, when it is the strategy already held."""
        if self.churn_state == "churned":
            raise IllegalTransition("a churned customer gets no value strategy")
        if strategy == self.strategy:
            return False
        self._record(
            ValueStrategyAssigned,
            actor,
            at,
            customer_id=self.customer_id,
            as_of=as_of,
            strategy=strategy,
            planned_actions=planned_actions,
            inputs=inputs,
            rule_version=rule_version,
        )
        return True

    def detect_churn_risk(
        self,
        *,
        customer_id: UUID,
        as_of: date,
        signals: list[str],
        inputs: dict[str, str],
        rule_version: str,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Record the warning; False when already at risk on the same signals."""
        if self.churn_state == "churned":
            raise IllegalTransition("the customer has churned")
        if not signals:
            raise IllegalTransition("no churn signal")
        if self.churn_state == "at_risk" and sorted(signals) == sorted(self.signals):
            return False
        self._record(
            ChurnRiskDetected,
            actor,
            at,
            customer_id=customer_id,
            as_of=as_of,
            signals=signals,
            inputs=inputs,
            rule_version=rule_version,
        )
        return True

    def take_retention_action(
        self, action: str, description: str, actor: Actor, at: datetime
    ) -> None:
        """Record a retention action; only while at risk."""
        if self.churn_state != "at_risk":
            raise IllegalTransition(f"no retention action when {self.churn_state}")
        self._record(
            RetentionActionTaken,
            actor,
            at,
            customer_id=self.customer_id,
            action=action,
            description=description,
        )

    def clear_churn_risk(self, as_of: date, rule_version: str, actor: Actor, at: datetime) -> None:
        """at_risk -> cleared."""
        if self.churn_state != "at_risk":
            raise IllegalTransition(f"churn risk cannot clear when {self.churn_state}")
        self._record(
            ChurnRiskCleared,
            actor,
            at,
            customer_id=self.customer_id,
            as_of=as_of,
            rule_version=rule_version,
        )

    def record_churn(
        self, *, customer_id: UUID, churned_on: date, cause: str, actor: Actor, at: datetime
    ) -> None:
        """Record that the customer was lost (once)."""
        if self.churn_state == "churned":
            raise IllegalTransition("the customer has already churned")
        self._record(
            CustomerChurned, actor, at, customer_id=customer_id, churned_on=churned_on, cause=cause
        )
