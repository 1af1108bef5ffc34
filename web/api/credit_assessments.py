"""Credit assessments in bulk: a bureau's file imported in one request."""

from __future__ import annotations

from typing import Any

from domain.services.grading import CreditAssessment
from web.api._blueprint import Blueprint
from web.api._http import IDEMPOTENCY_PARAM, actor
from web.auth import roles_allowed
from web.context import get_ledger
from web.schemas.grading import CreditImportResultSchema, CreditImportSchema

blp = Blueprint(
    "credit_assessments",
    __name__,
    url_prefix="/api/v1/credit-assessments",
    description="Grading",
)


@blp.route("/imports", methods=["POST"])
@blp.arguments(CreditImportSchema)
@blp.response(200, CreditImportResultSchema)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed("compliance_officer", "system")
def import_credit_assessments(args: dict[str, Any]) -> Any:
    """Import a batch of credit assessments (at most 1,000): a bad row records nothing;
    a row equal to a customer's newest assessment is skipped, so a re-sent file records
    nothing twice."""
    rows = [
        CreditAssessment(row["customer_id"], row["source"], row["score"], row["assessed_on"])
        for row in args["assessments"]
    ]
    recorded, skipped = get_ledger().app.import_credit_assessments(rows, actor())
    return {"recorded": recorded, "skipped": skipped}
