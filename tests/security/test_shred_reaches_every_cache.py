"""A shredded subject's data keys leave every cache: in the shredding process at once,
in every other process within the sealing delay (SHRED_WATCH_SECONDS), idle or not."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.errors import SubjectErased
from projections.field_encryption import FieldCipher
from projections.field_encryption import _view_keys as view_keys
from security.bootstrap import Ledger, Settings, build_ledger
from security.keys.data_keys import SHRED_WATCH_SECONDS
from tests.support.sample import SampleApp

pytestmark = pytest.mark.integration

# a generous bound: the watcher looks every SHRED_WATCH_SECONDS; the machine may be busy
PATIENCE = SHRED_WATCH_SECONDS * 10


@pytest.fixture
def two_processes(ledger_config: Settings) -> Iterator[tuple[Ledger, Ledger]]:
    """Two ledgers on one store: as two processes, each with its own key caches."""
    first = build_ledger(ledger_config, app_class=SampleApp)
    second = build_ledger(ledger_config, app_class=SampleApp)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def until(condition: object, patience: float = PATIENCE) -> bool:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return bool(condition())  # type: ignore[operator]


def test_the_shredding_process_drops_every_cached_key_at_once(
    two_processes: tuple[Ledger, Ledger],
) -> None:
    ledger, _ = two_processes
    person = ledger.app.register("Ann", "13900000001", "ID-ANN")
    ref = ledger.keystore.cached_refs(person)[0]
    cipher = FieldCipher(ledger.keystore)
    cipher.encrypt(ref, str(person), "pv_customer", {"name": "Ann"})
    assert view_keys.cache_info().currsize > 0
    ledger.keystore.shred(person)
    assert ledger.keystore.cached_refs(person) == []
    assert view_keys.cache_info().currsize == 0
    with pytest.raises(SubjectErased):
        ledger.keystore.dek_by_ref(ref)


def test_an_idle_process_drops_a_key_shredded_elsewhere_within_the_sealing_delay(
    two_processes: tuple[Ledger, Ledger],
) -> None:
    shredding, idle = two_processes
    person = shredding.app.register("Bob", "13900000002", "ID-BOB")
    kept = shredding.app.register("Cai", "13900000003", "ID-CAI")
    for subject in (person, kept):
        idle.app.repository.get(subject)  # the other process reads: it caches the keys
    assert idle.keystore.cached_refs(person) and idle.keystore.cached_refs(kept)
    heard: list[str] = []
    idle.keystore.on_shred(heard.append)

    shredding.keystore.shred(person)

    # the idle process does nothing: its watcher must act within the sealing delay
    assert until(lambda: idle.keystore.cached_refs(person) == [])
    assert heard == [str(person)]  # its cache listeners (view keys...) heard it too
    assert idle.keystore.cached_refs(kept)  # nobody else's key was dropped
    with pytest.raises(SubjectErased):
        idle.app.repository.get(person)


def test_a_busy_process_notices_on_its_next_lookup_after_the_delay(
    two_processes: tuple[Ledger, Ledger],
) -> None:
    shredding, busy = two_processes
    person = shredding.app.register("Dan", "13900000004", "ID-DAN")
    busy.app.repository.get(person)
    busy.keystore.close()  # no watcher: only the lookups look
    shredding.keystore.shred(person)
    other = shredding.app.register("Eve", "13900000005", "ID-EVE")
    time.sleep(SHRED_WATCH_SECONDS * 1.2)
    busy.app.repository.get(other)  # any lookup after the delay looks for shreds
    assert busy.keystore.cached_refs(person) == []


def test_another_os_process_forgets_a_key_shredded_here(
    ledger_config: Settings, tmp_path: Path
) -> None:
    ledger = build_ledger(ledger_config, app_class=SampleApp)
    try:
        person = ledger.app.register("Fay", "13900000006", "ID-FAY")
        ready, shredded = tmp_path / "ready", tmp_path / "shredded"
        script = textwrap.dedent(
            f"""
            import sys, time
            from pathlib import Path
            from uuid import UUID
            from security.bootstrap import build_ledger
            from tests.support.sample import SampleApp
            import pickle
            config = pickle.loads(bytes.fromhex(sys.argv[1]))
            ledger = build_ledger(config, app_class=SampleApp)
            person = UUID({str(person)!r})
            ledger.app.repository.get(person)
            assert ledger.keystore.cached_refs(person)
            Path({str(ready)!r}).touch()
            while not Path({str(shredded)!r}).exists():
                time.sleep(0.02)
            started = time.monotonic()
            while ledger.keystore.cached_refs(person) and time.monotonic() - started < {PATIENCE}:
                time.sleep(0.02)
            print("forgot" if not ledger.keystore.cached_refs(person) else "kept")
            ledger.close()
            """
        )
        child = subprocess.Popen(
            [sys.executable, "-c", script, pickle.dumps(ledger_config).hex()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert until(ready.exists, 60), "the other process did not start"
        ledger.keystore.shred(person)
        shredded.touch()
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert out.strip() == "forgot"
    finally:
        ledger.close()
