"""Option types shared by the commands: a moment is parsed by `domain.moments.parse_moment`,
the one parser of dates and times (the scheduler and the API use it too)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from domain.moments import BadMoment, parse_moment


class MomentType(click.ParamType):  # type: ignore[type-arg]
    """An ISO 8601 date (that day at 00:00 UTC) or date-time (UTC without a zone)."""

    name = "moment"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value))
        except BadMoment as exc:
            self.fail(exc.message, param, ctx)


MOMENT = MomentType()
