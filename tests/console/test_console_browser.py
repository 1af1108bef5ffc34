"""The console in a real browser (headless Chromium, Selenium, Debian's chromedriver),
served in process on SQLite (the console is store-agnostic: the logic runs on both
stores in test_console_pages.py). One browser for the module; each page is
screenshotted and checked with axe-core (no serious or critical violation)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from projections.runtime import close_read_models
from tests.conftest import make_config
from tests.console.browser import (
    axe_source,
    axe_violations,
    chromium,
    require_browser,
    screenshot_dir,
    served,
)
from tests.domain.factories import FRONT, Clock
from tests.projections.world import populate
from tests.scheduler.test_security_checks import flip_a_byte_of_a_sealed_event
from tests.web.conftest import WANG, Api, make_api

pytestmark = pytest.mark.e2e


@dataclass
class Browser:
    driver: Any
    base: str
    api: Api
    clock: Clock
    shots: Path
    axe: str

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def text(self, css: str = "main") -> str:
        return str(self.find(css).text)

    def click(self, css: str) -> None:
        """Click what submits a form or follows a link, and wait for the next page."""
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.execute_script("window.__leaving = true;")
        self.find(css).click()
        WebDriverWait(self.driver, 30).until(
            lambda d: d.execute_script(
                "return window.__leaving === undefined && document.readyState === 'complete';"
            )
        )

    def sign_in(self, role: str) -> None:
        self.open("/console/sign-in")
        self.find("#token").send_keys(self.api.token(role))
        self.click("#sign-in")
        assert role in self.text("#signed-in-as")

    def sign_out(self) -> None:
        if self.finds("#sign-out"):
            self.click("#sign-out")

    def select(self, css: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.find(css)).select_by_value(value)

    def check_page(self, name: str) -> None:
        """Screenshot the page as `name`.png and hold it to axe-core."""
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))
        violations = axe_violations(self.driver, self.axe)
        assert violations == [], [
            (v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3])
            for v in violations
        ]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    require_browser()
    clock = Clock()
    made = make_api(make_config("sqlite", tmp_path_factory.mktemp("console")), clock)
    api = next(made)
    api.app.config.update(TESTING=False, VIEWS_MAX_WAIT=10.0, VIEWS_FOLLOW=False)
    shots = screenshot_dir(tmp_path_factory.mktemp("screenshots"))
    with served(api.app) as base, chromium() as driver:
        yield Browser(driver, base, api, clock, shots, axe_source())
    close_read_models(api.ledger)
    with contextlib.suppress(StopIteration):
        next(made)


@pytest.fixture
def fresh(browser: Browser) -> Iterator[Browser]:
    """The shared browser, signed out after the test."""
    yield browser
    browser.sign_out()


def test_sign_in_and_sign_out(fresh: Browser) -> None:
    fresh.open("/console/customers")
    assert fresh.driver.current_url.endswith("/console/sign-in")
    fresh.check_page("sign-in")
    fresh.find("#token").send_keys("not-a-token")
    fresh.click("#sign-in")
    assert "not valid" in fresh.text("#sign-in-error")
    fresh.sign_in("compliance_officer")
    fresh.check_page("home")
    cookie = fresh.driver.get_cookie("ledger_console")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    fresh.click("#sign-out")
    assert fresh.driver.current_url.endswith("/console/sign-in")
    fresh.open("/console/")
    assert fresh.driver.current_url.endswith("/console/sign-in")


def test_search_masks_without_purpose_and_discloses_with_one_into_the_access_log(
    fresh: Browser,
) -> None:
    customer = fresh.api.register()
    fresh.sign_in("compliance_officer")
    fresh.open("/console/customers")
    fresh.find("#branch").send_keys("BJ-01")
    fresh.click("#search")
    row = fresh.text(f'#results tr:has(a[href$="{customer}"])')
    assert "王**" in row and "王小明" not in row and "masked" in row
    fresh.find("#phone").send_keys(WANG["phone"])
    fresh.select("#purpose", "kyc_review")
    fresh.click("#search")
    row = fresh.text(f'#results tr:has(a[href$="{customer}"])')
    assert "王小明" in row and "13812345678" in row
    fresh.check_page("customers")
    fresh.open(f"/console/access-log?subject={customer}")
    entries = fresh.text("#access-entries tbody")
    assert "kyc_review" in entries and "customer.profile" in entries
    assert "compliance_officer-1" in entries
    fresh.check_page("access-log")


def test_a_change_through_the_api_is_on_the_timeline_with_before_and_after(
    fresh: Browser,
) -> None:
    customer = fresh.api.register({**WANG, "id_document": {
        **WANG["id_document"], "number": "110101195802039876"}})  # fmt: skip
    changed = fresh.api.patch(
        f"/customers/{customer}",
        "front_office",
        {"email": "li.na@example.cn", "source": "customer"},
        If_Match='"2"',
    )
    assert changed.status_code == 200, changed.get_json()
    fresh.sign_in("compliance_officer")
    fresh.open(f"/console/customers/{customer}")
    masked = fresh.finds('#timeline tr[data-field="email"]')[-1].text
    assert "l***@example.cn" in masked and "li.na@example.cn" not in masked
    fresh.select("#purpose", "compliance_audit")
    fresh.click("#show")
    change = fresh.finds('#timeline tr[data-field="email"]')[-1]  # oldest first
    before = change.find_element("css selector", "td.before").text
    after = change.find_element("css selector", "td.after").text
    assert (before, after) == ("wang.xiaoming@example.cn", "li.na@example.cn")
    fresh.check_page("customer")


def test_the_kpi_chart_shows_the_numbers_of_the_api(fresh: Browser) -> None:
    api = fresh.api
    populate(api.ledger.app, fresh.clock)
    expected = api.get(
        f"/views/kpis?from=2026-03&to=2026-05&min_position={api.events()}", "compliance_officer"
    ).get_json()["items"]
    keys = ("nps", "csat", "complaint_sla", "retention_rate", "churn_rate")
    # numbers, not only blanks: satisfaction in March, retention and churn after it
    assert {key for row in expected for key in keys if row[key] is not None} >= {
        "csat", "retention_rate", "churn_rate"}  # fmt: skip
    fresh.sign_in("compliance_officer")
    fresh.open("/console/kpis?from=2026-03&to=2026-05")
    for key in keys:
        shown = {
            label.get_attribute("data-period"): label.text
            for label in fresh.finds(f"#chart-{key} text.value")
        }
        assert shown == {
            row["period"]: row[key] if row[key] is not None else "—" for row in expected
        }
        caption = fresh.find(f"#chart-{key}-caption")
        assert caption.is_displayed() and caption.text.strip()
        assert fresh.find(f"#chart-{key}-unit").text in caption.text  # the y axis's unit
    fresh.check_page("kpis")


def test_an_overdue_complaint_is_red_on_the_board(fresh: Browser) -> None:
    app = fresh.api.ledger.app
    customer = fresh.api.register({**WANG, "id_document": {
        **WANG["id_document"], "number": "110101195802035555"}})  # fmt: skip
    late = app.receive_feedback(customer, "complaint", "fees", "charged twice", FRONT)
    fresh.clock.advance(days=20)
    fresh_case = app.receive_feedback(customer, "complaint", "service", "slow", FRONT)
    fresh.sign_in("compliance_officer")
    fresh.open("/console/complaints")
    red = fresh.find(f'tr[data-case="{late}"] span.sla').value_of_css_property("background-color")
    green = fresh.find(f'tr[data-case="{fresh_case}"] span.sla').value_of_css_property(
        "background-color"
    )
    assert rgb(red) == (176, 0, 32)  # #b00020
    assert rgb(green) == (46, 125, 50)  # #2e7d32
    fresh.check_page("complaints")


def rgb(css: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", css)[:3])


def test_the_crisis_register_and_its_contacts(fresh: Browser) -> None:
    api = fresh.api
    reached = api.register({**WANG, "id_document": {
        **WANG["id_document"], "number": "110101195802034444"}})  # fmt: skip
    waiting = api.register({**WANG, "id_document": {
        **WANG["id_document"], "number": "110101195802033333"}})  # fmt: skip
    body = {"title": "Card outage", "scope": "cards", "severity": "high",
            "affected_customer_ids": [str(reached), str(waiting)]}  # fmt: skip
    crisis = api.post("/crises", "compliance_officer", body).get_json()["id"]
    contact = {"customer_id": str(reached), "contact_channel": "phone", "notes": "Waived"}
    assert (
        api.post(f"/crises/{crisis}/contacts", "relationship_manager", contact).status_code == 201
    )
    fresh.sign_in("compliance_officer")
    fresh.open("/console/crises")
    row = fresh.text(f'#crises tr[data-crisis="{crisis}"]')
    assert "Card outage" in row and "high" in row
    assert fresh.text(f'tr[data-crisis="{crisis}"] td.affected') == "2"
    assert fresh.text(f'tr[data-crisis="{crisis}"] td.contacted') == "1"
    fresh.check_page("crises")
    fresh.click(f'tr[data-crisis="{crisis}"] a')
    assert fresh.driver.current_url.endswith(f"/console/crises/{crisis}")
    assert fresh.text(f'tr[data-customer="{reached}"] td.in-time') == "in time"
    assert fresh.text(f'tr[data-customer="{waiting}"] td.in-time') == "—"
    fresh.check_page("crisis-contacts")
    fresh.click('#language-switch button[value="zh_CN"]')
    assert "危机联系记录" in fresh.text("h1")
    assert fresh.text(f'tr[data-customer="{reached}"] td.in-time') == "按时"
    fresh.check_page("crisis-contacts-zh")
    fresh.click('#language-switch button[value="en"]')


def test_the_complaint_analysis(fresh: Browser) -> None:
    api = fresh.api
    customer = api.register({**WANG, "id_document": {
        **WANG["id_document"], "number": "110101195802032222"}})  # fmt: skip
    for product in ("credit_card", "credit_card", "mortgage"):
        body = {"customer_id": str(customer), "kind": "complaint", "category": "product",
                "narrative": "Card blocked", "product": product}  # fmt: skip
        assert api.post("/feedback", "front_office", body).status_code == 201
    period = fresh.clock.now.strftime("%Y-%m")
    expected = api.get(
        f"/views/complaints/analysis?from={period}&to={period}&min_position={api.events()}",
        "compliance_officer",
    ).get_json()["items"][0]
    fresh.sign_in("compliance_officer")
    fresh.open(f"/console/complaints/analysis?from={period}&to={period}")
    assert fresh.text(f'tr[data-period="{period}"] td[data-key="received"]') == str(
        expected["received"]
    )
    shown = {
        item.find_element("css selector", ".name").text: int(
            item.find_element("css selector", ".n").text
        )
        for item in fresh.finds(f'tr[data-period="{period}"] td[data-key="by_product"] li')
    }
    assert shown == expected["by_product"] and shown["credit_card"] >= 2
    fresh.check_page("complaint-analysis")


def test_the_language_switch(fresh: Browser) -> None:
    fresh.sign_in("compliance_officer")
    fresh.open("/console/")
    fresh.click('#language-switch button[value="zh_CN"]')
    assert fresh.find("html").get_attribute("lang") == "zh-CN"
    assert "合规控制台" in fresh.text("h1")
    fresh.check_page("home-zh")
    fresh.open("/console/kpis?from=2026-03&to=2026-05")
    assert "净推荐值" in fresh.text("#chart-nps-caption")
    fresh.check_page("kpis-zh")
    fresh.open("/console/")
    fresh.click('#language-switch button[value="en"]')
    assert fresh.find("html").get_attribute("lang") == "en"
    assert fresh.text("h1") == "Compliance console"


def test_a_forged_form_post_is_refused(fresh: Browser) -> None:
    fresh.sign_in("compliance_officer")
    fresh.open("/console/")
    fresh.driver.execute_script(
        "const f = document.createElement('form'); f.method = 'post';"
        "f.action = '/console/sign-out'; document.body.appendChild(f); f.submit();"
    )
    assert "CSRF" in fresh.text("#error-message")
    fresh.open("/console/")
    assert fresh.finds("#signed-in-as")  # still signed in: the forged sign-out did nothing


def test_the_api_docs_render_with_the_network_cut(fresh: Browser) -> None:
    fresh.open("/api/v1/docs")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(fresh.driver, 30).until(lambda d: d.find_elements("css selector", ".opblock"))
    assert "crm-ledger" in fresh.text(".swagger-ui .info .title")
    origins = fresh.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin);"
    )
    assert set(origins) <= {fresh.base}
    fresh.driver.save_screenshot(str(fresh.shots / "api-docs.png"))


def test_the_exports_and_jobs_pages(fresh: Browser) -> None:
    fresh.sign_in("compliance_officer")
    fresh.open("/console/exports")
    fresh.find("#everything").click()
    fresh.find("#reason").send_keys("annual audit")
    fresh.click("#request-export")
    assert "pending_approval" in fresh.text("#export-jobs")
    fresh.check_page("exports")
    fresh.open("/console/jobs")
    assert "integrity_full" in fresh.text("#jobs")
    fresh.check_page("jobs")


def test_the_integrity_page_shows_a_changed_byte(fresh: Browser) -> None:
    """Verify now is incremental (`ledger verify`): a byte changed in an event sealed
    since the last verification is recomputed and found. (One changed below the
    verified size is the scheduled full run's: test_console_pages.py.)"""
    ledger = fresh.api.ledger
    fresh.api.register({**WANG, "id_document": {
        **WANG["id_document"], "number": "110101195802037777"}})  # fmt: skip
    ledger.seal()
    fresh.sign_in("security_officer")
    fresh.open("/console/integrity?seq=0")
    assert "tlog-proof" in fresh.text("#proof")
    fresh.click("#verify-now")
    assert fresh.text("#verify-result").startswith("Verified")
    fresh.api.register({**WANG, "id_document": {
        **WANG["id_document"], "number": "110101195802036666"}})  # fmt: skip
    ledger.seal()
    newest = ledger.sealed_log.sizes()[0] - 1
    flip_a_byte_of_a_sealed_event(ledger, newest)
    fresh.click("#verify-now")
    result = fresh.text("#verify-result")
    assert result.startswith("FAILED")
    assert "incremental from size" in fresh.text("#verify-mode")
    assert "event log" in fresh.text("main"), fresh.text("main")
    fresh.check_page("integrity")
