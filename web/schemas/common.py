"""Fields and schemas every resource shares.

Text fields refuse what cannot be stored or shown safely (NUL and other control
characters, lone surrogates); amounts are exact decimals sent as strings; dates and
times are ISO 8601, times with an offset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma

from domain.moments import BadMoment, parse_moment

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,4})?$")


class Text(ma.fields.String):
    """A string of at most `max_length` characters, non-blank, with no control
    characters other than tab and newlines."""

    def __init__(self, max_length: int = 200, **kwargs: Any) -> None:
        self.max_length = max_length
        validators: list[Callable[[Any], Any]] = [
            ma.validate.Length(min=1, max=max_length),
            _printable,
        ]
        super().__init__(validate=validators, **kwargs)


def _printable(value: str) -> None:
    if _CONTROL.search(value) or _SURROGATE.search(value):
        raise ma.ValidationError("must not contain control characters")
    if not value.strip():
        raise ma.ValidationError("must not be blank")


class Amount(ma.fields.String):
    """A non-negative exact amount sent as a string ("1250.00"), loaded as a Decimal."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("description", "an exact amount, as a string")
        kwargs["metadata"]["pattern"] = _AMOUNT.pattern
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _AMOUNT.match(text):
            raise ma.ValidationError("a decimal amount like 1250.00")
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern rules it out
            raise ma.ValidationError("a decimal amount like 1250.00") from exc


# Dates and times far from today are refused: rule arithmetic near year 1 or 9999
# would overflow, and no customer record needs them.
EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 12, 31)


class Day(ma.fields.Date):
    """An ISO 8601 date between 1900-01-01 and 9000-12-31."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=ma.validate.Range(min=EARLIEST, max=LATEST), **kwargs)


MOMENT_WITH_OFFSET = "must be an ISO 8601 date-time with an offset, like 2026-03-02T09:00:00+08:00"
MOMENT_AS_TYPED = "must be an ISO 8601 date or date-time (UTC unless it has an offset)"


class Moment(ma.fields.AwareDateTime):
    """An ISO 8601 time with an offset, between 1900 and 9000: when something happened.

    The offset is required, unlike in `QueryMoment`: a time recorded as a fact (a
    complaint received, a consent valid from) is kept for ten years and read in other
    branches and time zones; a wall-clock time without its offset would be a guess."""

    def __init__(self, **kwargs: Any) -> None:
        messages: dict[str, str | list[Any] | dict[Any, Any]] = {
            "invalid": MOMENT_WITH_OFFSET,
            "invalid_awareness": MOMENT_WITH_OFFSET,
        }
        super().__init__(format="iso", validate=_in_range, error_messages=messages, **kwargs)


class QueryMoment(ma.fields.String):
    """A moment asked about, read as the CLI reads `--as-of` (`domain.moments.parse_moment`):
    an ISO 8601 date (00:00 UTC that day) or date-time (UTC unless it has an offset),
    between 1900 and 9000."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"format": "date-time", **kwargs.pop("metadata", {})}
        metadata.setdefault(
            "description", "ISO 8601 date (00:00 UTC) or date-time (UTC unless it has an offset)"
        )
        super().__init__(validate=_in_range, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return parse_moment(super()._deserialize(value, attr, data, **kwargs))
        except (BadMoment, ma.ValidationError) as exc:
            raise ma.ValidationError(MOMENT_AS_TYPED) from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value.isoformat())


def _in_range(value: datetime) -> None:
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:
        day = EARLIEST.replace(year=1)
    if not EARLIEST <= day <= LATEST:
        raise ma.ValidationError("must lie between 1900 and 9000")


def checked_by(check: Callable[[str], str | None]) -> Callable[[str], None]:
    """A marshmallow validator from one of the domain's field checks (domain.validation)."""

    def validate(value: str) -> None:
        error = check(value)
        if error:
            raise ma.ValidationError(error)

    return validate


def one_of(values: tuple[str, ...] | list[str]) -> ma.validate.OneOf:
    """A choice among `values`, whose message names them all."""
    return ma.validate.OneOf(values, error="must be one of: {choices}")


class CreatedSchema(ma.Schema):
    """The id and version of what a command created or changed (the version is the ETag)."""

    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)


class EntryView(ma.Schema):
    """Common fields of every read model: id, version and when created and changed."""

    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    created_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    modified_at = ma.fields.String(required=True, metadata={"format": "date-time"})


class DisclosedView(EntryView):
    """A read model that may hold personal data: `disclosure` says whether it is masked."""

    disclosure = ma.fields.String(
        required=True,
        validate=one_of(("masked", "full")),
        metadata={"description": "masked unless the role may see it and X-Purpose is given"},
    )


def keep_known(data: Mapping[str, Any], schema: ma.Schema) -> dict[str, Any]:
    """The entries of `data` that `schema` declares (for building responses)."""
    return {key: value for key, value in data.items() if key in schema.fields}
