"""Customers: registration (individual or corporate), profile changes and the view.

The API names corporate fields as a registry does (`registered_name`,
`unified_social_credit_code`, `size`); `API_TO_DOMAIN` maps them onto the domain's
profile fields.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from domain.classification import COMPANY_SIZES, INCOME_BANDS, RISK_PREFERENCES, STAGES
from domain.customer import JURISDICTIONS, KINDS, LANGUAGES
from domain.services.customers import GENDERS, SOURCES
from domain.validation import account_error, credit_code_error, email_error, phone_error
from web.schemas.common import Day, DisclosedView, Text, checked_by, one_of
from web.schemas.kyc import IdDocumentSchema

API_TO_DOMAIN = {
    "registered_name": "name",
    "unified_social_credit_code": "credit_code",
    "size": "company_size",
}
DOMAIN_TO_API = {domain: api for api, domain in API_TO_DOMAIN.items()}
INDIVIDUAL_ONLY = ("name", "date_of_birth", "gender", "occupation", "income_band")
CORPORATE_ONLY = (
    "registered_name",
    "unified_social_credit_code",
    "size",
    "industry",
    "stage",
    "legal_representative",
)


class ProfileFields(ma.Schema):
    """Every profile field the API accepts (all optional here)."""

    # individual
    name = Text(200)
    date_of_birth = Day()
    gender = ma.fields.String(validate=one_of(GENDERS))
    occupation = Text(200, allow_none=True)
    income_band = ma.fields.String(validate=one_of(INCOME_BANDS), allow_none=True)
    # corporate
    registered_name = Text(200)
    unified_social_credit_code = ma.fields.String(validate=checked_by(credit_code_error))
    size = ma.fields.String(validate=one_of(COMPANY_SIZES), allow_none=True)
    industry = Text(200, allow_none=True)
    stage = ma.fields.String(validate=one_of(STAGES), allow_none=True)
    legal_representative = Text(200, allow_none=True)
    # both
    phone = ma.fields.String(validate=checked_by(phone_error), allow_none=True)
    email = ma.fields.String(validate=checked_by(email_error), allow_none=True)
    address = Text(400, allow_none=True)
    account_number = ma.fields.String(validate=checked_by(account_error), allow_none=True)
    risk_preference = ma.fields.String(validate=one_of(RISK_PREFERENCES), allow_none=True)
    relationship_manager = Text(200, allow_none=True)
    jurisdiction = ma.fields.String(
        validate=one_of(JURISDICTIONS),
        allow_none=True,
        metadata={"description": "whose complaint rules apply (default CN)"},
    )
    language = ma.fields.String(
        validate=one_of(LANGUAGES),
        allow_none=True,
        metadata={"description": "the language written to the customer (default zh-CN)"},
    )


class NewCustomerSchema(ProfileFields):
    """A customer to register. Individuals need `name`, and, when active, `id_document`;
    corporate customers need `registered_name` and `unified_social_credit_code`."""

    kind = ma.fields.String(required=True, validate=one_of(KINDS))
    branch = Text(100, required=True)
    status = ma.fields.String(load_default="active", validate=one_of(("active", "prospect")))
    source = ma.fields.String(load_default="branch", validate=one_of(SOURCES))
    id_document = ma.fields.Nested(IdDocumentSchema)

    @ma.validates_schema(pass_original=True, skip_on_field_errors=False)
    def fields_of_kind(self, _: dict[str, Any], data: Any, **__: Any) -> None:
        # checked on the input as sent, so every bad field is listed at once
        if not isinstance(data, dict):
            return
        errors: dict[str, list[str]] = {}
        kind = data.get("kind")
        if kind == "individual":
            if "name" not in data:
                errors["name"] = ["required for an individual"]
            for name in CORPORATE_ONLY:
                if name in data:
                    errors[name] = ["only for a corporate customer"]
            if data.get("status", "active") == "active" and "id_document" not in data:
                errors["id_document"] = ["required for an active individual customer"]
        elif kind == "corporate":
            for name in ("registered_name", "unified_social_credit_code"):
                if name not in data:
                    errors[name] = ["required for a corporate customer"]
            for name in INDIVIDUAL_ONLY:
                if name in data:
                    errors[name] = ["only for an individual"]
        if data.get("status") == "prospect" and "id_document" in data:
            errors["id_document"] = ["a prospect has no KYC file yet: record it on activation"]
        if errors:
            raise ma.ValidationError(errors)


class ProfileChangeSchema(ProfileFields):
    """Profile fields to change (at least one); null clears an optional field. Each
    changed field is its own event, recorded with `source`."""

    source = ma.fields.String(
        required=True,
        validate=one_of(SOURCES),
        metadata={
            "description": "where the new values come from (no default: a change always says it)"
        },
    )

    @ma.validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not set(data) - {"source"}:
            raise ma.ValidationError("name at least one profile field to change")


class CustomerSchema(DisclosedView):
    """A customer as the caller may see it (personal fields masked unless disclosed)."""

    kind = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    registered_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    name = ma.fields.String(allow_none=True)
    registered_name = ma.fields.String(allow_none=True)
    unified_social_credit_code = ma.fields.String(allow_none=True)
    date_of_birth = ma.fields.String(
        allow_none=True, metadata={"description": "ISO date, or 1985-**-** masked"}
    )
    gender = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    occupation = ma.fields.String(allow_none=True)
    income_band = ma.fields.String(allow_none=True)
    account_number = ma.fields.String(allow_none=True)
    risk_preference = ma.fields.String(allow_none=True)
    legal_representative = ma.fields.String(allow_none=True)
    size = ma.fields.String(allow_none=True)
    industry = ma.fields.String(allow_none=True)
    stage = ma.fields.String(allow_none=True)
    branch = ma.fields.String(allow_none=True)
    relationship_manager = ma.fields.String(allow_none=True)
    jurisdiction = ma.fields.String(allow_none=True)
    language = ma.fields.String(allow_none=True)
    segment = ma.fields.String(allow_none=True)
    segment_dimensions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    special_care = ma.fields.List(ma.fields.String())
    needs = ma.fields.List(ma.fields.String(), metadata={"description": "7.1: codes (C1)"})
    interests = ma.fields.List(ma.fields.String(), metadata={"description": "7.1: codes (C1)"})
    preference_notes = ma.fields.String(
        allow_none=True, metadata={"description": "7.1: personal, masked unless disclosed"}
    )
    care_measures = ma.fields.List(ma.fields.String())
    care_follow_up_days = ma.fields.Integer(allow_none=True)
    relationship_ended_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    retention_ends_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    erasure_requested_on = ma.fields.String(allow_none=True, metadata={"format": "date"})
    processing_restricted = ma.fields.Boolean()
    legal_holds = ma.fields.List(ma.fields.String())
