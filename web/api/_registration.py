"""One record per person over HTTP: who learns which customer holds a number."""

from __future__ import annotations

from domain.identity import AlreadyRegistered
from web.api._http import actor

# the roles that may read customers (web.api.customers READERS)
HOLDER_READERS = ("front_office", "relationship_manager", "compliance_officer")


def holder_shown(error: AlreadyRegistered) -> AlreadyRegistered:
    """The 409 `already_registered` problem names the customer holding the number as
    `customer_id` for a role that may read customers; other roles learn only that the
    number is taken."""
    if actor().role in HOLDER_READERS:
        error.problem_fields = {"customer_id": str(error.customer_id)}  # type: ignore[attr-defined]
    return error
