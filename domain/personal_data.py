"""The one declaration of personal data: which field of which event or aggregate is what.

Classes follow JR/T 0171-2020 (personal financial information):

- C3, authentication data (passwords, PINs, card security codes, login biometrics):
  refused at the domain boundary with `C3DataRefused`, never stored.
- C2, identifying and financial data (name, ID number, phone, account, income,
  transactions, free text about the customer): encrypted under the customer's key,
  masked on display, disclosed only for a stated purpose.
- C1, internal data: everything not declared C2 here.

Masking, export and the web layer read this module and nothing else to decide what
is personal. A field name means the same kind of data wherever it appears
(`FIELD_KINDS`); which fields of an event are personal is declared per event topic
(`EVENT_PERSONAL_FIELDS`), so a new event must be added here to be exported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from enum import StrEnum
from typing import Any

from eventsourcing.utils import get_topic, resolve_topic

from domain.errors import C3DataRefused


class DataClass(StrEnum):
    """The JR/T 0171-2020 class of a stored field (C3 is never stored)."""

    C1 = "C1"
    C2 = "C2"


class Masking(StrEnum):
    """How a field is shown to someone not entitled to see it in full (see domain.masking)."""

    NAME = "name"
    PHONE = "phone"
    ID_NUMBER = "id_number"
    CARD = "card"
    EMAIL = "email"
    ADDRESS = "address"
    DATE_OF_BIRTH = "date_of_birth"
    AMOUNT = "amount"
    CARE_REASONS = "care_reasons"
    FREE_TEXT = "free_text"
    NONE = "none"


@dataclass(frozen=True)
class FieldClass:
    """The class of one field and how it is masked."""

    classification: DataClass
    masking: Masking

    @property
    def personal(self) -> bool:
        """True for C2 fields: encrypted, masked, disclosed only with a purpose."""
        return self.classification is DataClass.C2


INTERNAL = FieldClass(DataClass.C1, Masking.NONE)


def _c2(masking: Masking) -> FieldClass:
    return FieldClass(DataClass.C2, masking)


# What each personal field name holds, wherever it appears.
FIELD_KINDS: dict[str, FieldClass] = {
    "name": _c2(Masking.NAME),
    "legal_representative": _c2(Masking.NAME),
    "date_of_birth": _c2(Masking.DATE_OF_BIRTH),
    "gender": _c2(Masking.FREE_TEXT),
    "phone": _c2(Masking.PHONE),
    "email": _c2(Masking.EMAIL),
    "address": _c2(Masking.ADDRESS),
    "occupation": _c2(Masking.FREE_TEXT),
    "income_band": _c2(Masking.AMOUNT),
    "account_number": _c2(Masking.CARD),
    "doc_number": _c2(Masking.ID_NUMBER),
    "evidence": _c2(Masking.FREE_TEXT),
    "content": _c2(Masking.FREE_TEXT),
    # what a contact was about ("a loan for my daughter's surgery"): personal text
    "topic": _c2(Masking.FREE_TEXT),
    "message": _c2(Masking.FREE_TEXT),
    "notes": _c2(Masking.FREE_TEXT),
    # AdviceGiven.advice: advice tailored to the customer's own circumstances
    "advice": _c2(Masking.FREE_TEXT),
    # Acknowledged.progress: what the customer was told of their own case
    "progress": _c2(Masking.FREE_TEXT),
    "narrative": _c2(Masking.FREE_TEXT),
    "outcome": _c2(Masking.FREE_TEXT),
    "verbatim": _c2(Masking.FREE_TEXT),
    "description": _c2(Masking.FREE_TEXT),
    "amount": _c2(Masking.AMOUNT),
    "redress_amount": _c2(Masking.AMOUNT),
    "profit_contribution": _c2(Masking.AMOUNT),
    "current_value": _c2(Masking.AMOUNT),
    "credit_score": _c2(Masking.AMOUNT),
    "potential_value": _c2(Masking.AMOUNT),
    "inputs": _c2(Masking.FREE_TEXT),
    "value": _c2(Masking.FREE_TEXT),
    "uplift": _c2(Masking.AMOUNT),
    # A segment names the age and income bands: personal, though coarse.
    "segment": _c2(Masking.FREE_TEXT),
    "dimensions": _c2(Masking.FREE_TEXT),
    "segment_dimensions": _c2(Masking.FREE_TEXT),
    # why a customer is under special care: "disabled" is health data
    "special_care": _c2(Masking.CARE_REASONS),
    # SpecialCareFlagged.reasons: the same health data
    "reasons": _c2(Masking.CARE_REASONS),
}

# Customer profile fields (Customer aggregate, ProfileFieldChanged.field): every one,
# personal or not, so a change names a known field.
PROFILE_FIELDS: dict[str, FieldClass] = {
    "name": FIELD_KINDS["name"],
    "date_of_birth": FIELD_KINDS["date_of_birth"],
    "gender": FIELD_KINDS["gender"],
    "phone": FIELD_KINDS["phone"],
    "email": FIELD_KINDS["email"],
    "address": FIELD_KINDS["address"],
    "occupation": FIELD_KINDS["occupation"],
    "income_band": FIELD_KINDS["income_band"],
    "account_number": FIELD_KINDS["account_number"],
    "legal_representative": FIELD_KINDS["legal_representative"],
    "risk_preference": INTERNAL,
    "credit_code": INTERNAL,  # a company's unified social credit code is public
    "company_size": INTERNAL,
    "industry": INTERNAL,
    "stage": INTERNAL,
    "branch": INTERNAL,
    "relationship_manager": INTERNAL,
    "jurisdiction": INTERNAL,
    "language": INTERNAL,
}

_CUSTOMER_PERSONAL = tuple(name for name, fc in PROFILE_FIELDS.items() if fc.personal)

# The personal (C2) fields of every event, by topic. Every other field is C1.
EVENT_PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    # Customer
    "domain.customer:CustomerRegistered": _CUSTOMER_PERSONAL,
    "domain.customer:ProfileFieldChanged": ("value",),
    "domain.customer:CustomerStatusChanged": (),
    "domain.customer:CustomerClassified": ("segment", "dimensions"),
    "domain.customer:SpecialCareFlagged": ("reasons",),
    "domain.customer:RelationshipEnded": (),
    "domain.customer:RelationshipEndChanged": (),
    "domain.customer:RetentionExpired": (),
    "domain.customer:ErasureRequested": (),
    "domain.customer:ErasureRequestWithdrawn": (),
    "domain.customer:ProcessingRestricted": (),
    "domain.customer:LegalHoldPlaced": (),
    "domain.customer:LegalHoldLifted": (),
    "domain.customer:CustomerErased": (),
    # needs and interests are C1 codes; the notes are the customer's own words
    "domain.customer:PreferencesRecorded": ("notes",),
    # Identity claims (one record per person): no personal data, the number is not kept
    "domain.identity:IdentityClaimed": (),
    "domain.identity:IdentityReleased": (),
    # KycFile
    "domain.kyc:KycFileOpened": (),
    "domain.kyc:IdentityDocumentRecorded": ("doc_number",),
    "domain.kyc:RiskRatingAssigned": (),
    "domain.kyc:ReverificationDue": (),
    "domain.kyc:ReverificationStarted": (),
    "domain.kyc:ReverificationCompleted": (),
    "domain.kyc:IdentityDocumentExpired": (),
    "domain.kyc:IdentityDocumentExpiring": (),
    "domain.kyc:RiskRatingOverdue": (),
    "domain.kyc:BusinessSuspended": (),
    "domain.kyc:BusinessRestored": (),
    # Consent
    "domain.consent:ConsentGranted": ("evidence",),
    "domain.consent:ConsentWithdrawn": ("evidence",),
    "domain.consent:ConsentExpired": (),
    # Interaction log
    "domain.interaction:InteractionLogged": ("topic", "content"),
    "domain.interaction:GreetingSent": ("message",),
    "domain.interaction:CareVisitRecorded": ("notes",),
    "domain.interaction:CareFollowUpOverdue": (),
    "domain.interaction:AdviceGiven": ("topic", "advice"),
    # Campaigns
    "domain.campaign:CampaignPlanned": (),
    "domain.campaign:CustomerInvited": (),
    "domain.campaign:AttendanceRecorded": (),
    # Feedback cases
    "domain.feedback:FeedbackReceived": ("narrative",),
    "domain.feedback:Acknowledged": ("progress",),
    "domain.feedback:InvestigationStarted": (),
    "domain.feedback:DeadlineExtended": (),
    "domain.feedback:Escalated": (),
    "domain.feedback:Resolved": ("outcome",),
    "domain.feedback:RedressPaid": ("redress_amount",),
    "domain.feedback:FollowUpCompleted": ("notes",),
    "domain.feedback:Closed": (),
    "domain.feedback:Reopened": (),
    "domain.feedback:Withdrawn": (),
    # Surveys
    "domain.survey:SurveySent": (),
    "domain.survey:SurveyAnswered": ("verbatim",),
    "domain.survey:DissatisfactionFlagged": (),
    "domain.survey:ServiceRecoveryRecorded": ("description", "amount"),
    # Quality (no customer: findings must not name one)
    "domain.quality:ServiceStandardDefined": (),
    "domain.quality:MysteryShopRecorded": (),
    "domain.quality:QualityAuditCompleted": (),
    "domain.quality:StandardBreachRecorded": (),
    "domain.quality:ImprovementActionRecorded": (),
    "domain.quality:MeasurementRecorded": (),
    "domain.quality:ServiceStandardReviewed": (),
    "domain.quality:StandardReviewOverdue": (),
    # Staff training (staff by employee id only, no customer)
    "domain.training:TrainingCompleted": (),
    # Activity
    "domain.activity:TransactionsRecorded": ("amount", "profit_contribution"),
    # Grading
    "domain.grading:GradeAssigned": ("inputs",),
    "domain.grading:TierChanged": (),
    "domain.grading:CreditAssessmentRecorded": ("score",),
    "domain.grading:RiskMeasuresApplied": (),
    # Value
    "domain.value:ValueAssessed": ("current_value", "potential_value", "uplift", "inputs"),
    "domain.value:ChurnRiskDetected": ("inputs",),
    "domain.value:RetentionActionTaken": ("description",),
    "domain.value:ChurnRiskCleared": (),
    "domain.value:ValueStrategyAssigned": ("inputs",),
    "domain.value:CustomerChurned": (),
    # Crisis (affected customers by id only; statements are public)
    "domain.crisis:CrisisOpened": (),
    "domain.crisis:CrisisUpdated": (),
    "domain.crisis:CrisisClosed": (),
    "domain.crisis:CrisisCustomerContacted": (),
    # Performance evaluation (aggregates only)
    "domain.evaluation:PerformanceEvaluated": (),
    "domain.evaluation:ImprovementPlanOpened": (),
    "domain.evaluation:ImprovementPlanClosed": (),
    "domain.evaluation:ImprovementPlanOverdue": (),
    "domain.evaluation:RecognitionRecorded": (),
    # Jobs and alerts (details must not hold personal data)
    "domain.jobs:JobRunStarted": (),
    "domain.jobs:JobRunCompleted": (),
    "domain.jobs:JobRunFailed": (),
    "domain.alerts:SecurityAlertRaised": (),
    # Audit-trail exports (scope names customers by id only)
    "domain.audit_export:AuditExport.AuditTrailExported": (),
}

# The personal attributes of aggregate state (views, history, `changes`).
AGGREGATE_PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "domain.customer:Customer": (
        *_CUSTOMER_PERSONAL,
        "segment",
        "segment_dimensions",
        "special_care",
        "preference_notes",
    ),
    "domain.kyc:KycFile": ("doc_number",),
    "domain.consent:Consent": ("evidence",),
    "domain.interaction:InteractionLog": (),
    "domain.campaign:Campaign": (),
    "domain.campaign:CampaignInvitation": (),
    "domain.feedback:FeedbackCase": ("narrative", "outcome", "redress_amount"),
    "domain.survey:Survey": ("verbatim",),
    "domain.quality:QualityCheck": (),
    "domain.training:StaffTraining": (),
    "domain.activity:Activity": ("periods",),
    "domain.grading:Grading": ("credit_score",),
    "domain.value:Value": ("current_value", "potential_value", "uplift"),
    "domain.crisis:Crisis": (),
    "domain.evaluation:Evaluation": (),
    "domain.jobs:JobRun": (),
    "domain.alerts:SecurityAlert": (),
    "domain.audit_export:AuditExport": (),
}


def _topic_of(event_class_or_topic: type | str | object) -> str:
    if isinstance(event_class_or_topic, str):
        return event_class_or_topic
    if isinstance(event_class_or_topic, type):
        return get_topic(event_class_or_topic)
    return get_topic(type(event_class_or_topic))


def _kind(name: str) -> FieldClass:
    return FIELD_KINDS.get(name, _c2(Masking.FREE_TEXT))


def personal_fields(event_class_or_topic: type | str | object) -> Mapping[str, FieldClass]:
    """Return the C2 fields of an event (class, topic or instance) with their masking.

    For a `ProfileFieldChanged` instance the `value` is classed by the profile field it
    changes (a change of branch is not personal). Raises KeyError for an event that is
    not declared here: undeclared data must never be exported unclassified.
    """
    topic = _topic_of(event_class_or_topic)
    names = EVENT_PERSONAL_FIELDS[topic]
    result = {name: _kind(name) for name in names}
    changed = getattr(event_class_or_topic, "field", None)
    if topic == "domain.customer:ProfileFieldChanged" and isinstance(changed, str):
        profile_class = PROFILE_FIELDS.get(changed, _c2(Masking.FREE_TEXT))
        if profile_class.personal:
            result["value"] = profile_class
        else:
            del result["value"]
    return result


def field_classes(event_class_or_topic: type | str) -> dict[str, FieldClass]:
    """Return the class of every stored field of an event class: C2 as declared, else C1."""
    topic = _topic_of(event_class_or_topic)
    cls = resolve_topic(topic) if isinstance(event_class_or_topic, str) else event_class_or_topic
    personal = personal_fields(topic)
    assert is_dataclass(cls)
    return {f.name: personal.get(f.name, INTERNAL) for f in fields(cls)}


def personal_attributes(aggregate_class_or_topic: type | str) -> Mapping[str, FieldClass]:
    """Return the C2 attributes of an aggregate's state with their masking."""
    topic = _topic_of(aggregate_class_or_topic)
    return {name: _kind(name) for name in AGGREGATE_PERSONAL_FIELDS[topic]}


