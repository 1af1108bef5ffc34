"""Every endpoint under /api/v1 declares its roles, and the docs table says the same.

The walk covers every rule of the Flask url_map (but the OpenAPI document and its
viewer): without a token 401 (200 for the few public endpoints of PUBLIC), with each
role not allowed 403, with each allowed role neither of those, and never a 5xx.

The tables live in docs/*.md between role-table markers (docs/api.md holds the main
one; a resource documented elsewhere, such as the projections' views, may keep its
own table): together they must list every endpoint exactly as the code declares it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter, Rule, UUIDConverter

from tests.web.conftest import Api
from web.auth import ROLES

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs"
HEADER = "| Method | Path | " + " | ".join(ROLES) + " |"
START, END = "<!-- role-table:start -->", "<!-- role-table:end -->"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
PUBLIC = {("GET", "/api/v1/integrity/log-key")}  # public keys only


def api_rules(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) of the API, but the OpenAPI document and its viewer."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            yield rule, method


def openapi_path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def allowed_roles(app: Flask, rule: Rule) -> frozenset[str]:
    roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
    assert roles is not None, f"{rule.rule} declares no roles"
    return frozenset(roles)


def role_rows(app: Flask) -> list[str]:
    """One table row per endpoint: method, path, and yes/- per role."""
    rows = []
    for rule, method in api_rules(app):
        roles = allowed_roles(app, rule)
        marks = " | ".join("yes" if role in roles else "-" for role in ROLES)
        rows.append(f"| {method} | `{openapi_path(rule)}` | {marks} |")
    return rows


def role_table(app: Flask) -> str:
    """The whole endpoint x role table, as the docs hold it."""
    return "\n".join([HEADER, "|---|---|" + "---|" * len(ROLES), *role_rows(app)])


def documented_rows() -> dict[str, list[str]]:
    """The rows of every role table in docs/*.md, by file."""
    found: dict[str, list[str]] = {}
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for block in text.split(START)[1:]:
            assert END in block, f"{path.name}: a role table is not closed"
            lines = [line.strip() for line in block.split(END, 1)[0].strip().splitlines()]
            assert lines[0] == HEADER, f"{path.name}: the role table header differs"
            found.setdefault(path.name, []).extend(lines[2:])
    return found


def sample_url(rule: Rule) -> str:
    values: dict[str, str] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, UUIDConverter):
            values[name] = str(uuid.uuid4())
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "x"
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, url)
    return url


def test_the_docs_role_tables_match_the_code(sqlite_api: Api) -> None:
    tables = documented_rows()
    assert "api.md" in tables, "docs/api.md lacks its role table"
    documented = [row for rows in tables.values() for row in rows]
    expected = role_rows(sqlite_api.app)
    missing = sorted(set(expected) - set(documented))
    stale = sorted(set(documented) - set(expected))
    assert not missing and not stale, (
        "the docs' role tables differ from the code\nmissing or changed:\n"
        + "\n".join(missing)
        + "\nnot in the code:\n"
        + "\n".join(stale)
    )
    assert len(documented) == len(set(documented)), "an endpoint is documented twice"


def test_every_endpoint_declares_roles_and_enforces_them(sqlite_api: Api) -> None:
    app, walked = sqlite_api.app, 0
    for rule, method in api_rules(app):
        allowed = allowed_roles(app, rule)
        url = sample_url(rule)
        body = {} if method in ("POST", "PATCH", "PUT") else None
        anonymous = sqlite_api.client.open(url, method=method, json=body)
        if getattr(app.view_functions[rule.endpoint], "public", False):
            assert (method, url) in PUBLIC, f"{url} needs no token but is not in PUBLIC"
            assert anonymous.status_code == 200, (method, url, anonymous.status_code)
        else:
            assert anonymous.status_code == 401, (method, url, anonymous.status_code)
            assert anonymous.mimetype == "application/problem+json"
        for role in ROLES:
            response = sqlite_api.client.open(
                url, method=method, json=body, headers=sqlite_api.headers(role)
            )
            status = response.status_code
            assert status < 500, (method, url, role, status, response.get_data(as_text=True))
            if role in allowed:
                assert status not in (401, 403), (method, url, role, status)
            else:
                assert status == 403, (method, url, role, status)
                assert response.get_json()["type"].endswith("/forbidden")
        walked += 1
    assert walked >= 40


def test_a_bad_or_expired_token_is_401(sqlite_api: Api) -> None:
    from web.auth import issue_token

    expired = issue_token(sqlite_api.settings, "fo-1", ["front_office"], 1, branch="BJ-01")
    forged = sqlite_api.token("front_office")[:-4] + "AAAA"
    for token in (forged, "not-a-jwt", expired):
        if token == expired:
            import time

            time.sleep(1.1)
        response = sqlite_api.client.get(
            "/api/v1/integrity/checkpoint", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.get_json()["type"].endswith("/unauthenticated")


def test_a_token_with_several_roles_acts_in_one_the_endpoint_allows(sqlite_api: Api) -> None:
    from web.auth import issue_token

    token = issue_token(
        sqlite_api.settings, "multi-1", ["front_office", "compliance_officer"], branch="BJ-01"
    )
    customer_id = sqlite_api.register()
    response = sqlite_api.client.post(
        f"/api/v1/customers/{customer_id}/legal-holds",
        json={"hold_ref": "court-2026-7", "authority": "Beijing court"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    event = sqlite_api.ledger.app.timeline(customer_id)[-1]
    assert (event.event, event.role) == ("LegalHoldPlaced", "compliance_officer")
