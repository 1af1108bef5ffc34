"""The HSM away (PKCS#11 module finalised: every call fails as with a device pulled)
while the API serves: a write that needs the token is a 503 problem with Retry-After
and records nothing; reads of customers whose data keys are cached go on; /readyz says
why it is not ready; once the token is back, writes go through again."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from projections.runtime import read_models
from security.bootstrap import Settings
from security.keys.pkcs11 import TokenConfig, init_token
from tests.web.conftest import WANG, WANG_2, Api, Clock, make_api

pytestmark = pytest.mark.integration


@pytest.fixture
def hsm_api(
    ledger_config: Settings, clock: Clock, hsm_env: dict[str, str]
) -> Iterator[tuple[Api, TokenConfig]]:
    env = hsm_env
    token = TokenConfig.from_env(env)
    assert token is not None
    init_token(token, ledger_config.data_dir / "keyring.json")[0].close()
    config = dataclasses.replace(ledger_config, keyring_env=env)
    for api in make_api(config, clock):
        yield api, token


def test_the_hsm_away_is_503_for_writes_and_readyz_but_cached_reads_go_on(
    hsm_api: tuple[Api, TokenConfig],
) -> None:
    import pkcs11

    api, token = hsm_api
    wang = api.register(WANG)
    read_models(api.ledger).catch_up()
    assert api.client.get("/readyz").status_code == 200
    before = api.events()
    pkcs11.lib(token.module).finalize()  # the token is gone
    try:
        response = api.post("/customers", "front_office", WANG_2, Idempotency_Key="reg-1")
        assert response.status_code == 503, response.get_json()
        assert response.content_type == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        assert response.get_json()["code"] == "key_service_unavailable"
        assert api.events() == before  # nothing half-written
        read = api.get(f"/customers/{wang}", "front_office")  # its key is cached
        assert read.status_code == 200, read.get_json()
        ready = api.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["keyring"].startswith(
            "unavailable: key_service_unavailable"
        )
    finally:
        pkcs11.lib(token.module)  # the token is back: the module initialises again
    again = api.post("/customers", "front_office", WANG_2, Idempotency_Key="reg-1")
    assert again.status_code == 201, again.get_json()
    read_models(api.ledger).catch_up()
    assert api.client.get("/readyz").status_code == 200
    api.ledger.seal()
    assert api.ledger.verify_all(consult_witnesses=False).ok
