"""GET /integrity/checkpoint serves the witnesses' cosignatures with the checkpoint."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.cosignature import (
    cosign,
    cosigner_vkey,
    parse_cosigner_vkey,
    verify_cosignatures,
)
from tests.web.conftest import Api

pytestmark = pytest.mark.e2e


def test_the_checkpoint_carries_the_stored_cosignatures(api: Api) -> None:
    api.register()
    stored = api.ledger.seal()
    assert stored is not None and api.ledger.cosignatures is not None
    key = Ed25519PrivateKey.generate()
    witness = parse_cosigner_vkey(cosigner_vkey("witness.test/w", key.public_key()))
    line = cosign(stored.note, key, witness.name)
    api.ledger.cosignatures.add(api.ledger.sealed_log.origin, stored.size, str(witness), line)
    body = api.get("/integrity/checkpoint", "regulator").get_data(as_text=True)
    assert body == stored.note + line
    assert [v.cosigner for v in verify_cosignatures(body, [witness])] == [witness]
