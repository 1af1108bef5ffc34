"""Keys in an HSM (SoftHSM2 over PKCS#11) against the file keyring, on SQLite.

Per side, in interleaved rounds (benchmarks.rounds), each of BENCH_HSM_OPS operations:

- **new subject**: a new customer's first event saved (a data key made and wrapped by
  the KEK, inserted with the event): the write a new subject costs;
- **cold read**: a customer's event read with no data key cached (one unwrap each);
- **cached read**: the same reads again within the cache window (no unwrap): the cost
  the cache (security.keys.data_keys.CACHE_SECONDS) hides.

Prints microseconds per operation, median with min-max, and the HSM / file ratio.
Without softhsm2 installed (or python-pkcs11) it says so and skips; the HSM runs in a
token directory of its own under a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from benchmarks.core import Account, BenchApp
from benchmarks.rounds import interleave, ratio
from security.bootstrap import Ledger, Settings, build_ledger

OPS = int(os.environ.get("BENCH_HSM_OPS", "200"))
ROUNDS = int(os.environ.get("BENCH_HSM_ROUNDS", "5"))
MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
PIN = "24681357"


def token_env(where: Path) -> dict[str, str] | None:
    """A fresh SoftHSM2 token in its own directory; None when SoftHSM2 is missing."""
    module = next((m for m in MODULES if Path(m).exists()), None)
    if module is None or shutil.which("softhsm2-util") is None:
        return None
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        return None
    (where / "tokens").mkdir(parents=True)
    conf = where / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {where / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            *("softhsm2-util", "--init-token", "--free", "--label", "bench"),
            *("--pin", PIN, "--so-pin", PIN),
        ],
        check=True,
        capture_output=True,
    )
    pin = where / "pin"
    pin.write_text(PIN)
    pin.chmod(0o600)
    return {
        "LEDGER_PKCS11_MODULE": module,
        "LEDGER_PKCS11_TOKEN": "bench",
        "LEDGER_PKCS11_PIN_FILE": str(pin),
    }


class Side:
    """One ledger and the customers written to it."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.customers: list[UUID] = []
        self.counter = 0

    def new_subjects(self) -> float:
        """Microseconds per new customer's first event."""
        app = self.ledger.app
        started = time.perf_counter()
        for _ in range(OPS):
            self.counter += 1
            account = Account(f"Customer {self.counter}", f"139{self.counter:08d}")
            app.save(account)
            self.customers.append(account.id)
        return (time.perf_counter() - started) * 1e6 / OPS

    def reads(self, *, cold: bool) -> float:
        """Microseconds per read of a customer (cold: its data key unwrapped again)."""
        recent = self.customers[-OPS:]
        if cold:
            self.ledger.keystore.close()  # drop every cached data key
        else:
            for customer in recent:
                self.ledger.app.repository.get(customer)
        started = time.perf_counter()
        for customer in recent:
            self.ledger.app.repository.get(customer)
        return (time.perf_counter() - started) * 1e6 / OPS


def run() -> None:
    from security.keys.pkcs11 import TokenConfig, init_token

    with tempfile.TemporaryDirectory(prefix="bench-hsm-") as tmp:
        root = Path(tmp)
        env = token_env(root / "hsm")
        if env is None:
            print("skipped: softhsm2 (apt-get install softhsm2) or python-pkcs11 missing")
            return
        token = TokenConfig.from_env(env)
        assert token is not None
        init_token(token, root / "hsm-ledger" / "keyring.json")[0].close()
        sides = {
            "file": Side(build_ledger(Settings(data_dir=root / "file-ledger"), app_class=BenchApp)),
            "hsm": Side(
                build_ledger(
                    Settings(data_dir=root / "hsm-ledger", keyring_env=env), app_class=BenchApp
                )
            ),
        }
        try:
            figures: list[tuple[str, Callable[[Side], float]]] = [
                ("new subject", Side.new_subjects),
                ("cold read", lambda side: side.reads(cold=True)),
                ("cached read", lambda side: side.reads(cold=False)),
            ]
            for name, measure in figures:
                spread = interleave(
                    {kind: (lambda s=side, m=measure: m(s)) for kind, side in sides.items()},
                    rounds=ROUNDS,
                    warmup=True,
                )
                print(f"{name:12} file {spread['file'].describe('us/op')}")
                print(f"{name:12} hsm  {spread['hsm'].describe('us/op')}")
                print(f"{name:12} hsm/file {ratio(spread['hsm'], spread['file']).describe('x', 2)}")
        finally:
            for side in sides.values():
                side.ledger.close()
