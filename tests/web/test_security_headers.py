"""The security headers every answer carries: added where the view set none, never
replacing (nor duplicating) one it set, whatever the case of its name."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

from web.app import SECURITY_HEADERS, add_missing

pytestmark = pytest.mark.unit


def test_missing_headers_are_added_once() -> None:
    headers = Headers([("Content-Type", "application/json")])
    add_missing(headers, SECURITY_HEADERS)
    for name, value in SECURITY_HEADERS.items():
        assert headers.getlist(name) == [value]
    assert headers["Content-Type"] == "application/json"


def test_a_header_the_view_set_is_kept_whatever_its_case() -> None:
    headers = Headers([("x-frame-options", "SAMEORIGIN"), ("Cache-Control", "max-age=60")])
    add_missing(headers, {**SECURITY_HEADERS, "Cache-Control": "no-store"})
    assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert headers.getlist("Cache-Control") == ["max-age=60"]
    assert headers.getlist("X-Content-Type-Options") == ["nosniff"]


def test_a_header_whose_value_is_not_a_header_value_is_refused() -> None:
    with pytest.raises(ValueError):
        add_missing(Headers(), {"X-Bad": "a\nb"})
