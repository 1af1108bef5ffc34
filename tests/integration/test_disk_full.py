"""SQLite on a disk that fills up (a small tmpfs): writes are refused with a 507 problem
(never a 500), nothing half-written is left, and once space is back writes succeed and
the whole ledger verifies.

Mounting a tmpfs needs root (CAP_SYS_ADMIN). Where the test cannot mount one it is
skipped with that reason; the same fault injected at the recorder runs everywhere
(tests/web/test_api_store_faults.py).
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from security.bootstrap import Settings, build_ledger
from tests.web.conftest import WANG, WANG_2, Clock, make_api

pytestmark = pytest.mark.integration

SIZE = "3m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of a few MB at tmp_path/disk, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the injected fault test covers this")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(path: Path) -> Path:
    """Write a file at `path` until the disk has no space left."""
    chunk = b"\0" * 16384
    # unbuffered: a partly written chunk left in a buffer would fail again at close
    with open(path, "wb", buffering=0) as handle:
        while True:
            try:
                handle.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return path


def test_sqlite_on_a_full_disk_refuses_writes_with_507_and_verifies_once_space_is_back(
    small_disk: Path,
) -> None:
    config = Settings(data_dir=small_disk)
    build_ledger(config).close()  # the tables, the keyring, a first WAL
    statuses: Counter[int] = Counter()
    for api in make_api(config, Clock()):
        for index in range(5):  # five people: one record per person
            number = f"1101011958020{index:05d}"
            person = {**WANG, "id_document": {**WANG["id_document"], "number": number}}
            assert api.post("/customers", "front_office", person).status_code == 201
        before = len(api.ledger.app.recorder.select_notifications(None, 100_000))
        filler = fill(small_disk / "filler")
        # the WAL may still have room for a few commits: post until the disk refuses
        for _ in range(200):
            response = api.post("/customers", "front_office", WANG_2, Idempotency_Key="full-1")
            statuses[response.status_code] += 1
            if response.status_code != 201:
                break
        assert response.status_code == 507, (statuses, response.get_json())
        assert response.get_json()["code"] == "insufficient_storage"
        assert response.headers["Retry-After"] == "60"
        assert set(statuses) <= {201, 507}, statuses
        print(f"disk full after {statuses[201]} more registrations: {dict(statuses)}")
        written = len(api.ledger.app.recorder.select_notifications(None, 100_000))
        accepted = statuses[201]
        filler.unlink()  # space is back
        again = api.post("/customers", "front_office", WANG_2, Idempotency_Key="full-1")
        assert again.status_code == 201, again.get_json()
        after = len(api.ledger.app.recorder.select_notifications(None, 100_000))
        assert after > written
        per_registration = after - written
        # the refused registration left nothing: every stored event is an accepted one's
        assert written - before == accepted * per_registration
        api.ledger.seal()
        report = api.ledger.verify_all(consult_witnesses=False)
        assert report.ok, [problem.message for problem in report.problems]
