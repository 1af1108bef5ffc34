"""PostgreSQL: a commit whose answer was lost (the session cut between COMMIT and its
reply) is retried by the library; the retry meets its own rows. Byte-identical rows are
recognised as that commit, so the command answers as done, not as a 412 conflict; any
other writer's rows stay a conflict."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError

from security.bootstrap import build_ledger
from tests.conftest import make_config
from tests.support.sample import SampleApp

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_a_retried_insert_that_meets_its_own_commit_returns_its_ids(
    tmp_path: Path, pg_schema: str
) -> None:
    ledger = build_ledger(make_config("postgres", tmp_path, pg_schema), app_class=SampleApp)
    try:
        person = ledger.app.register("Writer", "13800000000", "W1")
        recorder = ledger.app.recorder
        stored = list(recorder.select_events(person))
        ids = [n.id for n in recorder.select_notifications(None, 100)]
        assert recorder.insert_events(stored) == ids  # the same rows again: that commit
        forged = [replace(stored[0], state=stored[0].state[:-1] + b"\0")]
        with pytest.raises(IntegrityError):
            recorder.insert_events(forged)  # another writer's row: a conflict
        assert [n.id for n in recorder.select_notifications(None, 100)] == ids
    finally:
        ledger.close()
