"""kpis_against_targets: each KPI of an evaluation against its target (policy 8.3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.evaluation import KPI_NAMES
from domain.rules.targets import kpi_targets, kpis_against_targets
from domain.settings import RuleSettings

pytestmark = pytest.mark.unit

S = RuleSettings()


def test_every_kpi_has_a_target() -> None:
    assert sorted(kpi_targets(S)) == sorted(KPI_NAMES)


def test_a_value_on_target_is_met_and_churn_counts_lower_as_better() -> None:
    verdicts = kpis_against_targets(
        {"csat": Decimal("0.80"), "nps": Decimal("29.99"), "churn_rate": Decimal("0.0501")}, S
    )
    assert (verdicts["csat"], verdicts["nps"], verdicts["churn_rate"]) == ("met", "below", "below")
    assert kpis_against_targets({"churn_rate": Decimal("0.01")}, S)["churn_rate"] == "met"


def test_a_kpi_without_a_value_has_no_basis() -> None:
    verdicts = kpis_against_targets({"csat": None}, S)
    assert verdicts["csat"] == verdicts["loyalty"] == "no_basis"
