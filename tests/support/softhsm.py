"""SoftHSM2 for the HSM tests: each token in its own token directory.

`softhsm_env(tmp_path)` writes a SoftHSM2 configuration with its own `tokendir`, points
`SOFTHSM2_CONF` at it (the module reads it when loaded and on each C_Initialize; the
tokens are looked up by label under that directory), initialises a token there and
returns the LEDGER_PKCS11_* variables for it. Without softhsm2 installed the test is
skipped with the reason, except with CI=true, where it fails (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
PIN = "24681357"
SO_PIN = "97531086"
IN_CI = os.environ.get("CI", "").lower() == "true"


def softhsm_module() -> str:
    """The SoftHSM2 module's path; skips (fails with CI=true) when it is not installed."""
    found = next((path for path in MODULE_CANDIDATES if Path(path).exists()), None)
    if found is None or shutil.which("softhsm2-util") is None:
        message = "softhsm2 is not installed (apt-get install softhsm2)"
        if IN_CI:
            pytest.fail(message + " (CI=true: the HSM tests must run)")
        pytest.skip(message)
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        pytest.fail("python-pkcs11 is missing: it is in the dev extra")
    return found


def softhsm_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh token in a token directory of its own; the LEDGER_PKCS11_* variables."""
    module = softhsm_module()
    tokens = tmp_path / "softhsm-tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    label = "ledger-" + uuid.uuid4().hex[:8]
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            PIN,
            "--so-pin",
            SO_PIN,
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    import pkcs11

    if module in pkcs11._loaded:  # this process loaded the module for an earlier token dir
        pkcs11.lib(module).reinitialize()  # C_Initialize reads SOFTHSM2_CONF again
    pin_file = tmp_path / "hsm.pin"
    pin_file.write_text(PIN + "\n", encoding="utf-8")
    pin_file.chmod(0o600)
    return {
        "LEDGER_PKCS11_MODULE": module,
        "LEDGER_PKCS11_TOKEN": label,
        "LEDGER_PKCS11_PIN_FILE": str(pin_file),
    }
