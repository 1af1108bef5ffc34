"""The command classes every `ledger` command is made of.

`LedgerCommand` refuses to run where there is no ledger (unless the command says it
needs none), shows `-h` as `--help`, and ends its help with the environment it reads
and the exit codes. `LedgerGroup` is the one place errors become a line on stderr
and an exit code (web/cli/exits.py).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from security.bootstrap import Settings
from security.presence import require_ledger
from web.cli.exits import EXIT_CODES, OK, as_problem

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 88}

ENVIRONMENT_TEXT = (
    "The ledger is the one at LEDGER_DATA_DIR (default ./var: the SQLite file and the "
    "development keyring) or, when set, LEDGER_DATABASE_URL "
    "(postgresql://user@host:port/db?schema=NAME). Other settings: docs/operations.md."
)


def write_footer(formatter: click.HelpFormatter, *, environment: bool) -> None:
    """The end of every help page: the environment read (when there is one) and the
    exit codes."""
    if environment:
        with formatter.section("Environment"):
            formatter.write_text(ENVIRONMENT_TEXT)
    with formatter.section("Exit codes"):
        formatter.write_dl([(str(code), meaning) for code, meaning in EXIT_CODES])


class LedgerCommand(click.Command):
    """A `ledger` command. With `needs_ledger` (the default) it first checks, creating
    nothing, that the configured place holds a ledger."""

    def __init__(self, *args: Any, needs_ledger: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)
        self.needs_ledger = needs_ledger

    def invoke(self, ctx: click.Context) -> Any:
        if self.needs_ledger:
            require_ledger(Settings.from_env())
        return super().invoke(ctx)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        write_footer(formatter, environment=self.needs_ledger)


class LedgerGroup(click.Group):
    """A group of `ledger` commands; as the top-level command, the one error path."""

    command_class = LedgerCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        write_footer(formatter, environment=ctx.parent is None)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; in standalone mode (a shell, CliRunner) every outcome ends
        in sys.exit with one of the four exit codes."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except SystemExit:
            raise
        except (Exception, KeyboardInterrupt) as exc:  # the one error path: nothing escapes
            problem = as_problem(exc)
            problem.show()
            sys.exit(problem.exit_code)
        sys.exit(result if isinstance(result, int) else OK)


LedgerGroup.group_class = LedgerGroup
