"""A headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium
against the app served in process on a free port, with the network cut: every host but
127.0.0.1 fails to resolve, so a page that needed a CDN would show it."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("LEDGER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LEDGER_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
# screenshots: docs/img/console when asked (CONSOLE_SCREENSHOTS=docs/img/console), else
# a temporary folder, so an ordinary run leaves the work tree as it was
SCREENSHOTS_ENV = "CONSOLE_SCREENSHOTS"


def require_browser() -> None:
    """Skip (locally) or fail (CI=true) when the browser, its driver or a Chinese font
    (without one the zh-CN pages and their screenshots show boxes) is missing."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if not chinese_fonts():
        missing.append("a Chinese font (fonts-wqy-zenhei)")
    if not missing:
        return
    message = f"no browser for the console tests: {', '.join(missing)} missing"
    if IN_CI:
        pytest.fail(message + " (CI=true: .ci/run installs chromium, chromium-driver and "
                    "fonts-wqy-zenhei)")  # fmt: skip
    pytest.skip(message + " (apt-get install chromium chromium-driver fonts-wqy-zenhei)")


def chinese_fonts() -> list[str]:
    """The font families fontconfig has for Simplified Chinese (what Chromium uses)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    found = subprocess.run(  # a fixed command, no input
        [fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, check=False
    )
    return [line for line in found.stdout.splitlines() if line.strip()]


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """`app` on a free port of 127.0.0.1 in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=30)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium with the network cut (only 127.0.0.1 resolves)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--no-proxy-server",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot_dir(fallback: Path) -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(chosen) if chosen else fallback
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_source() -> str:
    """axe-core as the pinned axe-selenium-python package ships it (tests only)."""
    import axe_selenium_python

    path = Path(axe_selenium_python.__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
    return path.read_text(encoding="utf-8")


def axe_violations(driver: Any, source: str) -> list[dict[str, Any]]:
    """The serious and critical axe-core violations of the page shown (WCAG 2 A and
    AA, best practices)."""
    driver.execute_script(source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'best-practice']}})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: "
        "'critical', description: String(e), nodes: []}]));"
    )
    return [v for v in result if v.get("impact") in ("serious", "critical")]
