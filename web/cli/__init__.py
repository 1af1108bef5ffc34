"""The `ledger` command line: a first-class interface to the ledger.

Every command builds the ledger from the same configuration as the web app (env
vars, see docs/operations.md) and, except `init`, `demo` and `verify-bundle`, refuses
to run where there is no ledger. Commands are registered here, explicitly, one
module per group; docs/cli.md is generated from them (`make docs`). The exit codes
and the one error path are in web/cli/exits.py.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import click

from web.cli import (
    core,
    credit,
    export,
    identity,
    jobs,
    keys,
    projections,
    scheduler,
    sealer,
    serve,
    tokens,
    witness,
)
from web.cli.group import LedgerGroup


def _version() -> str:
    try:
        return version("crm-ledger")
    except PackageNotFoundError:  # pragma: no cover (run from a source tree)
        return "unknown"


@click.group("ledger", cls=LedgerGroup)
@click.version_option(_version(), "--version", prog_name="ledger", message="%(prog)s %(version)s")
def main() -> None:
    """crm-ledger: an encrypted, verifiable customer-relationship ledger.

    Start with `ledger init` (an empty ledger) or `ledger demo` (one with demo data);
    `ledger COMMAND -h` explains each command.
    """


for command in (
    *core.COMMANDS,
    keys.keys,
    tokens.token,
    *export.COMMANDS,
    *projections.COMMANDS,
    *identity.COMMANDS,
    *credit.COMMANDS,
    *jobs.COMMANDS,
    *scheduler.COMMANDS,
    *sealer.COMMANDS,
    *serve.COMMANDS,
    *witness.COMMANDS,
):
    main.add_command(command)

__all__ = ["main"]
