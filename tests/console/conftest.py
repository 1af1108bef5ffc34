"""Fixtures for the console's tests: the app on a built ledger and a browser-like client
that signs in with a token and posts forms with their CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.domain.factories import Clock
from tests.projections.test_api import api  # noqa: F401  (the app on both stores, views inline)
from tests.web.conftest import Api

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "the page carries no CSRF token"
    return found.group(1)


@dataclass
class Console:
    """One browser's session of the console."""

    api: Api
    client: FlaskClient

    def sign_in(self, role: str, **token: Any) -> TestResponse:
        page = self.client.get("/console/sign-in")
        return self.client.post(
            "/console/sign-in",
            data={"csrf_token": csrf_token(page.text), "token": self.api.token(role, **token)},
        )

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def submit(
        self, path: str, data: dict[str, Any], *, form_page: str | None = None
    ) -> TestResponse:
        """Post `data` to `path` with the CSRF token of the page that shows its form."""
        page = self.client.get(form_page or path)
        return self.client.post(path, data={"csrf_token": csrf_token(page.text), **data})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def console(api: Api) -> Console:  # noqa: F811  (the fixture, imported above)
    return Console(api, api.app.test_client())
