"""Need to know: the book of business, enforced in one place for every endpoint.

A relationship manager acts (reads and writes) only on the customers whose
`relationship_manager` is its token's subject; the front office only on the customers
of its token's `branch`. Compliance officers, security officers, regulators and the
system are not bound to a book. The check runs before the endpoint (after its roles),
from the endpoint's *book rule*: how the endpoint finds the customers it touches.

- An endpoint with `customer_id` in its path is about that customer (no declaration).
- Others declare a rule with `@book(...)`: the customers named in the body, the
  customer of a case or survey, the new customer of a registration, a list the read
  models filter to the caller's book (`listed`), or nothing about one customer
  (`not_about_a_customer`). An endpoint a book-bound role may call that declares no
  rule is refused: access fails closed.

Outside the book: a 403 problem `outside_book` that says nothing of the customer, and
an access-log entry of the refusal. Break glass: `X-Purpose: emergency_access` with an
`X-Reason` (an incident or ticket reference) lets the request through; it is recorded
in the access log with the purpose `emergency_access` (the flag) and raised as an
alert by the security checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from flask import Flask, current_app, g, request

from domain.errors import ValidationFailed
from domain.records import CustomerRecord
from projections.book import EVERYONE, Book
from security.integrity.access_log import EMERGENCY_PURPOSE, NO_PURPOSE, PURPOSES
from web.auth import Principal, acting_role, current_principal
from web.context import get_ledger
from web.errors import Forbidden, OutsideBook

BOOK_BOUND = frozenset({"relationship_manager", "front_office"})
REASON_HEADER = "X-Reason"
# a reference to the incident or ticket, never prose: the access log keeps it in clear
REASON = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}$")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Holding:
    """Where a customer sits: its branch and relationship manager (`customer_id` None for
    a customer not registered yet)."""

    customer_id: UUID | None
    branch: str | None
    relationship_manager: str | None


Rule = Callable[[Mapping[str, Any], Any], list[Holding]]


def in_book(principal: Principal, role: str, holding: Holding) -> bool:
    """True if `holding` is in the book of `principal` acting as `role`. For a customer
    being registered, what the registration names must be in the book (an unnamed
    relationship manager is no one's book; the schema requires the branch)."""
    if holding.customer_id is None:
        if role == "relationship_manager":
            return holding.relationship_manager in (None, principal.actor_id)
        if role == "front_office":
            return holding.branch is None or holding.branch == principal.branch
    if role == "relationship_manager":
        return holding.relationship_manager == principal.actor_id
    if role == "front_office":
        return principal.branch is not None and holding.branch == principal.branch
    return role not in BOOK_BOUND


def caller_book() -> Book:
    """The book a list shows to this request's caller (EVERYONE for roles not bound)."""
    role, principal = acting_role(), current_principal()
    if role == "relationship_manager":
        return Book(relationship_manager=principal.actor_id)
    if role == "front_office":
        return Book(branch=principal.branch) if principal.branch else Book(nobody=True)
    return EVERYONE


# --- rules: which customers an endpoint touches -----------------------------------------


def customer_record(customer_id: UUID) -> CustomerRecord:
    """The customer's current state, read once per request (404 unknown, 410 erased):
    the book check and an endpoint that only reads share one replay, and so one version.
    An endpoint that writes reads through the application, never from here."""
    records: dict[UUID, CustomerRecord] = g.setdefault("customer_records", {})
    record = records.get(customer_id)
    if record is None:
        record = records[customer_id] = get_ledger().app.get_customer(customer_id)
    return record


def _holding(customer_id: UUID) -> Holding:
    view = customer_record(customer_id)
    return Holding(view.id, view.branch, view.relationship_manager)


def _uuid(value: Any) -> UUID | None:
    """A UUID as the body's schema would read it; None for anything else (the schema
    then refuses the body, after this check)."""
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            return None
    return None


def customer_in_path(view_args: Mapping[str, Any], _body: Any) -> list[Holding]:
    """The customer named by the path's `customer_id`."""
    return [_holding(view_args["customer_id"])]


def customers_in_body(field: str) -> Rule:
    """The customer (or list of customers) named by the body's `field`."""

    def named_in_body(_view_args: Mapping[str, Any], body: Any) -> list[Holding]:
        value = body.get(field) if isinstance(body, dict) else None
        values = value if isinstance(value, list) else [value]
        ids = [found for item in values if (found := _uuid(item)) is not None]
        return [_holding(customer_id) for customer_id in dict.fromkeys(ids)]

    return named_in_body


def customer_of_case(view_args: Mapping[str, Any], _body: Any) -> list[Holding]:
    """The customer of the feedback case named by the path's `case_id`."""
    return [_holding(get_ledger().app.get_case(view_args["case_id"]).customer_id)]


def customer_of_survey(view_args: Mapping[str, Any], _body: Any) -> list[Holding]:
    """The customer of the survey named by the path's `survey_id`."""
    return [_holding(get_ledger().app.get_survey(view_args["survey_id"]).customer_id)]


def new_customer(_view_args: Mapping[str, Any], body: Any) -> list[Holding]:
    """The customer a registration creates: it must land in the registrar's book."""
    if not isinstance(body, dict):
        return []  # the schema refuses it
    branch, manager = body.get("branch"), body.get("relationship_manager")
    return [
        Holding(
            None,
            branch if isinstance(branch, str) else None,
            manager if isinstance(manager, str) else None,
        )
    ]


def listed(_view_args: Mapping[str, Any], _body: Any) -> list[Holding]:
    """A list: the read models filter it to the caller's book (`caller_book`)."""
    return []


def not_about_a_customer(_view_args: Mapping[str, Any], _body: Any) -> list[Holding]:
    """Nothing about one customer (integrity proofs, campaigns, crises, standards)."""
    return []


def book(rule: Rule) -> Callable[[F], F]:
    """Declare how an endpoint finds the customers it touches (see the module doc)."""

    def declare(func: F) -> F:
        func.book_rule = rule  # type: ignore[attr-defined]
        return func

    return declare


# --- enforcement -------------------------------------------------------------------------


def emergency_reason() -> str | None:
    """The break-glass reason when the request asks for emergency access; None when it
    does not; 422 when it asks without a valid X-Reason."""
    if request.headers.get("X-Purpose") != EMERGENCY_PURPOSE:
        return None
    reason = (request.headers.get(REASON_HEADER) or "").strip()
    if not REASON.match(reason):
        raise ValidationFailed(
            {
                REASON_HEADER: "emergency access needs a reference to the incident or ticket "
                "(1 to 64 letters, digits and . _ : / # -)"
            }
        )
    return reason


def keep_to_the_book(rule: Rule) -> None:
    """Let the request through if every customer it touches is in the caller's book, or
    the caller breaks the glass; 403 `outside_book` otherwise. Both are access-logged."""
    principal, role = current_principal(), acting_role()
    reason = emergency_reason()
    log = get_ledger().access_log
    for holding in rule(request.view_args or {}, request.get_json(silent=True)):
        if in_book(principal, role, holding):
            continue
        subject = None if holding.customer_id is None else str(holding.customer_id)
        if reason is not None and subject is not None:
            log.record(
                actor_id=principal.actor_id,
                role=role,
                purpose=EMERGENCY_PURPOSE,
                subject_id=subject,
                what=f"emergency_access:{request.endpoint}:{reason}",
            )
            continue
        if subject is not None:
            stated = request.headers.get("X-Purpose")
            log.record(
                actor_id=principal.actor_id,
                role=role,
                purpose=stated if stated in PURPOSES else NO_PURPOSE,
                subject_id=subject,
                what=f"denied_outside_book:{request.endpoint}",
            )
        raise OutsideBook(
            "the customer is outside your book of business; for an emergency, send "
            "X-Purpose: emergency_access with an X-Reason reference (recorded and alerted)"
        )


def rule_of(view: Any) -> Rule | None:
    """The endpoint's book rule: declared, or the path's `customer_id`, or None."""
    declared: Rule | None = getattr(view, "book_rule", None)
    if declared is not None:
        return declared
    if "customer_id" in (request.view_args or {}):
        return customer_in_path
    return None


def install(app: Flask) -> None:
    """Check the book before the endpoint runs (after its roles, before idempotency)."""

    @app.before_request
    def check_book() -> None:
        if request.endpoint is None or not request.path.startswith("/api/"):
            return
        if request.blueprint == "api-docs":
            return
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "public", False):
            return
        if acting_role() not in BOOK_BOUND:
            # a role without a book breaks no glass, but its break-glass request still
            # needs its reference: 422 without one, as for every role
            emergency_reason()
            return
        rule = rule_of(view)
        if rule is None:
            raise Forbidden("this endpoint declares no book-of-business rule")
        keep_to_the_book(rule)
