"""Erasure (restriction first, crypto-shredding once allowed) and legal holds."""

from __future__ import annotations

import marshmallow as ma

from web.schemas.common import Text


class LegalHoldSchema(ma.Schema):
    hold_ref = Text(100, required=True, metadata={"description": "the hold's reference"})
    authority = Text(200, required=True, metadata={"description": "who ordered it"})


class ErasureDecisionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    decision = ma.fields.String(
        required=True,
        metadata={
            "description": "restrict, blocked_by_hold or erase (as of today); erased when a "
            "prospect never onboarded was erased at once"
        },
    )


class ErasedSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True)


class ErasureWithdrawalSchema(ma.Schema):
    reason = Text(500, required=True, metadata={"description": "why (recorded; no personal data)"})
