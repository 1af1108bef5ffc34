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
from dataclasses import dataclass
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


# --- the book of business, cell by cell ---------------------------------------------------
# How each endpoint a relationship manager or the front office may call reaches a
# customer, as this test sees it (independently of the code's declarations): through
# the path (`customer_id`, a case's or a survey's id), through the body, a registration,
# a list the views filter to the book, or not about one customer. A new endpoint fails
# the walk until it is placed here.
BOOK_BOUND = ("front_office", "relationship_manager")
PATH_IDS = ("customer_id", "case_id", "survey_id")
BODY_CUSTOMER = {
    ("POST", "/api/v1/campaigns/{campaign_id}/invitations"),
    ("POST", "/api/v1/crises/{crisis_id}/contacts"),
    ("POST", "/api/v1/feedback"),
    ("POST", "/api/v1/surveys"),
}
REGISTRATION = {("POST", "/api/v1/customers")}
LISTS = {
    ("GET", f"/api/v1/views/{name}")
    for name in (
        "customers",
        "churn-watch",
        "value-strategies",
        "complaints",
        "complaints/analysis",
        "consents",
        "distribution",
        "reverification-due",
        "special-care",
    )
}
NOT_ABOUT_A_CUSTOMER = {
    ("POST", "/api/v1/campaigns"),
    ("GET", "/api/v1/campaigns/{campaign_id}"),
    ("POST", "/api/v1/crises"),
    ("GET", "/api/v1/crises/{crisis_id}"),
    ("POST", "/api/v1/crises/{crisis_id}/updates"),
    ("GET", "/api/v1/views/crises"),
    ("GET", "/api/v1/views/crises/{crisis_id}/contacts"),
    ("GET", "/api/v1/evaluations"),
    ("POST", "/api/v1/evaluations/improvement-plans"),
    ("POST", "/api/v1/evaluations/improvement-plans/closures"),
    ("POST", "/api/v1/evaluations/recognitions"),
    ("GET", "/api/v1/integrity/checkpoint"),
    ("GET", "/api/v1/integrity/consistency"),
    ("GET", "/api/v1/integrity/log-key"),
    ("GET", "/api/v1/integrity/proof"),
    ("GET", "/api/v1/service-standards/{code}"),
    ("GET", "/api/v1/staff-training/{staff_id}"),
    ("GET", "/api/v1/views/kpis"),
    ("GET", "/api/v1/views/kpis/evaluations"),
    ("GET", "/api/v1/views/kpis/evaluation-use"),
    ("GET", "/api/v1/views/service-standards"),
    ("GET", "/api/v1/views/staff-training"),
    ("GET", "/api/v1/views/survey-dimensions"),
}


@dataclass(frozen=True)
class Holding:
    """A customer with a case and a survey, in one branch and one manager's book."""

    customer: uuid.UUID
    case: uuid.UUID
    survey: uuid.UUID
    branch: str
    manager: str
    name: str


def hold(api: Api, branch: str, manager: str, name: str, number: str) -> Holding:
    """Register a customer of `branch` and `manager` (through a front office of that
    branch), with a complaint and a survey."""
    from tests.domain.factories import FRONT
    from tests.web.conftest import WANG

    body = {
        **WANG,
        "name": name,
        "branch": branch,
        "relationship_manager": manager,
        "phone": f"1380000{number[-4:]}",
        "email": f"{number}@example.cn",
        "id_document": {**WANG["id_document"], "number": number},  # type: ignore[dict-item]
    }
    token = api.token("front_office", "fo-registrar", branch=branch)
    response = api.client.post(
        "/api/v1/customers", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.get_json()
    customer = uuid.UUID(response.get_json()["id"])
    case = api.ledger.app.receive_feedback(customer, "complaint", "fees", "too high", FRONT)
    survey = api.ledger.app.send_survey(customer, "CSAT", FRONT)
    return Holding(customer, case, survey, branch, manager, name)


def book_url(rule: Rule, holding: Holding) -> str:
    """The rule's URL about `holding` (other ids made up, as in `sample_url`)."""
    known = {"customer_id": holding.customer, "case_id": holding.case, "survey_id": holding.survey}
    url = rule.rule
    for name, converter in rule._converters.items():
        if name in known:
            value = str(known[name])
        elif isinstance(converter, UUIDConverter):
            value = str(uuid.uuid4())
        elif isinstance(converter, AnyConverter):
            value = sorted(converter.items)[0]
        else:
            value = "x"
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, url)
    return url


def reach(method: str, path: str, rule: Rule) -> str:
    """How the endpoint reaches a customer: path, body, registration, list or none."""
    kinds = [
        kind
        for kind, found in (
            ("path", any(name in rule.arguments for name in PATH_IDS)),
            ("body", (method, path) in BODY_CUSTOMER),
            ("registration", (method, path) in REGISTRATION),
            ("list", (method, path) in LISTS),
            ("none", (method, path) in NOT_ABOUT_A_CUSTOMER),
        )
        if found
    ]
    assert len(kinds) == 1, f"{method} {path}: place it in exactly one book class, not {kinds}"
    return kinds[0]


def test_the_book_of_business_cell_by_cell(sqlite_api: Api) -> None:
    """Every endpoint x book-bound role x (in the book, outside it): outside is a 403
    `outside_book` that records nothing, names nothing of the customer and is
    access-logged; inside is never a 403; lists never show a customer outside."""
    api, app = sqlite_api, sqlite_api.app
    mine = hold(api, "BJ-01", "relationship_manager-1", "Mine Person", "110101199001011230")
    theirs = hold(api, "SH-09", "rm-other", "Their Person", "110101199001011249")
    log, walked = api.ledger.access_log, 0
    for rule, method in api_rules(app):
        path = openapi_path(rule)
        allowed = allowed_roles(app, rule) & set(BOOK_BOUND)
        if not allowed:
            continue
        how = reach(method, path, rule)
        for role in sorted(allowed):
            for whose, holding in (("in", mine), ("out", theirs)):
                body: dict[str, str] | None = None
                if method in ("POST", "PATCH", "PUT"):
                    body = {}
                    if how == "body":
                        body = {"customer_id": str(holding.customer)}
                    elif how == "registration":
                        body = {"branch": holding.branch, "relationship_manager": holding.manager}
                url = book_url(rule, holding)
                events = api.events()
                denials = len(log.entries(subject_id=str(holding.customer), limit=1000))
                response = api.client.open(url, method=method, json=body, headers=api.headers(role))
                status, text = response.status_code, response.get_data(as_text=True)
                cell = (method, path, role, whose, status)
                assert status < 500, (*cell, text)
                bound = how in ("path", "body", "registration")
                if whose == "out" and bound:
                    assert status == 403, cell
                    assert response.get_json()["code"] == "outside_book", cell
                    assert api.events() == events, cell  # nothing recorded
                    for secret in (theirs.name, theirs.branch, theirs.manager):
                        assert secret not in text, cell
                    after = len(log.entries(subject_id=str(holding.customer), limit=1000))
                    assert after == denials + (how != "registration"), cell
                else:
                    assert status != 403, (*cell, text)
                if how == "list":
                    assert str(theirs.customer) not in text, cell
                walked += 1
    assert walked >= 150
