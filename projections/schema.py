"""Every view table, in one place: what the read models hold (all C1 or encrypted).

Columns are `TEXT`, `INT` or `BLOB`; times are fixed-width UTC ISO 8601 text and
dates ISO 8601 text, so they compare and sort alike on SQLite and PostgreSQL. No
column holds plaintext personal data: that lives only in an `encrypted` column
(encrypted under the subject's key) or as a blind-index digest (`*_ix`).
"""

from __future__ import annotations

from projections.store import Table

CUSTOMER = "pv_customer"
INTERACTION = "pv_interaction"
CASE = "pv_case"
CONSENT = "pv_consent"
KPI_CUSTOMER = "pv_kpi_customer"
KPI_CASE = "pv_kpi_case"
KPI_SURVEY = "pv_kpi_survey"
EVALUATION = "pv_evaluation"
CRISIS = "pv_crisis"
CRISIS_CONTACT = "pv_crisis_contact"

CUSTOMER_TABLE = Table(
    CUSTOMER,
    (
        "customer_id TEXT NOT NULL",
        "kind TEXT",
        "status TEXT NOT NULL",
        "branch TEXT",
        "relationship_manager TEXT",
        "registered_on TEXT",
        "risk_preference TEXT",
        "industry TEXT",
        "company_size TEXT",
        "stage TEXT",
        "personal_ref TEXT",
        "encrypted BLOB",
        "name_ix TEXT",
        "phone_ix TEXT",
        "email_ix TEXT",
        "id_number_ix TEXT",
        "account_number_ix TEXT",
        "segment_ix TEXT",
        "tier TEXT",
        "tier_since TEXT",
        "grade_period TEXT",
        "grade_score TEXT",
        "risk_level TEXT",
        "rating_due_on TEXT",
        "review_state TEXT",
        "review_trigger TEXT",
        "last_verified_on TEXT",
        "next_review_due TEXT",
        "doc_type TEXT",
        "doc_expires_on TEXT",
        "doc_status TEXT",
        "rating_overdue INT NOT NULL DEFAULT 0",
        "business_suspended INT NOT NULL DEFAULT 0",
        "churn_state TEXT NOT NULL DEFAULT 'none'",
        "churn_signals TEXT NOT NULL DEFAULT '[]'",
        "churn_since TEXT",
        "retention_actions INT NOT NULL DEFAULT 0",
        "rfm TEXT",
        "value_assessed_on TEXT",
        "needs_care INT NOT NULL DEFAULT 0",
        "care_measures TEXT NOT NULL DEFAULT '[]'",
        "care_follow_up_days INT",
        "last_care_visit_on TEXT",
        "next_care_due_on TEXT",
        "care_overdue_on TEXT",
        "interactions INT NOT NULL DEFAULT 0",
        "last_contact_at TEXT",
        "ended_on TEXT",
        "erasure_requested_on TEXT",
        "processing_restricted INT NOT NULL DEFAULT 0",
        "legal_holds INT NOT NULL DEFAULT 0",
        "erased_at TEXT",
        "created_at TEXT",
        "updated_at TEXT",
        "position INT NOT NULL",
    ),
    ("customer_id",),
    (
        ("branch", "status"),
        ("tier",),
        ("name_ix",),
        ("phone_ix",),
        ("email_ix",),
        ("id_number_ix",),
        ("account_number_ix",),
        ("segment_ix",),
        ("churn_state",),
        ("next_review_due",),
        ("review_state",),
        ("next_care_due_on",),
        ("registered_on",),
    ),
)
INTERACTION_TABLE = Table(
    INTERACTION,
    (
        "customer_id TEXT NOT NULL",
        "position INT NOT NULL",
        "at TEXT NOT NULL",
        "kind TEXT NOT NULL",
        "channel TEXT",
        "direction TEXT",
        "purpose TEXT",
        "personal_ref TEXT",
        "encrypted BLOB",
        "actor_id TEXT",
    ),
    ("customer_id", "position"),
    (("customer_id", "at"),),
)


