"""A sealer that SIGKILLs itself at one point of a seal (tests/security/test_seal_crash.py).

    python -m tests.support.seal_crash POINT

runs `ledger sealer`'s loop on the store named by LEDGER_DATA_DIR / LEDGER_DATABASE_URL
with one function wrapped so that the process kills itself (kill -9: no cleanup, no
flush, no rollback but the database's own) at POINT:

* `leaves` -- after the new leaves are inserted, before the seal's transaction commits;
* `checkpoint` -- after the checkpoint is committed, before it is appended to the anchor
  file;
* `anchor` -- in the middle of the anchor append: half the entry written and fsync'ed
  (a torn tail), under the appenders' flock.

Only this driver patches; the ledger's code has no fault-injection hook.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from ledger_verify.checkpoints import Checkpoint
from security.bootstrap import Settings
from security.dialect import Dialect
from security.integrity.anchors import AnchorFile
from security.integrity.sealed_log import SealedLog
from security.integrity.sealer import Sealer

POINTS = ("leaves", "checkpoint", "anchor")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    if point == "leaves":
        original_many = Dialect.executemany

        def insert_then_die(
            self: Dialect, cursor: Any, sql: str, rows: list[tuple[Any, ...]]
        ) -> None:
            original_many(self, cursor, sql, rows)
            if sql.startswith("INSERT INTO") and "_leaves" in sql:
                die()

        Dialect.executemany = insert_then_die  # type: ignore[assignment,method-assign]
    elif point == "checkpoint":
        original = SealedLog._seal

        def commit_then_die(self: SealedLog, anchored: Any) -> Any:
            stored = original(self, anchored)
            if stored is not None and (anchored is None or anchored.size < stored.size):
                die()
            return stored

        SealedLog._seal = commit_then_die  # type: ignore[method-assign]
    elif point == "anchor":

        def write_half_then_die(self: AnchorFile, checkpoint: Checkpoint, created: bool) -> None:
            import fcntl

            data = (checkpoint.note + "\n").encode("utf-8")

            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data[: len(data) // 2 + 1])
            os.fsync(fd)
            die()

        AnchorFile._write = write_half_then_die  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown point {point!r}; one of {', '.join(POINTS)}")


def main() -> None:
    arm(sys.argv[1])
    Sealer(Settings.from_env(), standby_interval=0.1).run()


if __name__ == "__main__":
    main()
