"""Customers: register, read (masked unless disclosed for a purpose), change the profile."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from flask import request

from domain.customer import Customer
from domain.errors import AlreadyExists, ValidationFailed
from domain.identity import AlreadyRegistered
from domain.kyc import IdentityDocument
from domain.records import CustomerRecord
from web.api._blueprint import Blueprint
from web.api._book import book, customer_record, new_customer
from web.api._disclosure import PURPOSE_HEADER, disclosure, personal_fields_of
from web.api._http import (
    ETAG_HEADER,
    IDEMPOTENCY_PARAM,
    IF_MATCH_REQUIRED,
    PURPOSE_PARAM,
    actor,
    etag,
    expected_version,
)
from web.api._registration import holder_shown
from web.auth import roles_allowed
from web.context import get_ledger
from web.idempotency import HEADER as IDEMPOTENCY_HEADER
from web.schemas.common import CreatedSchema
from web.schemas.customers import (
    API_TO_DOMAIN,
    CORPORATE_ONLY,
    DOMAIN_TO_API,
    INDIVIDUAL_ONLY,
    CustomerSchema,
    NewCustomerSchema,
    ProfileChangeSchema,
)

blp = Blueprint(
    "customers", __name__, url_prefix="/api/v1/customers", description="Customers and profiles"
)

REGISTRARS = ("front_office", "relationship_manager", "system")
READERS = ("front_office", "relationship_manager", "compliance_officer")
EDITORS = ("front_office", "relationship_manager", "compliance_officer", "system")
PERSONAL = personal_fields_of(Customer)
_IDS = UUID("0b9f6c7e-3f0a-4f53-8d6c-2a4c1f9b7e21")
# the fields a view of each kind shows (besides the common ones)
_OF_KIND = {"individual": set(CORPORATE_ONLY), "corporate": set(INDIVIDUAL_ONLY)}


def _customer_id() -> UUID | None:
    """A customer id derived from the caller and its Idempotency-Key, so a retry after a
    failure between the two writes of a registration finds the same customer."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if not key:
        return None
    principal_id = actor().actor_id
    return uuid5(_IDS, f"{principal_id}\n{key}")


def _domain_profile(args: dict[str, Any]) -> dict[str, Any]:
    return {API_TO_DOMAIN.get(name, name): value for name, value in args.items()}


def _renamed(error: ValidationFailed) -> ValidationFailed:
    """The domain's field names as the API names them."""
    errors = {DOMAIN_TO_API.get(name, name): text for name, text in error.errors.items()}
    return ValidationFailed(errors, error.message)


def customer_view(view: CustomerRecord, what: str = "customer.profile") -> dict[str, Any]:
    """The customer as this request may see it, fields named as the API names them;
    a full read is access-logged as `what`."""
    shown = disclosure()
    data = shown.show(vars(view), PERSONAL)
    if view.kind == "corporate":
        for domain_name, api_name in DOMAIN_TO_API.items():
            data[api_name] = data.pop(domain_name, None)
    else:
        for domain_name in DOMAIN_TO_API.keys() - {"name"}:
            data.pop(domain_name, None)
    for name in _OF_KIND.get(view.kind, set()):
        data.pop(name, None)
    shown.record(view.id, what)
    return data


@blp.route("", methods=["POST"])
@blp.arguments(NewCustomerSchema)
@blp.response(201, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IDEMPOTENCY_PARAM])
@roles_allowed(*REGISTRARS)
@book(new_customer)
def register_customer(args: dict[str, Any]) -> Any:
    """Register an individual or corporate customer (or prospect).

    An active customer gets a KYC file; its identity document is recorded there. The
    answer is the customer's id and version; `ETag` is the version for later updates.
    """
    ledger = get_ledger()
    who = actor()
    document = args.pop("id_document", None)
    kind, status, source = args.pop("kind"), args.pop("status"), args.pop("source")
    wanted = _customer_id()
    try:
        customer_id, version = ledger.app.register_customer_versioned(
            kind,
            _domain_profile(args),
            who,
            status=status,
            source=source,
            customer_id=wanted,
            id_document=None
            if document is None
            else IdentityDocument(document["type"], document["number"], document["expires_on"]),
        )
    except ValidationFailed as exc:
        raise _renamed(exc) from None
    except AlreadyRegistered as exc:
        raise holder_shown(exc) from None
    except AlreadyExists:
        # the write is atomic: only a retry of a key whose first answer was lost gets here
        assert wanted is not None
        customer_id = wanted
        version = ledger.app.get_customer(customer_id).version
    headers = {"ETag": etag(version), "Location": f"{blp.url_prefix}/{customer_id}"}
    return {"id": customer_id, "version": version}, 201, headers


@blp.route("/<uuid:customer_id>", methods=["GET"])
@blp.response(200, CustomerSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[PURPOSE_PARAM])
@roles_allowed(*READERS)
def read_customer(customer_id: UUID) -> Any:
    """The customer, masked (DOMAIN.md masking) unless disclosed.

    Compliance officers and relationship managers who name a purpose in `X-Purpose`
    see it in full, and the read is recorded in the access log. An erased customer
    is a 410 problem `subject_erased`.
    """
    view = customer_record(customer_id)  # the book check's read
    return customer_view(view), 200, {"ETag": etag(view.version), "Vary": PURPOSE_HEADER}


@blp.route("/<uuid:customer_id>", methods=["PATCH"])
@blp.arguments(ProfileChangeSchema)
@blp.response(200, CreatedSchema, headers=ETAG_HEADER)
@blp.doc(parameters=[IF_MATCH_REQUIRED])
@roles_allowed(*EDITORS)
def change_profile(args: dict[str, Any], customer_id: UUID) -> Any:
    """Change profile fields; needs `If-Match` with the customer's ETag.

    Missing If-Match: 428; a stale one: 412, and nothing is recorded. Every field is
    checked before any is recorded; each changed field is its own event with its
    source, and an unchanged value records nothing.
    """
    expected = expected_version(required=True)
    app = get_ledger().app
    source = args.pop("source")
    view = customer_record(customer_id)  # the book check's read: its kind
    foreign = _OF_KIND.get(view.kind, set()) & set(args)
    if foreign:
        raise ValidationFailed({name: f"not a field of a {view.kind} customer" for name in foreign})
    try:
        version = app.change_profile_fields(
            customer_id, _domain_profile(args), actor(), source=source, expected_version=expected
        )
    except ValidationFailed as exc:
        raise _renamed(exc) from None
    except AlreadyRegistered as exc:
        raise holder_shown(exc) from None
    return {"id": customer_id, "version": version}, 200, {"ETag": etag(version)}
