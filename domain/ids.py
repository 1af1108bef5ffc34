"""Derived aggregate ids: one stream per customer and theme, one per job run and period.

Deriving an id with uuid5 means the ledger finds a customer's KYC file, interaction
log or consent for a purpose without an index, and that two writers racing to open
the same stream collide on the same id (the store refuses the second).
"""

from __future__ import annotations

from uuid import UUID, uuid5

LEDGER_NAMESPACE = UUID("6f1c1d2e-7a53-4c1e-9b55-2d0b6f9e5a10")
JOB_NAMESPACE = uuid5(LEDGER_NAMESPACE, "job-run")


def _derived(theme: str, *parts: object) -> UUID:
    return uuid5(LEDGER_NAMESPACE, ":".join([theme, *(str(part) for part in parts)]))


def kyc_file_id(customer_id: UUID) -> UUID:
    """The id of the customer's KYC file."""
    return _derived("kyc", customer_id)


def consent_id(customer_id: UUID, purpose: str) -> UUID:
    """The id of the customer's consent stream for `purpose`."""
    return _derived("consent", customer_id, purpose)


def interaction_log_id(customer_id: UUID) -> UUID:
    """The id of the customer's interaction log."""
    return _derived("interactions", customer_id)


def activity_id(customer_id: UUID) -> UUID:
    """The id of the customer's activity (transactions) stream."""
    return _derived("activity", customer_id)


def grading_id(customer_id: UUID) -> UUID:
    """The id of the customer's grading stream."""
    return _derived("grading", customer_id)


def value_id(customer_id: UUID) -> UUID:
    """The id of the customer's value and churn stream."""
    return _derived("value", customer_id)


def invitation_id(campaign_id: UUID, customer_id: UUID) -> UUID:
    """The id of one customer's invitation to one campaign."""
    return _derived("invitation", campaign_id, customer_id)


def quality_check_id(standard_code: str) -> UUID:
    """The id of the quality-monitoring stream of one service standard."""
    return _derived("quality", standard_code)


def staff_training_id(staff_id: str) -> UUID:
    """The id of one staff member's training record."""
    return _derived("training", staff_id)


def periodic_survey_id(customer_id: UUID, period: str) -> UUID:
    """The id of the regular survey of one customer for one survey period (policy 5.1)."""
    return _derived("periodic-survey", customer_id, period)


def evaluation_id(period: str, scope: str) -> UUID:
    """The id of the performance evaluation of `scope` for `period`."""
    return _derived("evaluation", period, scope)


def job_run_id(job_name: str, period: str) -> UUID:
    """The id of the run of `job_name` for `period`: uuid5(JOB_NAMESPACE, "job:period")."""
    return uuid5(JOB_NAMESPACE, f"{job_name}:{period}")
