"""Erasure requests, legal holds and erasure (crypto-shredding).

An erasure request restricts processing at once; the customer is erased only when
the retention period has run out and no legal hold applies. An erased customer reads
as a 410 problem `subject_erased` everywhere.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from web.api._blueprint import Blueprint
from web.api._http import ETAG_HEADER, IDEMPOTENCY_PARAM, IF_MATCH_OPTIONAL, actor, etag
from web.api._http import expected_version as if_match
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.common import CreatedSchema
from web.schemas.privacy import (
    ErasedSchema,
    ErasureDecisionSchema,
    ErasureWithdrawalSchema,
    LegalHoldSchema,
)

blp = Blueprint(
    "privacy", __name__, url_prefix="/api/v1/customers", description="Erasure and legal holds"
)


def _versioned(customer_id: UUID, **extra: Any) -> tuple[dict[str, Any], dict[str, str]]:
    version = get_ledger().app.get_customer(customer_id).version
    return {"id": customer_id, "version": version, **extra}, {"ETag": etag(version)}


def _stored_version(customer_id: UUID) -> int:
    """The customer's version from the log's clear-text columns (it may be erased)."""
    last = get_ledger().app.recorder.select_events(customer_id, desc=True, limit=1)
    return int(last[0].originator_version)


@blp.route("/<uuid:customer_id>/erasure-request", methods=["POST"])
@blp.response(201, ErasureDecisionSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("front_office", "compliance_officer")
def request_erasure(customer_id: UUID) -> Any:
    """Record the customer's erasure request; processing is restricted at once to what
    law requires. The answer is today's decision: `restrict` (retention still runs),
    `blocked_by_hold` or `erase`. A prospect never onboarded (no account, no KYC file,
    no transactions) has nothing to retain and is erased at once: `erased`. Asking
    twice is a 409; compliance can withdraw a request (`.../erasure-request/withdrawal`)."""
    decision = get_ledger().app.request_erasure(
        customer_id, actor(), expected_version=if_match(required=False)
    )
    if decision == "erased":
        version = _stored_version(customer_id)
        return {"id": customer_id, "version": version, "decision": decision}, 201, {}
    body, headers = _versioned(customer_id, decision=decision)
    return body, 201, headers


@blp.route("/<uuid:customer_id>/erasure-request/withdrawal", methods=["POST"])
@blp.arguments(ErasureWithdrawalSchema)
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("compliance_officer")
def withdraw_erasure_request(args: dict[str, Any], customer_id: UUID) -> Any:
    """Withdraw a pending erasure request: the restriction is lifted and the `reason`
    recorded with the event (409 when no request is pending)."""
    get_ledger().app.withdraw_erasure_request(
        customer_id, args["reason"], actor(), expected_version=if_match(required=False)
    )
    body, headers = _versioned(customer_id)
    return body, 200, headers


@blp.route("/<uuid:customer_id>/erasure", methods=["GET"])
@blp.response(200, ErasureDecisionSchema, headers=ETAG_HEADER)
@roles_allowed("compliance_officer")
def erasure_status(customer_id: UUID) -> Any:
    """Today's erasure decision for the customer."""
    decision = get_ledger().app.erasure_status(customer_id)
    body, headers = _versioned(customer_id, decision=decision)
    return body, 200, headers


@blp.route("/<uuid:customer_id>/erasure", methods=["POST"])
@blp.response(200, ErasedSchema)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("compliance_officer")
def erase_customer(customer_id: UUID) -> dict[str, Any]:
    """Erase the customer by destroying its keys (crypto-shredding): allowed only when
    erasure was requested, retention has run out and no legal hold applies (409
    `retention_running` / `legal_hold_active` otherwise)."""
    get_ledger().app.erase_customer(customer_id, actor())
    return {"id": customer_id, "status": "erased"}


@blp.route("/<uuid:customer_id>/legal-holds", methods=["POST"])
@blp.arguments(LegalHoldSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL, IDEMPOTENCY_PARAM])
@roles_allowed("compliance_officer")
def place_legal_hold(args: dict[str, Any], customer_id: UUID) -> Any:
    """Place a legal hold: erasure is blocked until it is lifted."""
    get_ledger().app.place_legal_hold(
        customer_id,
        args["hold_ref"],
        args["authority"],
        actor(),
        expected_version=if_match(required=False),
    )
    body, headers = _versioned(customer_id)
    return body, 201, headers


@blp.route("/<uuid:customer_id>/legal-holds/<string:hold_ref>", methods=["DELETE"])
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles_allowed("compliance_officer")
def lift_legal_hold(customer_id: UUID, hold_ref: str) -> Any:
    """Lift a legal hold that is in place (409 when there is none of that reference)."""
    get_ledger().app.lift_legal_hold(
        customer_id, hold_ref, actor(), expected_version=if_match(required=False)
    )
    body, headers = _versioned(customer_id)
    return body, 200, headers
