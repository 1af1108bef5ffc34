"""Security alerts raised by the security checks (or by a security officer)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from web.api._blueprint import Blueprint
from web.api._http import IDEMPOTENCY_PARAM, actor, jsonable
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.common import CreatedSchema
from web.schemas.operations import AlertSchema, NewAlertSchema

blp = Blueprint(
    "security_alerts", __name__, url_prefix="/api/v1/security-alerts", description="Security"
)


@blp.route("", methods=["POST"])
@blp.arguments(NewAlertSchema)
@blp.response(201, CreatedSchema)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("security_officer", "system")
def raise_alert(args: dict[str, Any]) -> Any:
    """Record a security alert (integrity failure, unusual reads, ...)."""
    app = get_ledger().app
    alert_id = app.raise_security_alert(args["kind"], args["severity"], args["detail"], actor())
    version = app.get_alert(alert_id).version
    return {"id": alert_id, "version": version}, 201, {"Location": f"{blp.url_prefix}/{alert_id}"}


@blp.route("/<uuid:alert_id>", methods=["GET"])
@blp.response(200, AlertSchema)
@roles_allowed("security_officer", "compliance_officer")
def read_alert(alert_id: UUID) -> Any:
    """One security alert."""
    return jsonable(get_ledger().app.get_alert(alert_id))
