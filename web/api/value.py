"""Customer value: the latest assessment, retention actions, recording churn."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.value import Value
from web.api._blueprint import Blueprint
from web.api._disclosure import disclosure, personal_fields_of
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
from web.schemas.lifecycle import RelationshipEndedSchema
from web.schemas.value import ChurnSchema, RetentionActionSchema, ValueSchema

blp = Blueprint("value", __name__, url_prefix="/api/v1/customers", description="Customer value")

PERSONAL = personal_fields_of(Value)


@blp.route("/<uuid:customer_id>/value", methods=["GET"])
@blp.response(200, ValueSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed("relationship_manager", "compliance_officer")
def read_value(customer_id: UUID) -> Any:
    """The latest value assessment (RFM, current and potential value, masked unless
    disclosed for a purpose) and the churn state with its signals."""
    view = get_ledger().app.get_value(customer_id)
    shown = disclosure()
    data = shown.show(vars(view), PERSONAL)
    shown.record(customer_id, "value.amounts")
    return data, 200, {"ETag": etag(view.version)}


@blp.route("/<uuid:customer_id>/retention-actions", methods=["POST"])
@blp.arguments(RetentionActionSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("relationship_manager")
def take_retention_action(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record a retention action for a customer at risk of churning."""
    app = get_ledger().app
    app.take_retention_action(
        customer_id,
        args["action"],
        args["description"],
        actor(),
        expected_version=if_match(required=False),
    )
    view = app.get_value(customer_id)
    return {"id": view.id, "version": view.version}, 201, {"ETag": etag(view.version)}


@blp.route("/<uuid:customer_id>/churn", methods=["POST"])
@blp.arguments(ChurnSchema)
@blp.response(200, RelationshipEndedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("relationship_manager", "system")
def record_churn(args: dict[str, Any], customer_id: UUID) -> Any:
    """Record that the customer was lost: the relationship ends and retention starts.
    `If-Match` names the customer's version."""
    app = get_ledger().app
    until = app.record_churn(
        customer_id, args["cause"], actor(), expected_version=if_match(required=False)
    )
    version = app.get_customer(customer_id).version
    body = {"id": customer_id, "version": version, "retention_ends_on": until.isoformat()}
    return body, 200, {"ETag": etag(version)}
