"""Purpose-bound disclosure of personal data: masked unless the role may see it and
the request states why (X-Purpose); every unmasked read goes to the access log.

What is personal, and how it is masked, comes only from domain.personal_data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from flask import request

from domain.errors import ValidationFailed
from domain.masking import mask
from domain.personal_data import FIELD_KINDS, FieldClass, Masking, personal_attributes
from domain.services.history import CustomerEventEntry
from security.integrity.access_log import PURPOSES
from web.api._http import jsonable
from web.auth import acting_role, current_principal
from web.context import get_ledger

PURPOSE_HEADER = "X-Purpose"
# Roles that may see personal data in full when they state a purpose.
FULL_VIEW_ROLES = frozenset({"compliance_officer", "relationship_manager"})


def stated_purpose() -> str | None:
    """The purpose named by X-Purpose; None without one; 400 for one not in the vocabulary."""
    value = request.headers.get(PURPOSE_HEADER)
    if value is None:
        return None
    if value not in PURPOSES:
        raise ValidationFailed({PURPOSE_HEADER: f"must be one of: {', '.join(PURPOSES)}"})
    return value


@dataclass(frozen=True)
class Disclosure:
    """Whether this request sees personal data in full, and why."""

    full: bool
    purpose: str | None

    @property
    def label(self) -> str:
        return "full" if self.full else "masked"

    def show(self, data: Mapping[str, Any], personal: Mapping[str, FieldClass]) -> dict[str, Any]:
        """`data` as JSON values, its `personal` fields masked unless disclosed in full."""
        shown: dict[str, Any] = {}
        for key, value in data.items():
            value = jsonable(value)
            if key in personal and not self.full:
                value = masked(value, personal[key].masking)
            shown[key] = value
        shown["disclosure"] = self.label
        return shown

    def record(self, subject_id: UUID | str, what: str) -> None:
        """Record the read in the access log when it disclosed personal data."""
        if not self.full or self.purpose is None:
            return
        principal = current_principal()
        get_ledger().access_log.record(
            actor_id=principal.actor_id,
            role=acting_role(),
            purpose=self.purpose,
            subject_id=str(subject_id),
            what=what,
        )


def disclosure() -> Disclosure:
    """This request's disclosure: full only for FULL_VIEW_ROLES with a stated purpose."""
    purpose = stated_purpose()
    return Disclosure(purpose is not None and acting_role() in FULL_VIEW_ROLES, purpose)


def masked(value: Any, masking: Masking) -> Any:
    """Mask a JSON value: each value of a mapping or list on its own, keys kept (care
    reasons as a whole: how many there are would tell them apart)."""
    if masking is Masking.CARE_REASONS:
        return mask(value, masking)
    if isinstance(value, dict):
        return {key: masked(item, masking) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item, masking) for item in value]
    return mask(value, masking)


def personal_fields_of(
    aggregate_class: type, *, derived: Iterable[str] = ()
) -> dict[str, FieldClass]:
    """The personal attributes of an aggregate's view, plus `derived` view fields
    (totals computed from personal data) classed by their name."""
    fields = dict(personal_attributes(aggregate_class))
    for name in derived:
        fields[name] = FIELD_KINDS[name]
    return fields


def timeline_entry(entry: CustomerEventEntry, shown: Disclosure) -> dict[str, Any]:
    """One event of a customer's timeline as JSON: personal values, and the reason (free
    text that may name people), masked unless `shown` in full."""
    data: dict[str, Any] = jsonable(entry)
    if shown.full:
        return data
    if data["reason"] is not None:
        data["reason"] = masked(data["reason"], Masking.FREE_TEXT)
    for change in data["changes"]:
        if change["masking"] is not None:
            kind = Masking(change["masking"])
            change["before"], change["after"] = (
                masked(change["before"], kind),
                masked(change["after"], kind),
            )
    for field in data["recorded"]:
        if field["masking"] is not None:
            field["value"] = masked(field["value"], Masking(field["masking"]))
    return data
