"""The log line of an unexpected error names where in OUR code it happened, even when a
library re-raised a driver's error from frames of its own (the store fault that failed
CI twice was logged with three library frames only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from security.dialect import Dialect
from web.problems import fault_location

pytestmark = pytest.mark.unit


@contextmanager
def library_like() -> Iterator[None]:
    """A library's context manager converting an error, as eventsourcing's
    get_connection does (raise X(str(e)) from e)."""
    try:
        yield
    except Exception as exc:
        raise RuntimeError(str(exc)) from exc


def test_an_error_raised_in_a_library_names_our_frame_it_came_from() -> None:
    dialect = Dialect("sqlite")
    try:
        with library_like():
            dialect.execute(None, "SELECT 1")  # ours, security/dialect.py: AttributeError
    except RuntimeError as exc:
        where = fault_location(exc)
    assert "(in " in where and "dialect.py" in where and ":execute" in where


def test_frames_of_ours_among_the_innermost_are_enough_and_no_message_is_logged() -> None:
    try:
        json.loads('{"phone": "13812345678"')
    except ValueError as exc:
        where = fault_location(exc)
    assert "(in " not in where  # no frame of ours anywhere: the innermost three only
    assert "13812345678" not in where
    assert "decoder.py" in where
