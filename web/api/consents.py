"""Consent: grant, withdraw (as easy as granting), read per purpose."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain import consent as consent_model
from domain.consent import Consent
from domain.errors import NotFound
from domain.records import ConsentRecord
from web.api._blueprint import Blueprint
from web.api._disclosure import Disclosure, disclosure, personal_fields_of
from web.api._http import (
    ETAG_HEADER,
    IDEMPOTENCY_PARAM,
    IF_MATCH_OPTIONAL,
    PURPOSE_PARAM,
    actor,
    etag,
)
from web.api._http import expected_version as if_match
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.common import CreatedSchema
from web.schemas.consents import (
    ConsentListSchema,
    ConsentSchema,
    GrantedSchema,
    GrantSchema,
    WithdrawalSchema,
)

blp = Blueprint(
    "consents", __name__, url_prefix="/api/v1/customers", description="Consent per purpose"
)

WRITERS = ("front_office", "relationship_manager", "system")
READERS = ("front_office", "relationship_manager", "compliance_officer")
PERSONAL = personal_fields_of(Consent)
PURPOSE_RULE = f"<any({', '.join(consent_model.PURPOSES)}):purpose>"


def _shown(view: ConsentRecord, shown: Disclosure) -> dict[str, Any]:
    return shown.show(vars(view), PERSONAL)


@blp.route("/<uuid:customer_id>/consents", methods=["POST"])
@blp.arguments(GrantSchema)
@blp.response(201, GrantedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*WRITERS)
def grant_consent(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record a consent; granting again under a new notice version opens a new record.

    Sensitive data categories need their own grant with `sensitive: true`.
    """
    app = get_ledger().app
    purpose = args.pop("purpose")
    record_id = app.grant_consent(customer_id, purpose, actor(), **args)
    view = app.get_consent(customer_id, purpose)
    body = {"id": view.id, "version": view.version, "record_id": record_id}
    location = f"{blp.url_prefix}/{customer_id}/consents/{purpose}"
    return body, 201, {"ETag": etag(view.version), "Location": location}


@blp.route("/<uuid:customer_id>/consents", methods=["GET"])
@blp.response(200, ConsentListSchema)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*READERS)
def list_consents(customer_id: UUID) -> dict[str, Any]:
    """The customer's consent for every purpose that has one (evidence masked unless
    disclosed for a purpose)."""
    app = get_ledger().app
    app.get_customer(customer_id)
    shown = disclosure()
    found = []
    for purpose in consent_model.PURPOSES:
        try:
            found.append(_shown(app.get_consent(customer_id, purpose), shown))
        except NotFound:
            continue
    shown.record(customer_id, "consent.evidence")
    return {"customer_id": customer_id, "consents": found}


@blp.route(f"/<uuid:customer_id>/consents/{PURPOSE_RULE}", methods=["GET"])
@blp.response(200, ConsentSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*READERS)
def read_consent(customer_id: UUID, purpose: str) -> Any:
    """The customer's consent for one purpose: is it live, under which notice, since
    when (evidence masked unless disclosed)."""
    view = get_ledger().app.get_consent(customer_id, purpose)
    shown = disclosure()
    data = _shown(view, shown)
    shown.record(customer_id, "consent.evidence")
    return data, 200, {"ETag": etag(view.version)}


@blp.route(f"/<uuid:customer_id>/consents/{PURPOSE_RULE}/withdrawal", methods=["POST"])
@blp.arguments(WithdrawalSchema)
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed(*WRITERS)
def withdraw_consent(args: dict[str, Any], customer_id: UUID, purpose: str) -> Any:
    """Withdraw the live consent for the purpose (any channel, no precondition but a
    live record)."""
    app = get_ledger().app
    app.withdraw_consent(
        customer_id, purpose, actor(), expected_version=if_match(required=False), **args
    )
    view = app.get_consent(customer_id, purpose)
    return {"id": view.id, "version": view.version}, 200, {"ETag": etag(view.version)}
