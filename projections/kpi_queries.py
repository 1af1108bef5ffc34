"""KPI tables per period (calendar month), overall, per branch or per staff member.

Counts come from the `kpis` view's fact rows; every rate is computed by the one
implementation the performance job records with, `domain.evaluation.evaluate_kpis`,
under the ledger's rule settings (NPS bands included), so a table here and an
evaluation recorded by the job give the same figures for the same period and scope
(tests/scheduler/test_kpi_agreement.py). `kpi_inputs` gives one period's counts in the
shape of `domain.evaluation.KpiInputs`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from domain.errors import ValidationFailed
from domain.evaluation import KpiInputs, evaluate_kpis
from domain.settings import RuleSettings
from projections.paging import Where
from projections.schema import EVALUATION, KPI_CASE, KPI_CUSTOMER, KPI_SURVEY
from projections.store import ViewStore

# The group and filter expression of each fact table: a case counts for its own branch
# and owner when known, else the customer's.
DIMENSIONS = {
    "overall": {"customer": "'overall'", "case": "'overall'", "survey": "'overall'"},
    "branch": {
        "customer": "c.branch",
        "case": "COALESCE(k.branch, c.branch)",
        "survey": "c.branch",
    },
    "staff": {"customer": "c.staff", "case": "COALESCE(k.staff, c.staff)", "survey": "c.staff"},
}
COUNTS = (
    "customers_at_start",
    "customers_at_end",
    "new_customers",
    "lost_customers",
    "cases_received",
    "cases_resolved",
    "complaints_resolved",
    "resolved_in_time",
    "resolved_first_contact",
)
# The metrics the view shows (value uplift and loyalty need activity it does not hold).
VIEW_METRICS = (
    "churn_rate",
    "retention_rate",
    "complaint_sla",
    "first_contact_resolution",
    "csat",
    "nps",
)
LOST = (
    "CASE WHEN c.ended_period IS NULL THEN c.churned_period WHEN c.churned_period IS NULL "
    "THEN c.ended_period WHEN c.ended_period < c.churned_period THEN c.ended_period "
    "ELSE c.churned_period END"
)


MAX_MONTHS = 120


def months(first: str, last: str) -> list[str]:
    """Every `YYYY-MM` from `first` to `last` inclusive; more than MAX_MONTHS is a
    validation error, never a silently shorter answer."""
    try:
        year, month = (int(x) for x in first.split("-"))
        end_year, end_month = (int(x) for x in last.split("-"))
    except ValueError:
        raise ValidationFailed({"period": "YYYY-MM"}) from None
    if not (1 <= month <= 12 and 1 <= end_month <= 12):
        raise ValidationFailed({"period": "YYYY-MM with a month 01-12"})
    if (end_year * 12 + end_month) - (year * 12 + month) >= MAX_MONTHS:
        raise ValidationFailed({"period": f"at most {MAX_MONTHS} months in one request"})
    result: list[str] = []
    while (year, month) <= (end_year, end_month):
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if not result:
        raise ValidationFailed({"period": "the first period must not be after the last"})
    return result


def _grouped(*expressions: str) -> str:
    """A GROUP BY list without constants (PostgreSQL refuses a literal there)."""
    return ", ".join(e for e in expressions if not e.startswith("'"))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class KpiQueries:
    """Read side of the `kpis` view."""

    def __init__(self, store: ViewStore, settings: RuleSettings | None = None) -> None:
        self.store = store
        self.settings = settings
        self.t = {
            name: store.table(name) for name in (KPI_CUSTOMER, KPI_CASE, KPI_SURVEY, EVALUATION)
        }

    @staticmethod
    def _where(table: str, branch: str | None, staff: str | None) -> Where:
        """Filters on the branch and staff member as `table` attributes them."""
        where = Where()
        where.equal(DIMENSIONS["branch"][table], branch)
        return where.equal(DIMENSIONS["staff"][table], staff)

    def _facts(
        self, by: str, first: str, last: str, branch: str | None, staff: str | None
    ) -> dict[tuple[str, str], dict[str, Any]]:
        dims = DIMENSIONS[by]
        facts: dict[tuple[str, str], dict[str, Any]] = defaultdict(
            lambda: {**dict.fromkeys(COUNTS, 0), "csat": [], "nps": []}
        )
        where = self._where("customer", branch, staff)
        customers = self.store.rows(
            f"SELECT {dims['customer']} AS g, c.joined_period AS r, {LOST} AS l, "
            f"COUNT(*) AS n FROM {self.t[KPI_CUSTOMER]} c{where.sql} "
            f"GROUP BY {_grouped(dims['customer'], 'c.joined_period', LOST)}",
            where.params,
        )
        for period in months(first, last):
            for row in customers:
                reg, lost, n = row["r"], row["l"], int(row["n"])
                if reg is None:  # a prospect: not a customer yet
                    continue
                bucket = facts[(period, row["g"] or "")]
                if reg < period and (lost is None or lost >= period):
                    bucket["customers_at_start"] += n
                    bucket["lost_customers"] += n if lost == period else 0
                if reg <= period and (lost is None or lost > period):
                    bucket["customers_at_end"] += n
                    bucket["new_customers"] += n if reg == period else 0
        joined = f"LEFT JOIN {self.t[KPI_CUSTOMER]} c ON c.customer_id=k.customer_id"
        where = self._where("case", branch, staff)
        also = where.sql.replace(" WHERE ", " AND ", 1)
        for row in self.store.rows(
            f"SELECT k.received_period AS p, {dims['case']} AS g, COUNT(*) AS n "
            f"FROM {self.t[KPI_CASE]} k {joined} WHERE k.received_period BETWEEN ? AND ?{also} "
            f"GROUP BY {_grouped('k.received_period', dims['case'])}",
            [first, last, *where.params],
        ):
            facts[(row["p"], row["g"] or "")]["cases_received"] += int(row["n"])
        for row in self.store.rows(
            f"SELECT k.resolved_period AS p, {dims['case']} AS g, COUNT(*) AS n, "
            "SUM(CASE WHEN k.in_time IS NULL THEN 0 ELSE 1 END) AS d, "
            "SUM(CASE WHEN k.in_time=1 THEN 1 ELSE 0 END) AS t, "
            "SUM(CASE WHEN k.first_contact=1 THEN 1 ELSE 0 END) AS f "
            f"FROM {self.t[KPI_CASE]} k {joined} WHERE k.resolved_period BETWEEN ? AND ?{also} "
            f"GROUP BY {_grouped('k.resolved_period', dims['case'])}",
            [first, last, *where.params],
        ):
            bucket = facts[(row["p"], row["g"] or "")]
            bucket["cases_resolved"] += int(row["n"])
            bucket["resolved_first_contact"] += int(row["f"] or 0)
            # a case with a deadline (a complaint) counts for the SLA
            bucket["complaints_resolved"] += int(row["d"] or 0)
            bucket["resolved_in_time"] += int(row["t"] or 0)
        where = self._where("survey", branch, staff)
        for row in self.store.rows(
            f"SELECT s.answered_period AS p, {dims['survey']} AS g, s.instrument AS i, "
            f"s.score AS score, COUNT(*) AS n FROM {self.t[KPI_SURVEY]} s "
            f"LEFT JOIN {self.t[KPI_CUSTOMER]} c ON c.customer_id=s.customer_id "
            "WHERE s.answered_period BETWEEN ? AND ? AND s.score IS NOT NULL"
            f"{where.sql.replace(' WHERE ', ' AND ', 1)} "
            f"GROUP BY {_grouped('s.answered_period', dims['survey'], 's.instrument', 's.score')}",
            [first, last, *where.params],
        ):
            bucket = facts[(row["p"], row["g"] or "")]
            scores = bucket["csat" if row["i"] == "CSAT" else "nps"]
            scores.extend([int(row["score"])] * int(row["n"]))
        return facts

    def kpi_table(
        self,
        first: str,
        last: str,
        *,
        by: str = "overall",
        branch: str | None = None,
        staff: str | None = None,
    ) -> list[dict[str, Any]]:
        """One row per period and group (`by` = overall, branch or staff), oldest first."""
        if by not in DIMENSIONS:
            raise ValidationFailed({"by": "one of overall, branch, staff"})
        facts = self._facts(by, first, last, branch, staff)
        rows = []
        for (period, group), f in sorted(facts.items()):
            inputs = self._inputs(f)
            metrics, _ = evaluate_kpis(inputs, self.settings)
            rows.append(
                {
                    "period": period,
                    by: group if by != "overall" else "overall",
                    "customers_at_start": inputs.customers_at_start,
                    "customers_at_end": inputs.customers_at_end,
                    "new_customers": inputs.new_customers,
                    "lost_customers": inputs.lost_customers,
                    "cases_received": int(f["cases_received"]),
                    "cases_resolved": inputs.cases,
                    "complaints_resolved": inputs.resolved,
                    "resolved_in_time": inputs.resolved_in_time,
                    "resolved_first_contact": inputs.resolved_first_contact,
                    "csat_answers": len(inputs.csat_scores),
                    "nps_answers": len(inputs.nps_scores),
                    **{name: _text(metrics[name]) for name in VIEW_METRICS},
                }
            )
        return rows

    @staticmethod
    def _inputs(f: dict[str, Any]) -> KpiInputs:
        return KpiInputs(
            customers_at_start=int(f["customers_at_start"]),
            customers_at_end=int(f["customers_at_end"]),
            new_customers=int(f["new_customers"]),
            lost_customers=int(f["lost_customers"]),
            csat_scores=tuple(f["csat"]),
            nps_scores=tuple(f["nps"]),
            cases=int(f["cases_resolved"]),
            resolved=int(f["complaints_resolved"]),
            resolved_in_time=int(f["resolved_in_time"]),
            resolved_first_contact=int(f["resolved_first_contact"]),
        )

    def kpi_inputs(
        self, period: str, *, branch: str | None = None, staff: str | None = None
    ) -> KpiInputs:
        """The counts of one period (and branch or staff member) as KpiInputs, for the
        performance evaluation job (values and loyalty are not in the views: zero)."""
        by = "branch" if branch else "staff" if staff else "overall"
        facts = self._facts(by, period, period, branch, staff)
        found = [f for (p, _), f in facts.items() if p == period]
        return self._inputs(found[0]) if found else KpiInputs()

    def evaluations(
        self, *, period: str | None = None, scope: str | None = None
    ) -> list[dict[str, Any]]:
        """The evaluations the performance job recorded (the latest per period and scope)."""
        where = Where().equal("period", period).equal("scope", scope)
        rows = self.store.rows(
            f"SELECT * FROM {self.t[EVALUATION]}{where.sql} ORDER BY period, scope", where.params
        )
        return [
            {
                "period": r["period"],
                "scope": r["scope"],
                "metrics": json.loads(r["metrics"]),
                "formula_version": r["formula_version"],
                "evaluated_at": r["evaluated_at"],
                "evaluations": int(r["evaluations"]),
            }
            for r in rows
        ]