def masking_of_attribute(aggregate_class_or_topic: type | str, name: str) -> Masking | None:
    """How to mask an aggregate attribute on display; None when it is not personal. An
    aggregate this module does not classify fails closed: every attribute is free text."""
    topic = _topic_of(aggregate_class_or_topic)
    if topic not in AGGREGATE_PERSONAL_FIELDS:
        return Masking.FREE_TEXT
    if name not in AGGREGATE_PERSONAL_FIELDS[topic]:
        return None
    return _kind(name).masking


# --- C3: authentication data is refused ---------------------------------------------

_C3_TOKENS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passcode",
        "passphrase",
        "pin",
        "pincode",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cvn",
        "cav2",
        "biometric",
        "biometrics",
        "fingerprint",
        "faceprint",
        "voiceprint",
        "otp",
    }
)
_C3_JOINED = ("securitycode", "cardsecurity", "logonbiometric", "loginbiometric", "密码")
_SPLIT = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]+|(?<=[a-z])(?=[A-Z])")
_C3_TEXT = re.compile(
    r"(?i)\b(?:password|passwd|pwd|passcode|pin|cvv2?|cvc2?|cvn|security\s+code)\b"
    r"\s*(?:is|was|=|:|\uff1a|#)?\s*[\"']?[^\s\"']*\d"
    r"|(?:密码|口令|安全码|验证码|pin码|cvv码|cvv2码)\s*(?:是|为|:|\uff1a)?\s*[A-Za-z0-9]{3,}"
)


