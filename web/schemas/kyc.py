"""KYC: identity documents, risk ratings, re-verification and the KYC file view.

The API accepts the domain's document types: resident ID, passport, Hong Kong/Macau
and Taiwan permits, foreign permanent resident ID, business licence, residence permit.
"""

from __future__ import annotations

import marshmallow as ma

from domain import kyc as kyc_model
from domain.rules.kyc import RISK_LEVELS
from domain.validation import id_number_error
from web.schemas.common import Day, DisclosedView, Text, checked_by, one_of

DOC_TYPES = kyc_model.DOC_TYPES


class IdDocumentSchema(ma.Schema):
    """An identity document; one that has already expired is refused."""

    type = ma.fields.String(required=True, validate=one_of(DOC_TYPES))
    number = ma.fields.String(required=True, validate=checked_by(id_number_error))
    expires_on = Day(required=True)


class RiskRatingSchema(ma.Schema):
    risk_level = ma.fields.String(required=True, validate=one_of(RISK_LEVELS))
    factors = ma.fields.List(Text(100), load_default=list, validate=ma.validate.Length(max=20))


class ReviewStartSchema(ma.Schema):
    trigger = ma.fields.String(validate=one_of(kyc_model.TRIGGERS), allow_none=True)


class ReviewCompletionSchema(ma.Schema):
    risk_level = ma.fields.String(validate=one_of(RISK_LEVELS), allow_none=True)


class DocumentRecordedSchema(ma.Schema):
    id = ma.fields.UUID(required=True, metadata={"description": "the KYC file"})
    version = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"description": "valid or expiring"})


class ReviewDueSchema(ma.Schema):
    id = ma.fields.UUID(required=True, metadata={"description": "the KYC file"})
    version = ma.fields.Integer(required=True)
    next_review_due = ma.fields.String(allow_none=True, metadata={"format": "date"})


class KycSchema(DisclosedView):
    customer_id = ma.fields.UUID(required=True)
    registered_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    rating_due_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    rating_calendar = ma.fields.String(
        allow_none=True,
        metadata={"description": "the jurisdiction whose working days set rating_due_on"},
    )
    risk_level = ma.fields.String(allow_none=True)
    risk_factors = ma.fields.List(ma.fields.String())
    last_verified_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    next_review_due = ma.fields.String(allow_none=True, metadata={"format": "date"})
    review_state = ma.fields.String()
    review_trigger = ma.fields.String(allow_none=True)
    doc_type = ma.fields.String(allow_none=True)
    doc_number = ma.fields.String(allow_none=True)
    doc_expires_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    doc_status = ma.fields.String(allow_none=True)
    business_suspended = ma.fields.Boolean()
