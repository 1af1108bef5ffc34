"""`ledger serve`: the web app, in the foreground until stopped."""

from __future__ import annotations

import click

from web.cli.group import LedgerCommand


@click.command(cls=LedgerCommand)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1, 256),
    help="Request threads per worker: 1 is gunicorn's sync worker, more its gthread worker "
    "(keep-alive; threads share the worker's ledger) [default: LEDGER_WEB_THREADS, else 4, "
    'chosen by measurement: docs/api.md "Performance"].',
)
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
def serve(host: str, port: int, workers: int, threads: int | None, dev: bool) -> None:
    """Serve the web app and the API (gunicorn; one ledger per worker, built after fork).

    Seals continuously too, as `ledger sealer` does: each worker runs a sealer thread,
    and the one holding the store's sealer lock covers every committed event with a
    signed checkpoint within about a second.

    Long-running: serves until stopped (Ctrl-C or SIGTERM). Refuses to start where
    there is no ledger; `ledger init` or `ledger demo` first. Refuses to start when a
    business calendar lacks the current year; warns when one lacks the next
    (docs/rules.md "Business calendars").
    """
    from datetime import UTC, datetime

    from security.calendars import check_at_startup
    from security.settings import Settings

    # no business calendar for this year: refuse to start (one line); next year: warn
    check_at_startup(Settings.from_env().calendar_overrides, datetime.now(UTC).date())
    if dev:
        from security.integrity.sealer import start_sealer
        from web.app import create_app

        app = create_app()
        sealer = start_sealer()
        try:
            app.run(host=host, port=port)
        finally:
            sealer.stop()
        return
    from web.cli.serving import run_gunicorn, threads_from_env

    run_gunicorn(host, port, workers, threads or threads_from_env())


COMMANDS: tuple[click.Command, ...] = (serve,)
