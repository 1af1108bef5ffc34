"""Keys in an HSM over PKCS#11, against SoftHSM2 (each test with its own token dir).

The key, sealing, shredding, rotation and export checks run over the file keyring and
the HSM alike; then what only an HSM promises: no key leaves the token, the file
keyring moves into it, and a token that is away stops writes (503) but not reads of
keys already cached.
"""

from __future__ import annotations

import base64
import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from domain.errors import SubjectErased
from ledger_verify.bundle.verify import verify_bundle
from ledger_verify.checkpoints import sign_checkpoint, verifier_key, verify_checkpoint
from security.bootstrap import Ledger, Settings, build_ledger
from security.errors import KeyringError
from security.export.exporter import ExportActor, ExportScope, export_bundle
from security.keys.data_keys import wrap_aad
from security.keys.keyring import LocalKeyring, load_keyring
from security.keys.pkcs11 import (
    GCM,
    KEK_LABEL,
    KWP,
    HsmKeyring,
    KeyServiceUnavailable,
    Token,
    TokenConfig,
    init_token,
)
from security.settings import DEFAULT_ORIGIN
from tests.support.sample import SampleApp

OFFICER = ExportActor("officer-7", "compliance_officer", "cli", "regulator request R-1")


@pytest.fixture
def hsm_keyring(hsm_env: dict[str, str], tmp_path: Path) -> Iterator[HsmKeyring]:
    config = TokenConfig.from_env(hsm_env)
    assert config is not None
    keyring, _ = init_token(config, tmp_path / "hsm-keyring.json")
    yield keyring
    keyring.close()


