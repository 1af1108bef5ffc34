"""Opening the ledger from a command: the same composition root as the web app.

Commands run through `LedgerCommand`, which has already checked that a ledger is
there; `open_ledger` checks again (it is cheap and creates nothing) so that no caller
can build a new, empty ledger by mistake.
"""

from __future__ import annotations

from security.bootstrap import Ledger, Settings, build_ledger
from security.presence import require_ledger


def open_ledger() -> Ledger:
    """The existing ledger the environment points at; NoLedger (exit 2) when there is none."""
    config = Settings.from_env()
    require_ledger(config)
    return build_ledger(config)
