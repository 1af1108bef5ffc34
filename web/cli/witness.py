"""`ledger witness key | add-log | serve`: a C2SP tlog-witness for a regulator to run.

The witness needs no ledger and no database: its key and state live in `--dir`
(security.witness.state). `serve` answers `POST /add-checkpoint` until interrupted.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ledger_verify.checkpoints import CheckpointError
from security.witness.server import WitnessServer
from security.witness.state import DEFAULT_NAME, WitnessState, WitnessStateError, create_key
from web.cli.exits import UsageProblem
from web.cli.group import LedgerCommand, LedgerGroup

DIR_OPTION = click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The witness's folder: its key and state.",
)


def _state(directory: Path) -> WitnessState:
    try:
        return WitnessState(directory)
    except WitnessStateError as exc:
        raise UsageProblem(str(exc)) from None


@click.group(cls=LedgerGroup)
def witness() -> None:
    """A C2SP tlog-witness: its own key and state, no ledger needed."""


@witness.command("key", cls=LedgerCommand, needs_ledger=False)
@DIR_OPTION
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="The witness's key name.")
def witness_key(directory: Path, name: str) -> None:
    """Create the witness key in DIR and print its verifier key (vkey)."""
    try:
        click.echo(create_key(directory, name))
    except (WitnessStateError, CheckpointError) as exc:
        raise UsageProblem(str(exc)) from None


@witness.command("add-log", cls=LedgerCommand, needs_ledger=False)
@DIR_OPTION
@click.option("--vkey", required=True, help="The log's verifier key (`ledger log-key`).")
@click.option("--origin", default=None, help="The log's origin (default: the key name).")
def witness_add_log(directory: Path, vkey: str, origin: str | None) -> None:
    """Accept checkpoints of the log signed by VKEY."""
    state = _state(directory)
    try:
        accepted = state.add_log(vkey, origin)
    except CheckpointError as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(f"accepting checkpoints of {accepted}")


@witness.command("serve", cls=LedgerCommand, needs_ledger=False)
@DIR_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, type=int, help="Port to listen on.")
def witness_serve(directory: Path, host: str, port: int) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) until interrupted."""
    state = _state(directory)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = WitnessServer(state, host, port)
    click.echo(f"witness {state.vkey} listening on http://{host}:{server.server_port}", err=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


COMMANDS: tuple[click.Command, ...] = (witness,)
