"""The keyring: one development keyring however many processes start at once; rotation
seen by every process holding the file."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from security.keys.keyring import LocalKeyring, load_keyring

pytestmark = pytest.mark.unit


def _load(data_dir: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    keyring = load_keyring({}, Path(data_dir))
    out.put(keyring.active_kek_id())


def test_processes_starting_together_share_one_development_keyring(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")  # fork from a threaded pytest is unsafe
    out = context.Queue()
    procs = [context.Process(target=_load, args=(str(tmp_path), out)) for _ in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    seen = {out.get(timeout=5) for _ in procs}
    on_disk = json.loads((tmp_path / "keyring.json").read_text())["active_kek"]
    assert seen == {on_disk}


def test_a_process_sees_a_rotation_made_by_another_before_wrapping(tmp_path: Path) -> None:
    mine = load_keyring({}, tmp_path)
    theirs = load_keyring({}, tmp_path)
    old = mine.active_kek_id()
    new = theirs.add_kek()
    theirs.save()
    assert mine.active_kek_id() == new.kek_id
    kek_id, wrapped = mine.wrap(b"k" * 32, b"aad")
    assert kek_id == new.kek_id != old
    assert theirs.unwrap(kek_id, wrapped, b"aad") == b"k" * 32


def test_a_malformed_keyring_is_a_clear_error(tmp_path: Path) -> None:
    from security.errors import KeyringError

    (tmp_path / "keyring.json").write_text("{not json")
    (tmp_path / "keyring.json").chmod(0o600)
    with pytest.raises(KeyringError, match="not valid JSON"):
        load_keyring({}, tmp_path)
    with pytest.raises(KeyringError, match="does not exist"):
        load_keyring({"LEDGER_KEYRING_FILE": str(tmp_path / "missing.json")}, tmp_path)
    assert isinstance(LocalKeyring.from_json(LocalKeyring.generate().to_json()), LocalKeyring)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_keyring_file_readable_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    from security.errors import KeyringError

    path = tmp_path / "keyring.json"
    LocalKeyring.generate().save(path)
    assert load_keyring({"LEDGER_KEYRING_FILE": str(path)}, tmp_path).active_kek_id()
    path.chmod(mode)
    for env in ({"LEDGER_KEYRING_FILE": str(path)}, {}):  # configured, and the data dir's
        with pytest.raises(KeyringError, match=r"readable by group or others.*chmod 600"):
            load_keyring(env, tmp_path)