@pytest.fixture
def ledger(keyed_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(keyed_config, app_class=SampleApp)
    yield built
    built.close()


# --------------------------------------------------------------- the keyring, alone


@pytest.mark.integration
@pytest.mark.parametrize("mechanism", [GCM, KWP])
def test_the_token_wraps_and_unwraps_data_keys_bound_to_their_row(
    hsm_keyring: HsmKeyring, mechanism: str
) -> None:
    kek = hsm_keyring.add_kek(mechanism=mechanism)
    dek = bytes(range(32))
    kek_id, wrapped = hsm_keyring.wrap(dek, wrap_aad("dek-1", "alice"))
    assert kek_id == kek.kek_id and dek not in wrapped
    assert hsm_keyring.unwrap(kek_id, wrapped, wrap_aad("dek-1", "alice")) == dek
    with pytest.raises(KeyringError):  # moved to another row: refused
        hsm_keyring.unwrap(kek_id, wrapped, wrap_aad("dek-1", "mallory"))
    with pytest.raises(KeyringError):  # a changed byte: refused
        hsm_keyring.unwrap(kek_id, wrapped[:-1] + bytes([wrapped[-1] ^ 1]), b"x")


@pytest.mark.integration
def test_no_key_leaves_the_token(hsm_keyring: HsmKeyring) -> None:
    import pkcs11

    token = hsm_keyring.token
    kek = token.find(KEK_LABEL + hsm_keyring.active_kek_id(), pkcs11.ObjectClass.SECRET_KEY)
    assert kek[pkcs11.Attribute.SENSITIVE] and not kek[pkcs11.Attribute.EXTRACTABLE]
    with pytest.raises(pkcs11.exceptions.AttributeSensitive):
        _ = kek[pkcs11.Attribute.VALUE]
    with pytest.raises(pkcs11.exceptions.KeyUnextractable):  # wrapping it out: refused
        kek.wrap_key(kek, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD)
    signer = hsm_keyring.signing_key()
    with pytest.raises(KeyringError):
        signer.private_bytes_raw()
    with pytest.raises(KeyringError):
        signer.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    # the keyring file holds no secret: ids, times, mechanisms
    assert hsm_keyring.source is not None
    text = hsm_keyring.source.read_text("utf-8")
    assert '"key"' not in text and "signing_key" not in text and "index_key" not in text


@pytest.mark.integration
def test_checkpoints_signed_by_the_token_verify_as_signed_notes(
    hsm_keyring: HsmKeyring, tmp_path: Path
) -> None:
    signer = hsm_keyring.signing_key()
    note = sign_checkpoint("example.com/log", 5, bytes(32), signer)
    checkpoint = verify_checkpoint(note, signer.public_key(), "example.com/log")
    assert checkpoint.size == 5
    # and with openssl, on the note's body
    body, signature_line = note.split("\n\n", 1)
    signature = base64.b64decode(signature_line.split()[-1])[4:]
    (tmp_path / "body").write_bytes((body + "\n").encode())
    (tmp_path / "sig").write_bytes(signature)
    (tmp_path / "log.pub").write_bytes(
        signer.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    result = subprocess.run(
        [
            *("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "log.pub", "-rawin"),
            *("-in", "body", "-sigfile", "sig"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration
def test_the_token_signs_go_sumdb_notes_byte_for_byte(
    hsm_env: dict[str, str], tmp_path: Path
) -> None:
    """Go's golang.org/x/mod/sumdb/note known answer, signed by the token."""
    from datetime import UTC, datetime

    from ledger_verify.checkpoints import sign_note, verifier_key, verify_note
    from security.keys.keyring import Kek
    from tests.security.test_checkpoints import (
        GO_NOTE,
        GO_SIGNER_KEY,
        GO_TEXT,
        GO_VERIFIER_KEY,
    )

    seed = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])[1:]
    kek = Kek("kek-go", bytes(32), datetime.now(UTC))
    local = LocalKeyring({"kek-go": kek}, "kek-go", seed, bytes(32))
    config = TokenConfig.from_env(hsm_env)
    assert config is not None
    keyring, _ = init_token(config, tmp_path / "keyring.json", existing=local)
    try:
        signer = keyring.signing_key()
        assert sign_note(GO_TEXT, signer, "PeterNeumann") == GO_NOTE
        assert verifier_key("PeterNeumann", signer.public_key()) == GO_VERIFIER_KEY
        assert verify_note(GO_NOTE, signer.public_key(), "PeterNeumann").text == GO_TEXT
    finally:
        keyring.close()


@pytest.mark.integration
def test_the_file_keyring_moves_into_the_token_with_the_same_signatures(
    hsm_env: dict[str, str], tmp_path: Path
) -> None:
    local = LocalKeyring.generate(tmp_path / "keyring.json")
    local.save()
    kek_id, wrapped = local.wrap(b"k" * 32, wrap_aad("dek-1", "bob"))
    config = TokenConfig.from_env(hsm_env)
    assert config is not None
    keyring, imported = init_token(config, tmp_path / "keyring.json", existing=local)
    try:
        assert imported == 1
        assert keyring.unwrap(kek_id, wrapped, wrap_aad("dek-1", "bob")) == b"k" * 32
        # the token wraps (the process never holds the KEK): the file keyring, which
        # knows the imported key, opens what the token made, bound to its row
        made_id, made = keyring.wrap(b"m" * 32, wrap_aad("dek-2", "bob"))
        assert made_id == kek_id
        assert local.unwrap(made_id, made, wrap_aad("dek-2", "bob")) == b"m" * 32
        # Ed25519 is deterministic: the token signs exactly as the file's key did
        assert keyring.signing_key().sign(b"note") == local.signing_key().sign(b"note")
        assert keyring.index_key() == local.index_key()
        with pytest.raises(KeyringError):  # a token already holding ledger keys
            init_token(config, tmp_path / "again.json")
    finally:
        keyring.close()
    loaded = load_keyring(hsm_env, tmp_path)
    assert isinstance(loaded, HsmKeyring)
    loaded.close()
    with pytest.raises(KeyringError, match="HSM keyring"):  # and not without the token
        load_keyring({}, tmp_path)


# ------------------------------------------------ the ledger over either keyring


@pytest.mark.integration
def test_sealing_verify_and_export_work_with_either_keyring(ledger: Ledger, tmp_path: Path) -> None:
    app = ledger.app
    ann = app.register("Ann", "13900000001", "ID-ANN")
    app.rename(ann, "Ann Li")
    app.note("a note about no one")
    assert ledger.seal() is not None
    report = ledger.verify_all(consult_witnesses=False, full=True)
    assert report.ok, report
    result = export_bundle(ledger, tmp_path / "bundle", ExportScope(everything=True), OFFICER)
    bundle = verify_bundle(result.path)
    assert bundle.ok, [str(f) for f in bundle.failures]
    assert result.decrypted == 3


@pytest.mark.integration
def test_rotation_and_retirement_with_either_keyring(ledger: Ledger, keyring_kind: str) -> None:
    app = ledger.app
    ann = app.register("Ann")
    app.note("system")
    old = ledger.keyring.active_kek_id()
    new = ledger.keyring.add_kek()
    ledger.keyring.save()
    assert ledger.keystore.rewrap_all() == 2
    assert ledger.keystore.count_by_kek() == {new.kek_id: 2}
    ledger.keyring.remove_kek(old)
    ledger.keyring.save()
    ledger.keystore.close()  # drop the cached keys: the next read unwraps again
    assert app.repository.get(ann).name == "Ann"
    assert ledger.keyring.kek_ids() == [new.kek_id]
    assert ledger.verify_keys().ok


@pytest.mark.integration
def test_rotation_moves_between_mechanisms(
    hsm_env: dict[str, str], ledger_config: Settings
) -> None:
    config = TokenConfig.from_env(hsm_env)
    assert config is not None
    keyring, _ = init_token(config, ledger_config.data_dir / "keyring.json")
    keyring.add_kek(mechanism=KWP)
    keyring.save()
    keyring.close()
    ledger = build_ledger(
        dataclasses.replace(ledger_config, keyring_env=hsm_env), app_class=SampleApp
    )
    try:
        ann = ledger.app.register("Ann")
        kwp_kek = ledger.keyring.active_kek_id()
        gcm = ledger.keyring.add_kek(mechanism=GCM)
        ledger.keyring.save()
        assert ledger.keystore.rewrap_all() == 1
        ledger.keyring.remove_kek(kwp_kek)
        ledger.keystore.close()
        assert ledger.app.repository.get(ann).name == "Ann"
        assert ledger.keystore.count_by_kek() == {gcm.kek_id: 1}
    finally:
        ledger.close()


@pytest.mark.integration
def test_shredding_with_either_keyring(ledger: Ledger) -> None:
    app = ledger.app
    eve = app.register("Eve")
    ledger.keystore.shred(eve)
    with pytest.raises(SubjectErased):
        app.repository.get(eve)
    assert ledger.keystore.is_shredded(eve)
    assert ledger.keystore.cached_refs(eve) == []
    row_count = ledger.keystore.count_by_kek()
    assert sum(row_count.values()) == 0  # no live wrapped key remains


# ------------------------------------------------------------- the token away


@pytest.mark.integration
def test_a_token_away_stops_writes_but_not_cached_reads(
    hsm_env: dict[str, str], ledger_config: Settings
) -> None:
    import pkcs11

    config = TokenConfig.from_env(hsm_env)
    assert config is not None
    init_token(config, ledger_config.data_dir / "keyring.json")[0].close()
    ledger = build_ledger(
        dataclasses.replace(ledger_config, keyring_env=hsm_env), app_class=SampleApp
    )
    try:
        ann = ledger.app.register("Ann")
        before = ledger.app.recorder.max_notification_id()
        pkcs11.lib(config.module).finalize()  # the device is gone
        assert ledger.keyring.readiness().startswith("unavailable: key_service_unavailable")
        with pytest.raises(KeyServiceUnavailable):
            ledger.app.register("Bob")  # a new subject needs a new wrapped key
        assert ledger.app.recorder.max_notification_id() == before  # nothing written
        assert ledger.app.repository.get(ann).name == "Ann"  # cached key: reads go on
        ledger.keystore.close()  # past the cache window the key must be unwrapped again
        with pytest.raises(KeyServiceUnavailable):
            ledger.app.repository.get(ann)
        pkcs11.lib(config.module)  # the device is back (the library initialises again)
        ledger.app.register("Bob")
        assert ledger.keyring.readiness() == "ok"
    finally:
        ledger.close()


@pytest.mark.integration
def test_a_partial_token_configuration_is_refused(hsm_env: dict[str, str]) -> None:
    with pytest.raises(KeyringError, match="LEDGER_PKCS11_PIN_FILE"):
        TokenConfig.from_env({k: v for k, v in hsm_env.items() if "PIN" not in k})
    Path(hsm_env["LEDGER_PKCS11_PIN_FILE"]).chmod(0o644)
    with pytest.raises(KeyringError, match="group or others"):
        TokenConfig.from_env(hsm_env)


@pytest.mark.integration
def test_a_wrong_pin_is_unavailable_not_a_crash(hsm_env: dict[str, str], tmp_path: Path) -> None:
    config = TokenConfig.from_env(hsm_env)
    assert config is not None
    token = Token(dataclasses.replace(config, pin="0000"))
    with pytest.raises(KeyServiceUnavailable):
        token.probe()


# ------------------------------------------------------------------ the CLI


@pytest.mark.e2e
def test_cli_moves_a_file_keyring_into_the_token_then_rotates_and_retires(
    ledger_config: Settings,
    hsm_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from tests.support.environment import point_environment_at
    from web.cli import main

    point_environment_at(ledger_config, monkeypatch)
    ledger = build_ledger(ledger_config, app_class=SampleApp)
    people = [ledger.app.register(f"Cli Person {i}") for i in range(3)]
    ledger.seal()
    old = ledger.keyring.active_kek_id()
    ledger.close()
    for name, value in hsm_env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    result = runner.invoke(main, ["keys", "init", "--hsm"])
    assert result.exit_code == 0, result.output
    assert "imported 1 KEKs" in result.output
    text = (ledger_config.data_dir / "keyring.json").read_text("utf-8")
    assert '"key"' not in text and "signing_key" not in text
    assert runner.invoke(main, ["keys", "init", "--hsm"]).exit_code == 2  # done already
    result = runner.invoke(main, ["keys", "list"])
    assert result.exit_code == 0 and "in the HSM (aes-gcm)" in result.output, result.output
    result = runner.invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0 and "re-wrapped 3 data keys" in result.output, result.output
    result = runner.invoke(main, ["keys", "retire", old])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["verify"])  # old checkpoints: same key, now in the token
    assert result.exit_code == 0, result.output
    hsm_ledger = build_ledger(
        dataclasses.replace(ledger_config, keyring_env=hsm_env), app_class=SampleApp
    )
    try:
        assert isinstance(hsm_ledger.keyring, HsmKeyring)
        assert old not in hsm_ledger.keyring.kek_ids()
        assert [hsm_ledger.app.repository.get(p).name for p in people] == [
            f"Cli Person {i}" for i in range(3)
        ]
    finally:
        hsm_ledger.close()


@pytest.mark.e2e
def test_cli_keys_init_makes_a_new_ledgers_keys_in_the_token(
    tmp_path: Path, hsm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from web.cli import main

    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "ledger"))
    for name in ("LEDGER_DATABASE_URL", "LEDGER_KEYRING", "LEDGER_KEYRING_FILE"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    for name, value in hsm_env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(main, ["keys", "init", "--hsm"])
    assert result.exit_code == 0, result.output
    assert "created a KEK, the log signing key and the index key" in result.output
    result = runner.invoke(main, ["init"])  # then the store, keyed by the token
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["log-key", "--log", "events"])
    assert result.exit_code == 0, result.output
    keyring = load_keyring(hsm_env, tmp_path / "ledger")
    try:
        assert isinstance(keyring, HsmKeyring)
        assert keyring.kek(keyring.active_kek_id()).mechanism == GCM
        public = keyring.signing_key().public_key()
        assert result.output.strip() == verifier_key(DEFAULT_ORIGIN, public)
    finally:
        keyring.close()


@pytest.mark.e2e
def test_cli_keys_init_without_a_token_is_a_one_line_error(
    ledger_config: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from tests.support.environment import point_environment_at
    from web.cli import main

    point_environment_at(ledger_config, monkeypatch)
    for name in ("LEDGER_PKCS11_MODULE", "LEDGER_PKCS11_TOKEN", "LEDGER_PKCS11_PIN_FILE"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["keys", "init", "--hsm"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "LEDGER_PKCS11" in result.output


@pytest.mark.unit
def test_without_softhsm_the_hsm_tests_skip_with_a_reason_or_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support import softhsm

    monkeypatch.setattr(softhsm, "MODULE_CANDIDATES", ("/nonexistent/libsofthsm2.so",))
    monkeypatch.setattr(softhsm, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="softhsm2 is not installed"):
        softhsm.softhsm_module()
    monkeypatch.setattr(softhsm, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true: the HSM tests must run"):
        softhsm.softhsm_module()
