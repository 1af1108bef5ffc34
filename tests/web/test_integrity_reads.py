"""Reads never sign: the integrity endpoints serve what the sealer signed."""

from __future__ import annotations

import pytest

from tests.web.conftest import BRIGHT, Api

pytestmark = pytest.mark.e2e


def test_reading_the_checkpoint_and_proofs_signs_nothing(api: Api) -> None:
    assert api.get("/integrity/checkpoint", "regulator").status_code == 404  # nothing signed
    api.register()
    stored = api.ledger.seal()
    assert stored is not None
    api.register(BRIGHT)
    count = len(api.ledger.sealed_log.checkpoints())
    response = api.get("/integrity/checkpoint", "regulator")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == stored.note  # the last signed, not a new one
    assert api.get("/integrity/proof?seq=0", "regulator").status_code == 200
    assert api.get(f"/integrity/consistency?from={stored.size}", "regulator").status_code == 200
    assert len(api.ledger.sealed_log.checkpoints()) == count
    assert api.ledger.sealed_log.latest_checkpoint() == stored
