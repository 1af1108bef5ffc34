"""/api/v1/docs works without the internet: Swagger UI comes from the installed package,
the page loads nothing from another origin, and its CSP names none."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import Api

pytestmark = pytest.mark.e2e


def test_the_docs_page_loads_only_from_its_own_origin(api: Api) -> None:
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "http" not in csp and "*" not in csp
    assert "script-src" not in csp or "unsafe-inline" not in csp.split("script-src")[1]
    assert not re.search(r"(src|href)=\"https?://", html)
    assert not re.search(r"<script>(?!</script>)", html), "an inline script needs 'unsafe-inline'"
    assets = re.findall(r"(?:src|href)=\"(/[^\"]+)\"", html)
    assert len(assets) == 4  # css, two Swagger UI bundles, our start-up script
    for asset in assets:
        answer = api.client.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.get_data()) > 100
        answer.close()


def test_only_the_swagger_ui_files_are_served(api: Api) -> None:
    assert api.client.get("/docs-assets/index.html").status_code == 404
    assert api.client.get("/docs-assets/..%2Fpyproject.toml").status_code == 404
