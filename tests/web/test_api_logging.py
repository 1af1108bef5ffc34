"""No plaintext personal data reaches the app's logs."""

from __future__ import annotations

import io
import logging

import pytest

from tests.web.conftest import WANG, Api
from web.logs import JsonFormatter

pytestmark = pytest.mark.e2e

DISTINCT = {
    **WANG,
    "name": "Zebulon Quixotic-Marchbanks",
    "phone": "13987654321",
    "email": "zebulon.q@example.org",
    "address": "42 Wallaby Way, Sydney",
    "id_document": {"type": "passport", "number": "E98765432", "expires_on": "2032-05-05"},
}
SECRETS = (
    "Zebulon",
    "Marchbanks",
    "13987654321",
    "zebulon.q@example.org",
    "Wallaby",
    "E98765432",
    "1958-02-03",
    "not-an-email-Zebulon",
)


def test_creating_reading_and_failing_never_logs_personal_data(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        customer_id = api.register(DISTINCT)
        path = f"/customers/{customer_id}"
        api.get(path, "compliance_officer", X_Purpose="kyc_review")
        api.get(f"{path}?phone=13987654321", "front_office")
        api.get(f"{path}/changes?from=0", "compliance_officer", X_Purpose="compliance_audit")
        etag = api.get(path, "front_office").headers["ETag"]
        api.patch(
            path,
            "front_office",
            {"email": "not-an-email-Zebulon", "source": "customer"},
            If_Match=etag,
        )
        api.post("/customers", "front_office", {**DISTINCT, "phone": "Zebulon"})
        api.post("/customers", "front_office", DISTINCT, Idempotency_Key="log-1")
        api.post("/customers", "front_office", DISTINCT, Idempotency_Key="log-1")
    finally:
        root.removeHandler(handler)
    written = stream.getvalue() + caplog.text
    written += "".join(str(record.__dict__) for record in caplog.records)
    assert '"path": "/api/v1/customers"' in stream.getvalue()
    for secret in SECRETS:
        assert secret not in written, secret