def is_c3_name(name: str) -> bool:
    """True when a field name denotes authentication data (password, PIN, CVV, biometrics)."""
    tokens = [token.lower() for token in _SPLIT.split(name) if token]
    joined = "".join(tokens)
    return bool(_C3_TOKENS.intersection(tokens)) or any(part in joined for part in _C3_JOINED)


def contains_c3_text(text: str) -> bool:
    """True when free text discloses a secret: "PIN 1234", "password: x9", "密码是123456"."""
    return _C3_TEXT.search(text) is not None


def refuse_c3_names(names: Iterable[str]) -> None:
    """Raise C3DataRefused if any of `names` denotes authentication data."""
    for name in names:
        if is_c3_name(name):
            raise C3DataRefused("authentication data (C3) is never stored: field refused")


def refuse_c3_values(context: str, values: Mapping[str, Any]) -> None:
    """Raise C3DataRefused if any key (at any depth) names C3 data or any text discloses it.

    `context` names what is being checked (an event class); the message never repeats
    the refused value.
    """
    for key, value in values.items():
        _check(context, key, value, depth=0)


def _check(context: str, key: str, value: Any, depth: int) -> None:
    if depth > 0 and is_c3_name(key):
        raise C3DataRefused(f"{context}: authentication data (C3) is never stored")
    if key == "field" and isinstance(value, str) and is_c3_name(value):
        raise C3DataRefused(f"{context}: authentication data (C3) is never stored")
    if isinstance(value, str):
        if contains_c3_text(value):
            raise C3DataRefused(f"{context}: text discloses authentication data (C3)")
    elif isinstance(value, Mapping):
        for inner_key, inner in value.items():
            _check(context, str(inner_key), inner, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(context, key, item, depth + 1)
