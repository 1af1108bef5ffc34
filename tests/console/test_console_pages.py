"""The console's pages through Flask's test client, on both stores: sign-in, CSRF,
disclosure only through the API's purpose and access-log path, the token's own role,
the boards and the numbers of the API."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.evaluation import KpiInputs
from scheduler.registry import JOBS
from tests.console.conftest import Console, csrf_token
from tests.domain.factories import FRONT, SYSTEM, Clock
from tests.projections.world import NAME, PHONE, populate
from tests.scheduler.test_security_checks import flip_a_byte_of_a_sealed_event
from tests.web.conftest import WANG, Api
from web.console.views import job_runner

pytestmark = pytest.mark.integration


def access_rows(api: Api) -> list[dict[str, object]]:
    return [vars(entry) for entry in api.ledger.access_log.entries(limit=1000)]


def test_pages_need_a_sign_in_and_a_valid_token(console: Console) -> None:
    for path in ("/console/", "/console/customers", "/console/access-log", "/console/kpis"):
        response = console.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            "/console/sign-in"
        )
    page = console.get("/console/sign-in")
    refused = console.client.post(
        "/console/sign-in", data={"csrf_token": re.search(r'value="([^"]{20,})"', page.text)[1],
                                  "token": "not-a-token"}
    )  # fmt: skip
    assert refused.status_code == 401 and "not valid" in refused.text
    assert console.get("/console/").status_code == 302


def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it(console: Console) -> None:
    signed = console.sign_in("compliance_officer")
    assert signed.status_code == 302
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    home = console.get("/console/")
    assert home.status_code == 200 and "compliance_officer-1" in home.text
    out = console.submit("/console/sign-out", {}, form_page="/console/")
    assert out.status_code == 302
    assert console.get("/console/").status_code == 302


def test_a_form_post_without_its_csrf_token_is_refused_and_does_nothing(console: Console) -> None:
    forged = console.client.post(
        "/console/sign-in", data={"token": console.api.token("compliance_officer")}
    )
    assert forged.status_code == 400 and "CSRF" in forged.text
    assert console.get("/console/").status_code == 302  # not signed in
    console.sign_in("compliance_officer")
    forged_out = console.client.post("/console/sign-out", data={})
    assert forged_out.status_code == 400
    assert console.get("/console/").status_code == 200  # still signed in


def test_the_console_sends_a_csp_naming_no_other_origin_and_serves_its_assets(
    console: Console,
) -> None:
    page = console.get("/console/sign-in")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "http" not in csp and "unsafe-inline" not in csp
    assert page.headers["Cache-Control"] == "no-store"
    assert re.findall(r'(?:src|href)="(https?:)', page.text) == []
    style = console.get("/console/static/console.css")
    assert style.status_code == 200 and b"sla-overdue" in style.data


def test_the_customer_page_is_masked_unless_a_purpose_is_stated_then_logged(
    console: Console,
) -> None:
    api = console.api
    customer = api.register()
    console.sign_in("compliance_officer")
    masked = console.get(f"/console/customers/{customer}")
    assert masked.status_code == 200
    assert (
        "王**" in masked.text and "王小明" not in masked.text and "13812345678" not in masked.text
    )
    assert access_rows(api) == []
    full = console.submit(f"/console/customers/{customer}", {"purpose": "compliance_audit"})
    assert full.status_code == 200 and "王小明" in full.text and "13812345678" in full.text
    rows = access_rows(api)
    assert {row["purpose"] for row in rows} == {"compliance_audit"}
    assert {row["actor_id"] for row in rows} == {"compliance_officer-1"}
    assert "customer.profile" in {row["what"] for row in rows}


def test_the_console_acts_with_the_role_of_its_token(console: Console) -> None:
    """The front office sees masks even with a purpose, as through the API; nothing is
    logged; the access log is refused to it."""
    api = console.api
    customer = api.register()
    console.sign_in("front_office")
    page = console.submit(f"/console/customers/{customer}", {"purpose": "customer_service"})
    assert page.status_code == 200 and "王小明" not in page.text and "王**" in page.text
    assert access_rows(api) == []
    log = console.get("/console/access-log")
    assert "your role may not use this endpoint" in log.text


def test_a_search_by_phone_needs_a_purpose_and_is_logged(console: Console) -> None:
    api = console.api
    customer = api.register()
    console.sign_in("compliance_officer")
    refused = console.submit("/console/customers", {"phone": WANG["phone"], "purpose": ""})
    assert refused.status_code == 200 and "needs X-Purpose" in refused.text
    assert access_rows(api) == []
    found = console.submit("/console/customers", {"phone": WANG["phone"], "purpose": "kyc_review"})
    assert str(customer) in found.text and "王小明" in found.text
    whats = [row["what"] for row in access_rows(api)]
    assert any(what.startswith("search:phone=") for what in whats)
    assert "customer.profile" in whats
    assert WANG["phone"] not in " ".join(whats)  # the log keeps a digest, never the value


def test_the_timeline_shows_an_api_change_with_before_and_after(console: Console) -> None:
    api = console.api
    customer = api.register()
    changed = api.patch(
        f"/customers/{customer}",
        "front_office",
        {"email": "new@example.cn", "source": "customer"},
        If_Match='"2"',
    )
    assert changed.status_code == 200, changed.get_json()
    console.sign_in("compliance_officer")
    masked = console.get(f"/console/customers/{customer}")
    assert "new@example.cn" not in masked.text and "n***@example.cn" in masked.text
    full = console.submit(f"/console/customers/{customer}", {"purpose": "compliance_audit"})
    rows = re.findall(r'<tr data-field="email">(.*?)</tr>', full.text, re.S)
    assert len(rows) == 2  # registered, then changed (the timeline is oldest first)
    before, after = re.findall(r'class="(?:before|after)">(.*?)</td>', rows[-1])
    assert (before, after) == ("wang.xiaoming@example.cn", "new@example.cn")
    assert "customer.timeline" in {row["what"] for row in access_rows(api)}


def test_the_as_of_picker_shows_the_profile_as_it_was(console: Console, clock: Clock) -> None:
    api = console.api
    customer = api.register()
    before = clock.now
    clock.advance(days=1)
    api.patch(
        f"/customers/{customer}",
        "front_office",
        {"email": "new@example.cn", "source": "customer"},
        If_Match='"2"',
    )
    console.sign_in("compliance_officer")
    moment = before.strftime("%Y-%m-%dT%H:%M")  # the firm's zone is UTC here
    then = console.submit(
        f"/console/customers/{customer}", {"purpose": "compliance_audit", "as_of": moment}
    )
    profile = re.search(r'<dd data-field="email">(.*?)</dd>', then.text, re.S)
    assert profile is not None and "wang.xiaoming@example.cn" in profile[1]
    assert then.text.count('<tr data-field="email">') == 1  # the timeline ends then too
    assert "customer.history" in {row["what"] for row in access_rows(api)}


def test_the_access_log_filters_and_downloads_as_csv(console: Console) -> None:
    api = console.api
    first, second = api.register(), api.register({**WANG, "id_document": {
        **WANG["id_document"], "number": "110101195802039876"}})  # fmt: skip
    console.sign_in("compliance_officer")
    console.submit(f"/console/customers/{first}", {"purpose": "compliance_audit"})
    console.submit(f"/console/customers/{second}", {"purpose": "kyc_review"})
    page = console.get(f"/console/access-log?subject={second}")
    assert str(second) in page.text and str(first) not in page.text
    by_purpose = console.get("/console/access-log?purpose=compliance_audit")
    assert str(first) in by_purpose.text and str(second) not in by_purpose.text
    download = console.get("/console/access-log.csv?purpose=kyc_review")
    assert download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows and {row["subject_id"] for row in rows} == {str(second)}
    assert {row["purpose"] for row in rows} == {"kyc_review"}
    # a bad filter is the API's 422, not a 403 as if the officer were not allowed
    assert console.get("/console/access-log.csv?subject=not-a-uuid").status_code == 422


def test_the_access_log_filters_on_the_server_past_the_newest_thousand(
    console: Console, clock: Clock
) -> None:
    """An entry older than the newest 1000 is found by purpose and by until (the API
    filters), the page pages through the rest, and the CSV holds every match."""
    log = console.api.ledger.access_log
    start = clock.now
    log.record(actor_id="auditor-9", role="regulator", purpose="regulatory_request",
               subject_id="search", what="customer.search", at=start)  # fmt: skip
    for index in range(1000):
        log.record(
            actor_id="cs-1",
            role="customer_service",
            purpose="customer_service",
            subject_id="search",
            what="customer.search",
            at=start + timedelta(minutes=2 + index),
        )
    console.sign_in("compliance_officer")
    found = console.get("/console/access-log?purpose=regulatory_request")
    assert "auditor-9" in found.text and "cs-1" not in found.text
    zone = ZoneInfo(str(console.api.app.config.get("CONSOLE_TIMEZONE") or "UTC"))
    until = (start + timedelta(minutes=1)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    before = console.get(f"/console/access-log?until={until}")
    assert "auditor-9" in before.text and "cs-1" not in before.text
    first = console.get("/console/access-log?actor=cs-1")
    assert first.text.count('<td class="actor">cs-1</td>') == 100
    assert 'id="older"' in first.text and 'id="newer"' not in first.text
    last = console.get("/console/access-log?actor=cs-1&offset=900")
    assert last.text.count('<td class="actor">cs-1</td>') == 100
    assert 'id="older"' not in last.text and 'id="newer"' in last.text
    rows = list(csv.DictReader(io.StringIO(console.get("/console/access-log.csv").text)))
    assert len(rows) == 1001 and rows[-1]["actor_id"] == "auditor-9"


def test_the_complaints_board_marks_overdue_cases_red(console: Console, clock: Clock) -> None:
    app = console.api.ledger.app
    customer = console.api.register()
    late = app.receive_feedback(customer, "complaint", "fees", "charged twice", FRONT)
    clock.advance(days=20)
    fresh = app.receive_feedback(customer, "complaint", "service", "rude", FRONT)
    console.sign_in("compliance_officer")
    board = console.get("/console/complaints")
    assert re.search(rf'class="case sla-overdue" data-case="{late}"', board.text)
    assert re.search(rf'class="case sla-on-time" data-case="{fresh}"', board.text)
    assert "charged twice" not in board.text  # the narrative is personal: not on the board


def test_the_kpi_dashboard_shows_the_numbers_of_the_api(console: Console, clock: Clock) -> None:
    api = console.api
    populate(api.ledger.app, clock)
    expected = api.get(
        f"/views/kpis?from=2026-03&to=2026-03&min_position={api.events()}", "compliance_officer"
    ).get_json()["items"]
    assert expected[0]["csat"] is not None
    console.sign_in("compliance_officer")
    page = console.get("/console/kpis?from=2026-03&to=2026-03")
    assert page.status_code == 200
    for key in ("nps", "csat", "complaint_sla", "retention_rate", "churn_rate"):
        shown = re.search(
            rf'id="chart-{key}".*?class="value" data-period="2026-03">([^<]*)<', page.text, re.S
        )
        assert shown is not None
        assert shown[1] == (expected[0][key] if expected[0][key] is not None else "—")
        caption = re.search(
            rf'<figcaption id="chart-{key}-caption"><strong>([^<]+)</strong> '
            r'<span class="unit">\(([^<]+)\)</span>',
            page.text,
        )
        assert caption is not None and caption[1].strip() and caption[2].strip()
        assert re.search(rf'id="chart-{key}-unit"[^>]*>{re.escape(caption[2])}<', page.text)
    assert "Net Promoter Score" in page.text and "points (-100 to 100)" in page.text


def test_the_language_follows_the_browser_and_the_switch(console: Console) -> None:
    chinese = console.get("/console/sign-in", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in chinese.text and "登录" in chinese.text
    english = console.get("/console/sign-in", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    switched = console.submit(
        "/console/language", {"lang": "zh_CN", "next": "/console/sign-in"},
        form_page="/console/sign-in",
    )  # fmt: skip
    assert switched.status_code == 302
    assert "登录" in console.get("/console/sign-in", headers={"Accept-Language": "en"}).text


def test_integrity_page_shows_the_checkpoint_and_a_proof(console: Console) -> None:
    api = console.api
    api.register()
    api.ledger.seal()
    console.sign_in("compliance_officer")
    page = console.get("/console/integrity?seq=0")
    size = re.search(r'id="checkpoint-size">(\d+)<', page.text)
    assert size is not None and int(size[1]) == api.ledger.sealed_log.sizes()[1]
    anchored = re.search(r'id="anchored-size">(\d+)<', page.text)
    assert anchored is not None and anchored[1] == size[1]  # the seal was anchored
    assert "integrity_full" in page.text and 'id="witnesses">none configured' in page.text
    assert 'id="proof"' in page.text and "tlog-proof" in page.text
    verified = console.submit("/console/integrity", {})
    assert verified.status_code == 302
    assert 'class="ok"' in console.get("/console/integrity").text


def test_verify_now_is_incremental_and_the_full_run_is_the_scheduled_jobs(
    console: Console,
) -> None:
    """Verify now does `ledger verify` (what was added since the last verified state):
    a byte changed below the verified size is not its to find; the page shows it
    through the last run of the scheduled `integrity_full` job, which recomputes all."""
    api = console.api
    for number in ("110101195802031234", "110101195802039876"):
        api.register({**WANG, "id_document": {**WANG["id_document"], "number": number}})
    api.ledger.seal()
    first_size = api.ledger.sealed_log.sizes()[1]
    console.sign_in("security_officer")
    console.submit("/console/integrity", {})  # the first run: in full (no state yet)
    api.register({**WANG, "id_document": {**WANG["id_document"], "number": "110101195802035555"}})
    api.ledger.seal()
    assert console.submit("/console/integrity", {}).status_code == 302
    page = console.get("/console/integrity").text
    assert re.search(r'id="verify-result" class="ok"', page)
    assert f"incremental from size {first_size}" in page
    flip_a_byte_of_a_sealed_event(api.ledger, 0)
    console.submit("/console/integrity", {})
    page = console.get("/console/integrity").text
    assert re.search(r'id="verify-result" class="ok"', page)  # below the verified size
    assert re.search(r'id="scheduled-verify">\s*never', page)
    with api.app.app_context():
        outcome = job_runner().run("integrity_full")
    assert outcome.state == "completed"
    page = console.get("/console/integrity").text
    assert re.search(r'id="scheduled-verify" class="failed">\s*FAILED', page), page
    assert "not signed: verification failed" in page


def test_only_officers_may_run_a_verification(console: Console) -> None:
    console.api.register()
    console.sign_in("front_office")
    assert console.submit("/console/integrity", {}).status_code == 403


def test_search_results_of_the_views_stay_masked_without_purpose(
    console: Console, clock: Clock
) -> None:
    populate(console.api.ledger.app, clock)
    console.sign_in("compliance_officer")
    page = console.submit("/console/customers", {"branch": "BJ-01", "purpose": ""})
    assert page.status_code == 200 and 'id="results"' in page.text
    assert NAME not in page.text and PHONE not in page.text
    assert UUID(re.search(r"/console/customers/([0-9a-f-]{36})", page.text)[1])


def test_an_export_of_everything_needs_a_second_officer_then_downloads_logged(
    console: Console,
) -> None:
    api = console.api
    api.register()
    api.ledger.seal()
    console.sign_in("compliance_officer")
    requested = console.submit("/console/exports", {"everything": "y", "reason": "audit 2026"})
    assert requested.status_code == 302
    listing = console.get("/console/exports").text
    export_id = re.search(r'data-export="([^"]+)" data-status="pending_approval"', listing)[1]
    same = console.submit(
        f"/console/exports/{export_id}/approval", {}, form_page="/console/exports"
    )
    assert same.status_code == 302
    assert "another compliance officer" in console.get("/console/exports").text
    other = Console(api, api.app.test_client())
    other.sign_in("compliance_officer", subject="compliance_officer-2")
    other.submit(f"/console/exports/{export_id}/approval", {}, form_page="/console/exports")
    for _ in range(600):
        if f'data-export="{export_id}" data-status="done"' in other.get("/console/exports").text:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(other.get("/console/exports").text)
    bundle = other.submit(
        f"/console/exports/{export_id}/bundle", {"purpose": "regulatory_request"},
        form_page="/console/exports",
    )  # fmt: skip
    assert bundle.status_code == 200 and bundle.mimetype == "application/gzip"
    assert bundle.data[:2] == b"\x1f\x8b"
    logged = [row for row in access_rows(api) if row["what"] == f"export.bundle:{export_id}"]
    assert [(row["actor_id"], row["purpose"]) for row in logged] == [
        ("compliance_officer-2", "regulatory_request")
    ]


def test_the_jobs_page_lists_every_job_with_its_last_and_next_run(console: Console) -> None:
    console.sign_in("compliance_officer")
    page = console.get("/console/jobs")
    assert page.status_code == 200
    for spec in JOBS:
        assert f'data-job="{spec.name}"' in page.text
    front = Console(console.api, console.api.app.test_client())
    front.sign_in("front_office")
    assert front.get("/console/jobs").status_code == 403


def test_the_api_requests_of_a_page_share_its_request_id_and_log_no_identifier(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    console.api.register()
    console.sign_in("compliance_officer")
    caplog.clear()
    with caplog.at_level("INFO", logger="web.requests"):
        console.submit("/console/customers", {"phone": WANG["phone"], "purpose": "kyc_review"})
    lines = [r for r in caplog.records if r.name == "web.requests"]
    page = next(r for r in lines if r.path == "/console/customers" and r.method == "POST")
    inner = [r for r in lines if r.path.startswith("/api/v1/")]
    assert {r.path for r in inner} >= {"/api/v1/views/customers"}
    assert {r.request_id for r in inner} == {page.request_id}
    assert page.actor_id == "compliance_officer-1"
    assert WANG["phone"] not in caplog.text


def test_the_kpi_dashboard_shows_the_evaluation_of_the_api(console: Console) -> None:
    api = console.api
    api.ledger.app.evaluate_performance(
        "2026-03",
        "overall",
        KpiInputs(customers_at_start=10, customers_at_end=11, new_customers=2, lost_customers=1),
        SYSTEM,
    )
    expected = api.get("/evaluations?period=2026-03&scope=overall", "compliance_officer")
    metrics = expected.get_json()["metrics"]
    shown_numbers = {name: value for name, value in metrics.items() if value is not None}
    assert shown_numbers  # retention and churn at least
    console.sign_in("compliance_officer")
    page = console.get("/console/kpis?from=2026-03&to=2026-03&period=2026-03").text
    section = page[page.index('id="evaluation"') :]
    for name, value in shown_numbers.items():
        assert f"<dt>{name}</dt><dd>{value}</dd>" in section, name


def test_the_csv_download_keeps_a_formula_like_actor_as_text(console: Console) -> None:
    api = console.api
    customer = api.register()
    rogue = api.token("compliance_officer", subject='=HYPERLINK("http://x")')
    read = api.client.get(
        f"/api/v1/customers/{customer}",
        headers={"Authorization": f"Bearer {rogue}", "X-Purpose": "compliance_audit"},
    )
    assert read.status_code == 200
    console.sign_in("compliance_officer")
    rows = list(csv.DictReader(io.StringIO(console.get("/console/access-log.csv").text)))
    assert [row["actor_id"] for row in rows] == ['\'=HYPERLINK("http://x")']


def test_a_refused_scheduler_configuration_is_said_not_a_500(console: Console) -> None:
    console.api.ledger.config.scheduler_env["LEDGER_SCHEDULER_TIMEZONE"] = "Mars/Olympus"
    console.sign_in("compliance_officer")
    jobs = console.get("/console/jobs")
    assert jobs.status_code == 503 and "Mars/Olympus" in jobs.text
    assert console.get("/console/integrity").status_code == 200


def test_the_cookie_is_secure_over_https(console: Console) -> None:
    page = console.client.get("/console/sign-in", base_url="https://localhost")
    signed = console.client.post(
        "/console/sign-in",
        base_url="https://localhost",
        # over HTTPS Flask-WTF also wants a same-origin Referer
        headers={"Referer": "https://localhost/console/sign-in"},
        data={"csrf_token": csrf_token(page.text), "token": console.api.token("regulator")},
    )
    assert signed.status_code == 302 and "Secure" in signed.headers["Set-Cookie"]
    plain = Console(console.api, console.api.app.test_client()).sign_in("regulator")
    assert "Secure" not in plain.headers["Set-Cookie"]


def open_crisis(api: Api, affected: list[UUID], title: str = "Card outage") -> str:
    body = {"title": title, "scope": "cards", "severity": "high",
            "affected_customer_ids": [str(c) for c in affected]}  # fmt: skip
    response = api.post("/crises", "compliance_officer", body)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_the_crisis_register_and_its_contacts_are_the_apis(console: Console, clock: Clock) -> None:
    api = console.api
    reached = api.register()
    waiting = api.register(
        {**WANG, "id_document": {**WANG["id_document"], "number": "110101195802039876"}}
    )
    crisis = open_crisis(api, [reached, waiting])
    contact = {"customer_id": str(reached), "contact_channel": "phone", "notes": "Waived"}
    assert (
        api.post(f"/crises/{crisis}/contacts", "relationship_manager", contact).status_code == 201
    )
    calm = open_crisis(api, [reached], "Branch closed")
    assert api.post(f"/crises/{calm}/contacts", "relationship_manager", contact).status_code == 201
    clock.advance(hours=30)  # past the 24 hours: one customer of `crisis` never contacted
    console.sign_in("compliance_officer")
    register = console.get("/console/crises")
    assert register.status_code == 200
    row = re.search(
        rf'<tr data-crisis="{crisis}" class="sla-overdue">(.*?)</tr>', register.text, re.S
    )
    assert row is not None and "Card outage" in row[1]
    counts = re.findall(r'class="(affected|contacted|in-time)">(\d+)<', row[1])
    assert counts == [("affected", "2"), ("contacted", "1"), ("in-time", "1")]
    assert re.search(rf'<tr data-crisis="{calm}" class="">', register.text)
    only_open = console.get("/console/crises?state=closed")
    assert crisis not in only_open.text and "No crises." in only_open.text
    contacts = console.get(f"/console/crises/{crisis}")
    assert contacts.status_code == 200
    assert f'data-customer="{reached}"' in contacts.text
    assert f'data-customer="{waiting}"' in contacts.text
    assert f"{crisis}@v2" in contacts.text  # the evidence: the crisis event recording it
    not_yet = console.get(f"/console/crises/{crisis}?contacted=false")
    assert f'data-customer="{waiting}"' in not_yet.text
    assert f'data-customer="{reached}"' not in not_yet.text
    unknown = console.get(f"/console/crises/{UUID(int=7)}")
    assert unknown.status_code == 200 and "No customers." in unknown.text


def test_the_complaint_analysis_is_the_apis_and_its_roles(console: Console) -> None:
    api = console.api
    customer = api.register()
    for extra in ({"product": "credit_card", "source": "online_chat"}, {"product": "credit_card"},
                  {}):  # fmt: skip
        body = {"customer_id": str(customer), "kind": "complaint", "category": "product",
                "narrative": "Card blocked", **extra}  # fmt: skip
        assert api.post("/feedback", "front_office", body).status_code == 201
    console.sign_in("compliance_officer")
    page = console.get("/console/complaints/analysis?from=2026-03&to=2026-04")
    assert page.status_code == 200
    march = re.search(r'<tr data-period="2026-03">(.*?)</tr>', page.text, re.S)
    assert march is not None
    assert re.search(r'data-key="received">3<', march[1])
    products = re.search(r'data-key="by_product">(.*?)</td>', march[1], re.S)
    assert products is not None
    assert re.findall(r'class="name">([^<]+)</span>: <span class="n">(\d+)<', products[1]) == [
        ("credit_card", "2"), ("none", "1")]  # fmt: skip
    assert re.search(r'<tr data-period="2026-04">.*?data-key="received">0<', page.text, re.S)
    assert re.search(r'id="analysis-total"><th scope="row">Total</th><td>3<', page.text)
    backwards = console.get("/console/complaints/analysis?from=2026-05&to=2026-03")
    assert 'class="problem"' in backwards.text and "period" in backwards.text
    console.sign_in("front_office")
    refused = console.get("/console/complaints/analysis?from=2026-03&to=2026-03")
    assert 'class="problem"' in refused.text and 'id="analysis"' not in refused.text


def test_the_timeline_shows_what_an_event_records_only_when_disclosed(console: Console) -> None:
    api = console.api
    customer = api.register()
    advice = {"area": "risk", "topic": "Fund drawdown", "advice": "Keep six months of cash"}
    given = api.post(f"/customers/{customer}/advice", "relationship_manager", advice)
    assert given.status_code == 201, given.get_json()
    console.sign_in("compliance_officer")
    masked = console.get(f"/console/customers/{customer}")
    assert "Keep six months of cash" not in masked.text
    assert '<dl class="recorded"' in masked.text  # the advice's area is not personal
    full = console.submit(f"/console/customers/{customer}", {"purpose": "compliance_audit"})
    assert "<dt>advice</dt><dd>Keep six months of cash</dd>" in full.text
