"""Integrity endpoints: the latest checkpoint, inclusion and consistency proofs, and the
logs' public verifier keys (no token needed)."""

from __future__ import annotations

import base64
from typing import Any

import marshmallow as ma
from flask import Response

from domain.errors import NotFound
from ledger_verify.checkpoints import verifier_key
from ledger_verify.tlog_proof import format_tlog_proof
from web.api._blueprint import Blueprint
from web.api._book import book, not_about_a_customer
from web.auth import ALL_ROLES, public_endpoint, roles_allowed
from web.context import get_ledger
from web.errors import ProofRangeError

blp = Blueprint(
    "integrity", __name__, url_prefix="/api/v1/integrity", description="Merkle log integrity"
)

READERS = tuple(sorted(ALL_ROLES))


class ProofQuery(ma.Schema):
    seq = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=2**53))
    size = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**53))


class ConsistencyQuery(ma.Schema):
    from_ = ma.fields.Integer(
        required=True, data_key="from", validate=ma.validate.Range(min=1, max=2**53)
    )
    to = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**53))


class ConsistencySchema(ma.Schema):
    origin = ma.fields.String()
    size1 = ma.fields.Integer()
    size2 = ma.fields.Integer()
    root1 = ma.fields.String()
    root2 = ma.fields.String()
    proof = ma.fields.List(ma.fields.String())
    checkpoint1 = ma.fields.String()
    checkpoint2 = ma.fields.String()


class LogKeySchema(ma.Schema):
    events = ma.fields.String(metadata={"description": "the event log's C2SP vkey"})
    access = ma.fields.String(metadata={"description": "the access log's C2SP vkey"})


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain")


@blp.route("/checkpoint")
@blp.response(200, content_type="text/plain")
@roles_allowed(*READERS)
@book(not_about_a_customer)
def checkpoint() -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint), with the cosignature lines
    of the witnesses that cosigned it (C2SP tlog-cosignature). Reads never sign: the
    sealer covers each committed event within about a second."""
    ledger = get_ledger()
    stored = ledger.sealed_log.latest_checkpoint()
    if stored is None:
        raise NotFound("the log is empty: no checkpoint yet")
    return _text(ledger.cosigned_note(stored))


@blp.route("/proof")
@blp.arguments(ProofQuery, location="query")
@blp.response(200, content_type="text/plain")
@roles_allowed(*READERS)
@book(not_about_a_customer)
def proof(args: dict[str, Any]) -> Response:
    """A C2SP tlog-proof@v1 of event `seq` against the checkpoint of `size` (default: latest)."""
    ledger = get_ledger()
    latest = ledger.sealed_log.latest_checkpoint()
    if latest is None:
        raise NotFound("the log is empty: no checkpoint yet")
    size = args.get("size", latest.size)
    stored = ledger.sealed_log.checkpoint(size)
    if stored is None:
        raise NotFound(f"no checkpoint was signed at size {size}")
    if args["seq"] >= size:
        raise ProofRangeError(f"seq must be below the checkpoint size {size}")
    # from the stored tree nodes: O(log n) rows, whatever the log's size
    hashes = ledger.sealed_log.proofs().inclusion_proof(args["seq"], size)
    return _text(format_tlog_proof(args["seq"], hashes, stored.note))


@blp.route("/consistency")
@blp.arguments(ConsistencyQuery, location="query")
@blp.response(200, ConsistencySchema)
@roles_allowed(*READERS)
@book(not_about_a_customer)
def consistency(args: dict[str, Any]) -> dict[str, Any]:
    """An RFC 9162 consistency proof between two signed checkpoints."""
    ledger = get_ledger()
    latest = ledger.sealed_log.latest_checkpoint()
    if latest is None:
        raise NotFound("the log is empty: no checkpoint yet")
    size1, size2 = args["from_"], args.get("to", latest.size)
    first, second = ledger.sealed_log.checkpoint(size1), ledger.sealed_log.checkpoint(size2)
    if first is None or second is None:
        raise NotFound("both sizes must be sizes at which a checkpoint was signed")
    if size1 > size2:
        raise ProofRangeError("from must not exceed to")
    try:
        hashes = ledger.sealed_log.proofs().consistency_proof(size1, size2)
    except ValueError as exc:  # ProofError included
        raise ProofRangeError(str(exc)) from exc
    b64 = base64.b64encode
    return {
        "origin": ledger.config.log_origin,
        "size1": size1,
        "size2": size2,
        "root1": b64(first.root).decode(),
        "root2": b64(second.root).decode(),
        "proof": [b64(h).decode() for h in hashes],
        "checkpoint1": first.note,
        "checkpoint2": second.note,
    }


@blp.route("/log-key")
@blp.response(200, LogKeySchema)
@blp.doc(security=[])
@public_endpoint
def log_key() -> dict[str, str]:
    """The C2SP verifier keys (vkeys) of the event log and the access log, as `ledger
    log-key` prints them: public, so no token is needed."""
    ledger = get_ledger()
    return {
        "events": verifier_key(ledger.sealed_log.origin, ledger.sealed_log.public_key),
        "access": verifier_key(ledger.access_sealed.origin, ledger.access_sealed.public_key),
    }
