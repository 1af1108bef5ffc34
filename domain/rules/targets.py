"""Evaluation use (policy 8.3): each KPI of an evaluation against its target.

A KPI below target opens an improvement plan; at or above target may earn a
recognition. Churn rate is the one KPI where lower is better.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from domain.settings import RuleSettings

KPI_TARGETS_VERSION = "kpi_targets/1"
LOWER_IS_BETTER = frozenset({"churn_rate"})


def kpi_targets(settings: RuleSettings) -> dict[str, Decimal]:
    """The target of every KPI, from `settings.kpi_target_<kpi>`."""
    prefix = "kpi_target_"
    return {
        name.removeprefix(prefix): value
        for name, value in vars(settings).items()
        if name.startswith(prefix)
    }


def kpis_against_targets(
    metrics: Mapping[str, Decimal | None], settings: RuleSettings
) -> dict[str, str]:
    """Map each KPI with a target to "below", "met" or "no_basis" (no value).

    Guarantees: a value exactly on target is "met"; churn rate is "below" target when
    it is above it. KPIs without a target are left out.
    """
    verdicts: dict[str, str] = {}
    for kpi, target in kpi_targets(settings).items():
        value = metrics.get(kpi)
        if value is None:
            verdicts[kpi] = "no_basis"
        elif kpi in LOWER_IS_BETTER:
            verdicts[kpi] = "below" if value > target else "met"
        else:
            verdicts[kpi] = "below" if value < target else "met"
    return verdicts
