"""Chapter 8 (performance evaluation) and the scheduler's records: job runs, alerts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from domain import alerts as alert_model
from domain.actor import Actor
from domain.alerts import SecurityAlert
from domain.errors import IllegalTransition, VersionConflict
from domain.evaluation import FORMULA_VERSION, Evaluation, KpiInputs, evaluate_kpis
from domain.events import recording_time
from domain.ids import evaluation_id, job_run_id
from domain.jobs import JobRun
from domain.records import AlertRecord, EvaluationRecord, JobRunRecord, record_of
from domain.rules.targets import KPI_TARGETS_VERSION, kpi_targets, kpis_against_targets
from domain.services.base import LedgerServices
from domain.validation import check, one_of_error, text_error


class OperationsCommands(LedgerServices):
    """KPI evaluations, job runs and security alerts."""

    def evaluate_performance(
        self, period: str, scope: str, inputs: KpiInputs, actor: Actor
    ) -> EvaluationRecord:
        """Compute every KPI for `scope` ("overall", "branch:<id>", "staff:<id>") in
        `period` and record PerformanceEvaluated with the formula version and inputs.
        Re-running with the same inputs records nothing new."""
        check(period=text_error(period, max_length=20), scope=text_error(scope, max_length=100))
        metrics, recorded = evaluate_kpis(inputs, self.settings)
        at = self.now()
        evaluation = self._load_or_blank(Evaluation, evaluation_id(period, scope), at)
        evaluation.record(
            period=period,
            scope=scope,
            metrics=metrics,
            inputs=recorded,
            formula_version=FORMULA_VERSION,
            actor=actor,
            at=at,
        )
        self._save(evaluation)
        return record_of(EvaluationRecord, evaluation)

    def open_improvement_plan(
        self,
        period: str,
        scope: str,
        owner: str,
        actions: list[str],
        due_on: date,
        actor: Actor,
    ) -> EvaluationRecord:
        """Record an improvement plan against the evaluation of `scope` for `period`,
        for the KPIs the rule `kpis_against_targets` finds below target (409 when none
        is)."""
        check(
            owner=text_error(owner, max_length=100),
            actions=None
            if actions and all(text_error(a, max_length=1000) is None for a in actions)
            else "one or more actions, each text of at most 1000 characters",
        )
        evaluation = self._load(Evaluation, evaluation_id(period, scope))
        evaluation.open_improvement_plan(
            shortfalls=self._against_targets(evaluation, "below"),
            owner=owner,
            actions=list(actions),
            due_on=due_on,
            rule_version=KPI_TARGETS_VERSION,
            actor=actor,
            at=self.now(),
        )
        self._save(evaluation)
        return record_of(EvaluationRecord, evaluation)

    def close_improvement_plan(
        self, period: str, scope: str, plan: int, evidence: str, actor: Actor
    ) -> EvaluationRecord:
        """Close the open improvement plan numbered `plan` (1, 2, ... in the order opened)
        of the evaluation of `scope` for `period`, with the evidence it was carried out
        (409 when no such plan is open)."""
        check(
            plan=None if isinstance(plan, int) and plan > 0 else "a plan number from 1",
            evidence=text_error(evidence, max_length=2000),
        )
        evaluation = self._load(Evaluation, evaluation_id(period, scope))
        evaluation.close_improvement_plan(plan, evidence, actor, self.now())
        self._save(evaluation)
        return record_of(EvaluationRecord, evaluation)

    def note_improvement_plans_overdue(self, evaluation_stream: UUID, actor: Actor) -> int:
        """Record ImprovementPlanOverdue for each plan of the evaluation still open after
        its due date (once a plan); returns how many were recorded now."""
        evaluation = self._load(Evaluation, evaluation_stream)
        noted = evaluation.note_plans_overdue(self.today(), actor, self.now())
        if noted:
            self._save(evaluation)
        return noted

    def recognise_performance(
        self, period: str, scope: str, recipient: str, citation: str, actor: Actor
    ) -> EvaluationRecord:
        """Record a recognition against the evaluation of `scope` for `period`, for the
        KPIs on or above target (409 when none is)."""
        check(
            recipient=text_error(recipient, max_length=100),
            citation=text_error(citation, max_length=1000),
        )
        evaluation = self._load(Evaluation, evaluation_id(period, scope))
        evaluation.recognise(
            achievements=self._against_targets(evaluation, "met"),
            recipient=recipient,
            citation=citation,
            rule_version=KPI_TARGETS_VERSION,
            actor=actor,
            at=self.now(),
        )
        self._save(evaluation)
        return record_of(EvaluationRecord, evaluation)

    def _against_targets(
        self, evaluation: Evaluation, verdict: str
    ) -> dict[str, dict[str, Decimal]]:
        verdicts = kpis_against_targets(evaluation.metrics, self.settings)
        targets = kpi_targets(self.settings)
        return {
            kpi: {"value": value, "target": targets[kpi]}
            for kpi, value in sorted(evaluation.metrics.items())
            if value is not None and verdicts.get(kpi) == verdict
        }

    def get_evaluation(self, period: str, scope: str) -> EvaluationRecord:
        """The latest evaluation of `scope` for `period`."""
        return record_of(EvaluationRecord, self._load(Evaluation, evaluation_id(period, scope)))

    # --- job runs ------------------------------------------------------------------

    def start_job_run(
        self, job: str, period: str, actor: Actor, *, lease: timedelta = timedelta(hours=1)
    ) -> bool:
        """Claim the run of `job` for `period`. False when that period was completed, is
        being run by someone else (lease not yet out), or another scheduler claimed it
        at the same moment; True when this caller now owns the run."""
        check(job=text_error(job, max_length=100), period=text_error(period, max_length=50))
        at = recording_time(self.now())  # a lease runs in real time, even in a backfill
        run = self._load_or_blank(JobRun, job_run_id(job, period), at)
        if not run.can_start(at):
            return False
        run.start(job, period, at + lease, actor, at)
        try:
            self._save(run)
        except VersionConflict:
            return False
        return True

    def complete_job_run(
        self, job: str, period: str, actor: Actor, *, summary: dict[str, int | str] | None = None
    ) -> None:
        """Record the run as completed, with counts (no personal data)."""
        run = self._load(JobRun, job_run_id(job, period))
        run.complete(dict(summary or {}), actor, self.now())
        self._save(run)

    def fail_job_run(self, job: str, period: str, error: str, actor: Actor) -> None:
        """Record the run as failed; it may be started again."""
        run = self._load(JobRun, job_run_id(job, period))
        run.fail(error, actor, self.now())
        self._save(run)

    def get_job_run(self, job: str, period: str) -> JobRunRecord | None:
        """The run of `job` for `period`, or None if it never started."""
        run = self._find(JobRun, job_run_id(job, period))
        return None if run is None else record_of(JobRunRecord, run)

    # --- security alerts -----------------------------------------------------------

    def raise_security_alert(
        self,
        kind: str,
        severity: str,
        detail: str,
        actor: Actor,
        *,
        job_run_id: UUID | None = None,
        alert_id: UUID | None = None,
    ) -> UUID:
        """Record a security alert (detail without personal data); returns its id."""
        check(
            kind=one_of_error(kind, alert_model.KINDS),
            severity=one_of_error(severity, alert_model.SEVERITIES),
            detail=text_error(detail, max_length=2000),
        )
        at = self.now()
        new_id = self._id(alert_id)
        alert = self._load_or_blank(SecurityAlert, new_id, at)
        if alert.exists:
            raise IllegalTransition("the alert was already raised")
        alert.raise_alert(
            kind=kind, severity=severity, detail=detail, job_run_id=job_run_id, actor=actor, at=at
        )
        self._save(alert)
        return new_id

    def get_alert(self, alert_id: UUID) -> AlertRecord:
        """One security alert."""
        return record_of(AlertRecord, self._load(SecurityAlert, alert_id))
