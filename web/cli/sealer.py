"""`ledger sealer`: continuous sealing, in the foreground until stopped."""

from __future__ import annotations

import signal
from types import FrameType

import click

from security.bootstrap import Settings
from security.integrity.sealer import Sealer
from web.cli.group import LedgerCommand
from web.logs import configure_logging


@click.command("sealer", cls=LedgerCommand)
def sealer_command() -> None:
    """Seal continuously: every committed event (and access-log entry) is covered by a
    signed checkpoint within about a second.

    Long-running: runs until stopped (SIGTERM or Ctrl-C). `ledger serve` runs a sealer
    too; this command is for deployments that run it apart. One sealer per store
    signs at a time (the leader, by a lock: `<data dir>/sealer.lock` on SQLite, an
    advisory lock on PostgreSQL); the others stand by and take over when it dies
    or stops (a stopped sealer frees the lock at once).
    Logs are JSON lines on stderr.
    """
    configure_logging()
    sealer = Sealer(Settings.from_env())

    def on_signal(signum: int, frame: FrameType | None) -> None:
        sealer.stop_event.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        sealer.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


COMMANDS: tuple[click.Command, ...] = (sealer_command,)
