"""Chapter 1 (and 3): registering customers, their profile, lifecycle and classification."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain import customer as customer_model
from domain.activity import Activity
from domain.actor import Actor
from domain.classification import (
    CLASSIFICATION_VERSION,
    COMPANY_SIZES,
    INCOME_BANDS,
    RISK_PREFERENCES,
    STAGES,
    classify_customer,
)
from domain.customer import Customer, CustomerRegistered
from domain.errors import AlreadyExists, ValidationFailed
from domain.ids import activity_id, kyc_file_id
from domain.kyc import IdentityDocument, KycFile
from domain.personal_data import PROFILE_FIELDS, refuse_c3_names
from domain.records import CustomerRecord, record_of
from domain.rules.care import IS_ELDERLY_VERSION, is_elderly
from domain.rules.kyc import (
    ID_DOCUMENT_STATUS_VERSION,
    RISK_RATING_DEADLINE_VERSION,
    rating_calendar,
    risk_rating_deadline,
)
from domain.rules.retention import RETENTION_VERSION, retention_ends
from domain.services.identity import CREDIT_CODE, IdentityClaims
from domain.services.kyc import checked_document_status
from domain.validation import (
    account_error,
    check,
    credit_code_error,
    email_error,
    one_of_error,
    phone_error,
    text_error,
)

GENDERS = ("female", "male", "other", "undisclosed")
SOURCES = ("branch", "online", "core_system", "customer", "public_registry", "migration")


def _check_text(value: Any) -> str | None:
    return text_error(value, max_length=200)


_FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "name": _check_text,
    "gender": lambda v: one_of_error(v, GENDERS),
    "phone": lambda v: phone_error(v) if isinstance(v, str) else "must be text",
    "email": lambda v: email_error(v) if isinstance(v, str) else "must be text",
    "address": lambda v: text_error(v, max_length=400),
    "occupation": _check_text,
    "income_band": lambda v: one_of_error(v, INCOME_BANDS),
    "account_number": lambda v: account_error(v) if isinstance(v, str) else "must be text",
    "risk_preference": lambda v: one_of_error(v, RISK_PREFERENCES),
    "credit_code": lambda v: credit_code_error(v) if isinstance(v, str) else "must be text",
    "legal_representative": _check_text,
    "company_size": lambda v: one_of_error(v, COMPANY_SIZES),
    "industry": _check_text,
    "stage": lambda v: one_of_error(v, STAGES),
    "branch": _check_text,
    "relationship_manager": _check_text,
    "jurisdiction": lambda v: one_of_error(v, customer_model.JURISDICTIONS),
    "language": lambda v: one_of_error(v, customer_model.LANGUAGES),
}


def _profile_errors(profile: Mapping[str, Any], today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, value in profile.items():
        if name not in PROFILE_FIELDS:
            errors[name] = "not a profile field"
        elif value is None:
            continue
        elif name == "date_of_birth":
            if not isinstance(value, date) or value > today or value.year < 1900:
                errors[name] = "must be a past date"
        else:
            error = _FIELD_CHECKS[name](value)
            if error:
                errors[name] = error
    return errors


class CustomerCommands(IdentityClaims):
    """Registration, profile changes, classification and the customer lifecycle."""

    def register_customer(
        self,
        kind: str,
        profile: Mapping[str, Any],
        actor: Actor,
        *,
        status: str = "active",
        source: str = "branch",
        customer_id: UUID | None = None,
        id_document: IdentityDocument | None = None,
    ) -> UUID:
        """Register a customer; returns its id (see `register_customer_versioned`)."""
        return self.register_customer_versioned(
            kind,
            profile,
            actor,
            status=status,
            source=source,
            customer_id=customer_id,
            id_document=id_document,
        )[0]

    def register_customer_versioned(
        self,
        kind: str,
        profile: Mapping[str, Any],
        actor: Actor,
        *,
        status: str = "active",
        source: str = "branch",
        customer_id: UUID | None = None,
        id_document: IdentityDocument | None = None,
    ) -> tuple[UUID, int]:
        """Register an individual or corporate customer (or prospect); returns its id and
        the version written (no re-read needed).

        `profile` holds the profile fields (`PROFILE_FIELDS`); C3 field names are refused
        with C3DataRefused, unknown ones with ValidationFailed. An active customer gets a
        KYC file with its risk-rating deadline, and `id_document` recorded in it, all in
        one atomic write; an elderly one the special-care flag.

        One record per person: the credit code and the document's number are claimed in
        the same write (domain.identity); a number another customer holds raises
        AlreadyRegistered naming that customer, also when both registrations race.
        """
        refuse_c3_names(profile)
        at, today = self.now(), self.today()
        errors = _profile_errors(profile, today)
        errors.update(
            {
                key: error
                for key, error in {
                    "kind": one_of_error(kind, customer_model.KINDS),
                    "status": one_of_error(status, ("prospect", "active")),
                    "source": one_of_error(source, SOURCES),
                    "name": text_error(profile.get("name"), max_length=200),
                    "branch": text_error(profile.get("branch"), max_length=100),
                }.items()
                if error
            }
        )
        if kind == "corporate" and not profile.get("credit_code"):
            errors.setdefault("credit_code", "required for a corporate customer")
        if id_document is not None:
            if status != "active":
                errors["id_document"] = "only an active customer has a KYC file"
            else:
                try:
                    doc_status = checked_document_status(
                        id_document.doc_type,
                        id_document.number,
                        id_document.expires_on,
                        today,
                        self.settings,
                    )
                except ValidationFailed as exc:
                    errors.update({f"id_document.{k}": v for k, v in exc.errors.items()})
        if errors:
            raise ValidationFailed(errors)
        new_id = self._id(customer_id)
        if customer_id is not None and self._find(Customer, new_id) is not None:
            raise AlreadyExists("a customer with this id is already registered")
        customer = Customer.blank(new_id, at)
        fields = {name: profile.get(name) for name in PROFILE_FIELDS}
        customer.register(
            actor, at, kind=kind, status=status, registered_on=today, source=source, **fields
        )
        # a freshly drawn random id has no KYC file yet: no need to look for one
        fresh = customer_id is None
        kyc = self._open_kyc(customer, actor, fresh=fresh) if status == "active" else None
        if kyc is not None and id_document is not None:
            kyc.record_document(
                id_document.doc_type,
                id_document.number,
                id_document.expires_on,
                doc_status,
                ID_DOCUMENT_STATUS_VERSION,
                actor,
                self.now(),
            )
        self._flag_if_elderly(customer, actor)
        numbers = [(CREDIT_CODE, customer.credit_code)]
        if id_document is not None:
            numbers.append((id_document.doc_type, id_document.number))
        claims = self._claims(new_id, numbers, actor, at)
        self._save_claiming(new_id, numbers, customer, kyc, *claims)
        return new_id, customer.version

    def _open_kyc(self, customer: Customer, actor: Actor, *, fresh: bool = False) -> KycFile:
        at = self.now()
        file_id = kyc_file_id(customer.id)
        kyc = KycFile.blank(file_id, at) if fresh else self._load_or_blank(KycFile, file_id, at)
        registered_on = customer.registered_on or at.date()
        jurisdiction = rating_calendar(customer.jurisdiction)
        kyc.open(
            customer.id,
            registered_on,
            risk_rating_deadline(at.date(), self.settings, self.calendars.of(jurisdiction)),
            RISK_RATING_DEADLINE_VERSION,
            actor,
            at,
            calendar=jurisdiction,
        )
        return kyc

    def _flag_if_elderly(self, customer: Customer, actor: Actor) -> bool:
        dob = customer.date_of_birth
        if customer.kind != "individual" or dob is None or "elderly" in customer.special_care:
            return False
        if not is_elderly(dob, self.today(), self.settings):
            return False
        return customer.flag_special_care(
            [*customer.special_care, "elderly"],
            ["priority_channel", "periodic_follow_up"],
            self.settings.elderly_follow_up_days,
            IS_ELDERLY_VERSION,
            actor,
            self.now(),
        )

    def change_profile(
        self,
        customer_id: UUID,
        field: str,
        value: Any,
        actor: Actor,
        *,
        source: str = "customer",
        expected_version: int | None = None,
    ) -> int:
        """Change one profile field, recording its source; returns the customer's version.

        An unchanged value records nothing. C3 field names raise C3DataRefused.
        """
        return self.change_profile_fields(
            customer_id, {field: value}, actor, source=source, expected_version=expected_version
        )

    def change_profile_fields(
        self,
        customer_id: UUID,
        changes: Mapping[str, Any],
        actor: Actor,
        *,
        source: str = "customer",
        expected_version: int | None = None,
    ) -> int:
        """Change several profile fields in one atomic write; returns the new version.

        Every field is checked first (all bad fields reported at once); each changed
        field is its own ProfileFieldChanged event with its source; unchanged values
        record nothing. C3 field names raise C3DataRefused.
        """
        refuse_c3_names(list(changes))
        errors = _profile_errors(changes, self.today())
        if source not in SOURCES:
            errors["source"] = one_of_error(source, SOURCES) or ""
        if "name" in changes and not changes["name"]:
            errors["name"] = "required"
        if not changes:
            errors["changes"] = "name at least one field"
        if errors:
            raise ValidationFailed(errors)
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        for field, value in changes.items():
            customer.change_profile(field, value, source, actor, self.now())
        if "date_of_birth" in changes:
            self._flag_if_elderly(customer, actor)
        numbers = [(CREDIT_CODE, changes.get("credit_code"))]
        claims = self._claims(customer_id, numbers, actor, self.now())
        self._save_claiming(customer_id, numbers, customer, *claims)
        return customer.version

    def classify_customer(
        self, customer_id: UUID, actor: Actor, *, expected_version: int | None = None
    ) -> str:
        """Classify the customer from its profile (chapter 3); returns the segment."""
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        segment, dimensions = classify_customer(
            customer.kind,
            today=self.today(),
            date_of_birth=customer.date_of_birth,
            income_band=customer.income_band,
            risk_preference=customer.risk_preference,
            company_size=customer.company_size,
            industry=customer.industry,
            stage=customer.stage,
        )
        customer.classify(segment, dimensions, CLASSIFICATION_VERSION, actor, self.now())
        self._save(customer)
        return segment

    def activate_customer(
        self, customer_id: UUID, actor: Actor, *, expected_version: int | None = None
    ) -> None:
        """A prospect becomes a customer: active, with a KYC file."""
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        customer.change_status("active", "onboarded", actor, self.now())
        self._save(customer, self._open_kyc(customer, actor))

    def review_lifecycle(self, customer_id: UUID, actor: Actor) -> str:
        """Mark an active or at-risk customer dormant after 180 days (by default) without
        activity; returns the status afterwards."""
        customer = self._customer(customer_id, "lifecycle")
        if customer.status not in ("active", "at_risk"):
            return customer.status
        activity = self._find(Activity, activity_id(customer_id))
        last = activity.last_on if activity and activity.last_on else customer.registered_on
        if last is not None and (self.today() - last).days >= self.settings.dormant_days:
            customer.change_status("dormant", "inactivity", actor, self.now())
            self._save(customer)
        return customer.status

    def end_relationship(
        self,
        customer_id: UUID,
        actor: Actor,
        *,
        ended_on: date | None = None,
        expected_version: int | None = None,
    ) -> date:
        """End the relationship; returns the day retention runs out (10 years by default).

        `ended_on` (default today) lies between the registration and today: a back-dated
        end cannot shorten retention (ValidationFailed on `ended_on` otherwise)."""
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        end = ended_on or self.today()
        until = retention_ends(end, self.settings)
        customer.end_relationship(
            end, until, RETENTION_VERSION, actor, self.now(), today=self.today()
        )
        self._save(customer)
        return until

    def change_relationship_end(
        self,
        customer_id: UUID,
        ended_on: date,
        reason: str,
        actor: Actor,
        *,
        expected_version: int | None = None,
    ) -> date:
        """Correct the day an ended relationship ended (relationship managers and
        compliance); returns the new day retention runs out. Needs a `reason`, recorded
        with the RelationshipEndChanged event; the same bounds as ending it apply, and
        only an ended relationship (not one whose retention ran out) can change."""
        actor.require_role("relationship_manager", "compliance_officer")
        check(reason=text_error(reason, max_length=500))
        customer = self._load(Customer, customer_id)
        self._expect(customer, expected_version)
        until = retention_ends(ended_on, self.settings)
        customer.change_relationship_end(
            ended_on,
            until,
            RETENTION_VERSION,
            replace(actor, reason=reason),
            self.now(),
            today=self.today(),
        )
        self._save(customer)
        return until

    def get_customer(self, customer_id: UUID) -> CustomerRecord:
        """The customer's current state (SubjectErased once its key was shredded)."""
        return record_of(CustomerRecord, self._load(Customer, customer_id))

    def customer_ids(self, *, start: int = 1, limit: int = 1000) -> Iterator[UUID]:
        """Every registered customer's id, in registration order, read from the log's
        clear-text columns (nothing is decrypted)."""
        topic = get_topic(CustomerRegistered)
        position: int | None = start
        while True:
            batch = self.recorder.select_notifications(position, limit, topics=[topic])
            for notification in batch:
                yield UUID(str(notification.originator_id))
            if len(batch) < limit:
                return
            position = batch[-1].id + 1
