"""The policy's rules as small pure functions, one module per theme.

Every function is deterministic and free of I/O; numbers come from
`domain.settings.RuleSettings`. Each rule has a version string ("complaint_deadline/1");
rules returning a dataclass carry it in `rule_version`, and `RULE_VERSIONS` lists them
all so an event can record which version of a rule produced a value.
"""

from __future__ import annotations

from domain.rules import (
    care,
    complaints,
    consent,
    grading,
    kpis,
    kyc,
    quality,
    retention,
    satisfaction,
    targets,
)
from domain.rules import value as value_rules
from domain.rules.errors import RuleError

RULE_VERSIONS: dict[str, str] = {
    version.split("/")[0]: version
    for version in (
        kyc.RISK_RATING_DEADLINE_VERSION,
        kyc.REVERIFICATION_DUE_VERSION,
        kyc.REVERIFICATION_STATUS_VERSION,
        kyc.ID_DOCUMENT_STATUS_VERSION,
        kyc.ID_DOCUMENT_EXPIRING_VERSION,
        kyc.RISK_RATING_OVERDUE_VERSION,
        complaints.COMPLAINT_DEADLINE_VERSION,
        complaints.ESCALATION_LEVEL_VERSION,
        complaints.FEEDBACK_DEADLINE_VERSION,
        grading.GRADE_SCORE_VERSION,
        grading.TIER_DECISION_VERSION,
        value_rules.RFM_SCORES_VERSION,
        value_rules.CLV_VERSION,
        value_rules.CHURN_SIGNALS_VERSION,
        satisfaction.NPS_VERSION,
        satisfaction.CSAT_VERSION,
        satisfaction.DISSATISFACTION_VERSION,
        satisfaction.SURVEY_DUE_VERSION,
        kpis.KPI_FORMULA_VERSION,
        care.IS_ELDERLY_VERSION,
        care.CARE_FOLLOW_UP_VERSION,
        care.CARE_FOLLOW_UP_DUE_VERSION,
        care.CARE_OVERDUE_VERSION,
        care.GREETING_FESTIVALS_VERSION,
        care.CRISIS_FIRST_CONTACT_VERSION,
        retention.RETENTION_VERSION,
        retention.ERASURE_DECISION_VERSION,
        consent.CONSENT_VERSION,
        consent.CONSENT_EXPIRY_VERSION,
        quality.STANDARD_BREACH_VERSION,
        quality.STANDARD_REVIEW_VERSION,
        targets.KPI_TARGETS_VERSION,
    )
}

__all__ = ["RULE_VERSIONS", "RuleError"]
