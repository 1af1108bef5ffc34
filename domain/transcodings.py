"""How the domain's values are written by the library's JSON transcoder.

The library registers UUID, Decimal and datetime; the domain adds `datetime.date`.
A date is stored as its ISO text; the transcoder looks types up exactly, so a
datetime (a date subclass) keeps its own transcoding.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import JSONTranscoder, Transcoding


class DateAsISO(Transcoding):
    """`datetime.date` as "YYYY-MM-DD"."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        """The ISO text of the date."""
        return obj.isoformat()

    def decode(self, data: str) -> date:
        """The date of an ISO text."""
        return date.fromisoformat(data)


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every transcoding the domain's events need beyond the library's own."""
    transcoder.register(DateAsISO())