CASE_TABLE = Table(
    CASE,
    (
        "case_id TEXT NOT NULL",
        "customer_id TEXT NOT NULL",
        "kind TEXT NOT NULL",
        "category TEXT",
        "source TEXT",
        "branch TEXT",
        "rule_set TEXT",
        "complexity TEXT",
        "state TEXT NOT NULL",
        "owner TEXT",
        "approver TEXT",
        "received_at TEXT",
        "due_at TEXT",
        "final_due_at TEXT",
        "escalation_level INT NOT NULL DEFAULT 0",
        "final_escalation_level INT NOT NULL DEFAULT 0",
        "acknowledged_at TEXT",
        "acknowledged_due_at TEXT",
        "resolved_at TEXT",
        "resolved_by TEXT",
        "in_time INT",
        "first_contact INT",
        "root_cause TEXT",
        "redress_payments INT NOT NULL DEFAULT 0",
        "closed_at TEXT",
        "reopened INT NOT NULL DEFAULT 0",
        "survey_id TEXT",
        "product TEXT",
        "received_period TEXT",
        "resolved_period TEXT",
        "created_at TEXT",
        "updated_at TEXT",
        "position INT NOT NULL",
    ),
    ("case_id",),
    (
        ("state", "due_at"),
        ("customer_id",),
        ("branch",),
        ("owner",),
        ("kind", "received_period"),
        ("kind", "resolved_period"),
    ),
)
CONSENT_TABLE = Table(
    CONSENT,
    (
        "customer_id TEXT NOT NULL",
        "purpose TEXT NOT NULL",
        "record_id TEXT",
        "state TEXT NOT NULL",
        "data_categories TEXT NOT NULL DEFAULT '[]'",
        "sensitive INT NOT NULL DEFAULT 0",
        "notice_version TEXT",
        "method TEXT",
        "valid_from TEXT",
        "valid_to TEXT",
        "granted_at TEXT",
        "withdrawn_at TEXT",
        "expired_at TEXT",
        "evidence_ref TEXT",
        "evidence_position INT",
        "records INT NOT NULL DEFAULT 0",
        "updated_at TEXT",
        "position INT NOT NULL",
    ),
    ("customer_id", "purpose"),
    (("purpose", "state"), ("valid_to",)),
)
KPI_CUSTOMER_TABLE = Table(
    KPI_CUSTOMER,
    (
        "customer_id TEXT NOT NULL",
        "branch TEXT",
        "staff TEXT",
        "joined_period TEXT",
        "ended_period TEXT",
        "churned_period TEXT",
        "position INT NOT NULL",
    ),
    ("customer_id",),
    (("branch",), ("staff",)),
)
KPI_CASE_TABLE = Table(
    KPI_CASE,
    (
        "case_id TEXT NOT NULL",
        "customer_id TEXT NOT NULL",
        "kind TEXT NOT NULL",
        "branch TEXT",
        "staff TEXT",
        "received_period TEXT",
        "resolved_period TEXT",
        "in_time INT",
        "first_contact INT",
        "position INT NOT NULL",
    ),
    ("case_id",),
    (("received_period",), ("resolved_period",), ("customer_id",)),
)
KPI_SURVEY_TABLE = Table(
    KPI_SURVEY,
    (
        "survey_id TEXT NOT NULL",
        "customer_id TEXT NOT NULL",
        "instrument TEXT NOT NULL",
        "sent_period TEXT",
        "answered_period TEXT",
        "score INT",
        "dissatisfied INT NOT NULL DEFAULT 0",
        "position INT NOT NULL",
    ),
    ("survey_id",),
    (("answered_period",), ("customer_id",)),
)
EVALUATION_TABLE = Table(
    EVALUATION,
    (
        "period TEXT NOT NULL",
        "scope TEXT NOT NULL",
        "metrics TEXT NOT NULL",
        "formula_version TEXT",
        "evaluated_at TEXT",
        "evaluations INT NOT NULL DEFAULT 0",
        "position INT NOT NULL",
    ),
    ("period", "scope"),
)

