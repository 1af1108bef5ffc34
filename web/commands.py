"""What every `ledger` command shares: opening the ledger and one-line errors.

Bad arguments and refused operations print `error: <message>` on stderr and exit
with status 2; click's multi-line usage block is not shown.
"""

from __future__ import annotations

from typing import Any

import click

from security.bootstrap import Ledger, Settings, build_ledger


def open_ledger() -> Ledger:
    """The ledger from the environment (the same composition root as the web app)."""
    return build_ledger(Settings.from_env())


class ArgumentError(click.ClickException):
    """A bad argument, setting or refused operation: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class OneLineCommand(click.Command):
    """A command whose usage errors are one line, not click's usage block."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise ArgumentError(exc.format_message()) from None
