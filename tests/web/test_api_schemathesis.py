"""Schemathesis against the app's own OpenAPI document: no 5xx, and every answer
conforms to the documented schema.

Each operation is called as a role it allows, with generated valid input (half of
the cases aimed at ids that exist, so they reach the domain) and generated invalid
input. A few hundred cases in all, on SQLite.

Resources owned elsewhere (the projections' read views, exports) have their own
runs: `OTHER_OWNERS` are left out here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.web.conftest import BRIGHT, Api
from tests.web.test_api_roles import allowed_roles, api_rules, openapi_path
from web.auth import ROLES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

OTHER_OWNERS = ("/api/v1/views", "/api/v1/exports")
# negative cases also drop the token: those answer 401, which is checked too
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 3}
CHECKS = [not_a_server_error, response_schema_conformance]


def _existing(api: Api) -> dict[str, list[str]]:
    """Ids of things that exist, to aim generated cases at."""
    customer = api.register()
    corporate = api.register(BRIGHT)
    case = api.post(
        "/feedback",
        "front_office",
        {"customer_id": str(customer), "kind": "complaint", "category": "fees", "narrative": "x"},
    ).get_json()["id"]
    survey = api.post(
        "/surveys", "front_office", {"customer_id": str(customer), "instrument": "NPS"}
    ).get_json()["id"]
    campaign = api.post(
        "/campaigns",
        "relationship_manager",
        {"kind": "seminar", "title": "t", "starts_on": "2026-03-01", "ends_on": "2026-12-01"},
    ).get_json()["id"]
    crisis = api.post(
        "/crises", "compliance_officer", {"title": "t", "scope": "s", "severity": "low"}
    ).get_json()["id"]
    alert = api.post(
        "/security-alerts", "system", {"kind": "job_failure", "severity": "info", "detail": "d"}
    ).get_json()["id"]
    api.post(
        "/service-standards",
        "system",
        {
            "code": "Q1",
            "name": "n",
            "measure": "m",
            "target": "5",
            "unit": "minutes",
            "step": "counter",
        },
    )
    api.post(
        "/staff-training",
        "system",
        {
            "staff_id": "emp-1",
            "course": "c",
            "topic": "t",
            "completed_on": "2026-03-01",
            "hours": "2",
            "provider": "internal",
        },
    )
    return {
        "customer_id": [str(customer), str(corporate)],
        "case_id": [case],
        "survey_id": [survey],
        "campaign_id": [campaign],
        "crisis_id": [crisis],
        "alert_id": [alert],
        "code": ["Q1"],
        "staff_id": ["emp-1"],
    }


def _can_be_invalid(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody")) or (
        definition.get("security") != []
    )


def test_the_api_conforms_to_its_own_openapi_document(sqlite_api: Api) -> None:
    app = sqlite_api.app
    roles = {
        (openapi_path(rule), method): allowed_roles(app, rule) for rule, method in api_rules(app)
    }
    tokens = {role: sqlite_api.token(role) for role in ROLES}
    existing = _existing(sqlite_api)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    statuses: Counter[int] = Counter()
    calls = 0

    def call(case: Case) -> None:
        nonlocal calls
        calls += 1
        allowed = roles[(case.operation.path, case.method.upper())]
        role = next(r for r in ROLES if r in allowed)
        if case.path_parameters and calls % 2 == 0:
            for name, ids in existing.items():
                if name in case.path_parameters:
                    case.path_parameters[name] = ids[calls % len(ids)]
        headers: dict[str, Any] = {"Authorization": f"Bearer {tokens[role]}"}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[response.status_code] += 1

    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(OTHER_OWNERS):
            continue
        operations += 1
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not _can_be_invalid(operation):
                continue  # a public operation without parameters: no input to get wrong
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[hypothesis.Phase.generate],
            )
            @hypothesis.given(strategy)
            def run(case: Case) -> None:
                call(case)

            run()
    print(f"schemathesis: {calls} cases over {operations} operations; statuses {dict(statuses)}")
    assert operations == len([key for key in roles if not key[0].startswith(OTHER_OWNERS)])
    assert calls >= 300
    assert not [status for status in statuses if status >= 500]
    assert statuses[200] + statuses[201] > 20  # the valid half reached the domain