STANDARD = "pv_standard"
TRAINING = "pv_training"
STANDARD_TABLE = Table(
    STANDARD,
    (
        "code TEXT NOT NULL",
        "standard_id TEXT NOT NULL",
        "name TEXT NOT NULL",
        "step TEXT NOT NULL",
        "duty TEXT",
        "measure TEXT NOT NULL",
        "target TEXT NOT NULL",
        "unit TEXT NOT NULL",
        "measurements INT NOT NULL DEFAULT 0",
        "breaches INT NOT NULL DEFAULT 0",
        "last_measured_at TEXT",
        "position INT NOT NULL",
    ),
    ("code",),
    (("standard_id",), ("step",)),
)
TRAINING_TABLE = Table(
    TRAINING,
    (
        "record_id TEXT NOT NULL",
        "version INT NOT NULL",
        "staff_id TEXT NOT NULL",
        "course TEXT NOT NULL",
        "topic TEXT NOT NULL",
        "completed_on TEXT NOT NULL",
        "hours TEXT NOT NULL",
        "provider TEXT NOT NULL",
        "standard_code TEXT",
        "position INT NOT NULL",
    ),
    ("record_id", "version"),
    (("staff_id",), ("completed_on",)),
)

EVALUATION_USE = "pv_evaluation_use"
EVALUATION_USE_TABLE = Table(
    EVALUATION_USE,
    (
        "evaluation_id TEXT NOT NULL",
        "version INT NOT NULL",
        "period TEXT NOT NULL",
        "scope TEXT NOT NULL",
        "kind TEXT NOT NULL",
        "kpis TEXT NOT NULL",
        "responsible TEXT NOT NULL",
        "due_on TEXT",
        "evaluated_version INT NOT NULL",
        "recorded_at TEXT NOT NULL",
        "position INT NOT NULL",
    ),
    ("evaluation_id", "version"),
    (("period",), ("kind",)),
)

SURVEY_DIMENSION = "pv_survey_dimension"
SURVEY_DIMENSION_TABLE = Table(
    SURVEY_DIMENSION,
    (
        "survey_id TEXT NOT NULL",
        "customer_id TEXT NOT NULL",
        "answered_period TEXT NOT NULL",
        "service_quality INT NOT NULL",
        "product_quality INT NOT NULL",
        "price_reasonableness INT NOT NULL",
        "communication INT NOT NULL",
        "position INT NOT NULL",
    ),
    ("survey_id",),
    (("answered_period",), ("customer_id",)),
)

# The crisis register (7.3): one row per crisis; and per affected customer (by id) the
# first contact, its channel and a reference to the evidence.
CRISIS_TABLE = Table(
    CRISIS,
    (
        "crisis_id TEXT NOT NULL",
        "title TEXT NOT NULL",
        "severity TEXT NOT NULL",
        "state TEXT NOT NULL",
        "opened_at TEXT NOT NULL",
        "contact_due_at TEXT",
        "closed_at TEXT",
        "affected INT NOT NULL DEFAULT 0",
        "contacted INT NOT NULL DEFAULT 0",
        "contacted_in_time INT NOT NULL DEFAULT 0",
        "first_contact_at TEXT",
        "statements INT NOT NULL DEFAULT 0",
        "remedies INT NOT NULL DEFAULT 0",
        "updated_at TEXT",
        "position INT NOT NULL",
    ),
    ("crisis_id",),
    (("state", "opened_at"),),
)
CRISIS_CONTACT_TABLE = Table(
    CRISIS_CONTACT,
    (
        "crisis_id TEXT NOT NULL",
        "customer_id TEXT NOT NULL",
        "first_contact_at TEXT",
        "contact_channel TEXT",
        "in_time INT",
        "contacts INT NOT NULL DEFAULT 0",
        "interaction_id TEXT",
        "evidence_ref TEXT",
        "evidence_position INT",
        "position INT NOT NULL",
    ),
    ("crisis_id", "customer_id"),
    (("customer_id",),),
)

# The value strategy of each graded customer (policy 6.2): the latest assignment, by id.
VALUE_STRATEGY = "pv_value_strategy"
VALUE_STRATEGY_TABLE = Table(
    VALUE_STRATEGY,
    (
        "customer_id TEXT NOT NULL",
        "strategy TEXT NOT NULL",
        "as_of TEXT NOT NULL",
        "planned_actions TEXT NOT NULL",
        "rule_version TEXT NOT NULL",
        "position INT NOT NULL",
    ),
    ("customer_id",),
    (("strategy", "as_of"),),
)
