"""The `ledger` exit codes and the one error path that produces them.

Every command ends in one of four ways, and scripts can rely on it:

- 0 ok;
- 1 verification failed (the log, a bundle or the views are not what they should be);
- 2 usage error: a bad argument or setting, a refused operation, no ledger where
  LEDGER_DATA_DIR / LEDGER_DATABASE_URL point;
- 3 runtime error: an unexpected exception, the store unreachable, interrupted.

Errors are one line on stderr, `error: <message>`, never a traceback.
"""

from __future__ import annotations

from typing import IO, Any

import click

from domain.errors import DomainError
from security.errors import EventAuthenticationFailed
from security.presence import StoreUnreachable

OK = 0
VERIFICATION_FAILED = 1
USAGE_ERROR = 2
RUNTIME_ERROR = 3

EXIT_CODES = (
    (OK, "ok"),
    (VERIFICATION_FAILED, "verification failed"),
    (USAGE_ERROR, "usage error: bad arguments, refused operation, no ledger"),
    (RUNTIME_ERROR, "runtime error: unexpected exception, store unreachable, interrupted"),
)


class CliProblem(click.ClickException):
    """An error a command reports as one line on stderr, with its exit code."""

    exit_code = USAGE_ERROR

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class UsageProblem(CliProblem):
    """A bad argument or setting, or a refused operation: exit 2."""

    exit_code = USAGE_ERROR


class CheckFailed(CliProblem):
    """A verification that did not pass: exit 1 (the details are already printed)."""

    exit_code = VERIFICATION_FAILED

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"FAILED: {self.format_message()}", err=True)


class RuntimeProblem(CliProblem):
    """Something went wrong while running (not the user's input): exit 3."""

    exit_code = RUNTIME_ERROR


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def as_problem(exc: BaseException) -> CliProblem:
    """The one mapping from whatever a command raised to a message and an exit code."""
    if isinstance(exc, CliProblem):
        return exc
    if isinstance(exc, click.UsageError):
        message = exc.format_message()
        if exc.ctx is not None:
            message += f" (see `{exc.ctx.command_path} -h`)"
        return UsageProblem(message)
    if isinstance(exc, click.ClickException):  # click's own input errors, e.g. a bad file
        return UsageProblem(exc.format_message())
    if isinstance(exc, EventAuthenticationFailed):
        return CheckFailed(exc.message)
    if isinstance(exc, DomainError):
        return UsageProblem(exc.message)
    if isinstance(exc, StoreUnreachable):
        return RuntimeProblem(str(exc))
    if isinstance(exc, click.Abort | KeyboardInterrupt):
        return RuntimeProblem("interrupted")
    detail = _first_line(str(exc))
    name = type(exc).__name__
    return RuntimeProblem(f"unexpected {name}: {detail}" if detail else f"unexpected {name}")
