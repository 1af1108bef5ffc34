"""Fixtures for the API tests: the app on a built ledger, tokens per role, helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from security.bootstrap import Ledger, Settings, build_ledger
from tests.conftest import make_config
from tests.domain.factories import Clock
from web.app import create_app
from web.auth import ROLES, TokenSettings, issue_token

API = "/api/v1"
# the branch of the front-office tokens of these tests; the relationship manager of the
# sample customers is `relationship_manager-1`, the subject of the default RM token
FRONT_OFFICE_BRANCH = "BJ-01"

WANG = {
    "kind": "individual",
    "name": "王小明",
    "date_of_birth": "1958-02-03",
    "gender": "male",
    "phone": "13812345678",
    "email": "wang.xiaoming@example.cn",
    "id_document": {
        "type": "resident_id",
        "number": "110101195802031234",
        "expires_on": "2031-01-01",
    },
    "branch": "BJ-01",
    "relationship_manager": "relationship_manager-1",
}
# another person (one record per person: WANG's ID number registers once)
WANG_2 = {**WANG, "id_document": {**WANG["id_document"], "number": "110101195802039876"}}
BRIGHT = {
    "kind": "corporate",
    "registered_name": "Shanghai Bright Logistics Co., Ltd.",
    "unified_social_credit_code": "91310000MA1FL3LQ2X",
    "size": "medium",
    "industry": "logistics",
    "stage": "growth",
    "legal_representative": "李强",
    "phone": "02155551234",
    "branch": "BJ-01",
    "relationship_manager": "relationship_manager-1",
}


@dataclass
class Api:
    """The app under test, called as one role or another."""

    app: Flask
    client: FlaskClient
    ledger: Ledger
    clock: Clock
    settings: TokenSettings

    def token(self, role: str, subject: str | None = None, branch: str | None = None) -> str:
        """A token for `role`; the front office's works for `branch` (default BJ-01)."""
        if branch is None and role == "front_office":
            branch = FRONT_OFFICE_BRANCH
        return issue_token(self.settings, subject or f"{role}-1", [role], 600, branch=branch)

    def headers(self, role: str | None, **extra: str) -> dict[str, str]:
        """Authorization for `role` (None: no token) plus extra headers."""
        headers = {"Authorization": f"Bearer {self.token(role)}"} if role else {}
        headers.update({key.replace("_", "-"): value for key, value in extra.items()})
        return headers

    def call(
        self,
        method: str,
        path: str,
        role: str | None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        sent = {**self.headers(role), **(headers or {})}
        return self.client.open(API + path, method=method, json=json, headers=sent)

    def get(self, path: str, role: str | None, **headers: str) -> TestResponse:
        return self.call("GET", path, role, headers=_dashed(headers))

    def post(self, path: str, role: str | None, json: Any = None, **headers: str) -> TestResponse:
        return self.call("POST", path, role, json, _dashed(headers))

    def patch(self, path: str, role: str | None, json: Any = None, **headers: str) -> TestResponse:
        return self.call("PATCH", path, role, json, _dashed(headers))

    def register(self, body: dict[str, Any] | None = None, role: str = "front_office") -> UUID:
        response = self.post("/customers", role, body or WANG)
        assert response.status_code == 201, response.get_json()
        return UUID(response.get_json()["id"])

    def events(self) -> int:
        """How many events the ledger holds."""
        return int(self.ledger.app.recorder.max_notification_id() or 0)


def _dashed(headers: dict[str, str]) -> dict[str, str]:
    return {key.replace("_", "-"): value for key, value in headers.items()}


def make_api(config: Settings, clock: Clock) -> Iterator[Api]:
    ledger = build_ledger(config, clock=clock)
    app = create_app({"LEDGER": ledger, "TESTING": True})
    with app.app_context():
        settings = app.extensions["token_settings"]()
    try:
        yield Api(app, app.test_client(), ledger, clock, settings)
    finally:
        ledger.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(ledger_config: Settings, clock: Clock) -> Iterator[Api]:
    """The API on SQLite and on PostgreSQL."""
    yield from make_api(ledger_config, clock)


@pytest.fixture
def sqlite_api(tmp_path: Path, clock: Clock) -> Iterator[Api]:
    """The API on SQLite only (for the long walks)."""
    yield from make_api(make_config("sqlite", tmp_path), clock)


@pytest.fixture
def roles() -> tuple[str, ...]:
    return ROLES
